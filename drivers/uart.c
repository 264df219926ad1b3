/* 16550 console driver: polled output, polled input. */
#include "drivers/uart.h"
#include "drivers/virt/vuart.h"
#include "kernel/x86.h"

static uint16_t console_port;
static bool console_present;
static unsigned fifo_size = 1;

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
	/* IIR bits 7:6 read 11 only on a 16550A whose FIFOs work; a 16450 has none. */
	fifo_size = (inb(port + UART_IIR_FCR) & 0xc0) == 0xc0 ? UART_FIFO_SIZE : 1;
	outb(port + UART_MCR, 0x03);   /* DTR, RTS */
	console_present = true;
	return true;
}

void uart_putc_fifo(char c)
{
	if (console_present)
		outb(console_port + UART_RBR_THR_DLL, (uint8_t)c);
}

void uart_putc(char c)
{
	if (c == '\n')
		uart_putc_raw('\r');
	uart_putc_raw(c);
}

void uart_putc_raw(char c)
{
	if (!console_present)
		return;
	for (unsigned spins = 0; !(inb(console_port + UART_LSR) & LSR_THR_EMPTY); spins++)
		if (spins > 1000000)
			return; /* a wedged line must not hang the hypervisor */
	outb(console_port + UART_RBR_THR_DLL, (uint8_t)c);
}

#define LSR_TX_IDLE 0x40 /* TEMT: FIFO and shift register empty */

void uart_wait_idle(void)
{
	for (unsigned spins = 0; console_present && !(inb(console_port + UART_LSR) & LSR_TX_IDLE); spins++)
		if (spins > 1000000)
			return;
}

unsigned uart_fifo_size(void)
{
	return fifo_size;
}

bool uart_tx_ready(void)
{
	return !console_present || (inb(console_port + UART_LSR) & LSR_THR_EMPTY);
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
