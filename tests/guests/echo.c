/* echo: a console guest. Programs the UART as Linux does (receive interrupt enabled in IER, OUT2
 * in MCR), prints "echo: ready", then polls LSR.DR and answers each line it receives with
 * "echo: got 'LINE'", and prints "echo: tick N" every tick=T TSC cycles (default 2^26) so
 * pause/resume tests can watch it advance. Command line: NAME [tick=T]. Never exits by itself;
 * the line "exit" stops it with code 0. Interrupts stay off: it only polls. */
#include "tests/guests/lib/guest.h"

enum {
	UART_RBR = 0,
	UART_IER = 1,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define UART_IER_RDI 0x01  /* received data available interrupt */
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT2 0x08 /* gates the UART's interrupt line on PCs */
#define UART_LSR_DR 0x01
#define ECHO_LINE_MAX 120
#define ECHO_DEFAULT_TICK (1u << 26)

static char line[ECHO_LINE_MAX + 1];
static uint32_t line_len;

static void print_line(void)
{
	printf("echo: got '");
	for (uint32_t i = 0; i < line_len; i++) {
		uint8_t c = (uint8_t)line[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			uart_putc((char)c);
		else
			printf("\\x%02x", c);
	}
	printf("'\n");
}

static void receive(uint8_t c, bool *last_was_cr)
{
	bool was_cr = *last_was_cr;

	*last_was_cr = c == '\r';
	if (c == '\n' && was_cr)
		return; /* the second half of CR LF */
	if (c == '\r' || c == '\n') {
		line[line_len] = '\0';
		print_line();
		if (line_len == 4 && memcmp(line, "exit", 4) == 0) {
			printf("echo: exiting\n");
			guest_exit(0);
		}
		line_len = 0;
		return;
	}
	line[line_len++] = (char)c;
	if (line_len == ECHO_LINE_MAX) { /* a line too long for the buffer goes out in pieces */
		print_line();
		line_len = 0;
	}
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t tick_cycles = ECHO_DEFAULT_TICK, tick = 0;
	bool last_was_cr = false;

	guest_boot("echo", magic);
	idt_init(0xee);
	cli();
	if (cmdline_u32(guest_cmdline(mbi), "tick", &tick_cycles) < 0 || tick_cycles == 0) {
		printf("echo: bad tick= value\n");
		guest_exit(2);
	}
	outb(GUEST_UART_PORT + UART_IER, UART_IER_RDI);
	outb(GUEST_UART_PORT + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	while (inb(GUEST_UART_PORT + UART_LSR) & UART_LSR_DR) /* drop anything stale */
		(void)inb(GUEST_UART_PORT + UART_RBR);
	printf("echo: ready\n");

	uint64_t next_tick = rdtsc() + tick_cycles;
	for (;;) {
		if (inb(GUEST_UART_PORT + UART_LSR) & UART_LSR_DR)
			receive(inb(GUEST_UART_PORT + UART_RBR), &last_was_cr);
		uint64_t now = rdtsc();
		if (now >= next_tick) {
			printf("echo: tick %u\n", ++tick);
			next_tick = now + tick_cycles;
		}
	}
}
