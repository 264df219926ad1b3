/* Host tests for the transmit queue's guest shares and the aggregated "lines not shown" notice. */
#include "tests/unit/test.h"
#include "kernel/txq_share.h"
#include "kernel/lib.h"

#include <stdlib.h>

TEST_MAIN_GLOBALS;

#define CAP (64 * 1024)
#define RESERVE (CAP / TXQ_SHARE_RESERVE_DIV)
#define SEC 1000000ull /* ticks per second in these tests */

static struct txq_share share;

static void reset(void)
{
	memset(&share, 0, sizeof(share));
}

/* A queue model: head, tail, and who owns each queued byte (for exact per-guest counts) */
struct queue {
	uint64_t head, tail;
	int owner[CAP];
};

static struct queue q;
static uint64_t exact[MAX_GUESTS]; /* bytes each guest really has in the model's queue */

static bool offer(unsigned guest, uint64_t bytes, uint64_t now)
{
	if (!txq_share_admit(&share, guest, bytes, q.head, q.tail, CAP, now))
		return false;
	for (uint64_t i = 0; i < bytes; i++)
		q.owner[q.head++ % CAP] = (int)guest;
	exact[guest] += bytes;
	txq_share_queued(&share, guest, bytes, q.head);
	return true;
}

/* The line sends up to n bytes */
static void send(uint64_t n)
{
	for (; n && q.tail < q.head; n--) {
		int owner = q.owner[q.tail++ % CAP];

		if (owner >= 0)
			exact[owner]--;
	}
}

static void hypervisor_line(uint64_t bytes)
{
	for (uint64_t i = 0; i < bytes; i++)
		q.owner[q.head++ % CAP] = -1;
}

static void test_empty_queue_admits(void)
{
	reset();
	memset(&q, 0, sizeof(q));
	CHECK(offer(0, 100, 0));
	CHECK_EQ(txq_share_held(&share, 0, q.tail), 100);
	CHECK_EQ(txq_share_held(&share, 1, q.tail), 0);
	q.tail += 60;
	CHECK_EQ(txq_share_held(&share, 0, q.tail), 40);
	q.tail = q.head;
	CHECK_EQ(txq_share_held(&share, 0, q.tail), 0);
	CHECK_EQ(share.held[0], 0); /* forgotten once all sent */
	CHECK_EQ(share.dropped_total, 0);
}

/* The hypervisor's reserve is never given to a guest, not even to its first line. */
static void test_reserve_kept(void)
{
	reset();
	memset(&q, 0, sizeof(q));
	hypervisor_line(CAP - RESERVE - 50);
	CHECK(!offer(3, 51, 7));
	CHECK(offer(3, 50, 8));
	CHECK_EQ(share.dropped[3], 1);
	CHECK_EQ(share.dropped_total, 1);
	CHECK_EQ(share.window_start, 7);
}

/* A guest alone may fill about half of the guests' part of the queue, never all of it. */
static void test_flooder_capped_at_half(void)
{
	unsigned admitted = 0;

	reset();
	memset(&q, 0, sizeof(q));
	while (offer(0, 100, 0))
		admitted++;
	CHECK(q.head - q.tail <= (CAP - RESERVE) / 2);
	CHECK(q.head - q.tail > (CAP - RESERVE) / 2 - 100);
	CHECK_EQ(share.dropped[0], 1);
	/* A quiet guest's line still goes in, and another's after it */
	CHECK(offer(1, 200, 0));
	CHECK(offer(2, 200, 0));
	CHECK(!offer(0, 100, 0));
	CHECK_EQ(share.dropped[1] + share.dropped[2], 0);
}

/* Two flooders end with a third each; the third part stays free for a quiet one. */
static void test_two_flooders_leave_room(void)
{
	bool a = true, b = true;

	reset();
	memset(&q, 0, sizeof(q));
	while (a || b) {
		a = offer(0, 80, 0);
		b = offer(1, 80, 0);
	}
	CHECK(CAP - RESERVE - (q.head - q.tail) >= (CAP - RESERVE) / 4);
	for (int i = 0; i < 20; i++)
		CHECK(offer(2, 120, 0));
	CHECK_EQ(share.dropped[2], 0);
}

/* What txq_share_held reports is never below what the guest really holds. */
static void test_held_is_an_upper_bound(void)
{
	reset();
	memset(&q, 0, sizeof(q));
	memset(exact, 0, sizeof(exact));
	srand(5);
	for (int step = 0; step < 200000; step++) {
		unsigned g = (unsigned)rand() % 4;

		if (rand() % 3 == 0)
			hypervisor_line((uint64_t)(rand() % 80));
		else
			offer(g, (uint64_t)(rand() % 150 + 1), 0);
		send((uint64_t)rand() % 120);
		for (unsigned i = 0; i < 4; i++)
			CHECK(txq_share_held(&share, i, q.tail) >= exact[i]);
		CHECK(q.head - q.tail <= CAP);
	}
}

static void test_notice_due_once_a_second(void)
{
	reset();
	CHECK(!txq_share_notice_due(&share, 5 * SEC, SEC));
	share.dropped_total = 1;
	share.dropped[0] = 1;
	share.window_start = 2 * SEC;
	CHECK(!txq_share_notice_due(&share, 3 * SEC - 1, SEC));
	CHECK(txq_share_notice_due(&share, 3 * SEC, SEC));
	CHECK(txq_share_notice_due(&share, 2 * SEC, 0)); /* no calibrated clock: at once */
}

static void test_notice_text(void)
{
	const char *names[MAX_GUESTS] = { "flood", "quiet", "noisy" };
	char buf[512];

	reset();
	share.window_start = 10 * SEC;
	share.dropped[0] = 1230;
	share.dropped[2] = 4;
	share.dropped_total = 1234;
	CHECK_EQ(txq_share_notice(&share, buf, sizeof(buf), names, 11 * SEC + SEC / 20 * 3, SEC),
		 strlen(buf));
	CHECK_STR(buf, "[console] 1234 guest lines not shown in the last 1.1 s (flood: 1230, "
		       "noisy: 4); each guest keeps them in its buffer (console NAME)");
	/* The window is over: counts start again from zero */
	CHECK_EQ(share.dropped_total, 0);
	CHECK_EQ(share.dropped[0] + share.dropped[2], 0);
	CHECK(!txq_share_notice_due(&share, 20 * SEC, SEC));

	share.window_start = 0;
	share.dropped[5] = 1;
	share.dropped_total = 1;
	txq_share_notice(&share, buf, sizeof(buf), NULL, 25 * SEC / 10, SEC);
	CHECK_STR(buf, "[console] 1 guest line not shown in the last 2.5 s (guest 5: 1); each guest "
		       "keeps them in its buffer (console NAME)");
}

static void test_notice_cut_to_buffer(void)
{
	char buf[40];
	const char *names[MAX_GUESTS] = { 0 };

	reset();
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		share.dropped[i] = 1000000 + i;
		share.dropped_total += share.dropped[i];
	}
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(txq_share_notice(&share, buf, sizeof(buf), names, SEC, SEC), sizeof(buf) - 1);
	CHECK_EQ(buf[sizeof(buf) - 1], '\0');
	CHECK(strncmp(buf, "[console] ", 10) == 0);
	CHECK_EQ(txq_share_notice(&share, buf, 0, names, SEC, SEC), 0);
}

/* Issue 12 item 12 in small: one guest prints as fast as it can, a quiet one a line every
 * 100 ms, the line sends 11.5 bytes a millisecond (115200 baud). Over 150 s: the quiet guest
 * loses nothing, the line never idles while the flooder has lines, a notice at most once a
 * second, and the notices account for every line left off. */
static void test_flood_simulation(void)
{
	const char *names[MAX_GUESTS] = { "flood", "quiet" };
	uint64_t flood_lines = 0, flood_shown = 0, quiet_lines = 0, quiet_shown = 0;
	uint64_t notices = 0, reported = 0, idle_ms = 0, last_notice = 0;
	uint64_t min_gap = UINT64_MAX;
	char buf[512];

	reset();
	memset(&q, 0, sizeof(q));
	for (uint64_t ms = 0; ms < 150000; ms++) {
		uint64_t now = ms * (SEC / 1000);

		for (int i = 0; i < 16; i++) { /* about 10 times what the line takes */
			flood_lines++;
			flood_shown += offer(0, 70, now);
		}
		if (ms % 100 == 50) {
			quiet_lines++;
			quiet_shown += offer(1, 40, now);
		}
		if (txq_share_notice_due(&share, now, SEC)) {
			const char *p;

			txq_share_notice(&share, buf, sizeof(buf), names, now, SEC);
			if (notices++)
				min_gap = MIN(min_gap, now - last_notice);
			last_notice = now;
			CHECK(strstr(buf, "(flood: ") != NULL);
			CHECK(strstr(buf, "quiet") == NULL);
			p = strstr(buf, "(flood: ");
			reported += p ? strtoull(p + 8, NULL, 10) : 0;
			hypervisor_line(strlen(buf) + 2);
		}
		if (q.head == q.tail)
			idle_ms++;
		q.tail = MIN(q.head, q.tail + (ms % 2 ? 12 : 11));
	}
	CHECK_EQ(quiet_shown, quiet_lines);
	CHECK(flood_shown < flood_lines);
	CHECK_EQ(idle_ms, 0);
	CHECK(notices <= 150);
	CHECK(notices >= 140);
	CHECK(min_gap >= SEC);
	CHECK_EQ(reported + share.dropped[0], flood_lines - flood_shown);
	/* The flooder still gets nearly the whole line: 150 s at 11.5 bytes/ms, minus notices */
	CHECK(flood_shown * 70 >= 150000ull * 23 / 2 - notices * 200 - CAP);
}

int main(void)
{
	RUN_TEST(test_empty_queue_admits);
	RUN_TEST(test_reserve_kept);
	RUN_TEST(test_flooder_capped_at_half);
	RUN_TEST(test_two_flooders_leave_room);
	RUN_TEST(test_held_is_an_upper_bound);
	RUN_TEST(test_notice_due_once_a_second);
	RUN_TEST(test_notice_text);
	RUN_TEST(test_notice_cut_to_buffer);
	RUN_TEST(test_flood_simulation);
	return test_any_failed;
}
