/* A guest's virtual serial port seen from the hypervisor: what it transmits (its console ring,
 * prefixed lines on the main console, Linux's panic banner) and what is typed for it. */
#include "kernel/guest.h"
#include "kernel/log.h"
#include "kernel/ring.h"

void guest_uart_flush(struct guest *g)
{
	if (g->line_len) {
		log_guest_line(g->name, g->line, g->line_len);
		g->line_len = 0;
	}
}

/* Linux's panic banner, SDM-free: kernel/panic.c prints it before it resets or spins. */
static const char panic_banner[] = "Kernel panic - not syncing";

static void guest_watch_panic(struct guest *g, uint8_t byte)
{
	if (!g->is_linux || g->panic_seen)
		return;
	if (byte == (uint8_t)panic_banner[g->panic_match])
		g->panic_match++;
	else
		g->panic_match = byte == (uint8_t)panic_banner[0];
	if (g->panic_match == sizeof(panic_banner) - 1)
		g->panic_seen = true;
}

/* Each byte the guest's UART transmits: kept in its console ring and, in prefixed mode, printed
 * line by line on the main console under the guest's name. Never waits for the serial line. */
void guest_uart_tx(void *ctx, uint8_t byte)
{
	struct guest *g = ctx;

	ring_write(&g->console, &byte, 1);
	guest_watch_panic(g, byte);
	if (!g->console_prefixed || g->console_attached)
		return;
	if (byte == '\n') {
		guest_uart_flush(g);
		return;
	}
	if (byte == '\r')
		return;
	g->line[g->line_len++] = (char)byte;
	if (g->line_len == sizeof(g->line))
		guest_uart_flush(g);
}

void guest_uart_refill(struct guest *g)
{
	while (g->input_count && g->uart.rx_count < VUART_FIFO_SIZE) {
		vuart_receive(&g->uart, g->input[g->input_head]);
		g->input_head = (g->input_head + 1) % GUEST_INPUT_MAX;
		g->input_count--;
	}
}

void guest_console_input(struct guest *g, uint8_t byte)
{
	spin_lock(&g->uart_lock);
	if (g->input_count < GUEST_INPUT_MAX) {
		g->input[(g->input_head + g->input_count) % GUEST_INPUT_MAX] = byte;
		g->input_count++;
	} else {
		vuart_receive(&g->uart, byte); /* a full queue: the FIFO counts the overrun */
	}
	guest_uart_refill(g);
	spin_unlock(&g->uart_lock);
	if (g->vm && g->state == GUEST_RUNNING) {
		uint32_t halted = 0;

		for (unsigned i = 0; i < g->nr_vcpus; i++)
			if (g->vcpus[i]->block == VCPU_HLT)
				halted |= 1u << i;
		guest_kick_vcpus(g, halted, NULL); /* its UART interrupt is due on some vCPU */
	}
}
