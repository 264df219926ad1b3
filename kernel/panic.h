/* A broken invariant of the hypervisor itself: report, stop every CPU. */
#ifndef CLOISON_PANIC_H
#define CLOISON_PANIC_H

#include <stdbool.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
bool panic_in_progress(void);

/* Assertions stay on in every build. */
#define ASSERT(cond)                                                                   \
	do {                                                                           \
		if (!(cond))                                                           \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
