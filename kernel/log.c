/* Console output with a per-line lock, a CPU/level prefix and a ring buffer of everything logged.
 * Bytes for the UART wait in a transmit queue that CPU 0's console tick drains as fast as the
 * line takes them, so no CPU waits on the serial line while the queue has room. */
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "drivers/uart.h"
#include "kernel/lib.h"

static struct spinlock log_lock;
static char ring[LOG_RING_SIZE];
static size_t ring_head; /* total bytes ever written */

static bool mid_line;       /* the console's cursor is not at the start of a line */
static bool prompt_erasable; /* what stands on the current line is the shell's prompt */
static volatile bool prompt_damaged;

static char txq_boot[LOG_TXQ_SIZE];
static char *txq = txq_boot;
static uint64_t txq_size = LOG_TXQ_SIZE;
static uint64_t guest_lines_dropped, guest_lines_reported;
static uint64_t txq_head, txq_tail; /* absolute positions: queued up to head, sent up to tail */

/* Sends up to max bytes the UART can take now (all when wait). @pre log_lock held */
static void txq_drain(size_t max, bool wait)
{
	while (txq_tail < txq_head && max--) {
		char c = txq[txq_tail++ % txq_size];

		if (wait)
			uart_putc_raw(c);
		else
			uart_putc_fifo(c);
	}
}

/* @pre log_lock held */
static void txq_put(char c)
{
	if (txq_head - txq_tail == txq_size)
		txq_drain(UART_FIFO_SIZE, true); /* full: wait for the line, as an unbuffered console would */
	txq[txq_head++ % txq_size] = c;
}

static void console_emit(char c)
{
	if (c == '\n')
		txq_put('\r');
	txq_put(c);
	mid_line = c != '\n';
}

void log_grow_queue(char *buf, uint64_t size)
{
	spin_lock(&log_lock);
	for (uint64_t pos = txq_tail; pos < txq_head; pos++)
		buf[pos % size] = txq[pos % txq_size];
	txq = buf;
	txq_size = size;
	spin_unlock(&log_lock);
}

void log_drain(void)
{
	spin_lock(&log_lock);
	if (uart_tx_ready())
		txq_drain(uart_fifo_size(), false);
	spin_unlock(&log_lock);
}

void log_flush(void)
{
	spin_lock(&log_lock);
	txq_drain((size_t)-1, true);
	uart_wait_idle();
	spin_unlock(&log_lock);
}

/* For panics and exceptions: the lock holder may be the CPU that died. */
void log_flush_unlocked(void)
{
	txq_drain((size_t)-1, true);
	uart_wait_idle();
}

static void log_putc(void *ctx, char c)
{
	(void)ctx;
	ring[ring_head++ % LOG_RING_SIZE] = c;
	console_emit(c);
}

/* A log line never starts behind the prompt: erase the prompt line (the console redraws it on
 * its next tick) or, behind a guest's output, start a new line. @pre log_lock held */
static void log_line_start(void)
{
	static const char erase[] = "\r\033[K";

	if (!mid_line)
		return;
	if (prompt_erasable) {
		for (const char *p = erase; *p; p++)
			txq_put(*p);
		mid_line = false;
		prompt_damaged = true;
	} else {
		console_emit('\n');
	}
}

bool log_take_prompt_damage(void)
{
	return __atomic_exchange_n(&prompt_damaged, false, __ATOMIC_ACQ_REL);
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const level_prefix[] = { "", "warning: ", "error: " };

	spin_lock(&log_lock);
	log_line_start();
	fmt_format(log_putc, NULL, "[cpu%u] %s", this_cpu_id(), level_prefix[level]);
	fmt_vformat(log_putc, NULL, fmt, ap);
	log_putc(NULL, '\n');
	spin_unlock(&log_lock);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

static void ring_putc(void *ctx, char c)
{
	(void)ctx;
	ring[ring_head++ % LOG_RING_SIZE] = c;
}

/* A guest never waits on the serial line: when the transmit queue has no room for its line, the
 * line goes only to the log ring (and stays in the guest's own console buffer). */
void log_guest_line(const char *guest_name, const char *text, size_t len)
{
	size_t need = strlen(guest_name) + len + 8; /* brackets, space, CR LF, an erase sequence */

	spin_lock(&log_lock);
	if (txq_size - (txq_head - txq_tail) >= need + 80) {
		log_line_start();
		if (guest_lines_dropped > guest_lines_reported) {
			fmt_format(log_putc, NULL, "[console] %lu guest lines not shown: the serial line is slower than the guests (each guest keeps its own in `console NAME`)\n",
				   guest_lines_dropped - guest_lines_reported);
			guest_lines_reported = guest_lines_dropped;
		}
		fmt_format(log_putc, NULL, "[%s] %.*s\n", guest_name, (int)len, text);
	} else {
		fmt_format(ring_putc, NULL, "[%s] %.*s\n", guest_name, (int)len, text);
		guest_lines_dropped++;
	}
	spin_unlock(&log_lock);
}

size_t log_ring_copy(char *buf, size_t size)
{
	size_t n, start;

	spin_lock(&log_lock);
	n = ring_head < LOG_RING_SIZE ? ring_head : LOG_RING_SIZE;
	if (n > size)
		n = size;
	start = ring_head - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = ring[(start + i) % LOG_RING_SIZE];
	spin_unlock(&log_lock);
	return n;
}

void log_console_write(const char *s, size_t n, bool ends_at_prompt)
{
	spin_lock(&log_lock);
	for (size_t i = 0; i < n; i++)
		console_emit(s[i]);
	prompt_erasable = ends_at_prompt;
	spin_unlock(&log_lock);
}
