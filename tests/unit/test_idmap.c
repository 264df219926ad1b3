/* Host tests for kernel/idmap.c: the hypervisor's identity map over real servers' memory maps. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/idmap.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define POOL_PAGES 64

/* Table pages come from a small pool; "physical" addresses are offsets into it, plus a base. */
static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used, pool_limit = POOL_PAGES;
#define POOL_PHYS 0x10000000ull

static void *pool_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	if (pool_used >= pool_limit)
		return NULL;
	memset(pool[pool_used], 0, sizeof(pool[0]));
	*phys = POOL_PHYS + pool_used * 4096ull;
	return pool[pool_used++];
}

static void *pool_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	CHECK(phys >= POOL_PHYS && phys < POOL_PHYS + POOL_PAGES * 4096ull);
	return pool[(phys - POOL_PHYS) / 4096];
}

static const struct idmap_mm mm = { pool_alloc, pool_virt, NULL };
static struct idmap m;

static void reset(bool allow_1g)
{
	pool_used = 0;
	pool_limit = POOL_PAGES;
	CHECK_EQ(idmap_init(&m, &mm, allow_1g), 0);
}

/* Every address of [base, end) maps to itself, with pages of at most max_page bytes. */
static void check_identity(uint64_t base, uint64_t end, uint64_t step, uint64_t want_page)
{
	for (uint64_t va = base; va < end; va += step) {
		uint64_t pa = 0, page = 0;

		CHECK(idmap_lookup(&m, va, &pa, &page));
		CHECK_EQ(pa, va);
		if (want_page)
			CHECK_EQ(page, want_page);
	}
}

/* The boot map's 4 GiB with 1 GiB pages: four leaves, one PDPT */
static void test_first_4g(void)
{
	reset(true);
	CHECK_EQ(idmap_map(&m, 0, 4ull << 30), 0);
	CHECK_EQ(m.pages_1g, 4);
	CHECK_EQ(m.pages_2m, 0);
	CHECK_EQ(m.tables, 2);
	check_identity(0, 4ull << 30, 0x3fff1000, IDMAP_1G);
	CHECK(!idmap_lookup(&m, 4ull << 30, NULL, NULL));
	CHECK_EQ(m.mapped_end, 4ull << 30);

	/* Without 1 GiB pages: 2048 2 MiB leaves in four page directories */
	reset(false);
	CHECK_EQ(idmap_map(&m, 0, 4ull << 30), 0);
	CHECK_EQ(m.pages_1g, 0);
	CHECK_EQ(m.pages_2m, 2048);
	CHECK_EQ(m.tables, 6);
	check_identity(0, 4ull << 30, 0x1ff001, IDMAP_2M);
}

/* Bochs with 6 GiB: RAM continues at 4 GiB for 2 GiB; a server: 384 GiB above 4 GiB with an
 * unaligned tail, and RAM across the 512 GiB boundary of a PML4 entry */
static void test_server_maps(void)
{
	reset(true);
	CHECK_EQ(idmap_map(&m, 0, 4ull << 30), 0);
	CHECK_EQ(idmap_map(&m, 0x100000000ull, 0x180000000ull), 0);
	CHECK_EQ(m.pages_1g, 6);
	check_identity(0x100000000ull, 0x180000000ull, 0x7fff000, IDMAP_1G);
	CHECK(!idmap_lookup(&m, 0x180000000ull, NULL, NULL));

	reset(true);
	CHECK_EQ(idmap_map(&m, 0, 4ull << 30), 0);
	/* 4 GiB .. 388 GiB + 3 MiB + 4 KiB: the tail rounds out to 2 MiB */
	CHECK_EQ(idmap_map(&m, 4ull << 30, (388ull << 30) + 3 * MiB + 4096), 0);
	CHECK_EQ(m.pages_1g, 388);
	CHECK_EQ(m.pages_2m, 2);
	check_identity(4ull << 30, 388ull << 30, 1ull << 30, IDMAP_1G);
	check_identity(388ull << 30, (388ull << 30) + 4 * MiB, IDMAP_2M, IDMAP_2M);
	CHECK(!idmap_lookup(&m, (388ull << 30) + 4 * MiB, NULL, NULL));
	CHECK_EQ(m.mapped_end, (388ull << 30) + 4 * MiB);

	/* 511.5 GiB .. 513 GiB crosses into the second PML4 entry */
	CHECK_EQ(idmap_map(&m, (1023ull << 29), 513ull << 30), 0);
	check_identity(1023ull << 29, 513ull << 30, 0x10000000, 0);
	CHECK(idmap_lookup(&m, 512ull << 30, NULL, NULL));
	CHECK(m.pml4[1] & IDMAP_PRESENT);
}

/* A range that starts or ends inside a GiB gets 2 MiB pages there; overlapping ranges keep what
 * is mapped already */
static void test_partial_and_overlap(void)
{
	uint64_t tables;

	reset(true);
	CHECK_EQ(idmap_map(&m, (5ull << 30) + 6 * MiB, (7ull << 30) + 10 * MiB + 1), 0);
	CHECK_EQ(m.pages_1g, 1); /* [6 GiB, 7 GiB) */
	CHECK_EQ(m.pages_2m, (1024 - 6) / 2 + 12 / 2);
	check_identity((5ull << 30) + 6 * MiB, (7ull << 30) + 12 * MiB, IDMAP_2M, 0);
	CHECK(!idmap_lookup(&m, (5ull << 30) + 4 * MiB, NULL, NULL));
	tables = m.tables;

	/* Mapping the whole of it again adds nothing; the missing 6 MiB of the 5th GiB fill in */
	CHECK_EQ(idmap_map(&m, 5ull << 30, 7ull << 30), 0);
	CHECK_EQ(m.tables, tables);
	CHECK_EQ(m.pages_1g, 1);
	CHECK_EQ(m.pages_2m, 512 + 6);
	check_identity(5ull << 30, 6ull << 30, IDMAP_2M, IDMAP_2M);
}

static void test_errors(void)
{
	reset(true);
	CHECK_EQ(idmap_map(&m, 1ull << 48, (1ull << 48) + 4096), -E_INVAL);
	CHECK_EQ(idmap_map(&m, 0, (1ull << 48) + 1), -E_INVAL);
	CHECK_EQ(idmap_map(&m, 8192, 4096), -E_INVAL);
	CHECK(!idmap_lookup(&m, 1ull << 48, NULL, NULL));

	/* Out of table pages: -E_NOMEM, and what was mapped before is still there */
	reset(false);
	pool_limit = 3; /* PML4, PDPT, one PD */
	CHECK_EQ(idmap_map(&m, 0, 2ull << 30), -E_NOMEM);
	check_identity(0, 1ull << 30, IDMAP_2M, IDMAP_2M);
	CHECK(!idmap_lookup(&m, 1ull << 30, NULL, NULL));

	pool_limit = 0;
	CHECK_EQ(idmap_init(&m, &mm, true), -E_NOMEM);
	CHECK_EQ(idmap_init(&m, NULL, true), -E_INVAL);
}

int main(void)
{
	RUN_TEST(test_first_4g);
	RUN_TEST(test_server_maps);
	RUN_TEST(test_partial_and_overlap);
	RUN_TEST(test_errors);
	return test_any_failed;
}
