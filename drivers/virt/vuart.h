/* Virtual 16550A UART register model shown to guests (pure logic, no port I/O). */
#ifndef CLOISON_VUART_H
#define CLOISON_VUART_H

#include <stdint.h>
#include <stdbool.h>

#define VUART_FIFO_SIZE 16
/* Transmitted bytes held for the host side, which takes them in batches (vuart_tx_flush) */
#define VUART_TX_QUEUE 128

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
	/* What the guest transmitted, in order, not yet handed to tx: a full queue is handed over
	 * before the next byte joins it, so nothing is lost and the exit that sends stays short. */
	uint8_t tx_queue[VUART_TX_QUEUE];
	unsigned tx_queued;
	void (*tx)(void *ctx, const uint8_t *bytes, unsigned n); /* takes transmitted bytes */
	void *tx_ctx;
	uint64_t tx_bytes, rx_overruns;
};

/* Power-on state: DLL=12 (9600 baud), LCR=0, LSR=THRE|TEMT, FIFOs off, nothing queued. */
void vuart_init(struct vuart *uart, void (*tx)(void *ctx, const uint8_t *bytes, unsigned n),
		void *tx_ctx);
uint8_t vuart_read(struct vuart *uart, unsigned offset);
void vuart_write(struct vuart *uart, unsigned offset, uint8_t value);
/* Hands every queued transmitted byte to tx (one call, in order) and empties the queue. */
void vuart_tx_flush(struct vuart *uart);
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
