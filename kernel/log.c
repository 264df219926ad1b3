/* Console output with a per-line lock, a CPU/level prefix and a ring buffer of everything logged.
 * Bytes for the UART wait in a transmit queue that CPU 0's console tick drains as fast as the
 * line takes them, so no CPU waits on the serial line while the queue has room. */
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/sanitize.h"
#include "kernel/txq_share.h"
#include "kernel/x86.h"
#include "drivers/uart.h"
#include "drivers/timer.h"
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
static struct txq_share txq_share; /* each guest's part of the queue, lines left off */
static const char *guest_names[MAX_GUESTS]; /* a share's guest, by its (stable) name string */
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

__attribute__((cold)) void log_grow_queue(char *buf, uint64_t size)
{
	spin_lock(&log_lock);
	for (uint64_t pos = txq_tail; pos < txq_head; pos++)
		buf[pos % size] = txq[pos % txq_size];
	txq = buf;
	txq_size = size;
	spin_unlock(&log_lock);
}

static void log_line_start(void);
static void log_putc(void *ctx, char c);

static uint64_t log_ticks_per_sec(void)
{
	return tsc_per_ms * 1000;
}

/* The guest lines left off the line, told at most once a second. @pre log_lock held */
static void log_notice(bool force)
{
	char notice[LOG_NOTICE_MAX];
	uint64_t now = rdtsc();

	if (!txq_share.dropped_total ||
	    (!force && !txq_share_notice_due(&txq_share, now, log_ticks_per_sec())))
		return;
	txq_share_notice(&txq_share, notice, sizeof(notice), guest_names, now, log_ticks_per_sec());
	log_line_start();
	for (const char *p = notice; *p; p++)
		log_putc(NULL, *p);
	log_putc(NULL, '\n');
}

bool log_drain(void)
{
	bool queued;

	spin_lock(&log_lock);
	log_notice(false);
	queued = txq_tail < txq_head;
	if (queued && uart_tx_ready())
		txq_drain(uart_fifo_size(), false);
	spin_unlock(&log_lock);
	return queued;
}

__attribute__((cold)) void log_flush(void)
{
	spin_lock(&log_lock);
	log_notice(true); /* the last count, before power-off or reset */
	txq_drain((size_t)-1, true);
	uart_wait_idle();
	spin_unlock(&log_lock);
}

/* For panics and exceptions: the lock holder may be the CPU that died. */
__attribute__((cold)) void log_flush_unlocked(void)
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

__attribute__((cold)) void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const level_prefix[] = { "", "warning: ", "error: " };

	spin_lock(&log_lock);
	log_line_start();
	fmt_format(log_putc, NULL, "[cpu%u] %s", this_cpu_id(), level_prefix[level]);
	fmt_vformat(log_putc, NULL, fmt, ap);
	log_putc(NULL, '\n');
	spin_unlock(&log_lock);
}

__attribute__((cold)) void log_printf(enum log_level level, const char *fmt, ...)
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

/* The share slot of the guest whose name string this is. @pre log_lock held */
static unsigned log_guest_slot(const char *guest_name)
{
	unsigned i;

	for (i = 0; i < MAX_GUESTS && guest_names[i]; i++)
		if (guest_names[i] == guest_name)
			return i;
	if (i == MAX_GUESTS)
		return MAX_GUESTS - 1; /* more name strings than guests: cannot happen, share the last */
	guest_names[i] = guest_name;
	return i;
}

/* A guest never waits on the serial line, nor takes it from its neighbours: when its share of
 * the transmit queue has no room for the line, the line goes only to the log ring (and stays in
 * the guest's own console buffer), and a notice counts it. What it printed is made inert
 * (kernel/sanitize.h) so that it cannot erase its "[name]" or draw a hypervisor line. */
void log_guest_line(const char *guest_name, const char *text, size_t len)
{
	/* brackets and space, CR LF, and the erase sequence log_line_start may send first */
	uint64_t need = strlen(guest_name) + 3 + sanitize_len(text, len) + 2 + 4;
	uint64_t start;
	unsigned guest;
	bool shown;

	spin_lock(&log_lock);
	guest = log_guest_slot(guest_name);
	shown = txq_share_admit(&txq_share, guest, need, txq_head, txq_tail, txq_size, rdtsc());
	log_notice(false);
	if (shown) {
		log_line_start();
		start = txq_head;
		fmt_format(log_putc, NULL, "[%s] ", guest_name);
		sanitize_text(text, len, log_putc, NULL);
		log_putc(NULL, '\n');
		txq_share_queued(&txq_share, guest, txq_head - start, txq_head);
	} else {
		fmt_format(ring_putc, NULL, "[%s] ", guest_name);
		sanitize_text(text, len, ring_putc, NULL);
		ring_putc(NULL, '\n');
	}
	spin_unlock(&log_lock);
}

__attribute__((cold)) size_t log_ring_copy(char *buf, size_t size)
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
