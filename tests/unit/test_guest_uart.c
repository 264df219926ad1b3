/* Host tests for kernel/guest_uart.c: what a guest transmits reaches its console ring, the
 * prefixed console and the panic watch in order once drained, whichever CPU drains. */
#include <pthread.h>
#include "tests/unit/test.h"
#include "kernel/guest.h"
#include "kernel/log.h"

TEST_MAIN_GLOBALS;

struct guest guests[MAX_GUESTS];
unsigned guest_count;

/* The prefixed console: every line log_guest_line printed, "name:text\n" one after another. */
static char lines[1 << 16];
static size_t lines_len;
static unsigned lines_count;

void log_guest_line(const char *guest_name, const char *text, size_t len)
{
	int n = snprintf(lines + lines_len, sizeof(lines) - lines_len, "%s:%.*s\n", guest_name,
			 (int)len, text);

	CHECK(n > 0 && (size_t)n < sizeof(lines) - lines_len);
	lines_len += (size_t)n;
	lines_count++;
}

void guest_kick_vcpus(struct guest *g, uint32_t mask, const struct vcpu *self)
{
	(void)g, (void)mask, (void)self;
}

static uint8_t console_buf[MAX_GUESTS][4096];

static struct guest *guest_setup(unsigned id, const char *name, bool is_linux)
{
	struct guest *g = &guests[id];

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->is_linux = is_linux;
	g->console_prefixed = true;
	ring_init(&g->console, console_buf[id], sizeof(console_buf[id]));
	vuart_init(&g->uart, guest_uart_tx, g);
	if (guest_count <= id)
		guest_count = id + 1;
	return g;
}

static void reset_lines(void)
{
	lines_len = 0;
	lines_count = 0;
	lines[0] = '\0';
}

/* What the guest's exits do: one THR write each, under the UART lock (vmx/fastpath.c). */
static void guest_sends(struct guest *g, const char *s)
{
	for (; *s; s++) {
		spin_lock(&g->uart_lock);
		vuart_write(&g->uart, UART_RBR_THR_DLL, (uint8_t)*s);
		spin_unlock(&g->uart_lock);
	}
}

static size_t console_text(struct guest *g, char *out, size_t max)
{
	uint64_t pos = 0;
	size_t n = ring_read(&g->console, &pos, (uint8_t *)out, max - 1);

	out[n] = '\0';
	return n;
}

static void test_queued_until_drained(void)
{
	struct guest *g = guest_setup(0, "a", false);
	char text[256];

	reset_lines();
	guest_sends(g, "hello\r\nwor");
	/* The exits only queued the bytes: nothing shows yet */
	CHECK_EQ(ring_used(&g->console), 0);
	CHECK_EQ(lines_count, 0);
	CHECK_EQ(g->uart.tx_bytes, 10);
	guest_uart_drain(g);
	console_text(g, text, sizeof(text));
	CHECK_STR(text, "hello\r\nwor");
	CHECK_STR(lines, "a:hello\n");
	/* Draining again finds nothing; the unfinished line waits for its end or a flush */
	guest_uart_drain(g);
	CHECK_EQ(lines_count, 1);
	guest_sends(g, "ld\n");
	guest_uart_drain_all();
	CHECK_STR(lines, "a:hello\na:world\n");
	guest_sends(g, "bye");
	guest_uart_flush(g); /* the guest stops: drained and the partial line printed */
	CHECK_STR(lines, "a:hello\na:world\na:bye\n");
	console_text(g, text, sizeof(text));
	CHECK_STR(text, "hello\r\nworld\nbye");
	guest_uart_flush(g);
	CHECK_EQ(lines_count, 3);
}

static void test_long_output_in_order(void)
{
	struct guest *g = guest_setup(0, "b", false);
	char sent[2048], text[2048], expect[4096];
	size_t e = 0, col = 0;

	reset_lines();
	/* Several full queues with no drain in between, and a line longer than GUEST_LINE_MAX */
	for (size_t i = 0; i < sizeof(sent) - 1; i++)
		sent[i] = i % 700 == 699 ? '\n' : (char)('a' + i % 26);
	sent[sizeof(sent) - 1] = '\0';
	guest_sends(g, sent);
	CHECK(g->uart.tx_queued <= VUART_TX_QUEUE);
	guest_uart_flush(g);
	console_text(g, text, sizeof(text));
	CHECK_STR(text, sent);
	for (size_t i = 0; sent[i]; i++) {
		if (col == 0)
			e += (size_t)snprintf(expect + e, sizeof(expect) - e, "b:");
		if (sent[i] == '\n') {
			expect[e++] = '\n';
			col = 0;
			continue;
		}
		expect[e++] = sent[i];
		if (++col == GUEST_LINE_MAX) {
			expect[e++] = '\n';
			col = 0;
		}
	}
	if (col)
		expect[e++] = '\n';
	expect[e] = '\0';
	CHECK_STR(lines, expect);
}

static void test_attached_and_plain(void)
{
	struct guest *g = guest_setup(0, "c", false);
	char text[256];

	reset_lines();
	/* While `console c` shows the guest raw, its lines stay off the main console */
	g->console_attached = true;
	guest_sends(g, "raw\n");
	guest_uart_drain(g);
	CHECK_EQ(lines_count, 0);
	g->console_attached = false;
	guest_sends(g, "back\n");
	guest_uart_drain(g);
	CHECK_STR(lines, "c:back\n");
	/* console = plain: only the ring */
	g->console_prefixed = false;
	guest_sends(g, "quiet\n");
	guest_uart_drain(g);
	CHECK_EQ(lines_count, 1);
	console_text(g, text, sizeof(text));
	CHECK_STR(text, "raw\nback\nquiet\n");
}

static void test_panic_banner(void)
{
	struct guest *linux_guest = guest_setup(0, "l", true);
	struct guest *other = guest_setup(1, "m", false);
	const char *banner = "[   1.0] Kernel panic - not syncing: VFS";

	reset_lines();
	/* Split over drains, after a false start */
	guest_sends(linux_guest, "Kernel pan! ");
	guest_uart_drain(linux_guest);
	for (const char *c = banner; *c; c++) {
		char one[2] = { *c, 0 };

		guest_sends(linux_guest, one);
		if ((c - banner) % 5 == 0 && c - banner < 30)
			guest_uart_drain(linux_guest);
	}
	/* Its end is still queued: not seen until drained (the exit handlers drain first) */
	CHECK(!linux_guest->panic_seen);
	guest_uart_drain(linux_guest);
	CHECK(linux_guest->panic_seen);
	/* Only Linux guests are watched */
	guest_sends(other, banner);
	guest_uart_drain(other);
	CHECK(!other->panic_seen);
	/* Across a full queue handed over by the exit itself */
	linux_guest = guest_setup(0, "l", true);
	for (unsigned i = 0; i < VUART_TX_QUEUE - 10; i++)
		guest_sends(linux_guest, "x");
	guest_sends(linux_guest, banner);
	CHECK(!linux_guest->panic_seen);
	guest_uart_drain(linux_guest);
	CHECK(linux_guest->panic_seen);
}

/* The guest's CPU sends while the console CPU drains at its ticks: nothing lost or reordered. */
#define RACE_BYTES 200000u
#define RACE_ROUNDS 20

static char race_byte(unsigned i)
{
	return i % 50 == 49 ? '\n' : (char)('A' + (i / 50) % 26);
}

static void *race_sender(void *arg)
{
	struct guest *g = arg;

	for (unsigned i = 0; i < RACE_BYTES; i++) {
		spin_lock(&g->uart_lock);
		vuart_write(&g->uart, UART_RBR_THR_DLL, (uint8_t)race_byte(i));
		spin_unlock(&g->uart_lock);
	}
	return NULL;
}

static void test_concurrent_drain(void)
{
	static uint8_t big[RACE_BYTES];
	static char text[RACE_BYTES];
	unsigned bad_rounds = 0;

	for (unsigned round = 0; round < RACE_ROUNDS; round++) {
		struct guest *g = guest_setup(0, "r", false);
		pthread_t sender;
		uint64_t pos = 0;
		size_t n;
		bool ok = true;

		g->console_prefixed = false; /* the ring alone: lines would overflow the log stub */
		ring_init(&g->console, big, sizeof(big));
		CHECK(pthread_create(&sender, NULL, race_sender, g) == 0);
		while (__atomic_load_n(&g->uart.tx_bytes, __ATOMIC_RELAXED) < RACE_BYTES)
			guest_uart_drain_all();
		pthread_join(sender, NULL);
		guest_uart_flush(g);
		n = ring_read(&g->console, &pos, (uint8_t *)text, sizeof(text));
		ok = n == RACE_BYTES && ring_dropped(&g->console) == 0;
		for (unsigned i = 0; i < n && ok; i++)
			ok = text[i] == race_byte(i);
		bad_rounds += !ok;
	}
	CHECK_EQ(bad_rounds, 0);
}

int main(void)
{
	RUN_TEST(test_queued_until_drained);
	RUN_TEST(test_long_output_in_order);
	RUN_TEST(test_attached_and_plain);
	RUN_TEST(test_panic_banner);
	RUN_TEST(test_concurrent_drain);
	return test_any_failed;
}
