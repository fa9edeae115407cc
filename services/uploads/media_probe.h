/* media_probe: durations of audio and video uploads from their
 * containers (MP4, WebM, Ogg), never decoding a sample. */
#ifndef PARLEY_MEDIA_PROBE_H
#define PARLEY_MEDIA_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* Seconds of the file buf[0..len) stored as `mime`, or -1 when unknown
 * (MP3, a container it cannot read, a value beyond 100 days). Pure. */
double media_duration(const char *mime, const uint8_t *buf, size_t len);

#endif
