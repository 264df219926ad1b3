/* Host tests for kernel/fmt.c: every conversion, widths, padding and truncation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

static char out[512];

/* No format attribute here, so malformed formats can be tested without -Wformat errors. */
static int raw(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	return n;
}

/* Compares with the host libc wherever both follow C11 7.21.6.1. */
#define SAME(...)                                                                         \
	do {                                                                              \
		char want_[512];                                                          \
		int n_ = fmt_snprintf(out, sizeof(out), __VA_ARGS__);                     \
		int w_ = snprintf(want_, sizeof(want_), __VA_ARGS__);                     \
		CHECK_STR(out, want_);                                                    \
		CHECK_EQ(n_, w_);                                                         \
	} while (0)

static void test_strings(void)
{
	CHECK_EQ(raw("%s", "hello"), 5);
	CHECK_STR(out, "hello");
	CHECK_EQ(raw("[%s]", (char *)NULL), 8);
	CHECK_STR(out, "[(null)]");
	CHECK_EQ(raw("%8s|%-8s|", "ab", "cd"), 18);
	CHECK_STR(out, "      ab|cd      |");
	raw("%.3s", "abcdef");
	CHECK_STR(out, "abc");
	raw("%.*s", 2, "abcdef");
	CHECK_STR(out, "ab");
	raw("%.*s", -1, "abcdef");
	CHECK_STR(out, "abcdef");
	raw("%5.2s|", "xyz");
	CHECK_STR(out, "   xy|");
	raw("%.0s|", "xyz");
	CHECK_STR(out, "|");
	raw("%.10s", "short");
	CHECK_STR(out, "short");
	raw("%s%s", "", "");
	CHECK_STR(out, "");
}

static void test_precision_unterminated(void)
{
	/* A precision bounds the read: the array below has no NUL */
	char *heap = malloc(4);

	memcpy(heap, "abcd", 4);
	CHECK_EQ(raw("%.4s", heap), 4);
	CHECK_STR(out, "abcd");
	free(heap);
}

static void test_chars(void)
{
	CHECK_EQ(raw("%c%c%c", 'a', 'b', 'c'), 3);
	CHECK_STR(out, "abc");
	raw("%3c|%-3c|", 'x', 'y');
	CHECK_STR(out, "  x|y  |");
	/* %c of NUL still emits one character */
	CHECK_EQ(raw("a%cb", 0), 3);
	CHECK_EQ(out[0], 'a');
	CHECK_EQ(out[1], 0);
	CHECK_EQ(out[2], 'b');
}

static void test_signed(void)
{
	SAME("%d %i %d", 0, 42, -42);
	SAME("%05d|%-5d|%5d", -42, -42, -42);
	raw("%05d", -42);
	CHECK_STR(out, "-0042");
	SAME("%d %d", INT32_MAX, INT32_MIN);
	SAME("%ld %lld", (long)INT64_MIN, (long long)INT64_MAX);
	raw("%lld", (long long)INT64_MIN);
	CHECK_STR(out, "-9223372036854775808");
	SAME("%025lld", (long long)INT64_MIN);
	SAME("%hd %hhd", 70000, 200);
	SAME("%hd %hhd", -1, -129);
	SAME("%zd %zu", (ssize_t)-5, (size_t)SIZE_MAX);
	SAME("%-d|%03d|%01d|", 7, 1234, 5);
	SAME("%.3d|%5.3d|%-6.4d|%.0d|", 7, -7, 42, 0);
	/* '-' beats '0', and a precision turns '0' off, as in C11 7.21.6.1p6 */
	raw("%-05d|%00d|%05.1d|", 8, 6, 3);
	CHECK_STR(out, "8    |6|    3|");
}

static void test_unsigned_hex(void)
{
	SAME("%u %u", 0u, UINT32_MAX);
	SAME("%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
	SAME("%llx %llX", 0xfedcba9876543210ull, 0xfedcba9876543210ull);
	SAME("%lu %llu", (unsigned long)UINT64_MAX, (unsigned long long)UINT64_MAX);
	SAME("%08x|%-8x|%8X", 0xabcu, 0xabcu, 0xabcu);
	SAME("%hhx %hx %hhu %hu", 0x1ff, 0x1ffff, 300, 70000);
	SAME("%016llx", 1ull);
	SAME("%zx", (size_t)0x123456789ull);
	SAME("%u", -1);
}

static void test_pointer(void)
{
	raw("%p", (void *)0);
	CHECK_STR(out, "0x0000000000000000");
	raw("%p", (void *)0xffff800000001000ull);
	CHECK_STR(out, "0xffff800000001000");
	raw("%p", (void *)0x1234);
	CHECK_STR(out, "0x0000000000001234");
	raw("[%20p]", (void *)0x10);
	CHECK_STR(out, "[  0x0000000000000010]");
	raw("[%-20p]", (void *)0x10);
	CHECK_STR(out, "[0x0000000000000010  ]");
}

static void test_percent_and_unknown(void)
{
	CHECK_EQ(raw("100%%"), 4);
	CHECK_STR(out, "100%");
	CHECK_EQ(raw("%q"), 2);
	CHECK_STR(out, "%q");
	raw("a%5qb");
	CHECK_STR(out, "a%5qb");
	raw("%-08.3lq!");
	CHECK_STR(out, "%-08.3lq!");
	CHECK_EQ(raw("end%"), 4);
	CHECK_STR(out, "end%");
	raw("end%08l");
	CHECK_STR(out, "end%08l");
	raw("%hh");
	CHECK_STR(out, "%hh");
	/* An unknown conversion consumes no argument */
	raw("%q%d", 5);
	CHECK_STR(out, "%q5");
	raw("%%d");
	CHECK_STR(out, "%d");
	CHECK_EQ(raw(""), 0);
	CHECK_STR(out, "");
}

static void test_star_width(void)
{
	raw("[%*d]", 6, 42);
	CHECK_STR(out, "[    42]");
	raw("[%*d]", -6, 42);
	CHECK_STR(out, "[42    ]");
	raw("[%0*d]", 6, -42);
	CHECK_STR(out, "[-00042]");
	raw("[%*s]", 4, "ab");
	CHECK_STR(out, "[  ab]");
	raw("[%-*.*s]", 5, 1, "ab");
	CHECK_STR(out, "[a    ]");
	SAME("[%*d|%-*d|%*.*s]", 4, 1, 4, 2, 6, 2, "abc");
}

static void test_truncation(void)
{
	const char *full = "value=-1234 hex=beef";
	char buf[32];
	int n;

	n = fmt_snprintf(NULL, 0, "value=%d hex=%x", -1234, 0xbeefu);
	CHECK_EQ(n, strlen(full));
	for (size_t size = 0; size <= strlen(full) + 2; size++) {
		memset(buf, '#', sizeof(buf));
		n = fmt_snprintf(buf, size, "value=%d hex=%x", -1234, 0xbeefu);
		CHECK_EQ(n, strlen(full));
		if (size == 0) {
			CHECK_EQ(buf[0], '#');
			continue;
		}
		CHECK_EQ(strlen(buf), MIN(size - 1, strlen(full)));
		CHECK(strncmp(buf, full, strlen(buf)) == 0);
		for (size_t i = size; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], '#');
	}

	memset(buf, '#', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 1, "%s", "abc"), 3);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[1], '#');
	CHECK_EQ(fmt_snprintf(buf, 4, "%s", "abc"), 3);
	CHECK_STR(buf, "abc");
	CHECK_EQ(fmt_snprintf(buf, 3, "%s", "abc"), 3);
	CHECK_STR(buf, "ab");
	CHECK_EQ(fmt_snprintf(buf, 5, "%10d", 1), 10);
	CHECK_STR(buf, "    ");
}

struct count_sink {
	size_t calls;
	char last;
};

static void count_putc(void *ctx, char c)
{
	struct count_sink *s = ctx;

	s->calls++;
	s->last = c;
}

static void test_format_callback(void)
{
	struct count_sink sink = { 0 };
	int n = fmt_format(count_putc, &sink, "%s-%05u-%c", "cpu", 7u, 'Z');

	CHECK_EQ(n, 11);
	CHECK_EQ(sink.calls, 11);
	CHECK_EQ(sink.last, 'Z');
}

static void test_huge_width_clamped(void)
{
	struct count_sink sink = { 0 };
	int n = fmt_format(count_putc, &sink, "%1000000000d", 1);

	CHECK_EQ(n, 4096);
	CHECK_EQ(sink.calls, 4096);
}

static void test_long_output(void)
{
	static char big[8192];
	int n = fmt_snprintf(big, sizeof(big), "%s%s", "x", "");
	char *long_str = malloc(6000);

	CHECK_EQ(n, 1);
	memset(long_str, 'y', 5999);
	long_str[5999] = 0;
	n = fmt_snprintf(big, sizeof(big), "<%s>", long_str);
	CHECK_EQ(n, 6001);
	CHECK_EQ(strlen(big), 6001);
	CHECK_EQ(big[6000], '>');
	n = fmt_snprintf(big, 100, "<%s>", long_str);
	CHECK_EQ(n, 6001);
	CHECK_EQ(strlen(big), 99);
	free(long_str);
}

static void test_mixed(void)
{
	SAME("[cpu%u] %s: rip=%016llx exit=%d (%c) %5s|%-4x|", 3u, "vmx", 0xffffffff81000000ull, 30,
	     'E', "ok", 0x1fu);
	SAME("%d%%%u%s", -1, 2u, "!");
}

int main(void)
{
	RUN_TEST(test_strings);
	RUN_TEST(test_precision_unterminated);
	RUN_TEST(test_chars);
	RUN_TEST(test_signed);
	RUN_TEST(test_unsigned_hex);
	RUN_TEST(test_pointer);
	RUN_TEST(test_percent_and_unknown);
	RUN_TEST(test_star_width);
	RUN_TEST(test_truncation);
	RUN_TEST(test_format_callback);
	RUN_TEST(test_huge_width_clamped);
	RUN_TEST(test_long_output);
	RUN_TEST(test_mixed);
	return test_any_failed;
}
