/* Guest text made inert: printable ASCII passes, '\' doubles, anything else is shown as \xHH. */
#include "kernel/sanitize.h"

static const char sanitize_hex[] = "0123456789abcdef";

/* Printable: what moves the cursor one column right and nothing else (ECMA-48 section 8.2) */
static int sanitize_printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

static size_t sanitize_byte_len(uint8_t c)
{
	if (c == '\\')
		return 2;
	return sanitize_printable(c) ? 1 : SANITIZE_MAX_EXPANSION;
}

size_t sanitize_len(const char *text, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += sanitize_byte_len((uint8_t)text[i]);
	return n;
}

void sanitize_text(const char *text, size_t len, void (*put)(void *ctx, char c), void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];

		if (c == '\\') {
			put(ctx, '\\');
			put(ctx, '\\');
		} else if (sanitize_printable(c)) {
			put(ctx, (char)c);
		} else {
			put(ctx, '\\');
			put(ctx, 'x');
			put(ctx, sanitize_hex[c >> 4]);
			put(ctx, sanitize_hex[c & 15]);
		}
	}
}

struct sanitize_buf {
	char *buf;
	size_t size, used;
};

static void sanitize_buf_put(void *ctx, char c)
{
	struct sanitize_buf *b = ctx;

	b->buf[b->used++] = c;
}

size_t sanitize_to_buf(const char *text, size_t len, char *buf, size_t size)
{
	struct sanitize_buf b = { buf, size, 0 };

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (b.used + sanitize_byte_len((uint8_t)text[i]) > size - 1)
			break;
		sanitize_text(text + i, 1, sanitize_buf_put, &b);
	}
	buf[b.used] = '\0';
	return b.used;
}
