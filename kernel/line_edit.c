/* Line editor state machine for the serial console: append-only editing, history, escapes. */
#include "kernel/line_edit.h"
#include "kernel/lib.h"

#define KEY_CTRL_C 0x03
#define KEY_BS 0x08
#define KEY_CTRL_U 0x15
#define KEY_CTRL_W 0x17
#define KEY_ESC 0x1b
#define KEY_DEL 0x7f

/* Escape sequences as terminals send them (ECMA-48 5.4): ESC x, ESC [ params final, ESC O x. */
enum {
	ESC_NONE,
	ESC_START, /* after ESC */
	ESC_CSI,   /* after ESC [ */
	ESC_SS3,   /* after ESC O */
};

static void le_write(struct line_edit *le, const char *s, size_t n)
{
	le->write(le->ctx, s, n);
}

static void le_bell(struct line_edit *le)
{
	le_write(le, "\a", 1);
}

/* Moves the cursor back over the last n characters of the line, blanking them. */
static void le_erase(struct line_edit *le, size_t n)
{
	while (n--)
		le_write(le, "\b \b", 3);
}

static void le_reset(struct line_edit *le)
{
	le->len = 0;
	le->line[0] = '\0';
	le->refused = false;
	le->history_pos = -1;
}

void line_edit_init(struct line_edit *le, line_edit_write_fn write, void *ctx)
{
	memset(le, 0, sizeof(*le));
	le->write = write;
	le->ctx = ctx;
	le->esc = ESC_NONE;
	le_reset(le);
}

const char *line_edit_line(const struct line_edit *le)
{
	return le->line;
}

void line_edit_redraw(struct line_edit *le)
{
	/* A finished line stays readable until the next byte, but it is no longer being typed. */
	if (!le->finished)
		le_write(le, le->line, le->len);
}

void line_edit_reset(struct line_edit *le)
{
	le_reset(le);
	le->finished = false;
	le->after_cr = false;
	le->esc = ESC_NONE;
}

/* Shows text in place of the current line, rewriting only what differs. */
static void le_replace(struct line_edit *le, const char *text)
{
	size_t same = 0, n = strnlen(text, LINE_EDIT_MAX);

	while (same < le->len && same < n && le->line[same] == text[same])
		same++;
	le_erase(le, le->len - same);
	le_write(le, text + same, n - same);
	memmove(le->line, text, n);
	le->line[n] = '\0';
	le->len = n;
	le->refused = false;
}

static void le_history_older(struct line_edit *le)
{
	if (le->history_pos + 1 >= (int)le->history_len) {
		le_bell(le);
		return;
	}
	if (le->history_pos < 0)
		memcpy(le->draft, le->line, le->len + 1);
	le->history_pos++;
	le_replace(le, le->history[le->history_pos]);
}

static void le_history_newer(struct line_edit *le)
{
	if (le->history_pos < 0) {
		le_bell(le);
		return;
	}
	le->history_pos--;
	le_replace(le, le->history_pos < 0 ? le->draft : le->history[le->history_pos]);
}

static bool le_blank(const char *s)
{
	while (*s == ' ')
		s++;
	return *s == '\0';
}

/* Puts line first; an equal older entry moves up instead of being repeated. */
static void le_history_add(struct line_edit *le, const char *line)
{
	unsigned slot;

	if (le_blank(line))
		return;
	for (slot = 0; slot < le->history_len; slot++)
		if (strcmp(le->history[slot], line) == 0)
			break;
	if (slot == le->history_len) {
		if (le->history_len < LINE_EDIT_HISTORY)
			le->history_len++;
		slot = le->history_len - 1;
	}
	memmove(le->history[1], le->history[0], slot * sizeof(le->history[0]));
	str_copy(le->history[0], line, sizeof(le->history[0]));
}

static void le_arrow(struct line_edit *le, uint8_t final)
{
	if (final == 'A')
		le_history_older(le);
	else if (final == 'B')
		le_history_newer(le);
}

/* Feeds a byte to a pending escape sequence; false when the byte ended it and is a key itself. */
static bool le_escape(struct line_edit *le, uint8_t byte)
{
	if (byte == KEY_ESC) {
		le->esc = ESC_START;
		le->esc_len = 0;
		return true;
	}
	/* A control byte cannot be part of a sequence: the user gave up on it, so act on it */
	if (byte < 0x20 || byte > 0x7e) {
		le->esc = ESC_NONE;
		return false;
	}
	switch (le->esc) {
	case ESC_START:
		le->esc = byte == '[' ? ESC_CSI : byte == 'O' ? ESC_SS3 : ESC_NONE;
		break;
	case ESC_SS3:
		le->esc = ESC_NONE;
		le_arrow(le, byte);
		break;
	case ESC_CSI:
		if (byte >= 0x40) {
			le->esc = ESC_NONE;
			/* Plain arrows only: with parameters they are modified keys or reports */
			if (le->esc_len == 0)
				le_arrow(le, byte);
		} else if (++le->esc_len >= LINE_EDIT_ESC_MAX) {
			le->esc = ESC_NONE;
		}
		break;
	default:
		le->esc = ESC_NONE;
		break;
	}
	return true;
}

static enum line_edit_event le_enter(struct line_edit *le)
{
	le_write(le, "\n", 1);
	le->finished = true;
	if (le->refused) {
		le_reset(le);
		return LINE_EDIT_TOO_LONG;
	}
	le_history_add(le, le->line);
	return LINE_EDIT_LINE;
}

static void le_insert(struct line_edit *le, char c)
{
	if (le->len >= LINE_EDIT_MAX) {
		le->refused = true;
		le_bell(le);
		return;
	}
	le->line[le->len++] = c;
	le->line[le->len] = '\0';
	le_write(le, &c, 1);
}

static void le_kill(struct line_edit *le, size_t keep)
{
	le_erase(le, le->len - keep);
	le->len = keep;
	le->line[keep] = '\0';
}

static void le_kill_word(struct line_edit *le)
{
	size_t keep = le->len;

	while (keep > 0 && le->line[keep - 1] == ' ')
		keep--;
	while (keep > 0 && le->line[keep - 1] != ' ')
		keep--;
	le_kill(le, keep);
}

enum line_edit_event line_edit_feed(struct line_edit *le, uint8_t byte)
{
	bool after_cr = le->after_cr;

	le->after_cr = false;
	if (byte == '\n' && after_cr)
		return LINE_EDIT_NONE;
	if (le->finished) {
		le->finished = false;
		le_reset(le);
	}
	if (le->esc != ESC_NONE && le_escape(le, byte))
		return LINE_EDIT_NONE;

	switch (byte) {
	case '\r':
		le->after_cr = true;
		return le_enter(le);
	case '\n':
		return le_enter(le);
	case KEY_CTRL_C:
		le_write(le, "^C\n", 3);
		le_reset(le);
		return LINE_EDIT_CANCEL;
	case KEY_DEL:
	case KEY_BS:
		if (le->len > 0)
			le_kill(le, le->len - 1);
		break;
	case KEY_CTRL_U:
		le_kill(le, 0);
		le->refused = false;
		break;
	case KEY_CTRL_W:
		le_kill_word(le);
		break;
	case KEY_ESC:
		le->esc = ESC_START;
		le->esc_len = 0;
		break;
	default:
		if (byte >= 0x20 && byte < 0x7f)
			le_insert(le, (char)byte);
		break;
	}
	return LINE_EDIT_NONE;
}
