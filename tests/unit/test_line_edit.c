/* Host tests for kernel/line_edit.c: every key, history, overlong lines, CRLF, escapes. */
#include "tests/unit/test.h"
#include "kernel/line_edit.h"

TEST_MAIN_GLOBALS;

static char out[8192];
static size_t out_len;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (out_len + n < sizeof(out)) {
		memcpy(out + out_len, s, n);
		out_len += n;
		out[out_len] = '\0';
	}
}

static void reset_out(void)
{
	out_len = 0;
	out[0] = '\0';
}

struct counts {
	unsigned none, line, cancel, too_long;
	enum line_edit_event last;
};

/* Feeds n bytes and counts the events they caused. */
static struct counts feed_n(struct line_edit *le, const char *s, size_t n)
{
	struct counts c = { 0 };

	for (size_t i = 0; i < n; i++) {
		c.last = line_edit_feed(le, (uint8_t)s[i]);
		switch (c.last) {
		case LINE_EDIT_NONE:
			c.none++;
			break;
		case LINE_EDIT_LINE:
			c.line++;
			break;
		case LINE_EDIT_CANCEL:
			c.cancel++;
			break;
		case LINE_EDIT_TOO_LONG:
			c.too_long++;
			break;
		}
	}
	return c;
}

static struct counts feed(struct line_edit *le, const char *s)
{
	return feed_n(le, s, strlen(s));
}

static void setup(struct line_edit *le)
{
	line_edit_init(le, capture, NULL);
	reset_out();
}

static void test_type_and_enter(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	c = feed(&le, "list");
	CHECK_EQ(c.none, 4);
	CHECK_STR(out, "list");
	CHECK_STR(line_edit_line(&le), "list");
	c = feed(&le, "\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(out, "list\n");
	/* The line stays readable until the next byte */
	CHECK_STR(line_edit_line(&le), "list");
	reset_out();
	c = feed(&le, "x");
	CHECK_STR(line_edit_line(&le), "x");
	CHECK_STR(out, "x");
}

static void test_empty_line_is_an_event(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	c = feed(&le, "\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "");
	CHECK_STR(out, "\n");
}

static void test_crlf_counts_once(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	c = feed(&le, "ab\r\n");
	CHECK_EQ(c.line, 1);
	CHECK_STR(out, "ab\n");
	c = feed(&le, "cd\n");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "cd");
	c = feed(&le, "\r\r");
	CHECK_EQ(c.line, 2);
	c = feed(&le, "x\n\n");
	CHECK_EQ(c.line, 2);
	/* LF CR is two Enters; CR LF is one */
	c = feed(&le, "\n\r");
	CHECK_EQ(c.line, 2);
	c = feed(&le, "\r\nx\r\n");
	CHECK_EQ(c.line, 2);
	CHECK_STR(line_edit_line(&le), "x");
}

static void test_backspace(void)
{
	struct line_edit le;

	setup(&le);
	feed(&le, "abc\x7f");
	CHECK_STR(line_edit_line(&le), "ab");
	CHECK_STR(out, "abc\b \b");
	reset_out();
	feed(&le, "\b\b");
	CHECK_STR(line_edit_line(&le), "");
	CHECK_STR(out, "\b \b\b \b");
	/* Nothing left to erase: nothing is written */
	reset_out();
	feed(&le, "\x7f\b");
	CHECK_STR(out, "");
	feed(&le, "z\r");
	CHECK_STR(line_edit_line(&le), "z");
}

static void test_kill_line_and_word(void)
{
	struct line_edit le;

	setup(&le);
	feed(&le, "abc\x15");
	CHECK_STR(line_edit_line(&le), "");
	CHECK_STR(out, "abc\b \b\b \b\b \b");
	reset_out();
	feed(&le, "start al\x17");
	CHECK_STR(line_edit_line(&le), "start ");
	CHECK_STR(out, "start al\b \b\b \b");
	feed(&le, "x  \x17");
	CHECK_STR(line_edit_line(&le), "start ");
	feed(&le, "\x17\x17");
	CHECK_STR(line_edit_line(&le), "");
}

static void test_ctrl_c_cancels(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	c = feed(&le, "stop alpha\x03");
	CHECK_EQ(c.cancel, 1);
	CHECK_EQ(c.last, LINE_EDIT_CANCEL);
	CHECK_STR(out, "stop alpha^C\n");
	CHECK_STR(line_edit_line(&le), "");
	c = feed(&le, "list\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "list");
	/* A cancelled line is not history */
	reset_out();
	feed(&le, "\x1b[A\x1b[A");
	CHECK_STR(out, "list\a");
}

static void test_history_walk(void)
{
	struct line_edit le;

	setup(&le);
	feed(&le, "one\rtwo\rthree\r");
	reset_out();
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "three");
	CHECK_STR(out, "three");
	reset_out();
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "two");
	/* Only the differing tail is redrawn */
	CHECK_STR(out, "\b \b\b \b\b \b\b \bwo");
	feed(&le, "\x1bOA");
	CHECK_STR(line_edit_line(&le), "one");
	reset_out();
	feed(&le, "\x1b[A");
	CHECK_STR(out, "\a");
	CHECK_STR(line_edit_line(&le), "one");
	feed(&le, "\x1b[B");
	CHECK_STR(line_edit_line(&le), "two");
	feed(&le, "\x1bOB\x1b[B");
	CHECK_STR(line_edit_line(&le), "");
	reset_out();
	feed(&le, "\x1b[B");
	CHECK_STR(out, "\a");
	/* Enter on a recalled line runs it */
	feed(&le, "\x1b[A\x1b[A\r");
	CHECK_STR(line_edit_line(&le), "two");
}

static void test_history_keeps_draft(void)
{
	struct line_edit le;

	setup(&le);
	feed(&le, "list\r");
	feed(&le, "inf");
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "list");
	reset_out();
	feed(&le, "\x1b[B");
	CHECK_STR(line_edit_line(&le), "inf");
	CHECK_STR(out, "\b \b\b \b\b \b\b \binf");
}

static void test_history_distinct_non_empty(void)
{
	struct line_edit le;

	setup(&le);
	feed(&le, "a\rb\ra\r\r   \r");
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "a");
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "b");
	reset_out();
	feed(&le, "\x1b[A");
	CHECK_STR(out, "\a");
}

static void test_history_keeps_last_16(void)
{
	struct line_edit le;
	char line[16];

	setup(&le);
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "cmd%d\r", i);
		feed(&le, line);
	}
	for (int i = 19; i >= 4; i--) {
		feed(&le, "\x1b[A");
		snprintf(line, sizeof(line), "cmd%d", i);
		CHECK_STR(line_edit_line(&le), line);
	}
	reset_out();
	feed(&le, "\x1b[A");
	CHECK_STR(out, "\a");
	CHECK_STR(line_edit_line(&le), "cmd4");
}

static void test_too_long(void)
{
	struct line_edit le;
	struct counts c;
	char big[201];

	setup(&le);
	memset(big, 'x', 200);
	big[200] = '\0';
	c = feed(&le, big);
	CHECK_EQ(c.none, 200);
	CHECK_EQ(strlen(line_edit_line(&le)), LINE_EDIT_MAX);
	/* 128 echoed, 72 bells */
	CHECK_EQ(out_len, 200);
	CHECK_EQ(out[LINE_EDIT_MAX - 1], 'x');
	CHECK_EQ(out[LINE_EDIT_MAX], '\a');
	CHECK_EQ(out[199], '\a');
	c = feed(&le, "\r\n");
	CHECK_EQ(c.too_long, 1);
	CHECK_EQ(c.line, 0);
	CHECK_STR(line_edit_line(&le), "");
	/* The next line is normal, and the long one is not in the history */
	c = feed(&le, "list\r");
	CHECK_EQ(c.line, 1);
	feed(&le, "\x1b[A\x1b[A");
	CHECK_STR(line_edit_line(&le), "list");
}

static void test_too_long_backspace_keeps_refusal(void)
{
	struct line_edit le;
	struct counts c;
	char big[LINE_EDIT_MAX + 2];

	setup(&le);
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(&le, big);
	c = feed(&le, "\x7f\x7f\r");
	CHECK_EQ(c.too_long, 1);
	/* Ctrl-U starts over, so the refusal is forgotten */
	feed(&le, big);
	c = feed(&le, "\x15ok\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "ok");
}

static void test_exactly_full_line(void)
{
	struct line_edit le;
	struct counts c;
	char full[LINE_EDIT_MAX + 1];

	setup(&le);
	memset(full, 'z', LINE_EDIT_MAX);
	full[LINE_EDIT_MAX] = '\0';
	feed(&le, full);
	CHECK(strchr(out, '\a') == NULL);
	c = feed(&le, "\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), full);
}

static void test_escape_sequences_swallowed(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	/* Delete, Ctrl-Right, F1, Home, Alt-x, left and right arrows */
	feed(&le, "a\x1b[3~b\x1b[1;5Cc\x1bOPd\x1b[He\x1bxf\x1b[D\x1b[Cg");
	CHECK_STR(line_edit_line(&le), "abcdefg");
	CHECK_STR(out, "abcdefg");
	/* Arrows with parameters are not history keys */
	feed(&le, "\r");
	reset_out();
	feed(&le, "\x1b[1;2A");
	CHECK_STR(out, "");
	/* ESC ESC [ A is one Up */
	feed(&le, "\x1b\x1b[A");
	CHECK_STR(line_edit_line(&le), "abcdefg");
	/* A control byte ends a sequence and counts as itself */
	feed(&le, "\x15");
	c = feed(&le, "q\x1b[\r");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "q");
	c = feed(&le, "\x1b\x03");
	CHECK_EQ(c.cancel, 1);
	/* An endless sequence is abandoned */
	reset_out();
	feed(&le, "\x1b[11111111111111111111");
	CHECK_STR(line_edit_line(&le), "1111");
}

static void test_other_bytes_ignored(void)
{
	struct line_edit le;

	setup(&le);
	feed_n(&le, "\x01\x02h\x04\x07\t\x0c\x1di\x80\xff\xc3\xa9!\x00", 16);
	CHECK_STR(line_edit_line(&le), "hi!");
	CHECK_STR(out, "hi!");
}

static void test_redraw_and_reset(void)
{
	struct line_edit le;
	struct counts c;

	setup(&le);
	feed(&le, "inf");
	reset_out();
	line_edit_redraw(&le);
	CHECK_STR(out, "inf");
	feed(&le, "\r");
	/* After Enter the line is history: a redraw of the prompt line shows nothing typed */
	reset_out();
	line_edit_redraw(&le);
	CHECK_STR(out, "");
	feed(&le, "ab\x1b[");
	line_edit_reset(&le);
	CHECK_STR(line_edit_line(&le), "");
	/* The half-read sequence is gone, so 'A' is a letter */
	c = feed(&le, "A\n");
	CHECK_EQ(c.line, 1);
	CHECK_STR(line_edit_line(&le), "A");
	/* History survives a reset */
	line_edit_reset(&le);
	feed(&le, "\x1b[A");
	CHECK_STR(line_edit_line(&le), "A");
}

int main(void)
{
	RUN_TEST(test_type_and_enter);
	RUN_TEST(test_empty_line_is_an_event);
	RUN_TEST(test_crlf_counts_once);
	RUN_TEST(test_backspace);
	RUN_TEST(test_kill_line_and_word);
	RUN_TEST(test_ctrl_c_cancels);
	RUN_TEST(test_history_walk);
	RUN_TEST(test_history_keeps_draft);
	RUN_TEST(test_history_distinct_non_empty);
	RUN_TEST(test_history_keeps_last_16);
	RUN_TEST(test_too_long);
	RUN_TEST(test_too_long_backspace_keeps_refusal);
	RUN_TEST(test_exactly_full_line);
	RUN_TEST(test_escape_sequences_swallowed);
	RUN_TEST(test_other_bytes_ignored);
	RUN_TEST(test_redraw_and_reset);
	return test_any_failed;
}
