/* test_user: username folding and the character and length rules. */
#include "unit.h"
#include "user.h"

static const char *t_fold_case(void);
static const char *t_fold_lengths(void);
static const char *t_fold_chars(void);
static const char *t_fold_len_bounds(void);
static int	   fold(const char *, char *, size_t);

/* Folds a copy of `s` (its whole length) into buf. */
static int
fold(const char *s, char *buf, size_t buflen)
{
	size_t len = strlen(s);

	if (len >= buflen)
		return -2;
	memcpy(buf, s, len + 1);
	return user_name_fold(buf, len);
}

static const char *
t_fold_case(void)
{
	char buf[64];

	CHECK_EQ(fold("Alice", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "alice");
	CHECK_EQ(fold("BOB_99", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "bob_99");
	CHECK_EQ(fold("a.b-c_d", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "a.b-c_d");
	CHECK_EQ(fold("ZzZ", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "zzz");
	return NULL;
}

static const char *
t_fold_lengths(void)
{
	char buf[64];

	CHECK_EQ(fold("ab", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("abc", buf, sizeof(buf)), 0);
	CHECK_EQ(fold("abcdefghijklmnopqrstuvwxyz012345", buf, sizeof(buf)), 0);
	CHECK_EQ(fold("abcdefghijklmnopqrstuvwxyz0123456", buf, sizeof(buf)),
	    -1);
	CHECK_EQ(fold("", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("A", buf, sizeof(buf)), -1);
	return NULL;
}

static const char *
t_fold_chars(void)
{
	char buf[64];

	CHECK_EQ(fold("al ice", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("alice!", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("al/ice", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("al@ice", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("caf\xc3\xa9", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ali\x7f"
		      "ce",
		     buf, sizeof(buf)),
	    -1);
	CHECK_EQ(fold("ali\nce", buf, sizeof(buf)), -1);
	/* The bytes just outside each allowed range. */
	CHECK_EQ(fold("ab`", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab{", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab@", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab[", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab/", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab:", buf, sizeof(buf)), -1);
	CHECK_EQ(fold("ab,", buf, sizeof(buf)), -1);
	return NULL;
}

/* Only len bytes are read and folded; a NUL inside them is refused. */
static const char *
t_fold_len_bounds(void)
{
	char buf[] = "ABCDEF";

	CHECK_EQ(user_name_fold(buf, 3), 0);
	CHECK_STR(buf, "abcDEF");
	CHECK_EQ(user_name_fold((char[]){ 'a', 'b', '\0', 'c' }, 4), -1);
	return NULL;
}

void
test_user(void)
{
	unit_run("user_name_fold/case", t_fold_case);
	unit_run("user_name_fold/lengths", t_fold_lengths);
	unit_run("user_name_fold/chars", t_fold_chars);
	unit_run("user_name_fold/len_bounds", t_fold_len_bounds);
}
