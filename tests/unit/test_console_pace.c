/* Host tests for kernel/console_pace.c: 1 ms ticks while in use, the idle period after a quiet spell. */
#include "tests/unit/test.h"
#include "kernel/console_pace.h"

TEST_MAIN_GLOBALS;

#define PER_MS 1000ull /* ticks per millisecond in these tests */

static void test_busy_then_idle(void)
{
	struct console_pace p;
	uint64_t now = 5000, next;

	console_pace_init(&p, PER_MS, now);
	CHECK_EQ(console_pace_next(&p, now, false), PER_MS); /* just started: in use */
	/* quiet ticks keep the 1 ms pace until CONSOLE_IDLE_AFTER_US have passed */
	while (now - 5000 < CONSOLE_IDLE_AFTER_US / 1000 * PER_MS) {
		next = console_pace_next(&p, now, false);
		CHECK_EQ(next, PER_MS);
		now += next;
	}
	CHECK_EQ(console_pace_next(&p, now, false), CONSOLE_IDLE_TICK_US / 1000 * PER_MS);
	/* a key: back to 1 ms at once, for another quiet spell */
	CHECK_EQ(console_pace_next(&p, now, true), PER_MS);
	CHECK_EQ(console_pace_next(&p, now + CONSOLE_IDLE_AFTER_US / 1000 * PER_MS - 1, false), PER_MS);
	CHECK_EQ(console_pace_next(&p, now + CONSOLE_IDLE_AFTER_US / 1000 * PER_MS, false),
		 CONSOLE_IDLE_TICK_US / 1000 * PER_MS);
}

static void test_activity_keeps_pace(void)
{
	struct console_pace p;
	uint64_t now = 0;

	console_pace_init(&p, PER_MS, now);
	/* output every 150 ms never lets it go idle */
	for (int i = 0; i < 100; i++) {
		now += 150 * PER_MS;
		CHECK_EQ(console_pace_next(&p, now, true), PER_MS);
		CHECK_EQ(console_pace_next(&p, now + 149 * PER_MS, false), PER_MS);
	}
}

int main(void)
{
	RUN_TEST(test_busy_then_idle);
	RUN_TEST(test_activity_keeps_pace);
	return test_any_failed;
}
