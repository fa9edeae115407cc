/* uploads_store: files on disk. Everything is written into an unnamed
 * temporary file (O_TMPFILE) in <dir>/tmp and given its name, the SHA-256
 * of its bytes under <dir>/blobs/, only once complete and described in
 * the database: a process killed on the way leaves no file at all, and
 * no name ever points at half a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "uploads.h"

static void hexify(const unsigned char *, char *);
static void mkdir_or_die(const char *);

/* Modes are set explicitly: the services run with umask 077 (systemd's
 * UMask=, scripts/parley), and nginx reads the files as a member of the
 * group (production) or as the same user (scripts/parley as root). */
#define DIR_MODE  0750
#define FILE_MODE 0640

static void
mkdir_or_die(const char *path)
{
	if (mkdir(path, DIR_MODE) == -1 && errno != EEXIST)
		log_fatal("mkdir %s: %s", path, strerror(errno));
	if (chmod(path, DIR_MODE) == -1)
		log_fatal("chmod %s: %s", path, strerror(errno));
}

void
upload_store_init(void)
{
	char path[PATH_MAX];
	int  fd;

	mkdir_or_die(uploads_config.dir);
	snprintf(path, sizeof(path), "%s/tmp", uploads_config.dir);
	mkdir_or_die(path);
	snprintf(path, sizeof(path), "%s/blobs", uploads_config.dir);
	mkdir_or_die(path);
	snprintf(path, sizeof(path), "%s/tmp", uploads_config.dir);
	if ((fd = open(path, O_TMPFILE | O_RDWR, FILE_MODE)) == -1)
		log_fatal("%s: cannot make an unnamed temporary file there "
			  "(O_TMPFILE: %s); PARLEY_UPLOAD_DIR must be on a "
			  "local "
			  "file system such as ext4, xfs, btrfs or tmpfs",
		    path, strerror(errno));
	close(fd);
}

int
upload_file_open(struct upload_file *f)
{
	char path[PATH_MAX];

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/tmp", uploads_config.dir);
	if ((f->fd = open(path, O_TMPFILE | O_RDWR, FILE_MODE)) == -1) {
		log_warn("open O_TMPFILE in %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(f->fd, FILE_MODE) == -1) {
		log_warn("fchmod upload: %s", strerror(errno));
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	crypto_hash_sha256_init(&f->sha);
	return 0;
}

int
upload_file_write(struct upload_file *f, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	    n;

	crypto_hash_sha256_update(&f->sha, buf, len);
	while (len > 0) {
		if ((n = write(f->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("upload write: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
		f->size += n;
	}
	return 0;
}

static void
hexify(const unsigned char *h, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	int		  i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[64] = '\0';
}

void
upload_file_finish(struct upload_file *f)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(&f->sha, h);
	hexify(h, f->hex);
}

int
upload_file_rehash(struct upload_file *f)
{
	char	buf[65536];
	ssize_t n;
	off_t	off = 0;

	crypto_hash_sha256_init(&f->sha);
	f->size = 0;
	while ((n = pread(f->fd, buf, sizeof(buf), off)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_warn("upload read: %s", strerror(errno));
			return -1;
		}
		crypto_hash_sha256_update(&f->sha, (unsigned char *)buf,
		    (size_t)n);
		off += n;
	}
	f->size = (long)off;
	upload_file_finish(f);
	return 0;
}

void
upload_blob_path(const char *hex, char *buf, size_t len)
{
	snprintf(buf, len, "%s/blobs/%.2s/%s", uploads_config.dir, hex, hex);
}

int
upload_file_link(struct upload_file *f)
{
	char dir[PATH_MAX], path[PATH_MAX], proc[64];
	int  dfd;

	snprintf(dir, sizeof(dir), "%s/blobs/%.2s", uploads_config.dir, f->hex);
	if (mkdir(dir, DIR_MODE) == -1) {
		if (errno != EEXIST) {
			log_warn("mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
	} else if (chmod(dir, DIR_MODE) == -1) {
		log_warn("chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	upload_blob_path(f->hex, path, sizeof(path));
	if (fsync(f->fd) == -1) {
		log_warn("fsync upload: %s", strerror(errno));
		return -1;
	}
	/* linkat of /proc/self/fd/N names an O_TMPFILE file without
	 * CAP_DAC_READ_SEARCH (which AT_EMPTY_PATH needs). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == -1 &&
	    errno != EEXIST) {
		log_warn("linkat %s: %s", path, strerror(errno));
		return -1;
	}
	/* The name, too, must survive a power cut before the row commits. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    fsync(dfd) == -1) {
		log_warn("fsync %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

void
upload_file_close(struct upload_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int
upload_blob_unlink(const char *hex)
{
	char path[PATH_MAX];

	upload_blob_path(hex, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
