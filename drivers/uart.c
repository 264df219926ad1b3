/* 16550 console driver: polled output, polled input. */
#include "drivers/uart.h"
#include "drivers/vuart.h"
#include "kernel/x86.h"

static uint16_t console_port;
static bool console_present;

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

bool uart_init(uint16_t port, uint32_t baud)
{
	uint16_t divisor = (uint16_t)(115200 / (baud ? baud : UART_DEFAULT_BAUD));

	console_port = port;
	/* Scratch-register probe: a missing UART floats the bus to 0xff. */
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a) {
		console_present = false;
		return false;
	}
	outb(port + UART_IER_DLM, 0x00);
	outb(port + UART_LCR, 0x80);
	outb(port + UART_RBR_THR_DLL, (uint8_t)(divisor ? divisor : 1));
	outb(port + UART_IER_DLM, (uint8_t)(divisor >> 8));
	outb(port + UART_LCR, 0x03);   /* 8N1 */
	outb(port + UART_IIR_FCR, 0x07); /* FIFOs on and cleared */
	outb(port + UART_MCR, 0x03);   /* DTR, RTS */
	console_present = true;
	return true;
}

void uart_putc(char c)
{
	if (!console_present)
		return;
	if (c == '\n')
		uart_putc('\r');
	for (unsigned spins = 0; !(inb(console_port + UART_LSR) & LSR_THR_EMPTY); spins++)
		if (spins > 1000000)
			return; /* a wedged line must not hang the hypervisor */
	outb(console_port + UART_RBR_THR_DLL, (uint8_t)c);
}

int uart_getc(void)
{
	if (!console_present || !(inb(console_port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(console_port + UART_RBR_THR_DLL);
}

uint16_t uart_port(void)
{
	return console_port;
}
