/* A minimal host unit-test harness: each TEST prints "ok NAME" or "FAIL NAME: file:line: what". */
#ifndef CLOISON_TEST_H
#define CLOISON_TEST_H

#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <inttypes.h>

extern int test_failed_checks;
extern int test_any_failed;
extern const char *test_current;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			if (test_failed_checks++ == 0)                                     \
				printf("FAIL %s: %s:%d: %s\n", test_current, __FILE__,     \
				       __LINE__, #cond);                                   \
		}                                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                           \
		if (a_ != b_) {                                                            \
			if (test_failed_checks++ == 0)                                     \
				printf("FAIL %s: %s:%d: %s == %s (0x%" PRIx64 " != 0x%" PRIx64 \
				       ")\n",                                              \
				       test_current, __FILE__, __LINE__, #a, #b, a_, b_);  \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		if (strcmp(a_, b_) != 0) {                                                 \
			if (test_failed_checks++ == 0)                                     \
				printf("FAIL %s: %s:%d: \"%s\" != \"%s\"\n", test_current,  \
				       __FILE__, __LINE__, a_, b_);                        \
		}                                                                          \
	} while (0)

#define RUN_TEST(fn)                                                                       \
	do {                                                                               \
		test_current = #fn;                                                        \
		test_failed_checks = 0;                                                    \
		fn();                                                                      \
		if (test_failed_checks == 0)                                               \
			printf("ok %s\n", #fn);                                            \
		else                                                                       \
			test_any_failed = 1;                                               \
	} while (0)

/* Define once per test program, before main. */
#define TEST_MAIN_GLOBALS                                                                  \
	int test_failed_checks;                                                            \
	int test_any_failed;                                                               \
	const char *test_current

#endif
