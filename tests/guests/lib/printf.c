/* A tiny printf to the UART: %s %c %d %u %x %X %p %%, an optional '0' flag, a width, and ll. */
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

/* Digits by repeated division: 64-bit values go through DIV on two 32-bit halves (no libgcc). */
static void put_number(uint64_t value, unsigned base, bool upper, bool negative, unsigned width,
		       char pad)
{
	const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	size_t i = sizeof(buf);

	do {
		uint32_t high = (uint32_t)(value >> 32), rem;
		uint32_t low = div_u64_u32(high % base, (uint32_t)value, base, &rem);
		value = ((uint64_t)(high / base) << 32) | low;
		buf[--i] = alphabet[rem];
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
		bool wide = false; /* "ll": a 64-bit argument; a single 'l' is 32-bit here */
		if (*fmt == 'l') {
			fmt++;
			if (*fmt == 'l') {
				wide = true;
				fmt++;
			}
		}

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
			int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
			uint64_t magnitude = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
			put_number(magnitude, 10, false, v < 0, width, pad);
			break;
		}
		case 'u':
			put_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 10, false, false,
				   width, pad);
			break;
		case 'x':
		case 'X':
			put_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 16, *fmt == 'X',
				   false, width, pad);
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
