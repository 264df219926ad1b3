/* Host tests for the guest-output sanitiser: what reaches the main console and the log ring. */
#include "tests/unit/test.h"
#include "kernel/sanitize.h"

#include <stdlib.h>

TEST_MAIN_GLOBALS;

struct sink {
	char buf[4096];
	size_t len;
};

static void sink_put(void *ctx, char c)
{
	struct sink *s = ctx;

	if (s->len < sizeof(s->buf) - 1)
		s->buf[s->len] = c;
	s->len++;
}

static const char *sanitized(const char *text, size_t len)
{
	static struct sink s;

	s.len = 0;
	sanitize_text(text, len, sink_put, &s);
	s.buf[s.len < sizeof(s.buf) ? s.len : sizeof(s.buf) - 1] = '\0';
	return s.buf;
}

/* The inverse of the escape format: \\ and \xHH; -1 when the input is not well formed. */
static long unescape(const char *in, size_t len, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned hi, lo;

		if (in[i] != '\\') {
			out[n++] = (unsigned char)in[i];
			continue;
		}
		if (i + 1 < len && in[i + 1] == '\\') {
			out[n++] = '\\';
			i++;
			continue;
		}
		if (i + 3 >= len || in[i + 1] != 'x' || sscanf(in + i + 2, "%1x%1x", &hi, &lo) != 2)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		i += 3;
	}
	return (long)n;
}

static void test_printable_passes(void)
{
	const char *line = "Hello, guest 42: [ok] {x} ~ `y` 'z' \"q\" 100%";

	CHECK_STR(sanitized(line, strlen(line)), line);
	CHECK_EQ(sanitize_len(line, strlen(line)), strlen(line));
	CHECK_EQ(sanitize_len("", 0), 0);
}

static void test_controls_are_escaped(void)
{
	CHECK_STR(sanitized("\x1b", 1), "\\x1b");
	CHECK_STR(sanitized("a\bb", 3), "a\\x08b");
	CHECK_STR(sanitized("\r\n\t\a", 4), "\\x0d\\x0a\\x09\\x07");
	CHECK_STR(sanitized("\x7f", 1), "\\x7f");
	CHECK_STR(sanitized("\x9b" "2J", 3), "\\x9b2J"); /* C1 CSI of 8-bit terminals */
	CHECK_STR(sanitized("\xff\x80", 2), "\\xff\\x80");
	CHECK_STR(sanitized("a\0b", 3), "a\\x00b");
	CHECK_STR(sanitized("C:\\dos", 6), "C:\\\\dos");
	CHECK_EQ(sanitize_len("\x1b[K\\", 4), 4 + 2 + 2);
}

/* The forgery of issue 12 item 11: erase the "[name] " prefix, then draw a hypervisor line. */
static void test_forgery_is_inert(void)
{
	const char attack[] = "\r\x1b[2K\x1b[1G\b\b\b\b\b\b\b\b[cpu0] guest beta stopped: exit code 0";
	const char *out = sanitized(attack, sizeof(attack) - 1);

	for (const char *p = out; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	CHECK(strstr(out, "\\x0d\\x1b[2K\\x1b[1G\\x08") == out);
	/* What follows the prefix on the console is this text: it starts with the escapes */
	CHECK(strncmp(out, "[cpu0]", 6) != 0);
}

static void test_length_matches_output(void)
{
	char text[256];

	for (int i = 0; i < 256; i++)
		text[i] = (char)i;
	CHECK_EQ(sanitize_len(text, sizeof(text)), strlen(sanitized(text, sizeof(text))));
	/* 95 printable, the backslash doubled, 161 others as \xHH */
	CHECK_EQ(sanitize_len(text, sizeof(text)), 94 + 2 + 161 * 4);
}

/* Random bytes: output printable only, and decoding gives back exactly the input. */
static void test_fuzz_round_trip(void)
{
	unsigned char in[300], back[300];

	srand(12);
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)rand() % sizeof(in);
		const char *out;
		long n;

		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(rand() % 4 ? rand() : "\\\x1b\r\b"[rand() % 4]);
		out = sanitized((const char *)in, len);
		CHECK_EQ(strlen(out), sanitize_len((const char *)in, len));
		for (const char *p = out; *p; p++)
			CHECK(*p >= 0x20 && *p < 0x7f);
		n = unescape(out, strlen(out), back);
		CHECK_EQ(n, len);
		CHECK(n < 0 || memcmp(in, back, len) == 0);
	}
}

static void test_to_buf_cuts_whole_escapes(void)
{
	char buf[8];

	CHECK_EQ(sanitize_to_buf("ab\x1b" "cd", 5, buf, sizeof(buf)), 7);
	CHECK_STR(buf, "ab\\x1bc");
	CHECK_EQ(sanitize_to_buf("abcd\x1b", 5, buf, sizeof(buf)), 4); /* \x1b does not fit */
	CHECK_STR(buf, "abcd");
	CHECK_EQ(sanitize_to_buf("abc", 3, buf, 1), 0);
	CHECK_STR(buf, "");
	CHECK_EQ(sanitize_to_buf("abc", 3, buf, 0), 0);
	CHECK_EQ(sanitize_to_buf("\\\\", 2, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "\\\\\\\\");
}

int main(void)
{
	RUN_TEST(test_printable_passes);
	RUN_TEST(test_controls_are_escaped);
	RUN_TEST(test_forgery_is_inert);
	RUN_TEST(test_length_matches_output);
	RUN_TEST(test_fuzz_round_trip);
	RUN_TEST(test_to_buf_cuts_whole_escapes);
	return test_any_failed;
}
