/* A tiny printf to the UART: %s %c %d %u %x %X %p %%, with an optional '0' flag and a width. */
#include "tests/guests/lib/guest.h"

static void put_padded(const char *digits, size_t len, bool negative, unsigned width, char pad)
{
	size_t total = len + (negative ? 1 : 0);

	if (negative && pad == '0')
		uart_putc('-');
	for (; width > total; width--)
		uart_putc(pad);
	if (negative && pad != '0')
		uart_putc('-');
	while (len--)
		uart_putc(*digits++);
}

static void put_number(uint32_t value, unsigned base, bool upper, bool negative, unsigned width,
		       char pad)
{
	const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[12];
	size_t i = sizeof(buf);

	do {
		buf[--i] = alphabet[value % base];
		value /= base;
	} while (value);
	put_padded(&buf[i], sizeof(buf) - i, negative, width, pad);
}

void vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		unsigned width = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');

		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_padded(s, strlen(s), false, width, ' ');
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&c, 1, false, width, ' ');
			break;
		}
		case 'd': {
			int32_t v = va_arg(ap, int32_t);
			uint32_t magnitude = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
			put_number(magnitude, 10, false, v < 0, width, pad);
			break;
		}
		case 'u':
			put_number(va_arg(ap, uint32_t), 10, false, false, width, pad);
			break;
		case 'x':
		case 'X':
			put_number(va_arg(ap, uint32_t), 16, *fmt == 'X', false, width, pad);
			break;
		case 'p':
			uart_puts("0x");
			put_number((uint32_t)va_arg(ap, void *), 16, false, false, 8, '0');
			break;
		case '%':
			uart_putc('%');
			break;
		case '\0':
			return;
		default:
			uart_putc('%');
			uart_putc(*fmt);
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
