/* Formatted printing of our own: %s %c %d %i %u %x %X %p %% with l/ll/z, width, '0' and '-'. */
#ifndef CLOISON_FMT_H
#define CLOISON_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_putc_fn)(void *ctx, char c);

/* Emits through putc; returns the number of characters emitted. */
int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap);
int fmt_format(fmt_putc_fn putc, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like snprintf: always NUL-terminates when size > 0, returns the untruncated length. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
