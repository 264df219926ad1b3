/* Host tests for kernel/plan.c: placement, fixed addresses, overlaps, exhaustion, random plans. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/plan.h"
#include "kernel/config.h"
#include "kernel/frame.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define MAX_REPORTS 16

/* The test machine: RAM [1M, 256M), the hypervisor at [2M, 6M), a firmware hole at [128M, 130M) */
#define HV_START (2 * MiB)
#define HV_END (6 * MiB)
#define HOLE_START (128 * MiB)
#define HOLE_END (130 * MiB)
#define RAM_END (256 * MiB)

static struct config cfg;
static struct frame_pool pool;
static struct plan plan;
static char reports[MAX_REPORTS][CONFIG_MESSAGE_MAX];
static unsigned report_count;

static void collect(void *ctx, const char *message)
{
	(void)ctx;
	if (report_count < MAX_REPORTS)
		snprintf(reports[report_count], sizeof(reports[0]), "%s", message);
	report_count++;
}

static void make_pool(void)
{
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 1 * MiB, RAM_END), 0);
	CHECK_EQ(frame_pool_reserve(&pool, HV_START, HV_END), 0);
	CHECK_EQ(frame_pool_reserve(&pool, HOLE_START, HOLE_END), 0);
}

/* Parses text (which must be valid), then plans on a fresh test pool. */
static int plan_text(const char *text)
{
	report_count = 0;
	CHECK_EQ(config_parse(text, strlen(text), &cfg, collect, NULL), 0);
	CHECK_EQ(report_count, 0);
	make_pool();
	return plan_partition(&plan, &pool, &cfg, collect, NULL);
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* Placed guests: aligned, the right size, in RAM the pool had free, apart, and no longer free. */
static void check_plan(void)
{
	unsigned placed = 0;

	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		const struct plan_guest *a = &plan.guests[i];

		if (!a->ram_size) {
			CHECK_EQ(a->ram_base, 0);
			continue;
		}
		placed++;
		CHECK(i < cfg.guest_count);
		CHECK(!cfg.guests[i].refused);
		CHECK_EQ(a->ram_size, cfg.guests[i].memory);
		CHECK(IS_ALIGNED(a->ram_base, 2 * MiB));
		if (cfg.guests[i].address)
			CHECK_EQ(a->ram_base, cfg.guests[i].address);
		CHECK(a->ram_base >= 1 * MiB && a->ram_base + a->ram_size <= RAM_END);
		CHECK(!overlaps(a->ram_base, a->ram_size, HV_START, HV_END - HV_START));
		CHECK(!overlaps(a->ram_base, a->ram_size, HOLE_START, HOLE_END - HOLE_START));
		for (unsigned j = i + 1; j < MAX_GUESTS; j++)
			if (plan.guests[j].ram_size)
				CHECK(!overlaps(a->ram_base, a->ram_size, plan.guests[j].ram_base,
						plan.guests[j].ram_size));
		for (unsigned e = 0; e < pool.count; e++)
			CHECK(!overlaps(a->ram_base, a->ram_size, pool.free[e].base,
					pool.free[e].end - pool.free[e].base));
	}
	for (unsigned i = 0; i < cfg.guest_count; i++)
		if (!cfg.guests[i].refused)
			CHECK(plan.guests[i].ram_size);
	CHECK_EQ(plan.placed, placed);
	CHECK_EQ(plan.free_after, frame_pool_free_bytes(&pool));
	CHECK_EQ(plan.largest_after, plan_largest_fit(&pool, 2 * MiB));
}

static void test_fits(void)
{
	uint64_t free_before;

	CHECK_EQ(plan_text("[guest alpha]\nmemory = 16M\n"
			   "[guest beta]\nmemory = 32M\n"
			   "[guest gamma]\nmemory = 3M\n"),
		 0);
	check_plan();
	CHECK_EQ(plan.placed, 3);
	/* Largest first, each into the free range it fills best: all three below the hole */
	CHECK_EQ(plan.guests[1].ram_base, HV_END);
	CHECK_EQ(plan.guests[0].ram_base, HV_END + 32 * MiB);
	CHECK_EQ(plan.guests[2].ram_base, HV_END + 48 * MiB);
	CHECK_EQ(plan.guests[2].ram_size, 4 * MiB);
	make_pool();
	free_before = frame_pool_free_bytes(&pool);
	CHECK_EQ(free_before - (16 + 32 + 4) * MiB, plan.free_after);
	CHECK_EQ(plan.largest_after, RAM_END - HOLE_END);
}

static void test_alignment(void)
{
	/* Free RAM starting off a 2 MiB boundary: the guest starts at the next one */
	report_count = 0;
	CHECK_EQ(config_parse("[guest a]\nmemory = 2M\n", 22, &cfg, collect, NULL), 0);
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 0x201000, 0x401000), 0);
	CHECK_EQ(frame_pool_add(&pool, 0x1001000, 0x1400000), 0);
	CHECK_EQ(plan_partition(&plan, &pool, &cfg, collect, NULL), 0);
	CHECK_EQ(plan.guests[0].ram_base, 0x1200000);
	CHECK_EQ(plan_largest_fit(&pool, 2 * MiB), 0);
	CHECK_EQ(frame_pool_free_bytes(&pool), 0x200000 + 0x1ff000);

	/* plan_largest_fit counts only what an aligned allocation can use */
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 0x101000, 0x900000), 0);
	CHECK_EQ(plan_largest_fit(&pool, 2 * MiB), 6 * MiB);
	CHECK_EQ(plan_largest_fit(&pool, PAGE_SIZE), 0x7ff000);
}

static void test_fixed(void)
{
	/* The fixed guest is placed first although listed last; the others fit around it */
	CHECK_EQ(plan_text("[guest a]\nmemory = 4M\n"
			   "[guest b]\nmemory = 120M\n"
			   "[guest c]\nmemory = 16M\naddress = 0x4000000\n"),
		 0);
	check_plan();
	CHECK_EQ(plan.guests[2].ram_base, 0x4000000);
	CHECK_EQ(plan.guests[1].ram_base, HOLE_END);
	/* Best fit: the 6 MiB left at the top after b, not the start of a larger range */
	CHECK_EQ(plan.guests[0].ram_base, HOLE_END + 120 * MiB);

	/* Right against the hypervisor, the hole and the end of RAM */
	CHECK_EQ(plan_text("[guest a]\nmemory = 2M\naddress = 6M\n"
			   "[guest b]\nmemory = 2M\naddress = 126M\n"
			   "[guest c]\nmemory = 2M\naddress = 130M\n"
			   "[guest d]\nmemory = 4M\naddress = 252M\n"),
		 0);
	check_plan();
	CHECK_EQ(plan.placed, 4);
}

static void expect_refused(const char *text, const char *message, unsigned refused)
{
	CHECK_EQ(plan_text(text), -E_INVAL);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], message);
	CHECK_EQ(cfg.error_count, 1);
	for (unsigned i = 0; i < cfg.guest_count; i++)
		CHECK_EQ(cfg.guests[i].refused, i == refused);
	check_plan();
}

static void test_fixed_overlaps(void)
{
	expect_refused("[guest alpha]\nmemory = 16M\naddress = 64M\n"
		       "[guest beta]\nmemory = 16M\naddress = 72M\n"
		       "[guest gamma]\nmemory = 16M\n",
		       "config:6: guest beta: address: 0x4800000 - 0x57fffff overlaps guest alpha (0x4000000 - 0x4ffffff)",
		       1);
	CHECK_EQ(plan.guests[0].ram_base, 64 * MiB);
	CHECK_EQ(plan.guests[2].ram_base, 80 * MiB); /* the 48 MiB above alpha fit best */

	/* The later fixed guest loses even when it sits lower */
	expect_refused("[guest alpha]\nmemory = 16M\naddress = 64M\n"
		       "[guest beta]\nmemory = 16M\naddress = 50M\n",
		       "config:6: guest beta: address: 0x3200000 - 0x41fffff overlaps guest alpha (0x4000000 - 0x4ffffff)",
		       1);
}

static void test_fixed_not_free(void)
{
	expect_refused("[guest a]\nmemory = 4M\n[guest hv]\nmemory = 4M\naddress = 4M\n",
		       "config:5: guest hv: address: 0x400000 - 0x7fffff is not free RAM (hypervisor, firmware, another guest or beyond the map)",
		       1);
	CHECK_EQ(plan.guests[0].ram_base, HV_END);
	expect_refused("[guest fw]\nmemory = 4M\naddress = 126M\n",
		       "config:3: guest fw: address: 0x7e00000 - 0x81fffff is not free RAM (hypervisor, firmware, another guest or beyond the map)",
		       0);
	expect_refused("[guest high]\nmemory = 4M\naddress = 254M\n",
		       "config:3: guest high: address: 0xfe00000 - 0x101fffff is not free RAM (hypervisor, firmware, another guest or beyond the map)",
		       0);
	expect_refused("[guest low]\nmemory = 2M\naddress = 2M\n",
		       "config:3: guest low: address: 0x200000 - 0x3fffff is not free RAM (hypervisor, firmware, another guest or beyond the map)",
		       0);
	expect_refused("[guest top]\nmemory = 4G\naddress = 0xffffffffffe00000\n",
		       "config:3: guest top: address: 0xffffffffffe00000 plus the memory is beyond the address space",
		       0);
	CHECK_EQ(frame_pool_free_bytes(&pool), RAM_END - 1 * MiB - (HV_END - HV_START) -
						       (HOLE_END - HOLE_START));
}

static void test_exhaustion(void)
{
	/* 122 MiB free below the hole, 126 MiB above it */
	expect_refused("[guest a]\nmemory = 100M\n"
		       "[guest b]\nmemory = 100M\n"
		       "[guest c]\nmemory = 100M\n"
		       "[guest d]\nmemory = 2M\n",
		       "config:6: guest c: memory: 100 MiB does not fit (largest free range 26 MiB)", 2);
	CHECK_EQ(plan.guests[0].ram_base, HV_END);
	CHECK_EQ(plan.guests[1].ram_base, HOLE_END);
	CHECK_EQ(plan.guests[2].ram_size, 0);
	CHECK_EQ(plan.guests[3].ram_base, HV_END + 100 * MiB);

	expect_refused("[guest big]\nmemory = 1G\n",
		       "config:2: guest big: memory: 1 GiB does not fit (largest free range 126 MiB)", 0);
	CHECK_EQ(plan.placed, 0);

	/* Everything goes: eight guests, the last one does not fit */
	CHECK_EQ(plan_text("[guest g0]\nmemory = 60M\n[guest g1]\nmemory = 60M\n"
			   "[guest g2]\nmemory = 60M\n[guest g3]\nmemory = 60M\n"
			   "[guest g4]\nmemory = 2M\n[guest g5]\nmemory = 2M\n"
			   "[guest g6]\nmemory = 2M\n[guest g7]\nmemory = 8M\n"),
		 -E_INVAL);
	check_plan();
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:16: guest g7: memory: 8 MiB does not fit (largest free range 6 MiB)");
	CHECK_EQ(plan.placed, 7);
	CHECK_EQ(plan.guests[4].ram_base, 126 * MiB);
	CHECK_EQ(plan.free_after, 3 * MiB);
	CHECK_EQ(plan.largest_after, 2 * MiB);
}

static void test_refused_skipped(void)
{
	static const char text[] = "[guest a]\nmemory = 16M\ncolour = red\n"
				   "[guest b]\nmemory = 16M\n"
				   "[guest c]\nmemory = 16M\naddress = 64M\nweight = 0\n";

	report_count = 0;
	config_parse(text, strlen(text), &cfg, collect, NULL);
	CHECK_EQ(report_count, 2);
	make_pool();
	report_count = 0;
	CHECK_EQ(plan_partition(&plan, &pool, &cfg, collect, NULL), 0);
	CHECK_EQ(report_count, 0);
	check_plan();
	CHECK_EQ(plan.placed, 1);
	CHECK_EQ(plan.guests[1].ram_base, HV_END);

	/* A hand-made config with bad values is refused rather than trusted */
	config_defaults(&cfg);
	cfg.guest_count = 2;
	cfg.guests[0] = (struct guest_config){ .name = "x", .memory = 3 * MiB, .line = 7 };
	cfg.guests[1] = (struct guest_config){ .name = "y", .memory = 2 * MiB, .address = 65 * MiB,
					       .line = 9 };
	make_pool();
	report_count = 0;
	CHECK_EQ(plan_partition(&plan, &pool, &cfg, collect, NULL), -E_INVAL);
	CHECK_EQ(report_count, 2);
	CHECK_STR(reports[0], "config:9: guest y: address: 0x4100000 is not 2 MiB aligned");
	CHECK_STR(reports[1],
		  "config:7: guest x: memory: 0x300000 bytes is not a positive multiple of 2 MiB");
	CHECK_EQ(plan.placed, 0);
}

static void test_order(void)
{
	unsigned order[MAX_GUESTS];

	CHECK_EQ(plan_text("[guest a]\nmemory = 2M\naddress = 200M\n"
			   "[guest b]\nmemory = 2M\n"
			   "[guest c]\nmemory = 2M\naddress = 100M\n"
			   "[guest d]\nmemory = 2M\n"),
		 0);
	CHECK_EQ(plan_order(&plan, order), 4);
	/* b and d fill the 26 MiB between c and the hole, the smallest range that holds them */
	CHECK_EQ(order[0], 2);
	CHECK_EQ(order[1], 1);
	CHECK_EQ(order[2], 3);
	CHECK_EQ(order[3], 0);
	CHECK_EQ(plan.guests[1].ram_base, 102 * MiB);
	CHECK_EQ(plan.guests[3].ram_base, 104 * MiB);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random configs on the test machine: whatever is placed never overlaps anything. */
static void test_random(void)
{
	unsigned placed = 0, refused = 0;

	for (int iter = 0; iter < 5000; iter++) {
		config_defaults(&cfg);
		cfg.guest_count = 1 + (unsigned)(rng() % MAX_GUESTS);
		for (unsigned i = 0; i < cfg.guest_count; i++) {
			struct guest_config *g = &cfg.guests[i];

			*g = (struct guest_config){ .line = i + 1, .weight = 256, .cpu_mask = 1 };
			snprintf(g->name, sizeof(g->name), "g%u", i);
			g->memory = (1 + rng() % 48) * 2 * MiB;
			if (rng() % 3 == 0)
				g->address = (rng() % 140) * 2 * MiB;
			g->refused = rng() % 10 == 0;
		}
		make_pool();
		report_count = 0;
		plan_partition(&plan, &pool, &cfg, collect, NULL);
		CHECK_EQ(report_count, cfg.error_count);
		check_plan();
		placed += plan.placed;
		refused += cfg.error_count;
	}
	CHECK(placed > 5000);
	CHECK(refused > 1000);
}

/* Placed guests are 2 MiB aligned, their size, apart, and no longer free in the pool. */
static void check_plan_anywhere(void)
{
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		const struct plan_guest *a = &plan.guests[i];

		if (!a->ram_size)
			continue;
		CHECK(IS_ALIGNED(a->ram_base, 2 * MiB));
		CHECK_EQ(a->ram_size, cfg.guests[i].memory);
		CHECK_EQ(frame_claim(&pool, a->ram_base, PAGE_SIZE), -E_EXIST);
		for (unsigned j = i + 1; j < MAX_GUESTS; j++)
			if (plan.guests[j].ram_size)
				CHECK(!overlaps(a->ram_base, a->ram_size, plan.guests[j].ram_base,
						plan.guests[j].ram_size));
	}
}

/* A server-like pool: [1 MiB, 3 GiB) below the PCI hole with the hypervisor at [2, 6) MiB and a
 * firmware page at 1 GiB + 4 KiB, then [4 GiB, 4 GiB + size_above) */
static void make_server_pool(uint64_t size_above)
{
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 1 * MiB, 3ull << 30), 0);
	CHECK_EQ(frame_pool_add(&pool, 4ull << 30, (4ull << 30) + size_above), 0);
	CHECK_EQ(frame_pool_reserve(&pool, HV_START, HV_END), 0);
	CHECK_EQ(frame_pool_reserve(&pool, (1ull << 30) + 4096, (1ull << 30) + 8192), 0);
}

static int plan_server(const char *text, uint64_t size_above)
{
	report_count = 0;
	CHECK_EQ(config_parse(text, strlen(text), &cfg, collect, NULL), 0);
	CHECK_EQ(report_count, 0);
	make_server_pool(size_above);
	return plan_partition(&plan, &pool, &cfg, collect, NULL);
}

/* Guests above 4 GiB: a fixed address there, 6 GiB in one piece, 1 GiB alignment for 1 GiB+ */
static void test_above_4g(void)
{
	CHECK_EQ(plan_server("[guest low]\nmemory = 64M\n"
			     "[guest big]\nmemory = 6G\n"
			     "[guest fixed]\nmemory = 512M\naddress = 0x100000000\n"
			     "[guest mid]\nmemory = 1G\n",
			     8ull << 30),
		 0);
	CHECK_EQ(plan.placed, 4);
	CHECK_EQ(plan.guests[2].ram_base, 4ull << 30);
	/* 6 GiB fits only above 4 GiB; it starts on the next GiB after the fixed guest */
	CHECK_EQ(plan.guests[1].ram_base, 5ull << 30);
	CHECK_EQ(plan.guests[1].ram_size, 6ull << 30);
	/* 1 GiB fills the 1 GiB left above big exactly */
	CHECK_EQ(plan.guests[3].ram_base, 11ull << 30);
	/* 64 MiB goes to the smallest range that holds it: the 512 MiB after the fixed guest */
	CHECK_EQ(plan.guests[0].ram_base, (4ull << 30) + 512 * MiB);
	check_plan_anywhere();

	/* More than exists is refused per guest, the others are placed */
	CHECK_EQ(plan_server("[guest a]\nmemory = 2G\n[guest huge]\nmemory = 300G\n[guest b]\nmemory = 1G\n",
			     8ull << 30),
		 -E_INVAL);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:4: guest huge: memory: 300 GiB does not fit (largest free range 8 GiB)");
	CHECK_EQ(plan.placed, 2);

	/* A fixed address beyond the map */
	CHECK_EQ(plan_server("[guest far]\nmemory = 2M\naddress = 0x4000000000\n", 8ull << 30), -E_INVAL);
	CHECK_STR(reports[0], "config:3: guest far: address: 0x4000000000 - 0x40001fffff is not free RAM (hypervisor, firmware, another guest or beyond the map)");
}

/* Largest first with best fit keeps the big range whole: in config order with first fit, the small
 * guests would have cut into the only range that holds the large one */
static void test_large_first(void)
{
	/* Free: [6 MiB, 1 GiB) ~1018 MiB, [1 GiB + 8 KiB, 3 GiB) ~2 GiB, [4 GiB, 5 GiB) */
	CHECK_EQ(plan_server("[guest s1]\nmemory = 900M\n"
			     "[guest s2]\nmemory = 900M\n"
			     "[guest l]\nmemory = 2000M\n"
			     "[guest t]\nmemory = 100M\n",
			     1ull << 30),
		 0);
	CHECK_EQ(plan.placed, 4);
	check_plan_anywhere();
	CHECK_EQ(plan.guests[2].ram_base, (1ull << 30) + 2 * MiB);
	CHECK_EQ(plan.guests[0].ram_base, HV_END);
	CHECK_EQ(plan.guests[1].ram_base, 4ull << 30);
	CHECK_EQ(plan.guests[3].ram_base, HV_END + 900 * MiB);
}

/* 64 guests of 2 MiB to 1 GiB on a 256 GiB machine: all placed, apart, and the 65th is refused by
 * the parser with the limit named */
static void test_sixty_four_guests(void)
{
	static char text[8192];
	size_t n = 0;
	uint64_t total = 0;

	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		unsigned mib = i % 4 == 0 ? 1024 : i % 4 == 1 ? 2 : i % 4 == 2 ? 256 : 64;

		n += (size_t)snprintf(text + n, sizeof(text) - n, "[guest g%u]\nmemory = %uM\n", i, mib);
		total += (uint64_t)mib * MiB;
	}
	CHECK_EQ(plan_server(text, 252ull << 30), 0);
	CHECK_EQ(plan.placed, MAX_GUESTS);
	check_plan_anywhere();
	for (unsigned i = 0; i < MAX_GUESTS; i += 4)
		CHECK(IS_ALIGNED(plan.guests[i].ram_base, 1ull << 30)); /* the 1 GiB guests */
	make_server_pool(252ull << 30);
	CHECK_EQ(frame_pool_free_bytes(&pool) - total, plan.free_after);

	n += (size_t)snprintf(text + n, sizeof(text) - n, "[guest g64]\nmemory = 2M\n");
	report_count = 0;
	CHECK_EQ(config_parse(text, n, &cfg, collect, NULL), -E_INVAL);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:129: guest 65 refused: at most 64 guests ([guest g64] and its keys are ignored)");
	CHECK_EQ(cfg.guest_count, MAX_GUESTS);
}

int main(void)
{
	RUN_TEST(test_fits);
	RUN_TEST(test_alignment);
	RUN_TEST(test_fixed);
	RUN_TEST(test_fixed_overlaps);
	RUN_TEST(test_fixed_not_free);
	RUN_TEST(test_exhaustion);
	RUN_TEST(test_refused_skipped);
	RUN_TEST(test_order);
	RUN_TEST(test_random);
	RUN_TEST(test_above_4g);
	RUN_TEST(test_large_first);
	RUN_TEST(test_sixty_four_guests);
	return test_any_failed;
}
