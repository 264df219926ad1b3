/* The hypervisor's own serial console: a 16550 UART driven by port I/O. */
#ifndef CLOISON_UART_H
#define CLOISON_UART_H

#include <stdint.h>
#include <stdbool.h>

#define UART_DEFAULT_PORT 0x3f8
#define UART_DEFAULT_BAUD 115200

/* Programs 8N1 at baud; returns false (and stays silent) when no UART answers at port. */
bool uart_init(uint16_t port, uint32_t baud);
#define UART_FIFO_SIZE 16 /* bytes the 16550A takes at once when THR is empty */

/* Waits for the transmitter, then sends c ('\n' as CR LF). */
void uart_putc(char c);
void uart_putc_raw(char c);
/* Whether the transmitter FIFO is empty (then uart_fifo_size() bytes may be written). */
bool uart_tx_ready(void);
unsigned uart_fifo_size(void);
/* Waits (boundedly) until the last byte has left the line: before power-off or reset. */
void uart_wait_idle(void);
/* Writes one byte without waiting. @pre room in the FIFO (uart_tx_ready before a burst) */
void uart_putc_fifo(char c);
/* Returns the next received byte, or -1 when none is waiting. */
int uart_getc(void);
uint16_t uart_port(void);

#endif
