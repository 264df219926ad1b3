/* Formatted printing without libc: a printf subset emitted one character at a time. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include "kernel/fmt.h"
#include "kernel/lib.h"

/* Larger widths and precisions are clamped so one conversion cannot stall the console. */
#define FMT_MAX_WIDTH 4096

struct fmt_out {
	fmt_putc_fn putc;
	void *ctx;
	size_t count;
};

struct fmt_spec {
	bool left;     /* '-': pad on the right */
	bool zero;     /* '0': pad numbers with zeros after the sign */
	int width;     /* minimum field width, 0 when absent */
	int precision; /* -1 when absent */
};

enum fmt_length { FMT_LEN_INT, FMT_LEN_CHAR, FMT_LEN_SHORT, FMT_LEN_LONG };

static void fmt_emit(struct fmt_out *out, char c)
{
	out->putc(out->ctx, c);
	out->count++;
}

static void fmt_repeat(struct fmt_out *out, char c, int n)
{
	while (n-- > 0)
		fmt_emit(out, c);
}

/* Emits len characters of s padded to the field width. */
static void fmt_field(struct fmt_out *out, const struct fmt_spec *spec, const char *s, size_t len)
{
	int pad = len < (size_t)spec->width ? spec->width - (int)len : 0;

	if (!spec->left)
		fmt_repeat(out, ' ', pad);
	for (size_t i = 0; i < len; i++)
		fmt_emit(out, s[i]);
	if (spec->left)
		fmt_repeat(out, ' ', pad);
}

static void fmt_string(struct fmt_out *out, const struct fmt_spec *spec, const char *s)
{
	if (!s)
		s = "(null)";
	if (spec->precision < 0)
		fmt_field(out, spec, s, strlen(s));
	else
		fmt_field(out, spec, s, strnlen(s, (size_t)spec->precision));
}

/* Prints sign, prefix, leading zeros and digits; precision is the C minimum digit count. */
static void fmt_number(struct fmt_out *out, const struct fmt_spec *spec, uint64_t value,
		       bool negative, unsigned base, bool upper, const char *prefix)
{
	const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24];
	int ndigits = 0, zeros, pad, head;

	do {
		digits[ndigits++] = digit_chars[value % base];
		value /= base;
	} while (value);
	if (spec->precision == 0 && ndigits == 1 && digits[0] == '0')
		ndigits = 0;

	head = (negative ? 1 : 0) + (int)strlen(prefix);
	zeros = spec->precision > ndigits ? spec->precision - ndigits : 0;
	if (spec->zero && !spec->left && spec->precision < 0)
		zeros = MAX(zeros, spec->width - head - ndigits);
	pad = spec->width - head - zeros - ndigits;

	if (!spec->left)
		fmt_repeat(out, ' ', pad);
	if (negative)
		fmt_emit(out, '-');
	while (*prefix)
		fmt_emit(out, *prefix++);
	fmt_repeat(out, '0', zeros);
	while (ndigits)
		fmt_emit(out, digits[--ndigits]);
	if (spec->left)
		fmt_repeat(out, ' ', pad);
}

static int fmt_parse_int(const char **p)
{
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (n < FMT_MAX_WIDTH)
			n = n * 10 + (**p - '0');
		(*p)++;
	}
	return MIN(n, FMT_MAX_WIDTH);
}

static int64_t fmt_arg_signed(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case FMT_LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case FMT_LEN_SHORT:
		return (short)va_arg(*ap, int);
	case FMT_LEN_LONG:
		return va_arg(*ap, long long);
	default:
		return va_arg(*ap, int);
	}
}

static uint64_t fmt_arg_unsigned(va_list *ap, enum fmt_length len)
{
	switch (len) {
	case FMT_LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case FMT_LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case FMT_LEN_LONG:
		return va_arg(*ap, unsigned long long);
	default:
		return va_arg(*ap, unsigned int);
	}
}

/* Handles one conversion starting after '%'; returns where the format continues. */
static const char *fmt_conversion(struct fmt_out *out, const char *start, va_list *ap)
{
	struct fmt_spec spec = { .precision = -1 };
	enum fmt_length len = FMT_LEN_INT;
	const char *p = start + 1;
	int64_t sval;

	for (;; p++) {
		if (*p == '-')
			spec.left = true;
		else if (*p == '0')
			spec.zero = true;
		else
			break;
	}
	if (*p == '*') {
		int w = va_arg(*ap, int);

		/* A negative '*' width means left-justify, as in C11 7.21.6.1p5 */
		if (w < 0) {
			spec.left = true;
			w = w == INT32_MIN ? FMT_MAX_WIDTH : -w;
		}
		spec.width = MIN(w, FMT_MAX_WIDTH);
		p++;
	} else {
		spec.width = fmt_parse_int(&p);
	}
	if (*p == '.') {
		p++;
		if (*p == '*') {
			int prec = va_arg(*ap, int);

			spec.precision = prec < 0 ? -1 : MIN(prec, FMT_MAX_WIDTH);
			p++;
		} else {
			spec.precision = fmt_parse_int(&p);
		}
	}
	if (*p == 'h') {
		len = p[1] == 'h' ? FMT_LEN_CHAR : FMT_LEN_SHORT;
		p += p[1] == 'h' ? 2 : 1;
	} else if (*p == 'l') {
		len = FMT_LEN_LONG;
		p += p[1] == 'l' ? 2 : 1;
	} else if (*p == 'z') {
		len = FMT_LEN_LONG;
		p++;
	}

	switch (*p) {
	case 'd':
	case 'i':
		sval = fmt_arg_signed(ap, len);
		/* Negate in unsigned arithmetic so INT64_MIN survives */
		fmt_number(out, &spec, sval < 0 ? 0 - (uint64_t)sval : (uint64_t)sval, sval < 0, 10,
			   false, "");
		break;
	case 'u':
		fmt_number(out, &spec, fmt_arg_unsigned(ap, len), false, 10, false, "");
		break;
	case 'x':
	case 'X':
		fmt_number(out, &spec, fmt_arg_unsigned(ap, len), false, 16, *p == 'X', "");
		break;
	case 'p':
		spec.precision = 16;
		fmt_number(out, &spec, (uintptr_t)va_arg(*ap, void *), false, 16, false, "0x");
		break;
	case 's':
		fmt_string(out, &spec, va_arg(*ap, const char *));
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);

		fmt_field(out, &spec, &c, 1);
		break;
	}
	case '%':
		fmt_emit(out, '%');
		break;
	default:
		/* Unknown or unfinished conversion: print it as written so the mistake shows */
		while (start < p)
			fmt_emit(out, *start++);
		if (!*p)
			return p;
		fmt_emit(out, *p);
		break;
	}
	return p + 1;
}

int fmt_vformat(fmt_putc_fn putc, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out out = { .putc = putc, .ctx = ctx };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = fmt_conversion(&out, fmt, &args);
		else
			fmt_emit(&out, *fmt++);
	}
	va_end(args);
	return out.count > INT32_MAX ? INT32_MAX : (int)out.count;
}

int fmt_format(fmt_putc_fn putc, void *ctx, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(putc, ctx, fmt, ap);
	va_end(ap);
	return n;
}

struct fmt_buf {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_buf_putc(void *ctx, char c)
{
	struct fmt_buf *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { .buf = buf, .size = size };
	int n = fmt_vformat(fmt_buf_putc, &b, fmt, ap);

	if (size)
		buf[MIN(b.len, size - 1)] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
