/* The console line editor: input bytes in one at a time, echo and redraw out, a small history. */
#ifndef CLOISON_LINE_EDIT_H
#define CLOISON_LINE_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_EDIT_MAX 128     /* characters in one line */
#define LINE_EDIT_HISTORY 16  /* distinct non-empty lines kept for the arrow keys */
#define LINE_EDIT_ESC_MAX 16  /* parameter bytes after which an escape sequence is abandoned */

enum line_edit_event {
	LINE_EDIT_NONE,     /* byte consumed, the line is still being edited */
	LINE_EDIT_LINE,     /* Enter: line_edit_line() holds the line until the next byte */
	LINE_EDIT_CANCEL,   /* Ctrl-C: the line was discarded */
	LINE_EDIT_TOO_LONG, /* Enter after bytes had been refused: the line was discarded */
};

/* Output uses "\n" for a new line; the console driver adds the carriage return. */
typedef void (*line_edit_write_fn)(void *ctx, const char *s, size_t n);

struct line_edit {
	line_edit_write_fn write;
	void *ctx;
	char line[LINE_EDIT_MAX + 1]; /* NUL-terminated */
	size_t len;
	bool refused;   /* bytes were refused since the line began: Enter reports TOO_LONG */
	bool finished;  /* the last byte ended the line: the next one starts a new line */
	bool after_cr;  /* the last byte was CR, so an LF right after it is the same Enter */
	uint8_t esc;    /* escape-sequence parser state */
	unsigned esc_len;
	char history[LINE_EDIT_HISTORY][LINE_EDIT_MAX + 1]; /* [0] is the newest */
	unsigned history_len;
	int history_pos;                    /* -1: editing the draft, else an index into history */
	char draft[LINE_EDIT_MAX + 1];      /* the line being typed before the arrows were used */
};

void line_edit_init(struct line_edit *le, line_edit_write_fn write, void *ctx);

/*
 * Keys: printable ASCII is appended and echoed; Backspace (0x7f, 0x08) erases one character;
 * Ctrl-U erases the line and Ctrl-W the last word; Ctrl-C cancels; CR, LF or CRLF ends the line;
 * Up and Down (ESC [ A/B, ESC O A/B) walk the history. Other escape sequences are swallowed
 * whole, other control bytes and bytes above 0x7e are ignored. Once the line is full further
 * characters are refused with a bell, and Enter then reports TOO_LONG instead of a cut line.
 */
enum line_edit_event line_edit_feed(struct line_edit *le, uint8_t byte);

/* The finished line after LINE_EDIT_LINE, or the line being edited. */
const char *line_edit_line(const struct line_edit *le);

/* Echoes the line being edited again, after the caller reprinted the prompt. */
void line_edit_redraw(struct line_edit *le);

/* Starts an empty line, forgetting a half-read escape sequence or CR (keeps the history). */
void line_edit_reset(struct line_edit *le);

#endif
