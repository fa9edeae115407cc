/* fuzz: what every libFuzzer driver shares. A broken invariant aborts, so
 * libFuzzer saves the input as a crash like any sanitizer report. */
#ifndef PARLEY_FUZZ_H
#define PARLEY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
			    __FILE__, __LINE__, #cond);                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* For a reason string that is NULL when all is well. */
#define FUZZ_OK(why)                                                           \
	do {                                                                   \
		const char *why_ = (why);                                      \
		if (why_ != NULL) {                                            \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,     \
			    why_);                                             \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
