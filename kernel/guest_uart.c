/* A guest's virtual serial port seen from the hypervisor: what it transmits (its console ring,
 * prefixed lines on the main console, Linux's panic banner) and what is typed for it. */
#include "kernel/guest.h"
#include "kernel/log.h"
#include "kernel/ring.h"

/* Prints the unfinished prefixed line. @pre g->uart_lock held */
static void guest_line_flush(struct guest *g)
{
	if (g->line_len) {
		log_guest_line(g->name, g->line, g->line_len);
		g->line_len = 0;
	}
}

/* Linux's panic banner, SDM-free: kernel/panic.c prints it before it resets or spins. */
static const char panic_banner[] = "Kernel panic - not syncing";

static void guest_watch_panic(struct guest *g, const uint8_t *bytes, unsigned n)
{
	for (unsigned i = 0; i < n && !g->panic_seen; i++) {
		if (bytes[i] == (uint8_t)panic_banner[g->panic_match])
			g->panic_match++;
		else
			g->panic_match = bytes[i] == (uint8_t)panic_banner[0];
		if (g->panic_match == sizeof(panic_banner) - 1)
			g->panic_seen = true;
	}
}

/* The bytes the guest's UART transmitted, in order, handed over in batches (vuart_tx_flush):
 * kept in its console ring, watched for Linux's panic banner and, in prefixed mode, printed
 * line by line on the main console under the guest's name. Never waits for the serial line.
 * @pre g->uart_lock held */
void guest_uart_tx(void *ctx, const uint8_t *bytes, unsigned n)
{
	struct guest *g = ctx;

	ring_write(&g->console, bytes, n);
	if (g->is_linux)
		guest_watch_panic(g, bytes, n);
	if (!g->console_prefixed || g->console_attached)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (bytes[i] == '\n') {
			guest_line_flush(g);
			continue;
		}
		if (bytes[i] == '\r')
			continue;
		g->line[g->line_len++] = (char)bytes[i];
		if (g->line_len == sizeof(g->line))
			guest_line_flush(g);
	}
}

bool guest_uart_drain(struct guest *g)
{
	/* A byte queued just after this look is seen by the next drain */
	if (!__atomic_load_n(&g->uart.tx_queued, __ATOMIC_RELAXED))
		return false;
	spin_lock(&g->uart_lock);
	vuart_tx_flush(&g->uart);
	spin_unlock(&g->uart_lock);
	return true;
}

bool guest_uart_drain_all(void)
{
	bool any = false;

	for (unsigned i = 0; i < guest_count; i++)
		any |= guest_uart_drain(&guests[i]);
	return any;
}

void guest_uart_flush(struct guest *g)
{
	spin_lock(&g->uart_lock);
	vuart_tx_flush(&g->uart);
	guest_line_flush(g);
	spin_unlock(&g->uart_lock);
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
