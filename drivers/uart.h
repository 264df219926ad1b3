/* The hypervisor's own serial console: a 16550 UART driven by port I/O. */
#ifndef CLOISON_UART_H
#define CLOISON_UART_H

#include <stdint.h>
#include <stdbool.h>

#define UART_DEFAULT_PORT 0x3f8
#define UART_DEFAULT_BAUD 115200

/* Programs 8N1 at baud; returns false (and stays silent) when no UART answers at port. */
bool uart_init(uint16_t port, uint32_t baud);
void uart_putc(char c);
/* Returns the next received byte, or -1 when none is waiting. */
int uart_getc(void);
uint16_t uart_port(void);

#endif
