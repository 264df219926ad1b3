/* Virtual 16550A UART register model shown to guests (pure logic, no port I/O). */
#ifndef CLOISON_VUART_H
#define CLOISON_VUART_H

#include <stdint.h>
#include <stdbool.h>

#define VUART_FIFO_SIZE 16

/* Register offsets from the base port, as in the 16550A data sheet. */
enum {
	UART_RBR_THR_DLL = 0,
	UART_IER_DLM = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

struct vuart {
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t dll, dlm;
	bool thr_interrupt; /* THR-empty interrupt pending (cleared by an IIR read or a THR write) */
	uint8_t rx[VUART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	void (*tx)(void *ctx, uint8_t byte); /* called for each byte the guest transmits */
	void *tx_ctx;
	uint64_t tx_bytes, rx_overruns;
};

/* Power-on state: DLL=12 (9600 baud), LCR=0, LSR=THRE|TEMT, FIFOs off. */
void vuart_init(struct vuart *uart, void (*tx)(void *ctx, uint8_t byte), void *tx_ctx);
uint8_t vuart_read(struct vuart *uart, unsigned offset);
void vuart_write(struct vuart *uart, unsigned offset, uint8_t value);
/* Host-side input; returns false (and counts an overrun) when the receive FIFO is full. */
bool vuart_receive(struct vuart *uart, uint8_t byte);
/* The ISA IRQ line (level): an IER-enabled condition is pending and MCR.OUT2 drives the PC's IRQ
 * gate (loopback holds the OUT2 pin inactive). Conditions, highest first (IIR): line status (OE),
 * received data at the FIFO trigger level or a character timeout below it, THR empty, modem status. */
bool vuart_irq(const struct vuart *uart);
/* The earlier name of vuart_irq(), kept for callers written before the rename. */
static inline bool vuart_irq_pending(const struct vuart *uart)
{
	return vuart_irq(uart);
}

#endif
