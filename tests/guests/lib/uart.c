/* Polled 16550 UART output, programmed as on real hardware. */
#include "tests/guests/lib/guest.h"

enum {
	UART_DATA = 0,   /* THR, or DLL with LCR.DLAB */
	UART_IER = 1,    /* or DLM with LCR.DLAB */
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1 0x03
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_DRAIN_POLLS 10000000u /* gives up on a UART that never drains */

void uart_init(void)
{
	outb(GUEST_UART_PORT + UART_IER, 0x00);
	outb(GUEST_UART_PORT + UART_LCR, UART_LCR_DLAB);
	outb(GUEST_UART_PORT + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(GUEST_UART_PORT + UART_IER, 0);
	outb(GUEST_UART_PORT + UART_LCR, UART_LCR_8N1);
	outb(GUEST_UART_PORT + UART_FCR, 0xc7); /* FIFOs on and cleared, 14-byte trigger */
	outb(GUEST_UART_PORT + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no interrupts */
}

void uart_putc(char c)
{
	while (!(inb(GUEST_UART_PORT + UART_LSR) & UART_LSR_THRE))
		;
	outb(GUEST_UART_PORT + UART_DATA, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_flush(void)
{
	for (uint32_t i = 0; i < UART_DRAIN_POLLS; i++)
		if (inb(GUEST_UART_PORT + UART_LSR) & UART_LSR_TEMT)
			return;
}
