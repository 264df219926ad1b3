/* Host tests of the EPT builder and walker over a fake memory manager. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "kernel/lib.h"
#include "vmx/ept.h"

TEST_MAIN_GLOBALS;

/* Table memory: a static pool of 4 KiB pages given fake "physical" addresses. */
#define FAKE_PAGES 1024
#define FAKE_BASE 0x10000000ull
#define FAKE_POISON 0xa5

static uint8_t fake_mem[FAKE_PAGES][4096] __attribute__((aligned(4096)));
static bool fake_used[FAKE_PAGES];
static unsigned fake_allocs, fake_frees, fake_in_use, fake_bad;
static long fake_fail_after = -1; /* allocations that still succeed; -1 for no limit */

static void fake_reset(void)
{
	memset(fake_mem, FAKE_POISON, sizeof(fake_mem));
	memset(fake_used, 0, sizeof(fake_used));
	fake_allocs = fake_frees = fake_in_use = fake_bad = 0;
	fake_fail_after = -1;
}

static void *fake_alloc(void *ctx, uint64_t *phys)
{
	unsigned i;

	(void)ctx;
	if (fake_fail_after == 0)
		return NULL;
	if (fake_fail_after > 0)
		fake_fail_after--;
	for (i = 0; i < FAKE_PAGES; i++) {
		if (!fake_used[i]) {
			fake_used[i] = true;
			memset(fake_mem[i], 0, sizeof(fake_mem[i]));
			fake_allocs++;
			fake_in_use++;
			*phys = FAKE_BASE + (uint64_t)i * 4096;
			return fake_mem[i];
		}
	}
	return NULL;
}

/* Index of a live table, or -1 (counted in fake_bad) for anything else. */
static long fake_page(uint64_t phys)
{
	uint64_t i = (phys - FAKE_BASE) / 4096;

	if (phys < FAKE_BASE || (phys & 0xfff) || i >= FAKE_PAGES || !fake_used[i]) {
		fake_bad++;
		return -1;
	}
	return (long)i;
}

static void *fake_to_virt(void *ctx, uint64_t phys)
{
	long i = fake_page(phys);

	(void)ctx;
	if (i < 0) {
		/* Following a stale or non-table address would only corrupt memory from here on. */
		fflush(stdout);
		fprintf(stderr, "FAIL %s: to_virt(0x%" PRIx64 ") is not a live table\n", test_current,
			phys);
		abort();
	}
	return fake_mem[i];
}

static void fake_free(void *ctx, uint64_t phys)
{
	long i = fake_page(phys);

	(void)ctx;
	if (i < 0)
		return;
	memset(fake_mem[i], FAKE_POISON, sizeof(fake_mem[i]));
	fake_used[i] = false;
	fake_frees++;
	fake_in_use--;
}

static const struct ept_mm fake_mm = {
	.alloc = fake_alloc,
	.to_virt = fake_to_virt,
	.free = fake_free,
	.ctx = NULL,
};

static void setup(struct ept *ept, bool allow_2m)
{
	fake_reset();
	CHECK_EQ(ept_init(ept, &fake_mm, allow_2m), 0);
	CHECK_EQ(ept->tables, 1);
}

/* Destroys and checks that every table came back. */
static void teardown(struct ept *ept)
{
	ept_destroy(ept);
	CHECK_EQ(fake_allocs, fake_frees);
	CHECK_EQ(fake_in_use, 0);
	CHECK_EQ(fake_bad, 0);
	CHECK(ept->pml4 == NULL);
	CHECK_EQ(ept->tables, 0);
	CHECK_EQ(ept->pml4_phys, 0);
}

/* The raw entry for gpa at the given level (4 = PML4E ... 1 = PTE), 0 when the walk stops above. */
static uint64_t raw_entry(const struct ept *ept, uint64_t gpa, unsigned level)
{
	const uint64_t *table = ept->pml4;
	unsigned l;

	for (l = 4;; l--) {
		uint64_t entry = table[(gpa >> (12 + 9 * (l - 1))) & 511];

		if (l == level)
			return entry;
		if (!(entry & EPT_RWX) || (entry & EPT_LARGE_PAGE))
			return 0;
		table = fake_to_virt(NULL, entry & EPT_ADDR_MASK);
	}
}

/* Looks gpa up and checks the translation, the permissions and the leaf level. */
static void check_mapped(const struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t perms,
			 unsigned level)
{
	uint64_t got_hpa = 0, got_perms = 0;
	unsigned got_level = 0;

	CHECK(ept_lookup(ept, gpa, &got_hpa, &got_perms, &got_level));
	CHECK_EQ(got_hpa, hpa);
	CHECK_EQ(got_perms, perms);
	CHECK_EQ(got_level, level);
}

static void check_unmapped(const struct ept *ept, uint64_t gpa)
{
	uint64_t hpa = 0x1234;

	CHECK(!ept_lookup(ept, gpa, &hpa, NULL, NULL));
}

static void test_init_destroy_eptp(void)
{
	struct ept ept;

	setup(&ept, true);
	CHECK_EQ(fake_allocs, 1);
	CHECK_EQ(ept.pml4_phys, FAKE_BASE);
	CHECK(ept.pml4 == (uint64_t *)fake_mem[0]);
	CHECK(ept.allow_2m);
	CHECK_EQ(ept_eptp(&ept, false), FAKE_BASE | 0x1e);
	CHECK_EQ(ept_eptp(&ept, true), FAKE_BASE | 0x5e);
	check_unmapped(&ept, 0);
	teardown(&ept);
	/* A destroyed (zeroed) EPT can be destroyed again and maps nothing. */
	ept_destroy(&ept);
	CHECK_EQ(fake_frees, 1);
	CHECK_EQ(ept_map(&ept, 0, 0, 4096, EPT_RWX, EPT_MEMTYPE_WB), -E_INVAL);
	check_unmapped(&ept, 0);

	fake_reset();
	fake_fail_after = 0;
	CHECK_EQ(ept_init(&ept, &fake_mm, false), -E_NOMEM);
	CHECK(ept.pml4 == NULL);
	CHECK_EQ(ept.tables, 0);
	CHECK_EQ(fake_allocs, 0);
	CHECK_EQ(ept_init(&ept, NULL, false), -E_INVAL);
}

static void test_map_16m_with_2m_leaves(void)
{
	const uint64_t hpa = 0x40000000ull;
	struct ept ept;
	uint64_t off;

	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 0, hpa, 16 * MiB, EPT_RWX, EPT_MEMTYPE_WB), 0);
	CHECK_EQ(ept.tables, 3);
	CHECK_EQ(fake_in_use, 3);
	check_mapped(&ept, 0, hpa, EPT_RWX, 2);
	check_mapped(&ept, 16 * MiB - 1, hpa + 16 * MiB - 1, EPT_RWX, 2);
	for (off = 0; off < 16 * MiB; off += 2 * MiB - 4096 + 1)
		check_mapped(&ept, off, hpa + off, EPT_RWX, 2);
	check_unmapped(&ept, 16 * MiB);
	check_unmapped(&ept, 1ull << 48);
	check_unmapped(&ept, ~0ull);
	CHECK_EQ(raw_entry(&ept, 2 * MiB, 2), (hpa + 2 * MiB) | EPT_RWX | (6 << 3) | EPT_LARGE_PAGE);
	/* Non-leaf entries carry the table address and full rights, nothing else. */
	CHECK_EQ(raw_entry(&ept, 0, 4) & ~EPT_ADDR_MASK, EPT_RWX);
	CHECK_EQ(raw_entry(&ept, 0, 3) & ~EPT_ADDR_MASK, EPT_RWX);
	teardown(&ept);
}

/* 1 GiB leaves where gpa and hpa are both 1 GiB aligned: a 6 GiB guest above 4 GiB is six of them
 * and two tables; an unaligned host base falls back to 2 MiB; the counts say which sizes it got */
static void test_map_1g_leaves(void)
{
	struct ept ept;
	struct ept_page_counts pc;

	fake_reset();
	CHECK_EQ(ept_init_sizes(&ept, &fake_mm, true, true), 0);
	CHECK_EQ(ept_map(&ept, 0, 5ull << 30, 6ull << 30, EPT_RWX, EPT_MEMTYPE_WB), 0);
	CHECK_EQ(ept.tables, 2);
	check_mapped(&ept, 0, 5ull << 30, EPT_RWX, 3);
	check_mapped(&ept, (6ull << 30) - 1, (11ull << 30) - 1, EPT_RWX, 3);
	check_mapped(&ept, 0x12345678, (5ull << 30) + 0x12345678, EPT_RWX, 3);
	check_unmapped(&ept, 6ull << 30);
	CHECK_EQ(raw_entry(&ept, 1ull << 30, 3), (6ull << 30) | EPT_RWX | (6 << 3) | EPT_LARGE_PAGE);
	ept_count_pages(&ept, &pc);
	CHECK_EQ(pc.pages[2], 6);
	CHECK_EQ(pc.pages[1], 0);
	CHECK_EQ(pc.pages[0], 0);
	/* Overlap with a 1 GiB leaf is refused, nothing changes */
	CHECK_EQ(ept_map(&ept, 5ull << 30, 0x1000, 4096, EPT_RWX, EPT_MEMTYPE_WB), -E_EXIST);
	CHECK_EQ(ept.tables, 2);
	teardown(&ept);

	/* 1 GiB + 6 MiB at a host base 2 MiB (not 1 GiB) aligned: 2 MiB leaves only */
	fake_reset();
	CHECK_EQ(ept_init_sizes(&ept, &fake_mm, true, true), 0);
	CHECK_EQ(ept_map(&ept, 0, (4ull << 30) + 2 * MiB, (1ull << 30) + 6 * MiB, EPT_RWX,
			 EPT_MEMTYPE_WB), 0);
	ept_count_pages(&ept, &pc);
	CHECK_EQ(pc.pages[2], 0);
	CHECK_EQ(pc.pages[1], 512 + 3);
	check_mapped(&ept, 1ull << 30, (5ull << 30) + 2 * MiB, EPT_RWX, 2);
	teardown(&ept);

	/* Aligned, with a tail: 2 GiB leaves, then 2 MiB, then 4 KiB */
	fake_reset();
	CHECK_EQ(ept_init_sizes(&ept, &fake_mm, true, true), 0);
	CHECK_EQ(ept_map(&ept, 0, 8ull << 30, (2ull << 30) + 4 * MiB + 8192, EPT_RWX,
			 EPT_MEMTYPE_WB), 0);
	ept_count_pages(&ept, &pc);
	CHECK_EQ(pc.pages[2], 2);
	CHECK_EQ(pc.pages[1], 2);
	CHECK_EQ(pc.pages[0], 2);
	check_mapped(&ept, (2ull << 30) + 4 * MiB + 4096, (10ull << 30) + 4 * MiB + 4096, EPT_RWX, 1);
	teardown(&ept);

	/* 1 GiB pages are not used unless allowed, nor without 2 MiB ones */
	fake_reset();
	CHECK_EQ(ept_init_sizes(&ept, &fake_mm, false, true), 0);
	CHECK(!ept.allow_1g);
	teardown(&ept);
	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 0, 4ull << 30, 1ull << 30, EPT_RWX, EPT_MEMTYPE_WB), 0);
	ept_count_pages(&ept, &pc);
	CHECK_EQ(pc.pages[2], 0);
	CHECK_EQ(pc.pages[1], 512);
	teardown(&ept);
}

static void test_map_16m_misaligned_hpa(void)
{
	const uint64_t hpa = 0x40001000ull;
	struct ept ept;

	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 0, hpa, 16 * MiB, EPT_RWX, EPT_MEMTYPE_WB), 0);
	/* PML4, PDPT, PD and eight page tables. */
	CHECK_EQ(ept.tables, 3 + 8);
	check_mapped(&ept, 0, hpa, EPT_RWX, 1);
	check_mapped(&ept, 2 * MiB, hpa + 2 * MiB, EPT_RWX, 1);
	check_mapped(&ept, 16 * MiB - 1, hpa + 16 * MiB - 1, EPT_RWX, 1);
	check_unmapped(&ept, 16 * MiB);
	CHECK_EQ(raw_entry(&ept, 4096, 1), (hpa + 4096) | EPT_RWX | (6 << 3));
	teardown(&ept);
}

static void test_map_without_2m(void)
{
	struct ept ept;

	setup(&ept, false);
	CHECK_EQ(ept_map(&ept, 0, 0x40000000ull, 16 * MiB, EPT_RWX, EPT_MEMTYPE_WB), 0);
	CHECK_EQ(ept.tables, 3 + 8);
	check_mapped(&ept, 6 * MiB + 5, 0x40000000ull + 6 * MiB + 5, EPT_RWX, 1);
	teardown(&ept);
}

static void test_map_mixed_leaf_sizes(void)
{
	const uint64_t gpa = 2 * MiB - 4096, hpa = 0x80000000ull - 4096;
	struct ept ept;

	/* One 4 KiB page, one 2 MiB page, one 4 KiB page. */
	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, gpa, hpa, 2 * MiB + 8192, EPT_READ | EPT_EXEC, EPT_MEMTYPE_WB), 0);
	CHECK_EQ(ept.tables, 3 + 2);
	check_mapped(&ept, gpa, hpa, EPT_READ | EPT_EXEC, 1);
	check_mapped(&ept, 2 * MiB, hpa + 4096, EPT_READ | EPT_EXEC, 2);
	check_mapped(&ept, 4 * MiB - 1, hpa + 2 * MiB + 4096 - 1, EPT_READ | EPT_EXEC, 2);
	check_mapped(&ept, 4 * MiB, hpa + 2 * MiB + 4096, EPT_READ | EPT_EXEC, 1);
	check_mapped(&ept, 4 * MiB + 4095, hpa + 2 * MiB + 8191, EPT_READ | EPT_EXEC, 1);
	check_unmapped(&ept, gpa - 1);
	check_unmapped(&ept, 4 * MiB + 4096);
	/* 2 MiB left but only 4 KiB aligned: 4 KiB leaves. */
	CHECK_EQ(ept_map(&ept, 8 * MiB + 4096, 0x1000000ull + 4096, 2 * MiB, EPT_RWX, 0), 0);
	CHECK_EQ(ept.tables, 5 + 2);
	/* Aligned but less than 2 MiB: 4 KiB leaves. */
	CHECK_EQ(ept_map(&ept, 16 * MiB, 0x2000000ull, 2 * MiB - 4096, EPT_RWX, 0), 0);
	CHECK_EQ(ept.tables, 7 + 1);
	check_mapped(&ept, 16 * MiB, 0x2000000ull, EPT_RWX, 1);
	teardown(&ept);
}

static void test_permissions_and_memtype(void)
{
	static const uint64_t good_perms[] = { EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXEC,
					       EPT_RWX, EPT_EXEC };
	static const uint64_t good_types[] = { 0, 1, 4, 5, 6 };
	struct ept ept;
	uint64_t gpa = 0;
	size_t i, j;

	setup(&ept, true);
	for (i = 0; i < ARRAY_SIZE(good_perms); i++) {
		for (j = 0; j < ARRAY_SIZE(good_types); j++, gpa += 4096) {
			uint64_t hpa = 0x7000000ull + gpa;

			CHECK_EQ(ept_map(&ept, gpa, hpa, 4096, good_perms[i], good_types[j]), 0);
			CHECK_EQ(raw_entry(&ept, gpa, 1), hpa | good_perms[i] | (good_types[j] << 3));
			check_mapped(&ept, gpa + 12, hpa + 12, good_perms[i], 1);
		}
	}
	/* 2 MiB leaf with read-only UC. */
	CHECK_EQ(ept_map(&ept, 1 * GiB, 2 * GiB, 2 * MiB, EPT_READ, EPT_MEMTYPE_UC), 0);
	CHECK_EQ(raw_entry(&ept, 1 * GiB, 2), 2 * GiB | EPT_READ | EPT_LARGE_PAGE);
	check_mapped(&ept, 1 * GiB + 12345, 2 * GiB + 12345, EPT_READ, 2);

	/* Write without read, no access, stray bits, reserved memory types. */
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_WRITE, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_WRITE | EPT_EXEC, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, 0, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX | EPT_LARGE_PAGE, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX | (1ull << 3), 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX, 2), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX, 3), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX, 7), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 64 * MiB, 0, 4096, EPT_RWX, 14), -E_INVAL);
	check_unmapped(&ept, 64 * MiB);
	teardown(&ept);
}

static void test_overlap_changes_nothing(void)
{
	struct ept ept;
	unsigned tables, allocs;

	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 4 * MiB, 0x40000000ull, 4 * MiB, EPT_RWX, EPT_MEMTYPE_WB), 0);
	tables = ept.tables;
	allocs = fake_allocs;

	/* Starting before, inside, at the end, covering, and 4 KiB pages into a 2 MiB leaf. */
	CHECK_EQ(ept_map(&ept, 0, 0x1000000ull, 4 * MiB + 4096, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 5 * MiB, 0x1000000ull, 4096, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 5 * MiB + 4096, 0x1001000ull, 8192, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 8 * MiB - 4096, 0x1000000ull, 8192, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 4 * MiB, 0x40000000ull, 4 * MiB, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 2 * MiB, 0x1000000ull, 8 * MiB, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept.tables, tables);
	CHECK_EQ(fake_allocs, allocs);
	/* Far away first, overlapping last: checked before anything is mapped. */
	CHECK_EQ(ept_map(&ept, 1ull << 40, 0x1000000ull, 4096, EPT_RWX, 6), 0);
	tables = ept.tables;
	allocs = fake_allocs;
	CHECK_EQ(ept_map(&ept, 2 * MiB, 0x1000000ull, 2 * MiB + 4096, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept.tables, tables);
	CHECK_EQ(fake_allocs, allocs);
	check_unmapped(&ept, 2 * MiB);
	check_unmapped(&ept, 4 * MiB - 1);
	check_mapped(&ept, 4 * MiB, 0x40000000ull, EPT_RWX, 2);

	/* Neighbours on both sides fit. */
	CHECK_EQ(ept_map(&ept, 4 * MiB - 4096, 0x1000000ull, 4096, EPT_READ, 6), 0);
	CHECK_EQ(ept_map(&ept, 8 * MiB, 0x1001000ull, 4096, EPT_READ, 6), 0);
	check_mapped(&ept, 4 * MiB - 1, 0x1000fffull, EPT_READ, 1);
	check_mapped(&ept, 8 * MiB, 0x1001000ull, EPT_READ, 1);

	/* A 2 MiB-capable range over one mapped 4 KiB page refuses, the pages around it fit in the
	 * page table that is already there. */
	CHECK_EQ(ept_map(&ept, 20 * MiB + 4096, 0x3000000ull, 4096, EPT_RWX, 6), 0);
	tables = ept.tables;
	CHECK_EQ(ept_map(&ept, 20 * MiB, 0x2000000ull, 2 * MiB, EPT_RWX, 6), -E_EXIST);
	CHECK_EQ(ept_map(&ept, 20 * MiB, 0x2000000ull, 4096, EPT_RWX, 6), 0);
	CHECK_EQ(ept_map(&ept, 20 * MiB + 8192, 0x2002000ull, 2 * MiB - 8192, EPT_RWX, 6), 0);
	CHECK_EQ(ept.tables, tables);
	check_mapped(&ept, 20 * MiB + 4096, 0x3000000ull, EPT_RWX, 1);
	check_mapped(&ept, 22 * MiB - 1, 0x2200000ull - 1, EPT_RWX, 1);
	teardown(&ept);
}

static void test_invalid_arguments(void)
{
	const uint64_t top = 1ull << 48;
	struct ept ept;

	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 1, 0, 4096, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 0, 0x800, 4096, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 0, 0, 4095, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 0, 0, 0, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, top, 0, 4096, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, top - 4096, 0, 8192, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 4096, 0, 0xfffffffffffff000ull, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 0, 1ull << 52, 4096, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept_map(&ept, 0, (1ull << 52) - 4096, 8192, EPT_RWX, 6), -E_INVAL);
	CHECK_EQ(ept.tables, 1);
	CHECK_EQ(fake_allocs, 1);

	/* The very top of the 48-bit space and of the 52-bit host space is fine. */
	CHECK_EQ(ept_map(&ept, top - 2 * MiB, (1ull << 52) - 2 * MiB, 2 * MiB, EPT_RWX, 6), 0);
	check_mapped(&ept, top - 1, (1ull << 52) - 1, EPT_RWX, 2);
	check_mapped(&ept, top - 2 * MiB, (1ull << 52) - 2 * MiB, EPT_RWX, 2);
	check_unmapped(&ept, top);
	check_unmapped(&ept, top + (top - 1));
	CHECK_EQ(ept.tables, 3);
	teardown(&ept);
}

static void test_crossing_512g_and_1g(void)
{
	const uint64_t g512 = 512 * GiB;
	struct ept ept;

	/* 2 MiB on each side of the first PML4 entry's end. */
	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, g512 - 2 * MiB, 0x40000000ull, 4 * MiB, EPT_RWX, 6), 0);
	CHECK_EQ(ept.tables, 1 + 2 + 2);
	check_mapped(&ept, g512 - 1, 0x40000000ull + 2 * MiB - 1, EPT_RWX, 2);
	check_mapped(&ept, g512, 0x40000000ull + 2 * MiB, EPT_RWX, 2);
	check_unmapped(&ept, g512 - 2 * MiB - 1);
	check_unmapped(&ept, g512 + 2 * MiB);
	CHECK(raw_entry(&ept, 0, 4) & EPT_RWX);
	CHECK(raw_entry(&ept, g512, 4) & EPT_RWX);
	teardown(&ept);

	/* One 4 KiB page on each side of the first PDPT entry's end. */
	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, GiB - 4096, 0x5000000ull, 8192, EPT_READ, 6), 0);
	CHECK_EQ(ept.tables, 1 + 1 + 2 + 2);
	check_mapped(&ept, GiB - 4096, 0x5000000ull, EPT_READ, 1);
	check_mapped(&ept, GiB + 4095, 0x5001fffull, EPT_READ, 1);
	check_unmapped(&ept, GiB + 4096);
	check_unmapped(&ept, GiB - 4097);
	teardown(&ept);

	/* Both at once with 4 KiB leaves: 8 KiB across 512 GiB. */
	setup(&ept, false);
	CHECK_EQ(ept_map(&ept, g512 - 4096, 0x5000000ull, 8192, EPT_RWX, 6), 0);
	CHECK_EQ(ept.tables, 1 + 2 * 3);
	check_mapped(&ept, g512 - 4096, 0x5000000ull, EPT_RWX, 1);
	check_mapped(&ept, g512, 0x5001000ull, EPT_RWX, 1);
	teardown(&ept);
}

static void test_out_of_memory_rolls_back(void)
{
	/* Crosses 512 GiB with 4 KiB leaves: needs a PD and 2 PTs below PDPT 0 (which exists),
	 * and a PDPT, a PD and 2 PTs beyond: 7 new tables. */
	const uint64_t gpa = 512 * GiB - 2 * MiB - 8192, hpa = 0x40001000ull, size = 6 * MiB;
	struct ept ept;
	long n;

	for (n = 0; n <= 7; n++) {
		unsigned tables;

		setup(&ept, true);
		CHECK_EQ(ept_map(&ept, 0, 0x9000000ull, 4096, EPT_RWX, 6), 0);
		tables = ept.tables;
		CHECK_EQ(tables, 4);
		fake_fail_after = n;
		if (n < 7) {
			CHECK_EQ(ept_map(&ept, gpa, hpa, size, EPT_RWX, 6), -E_NOMEM);
			CHECK_EQ(ept.tables, tables);
			CHECK_EQ(fake_in_use, tables);
			CHECK_EQ(fake_allocs - fake_frees, tables);
			check_unmapped(&ept, gpa);
			check_unmapped(&ept, 512 * GiB - 1);
			check_unmapped(&ept, 512 * GiB);
			check_unmapped(&ept, gpa + size - 1);
			CHECK_EQ(raw_entry(&ept, 512 * GiB, 4), 0);
			CHECK_EQ(raw_entry(&ept, gpa, 3), 0);
			check_mapped(&ept, 0, 0x9000000ull, EPT_RWX, 1);
			fake_fail_after = -1;
		}
		CHECK_EQ(ept_map(&ept, gpa, hpa, size, EPT_RWX, 6), 0);
		CHECK_EQ(ept.tables, tables + 7);
		check_mapped(&ept, gpa, hpa, EPT_RWX, 1);
		check_mapped(&ept, gpa + size - 1, hpa + size - 1, EPT_RWX, 1);
		teardown(&ept);
	}

	/* Failing inside a PT that already exists keeps that PT and its old page. */
	setup(&ept, true);
	CHECK_EQ(ept_map(&ept, 0, 0x9000000ull, 4096, EPT_RWX, 6), 0);
	fake_fail_after = 0;
	CHECK_EQ(ept_map(&ept, 4096, 0x9001000ull, 2 * MiB, EPT_RWX, 6), -E_NOMEM);
	CHECK_EQ(ept.tables, 4);
	check_mapped(&ept, 0, 0x9000000ull, EPT_RWX, 1);
	check_unmapped(&ept, 4096);
	check_unmapped(&ept, 2 * MiB - 1);
	fake_fail_after = -1;
	teardown(&ept);
}

/* The reference model: a list of mapped intervals. */
struct model_map {
	uint64_t gpa, hpa, size, perms;
};

#define MODEL_MAX 512
static struct model_map model[MODEL_MAX];
static unsigned model_count;

static bool model_overlaps(uint64_t gpa, uint64_t size)
{
	unsigned i;

	for (i = 0; i < model_count; i++)
		if (gpa < model[i].gpa + model[i].size && model[i].gpa < gpa + size)
			return true;
	return false;
}

/* The expected translation of gpa: false when unmapped. */
static bool model_lookup(uint64_t gpa, bool allow_2m, uint64_t *hpa, uint64_t *perms,
			 unsigned *level)
{
	unsigned i;

	for (i = 0; i < model_count; i++) {
		const struct model_map *m = &model[i];
		uint64_t region = ALIGN_DOWN(gpa, 2 * MiB);

		if (gpa < m->gpa || gpa >= m->gpa + m->size)
			continue;
		*hpa = m->hpa + (gpa - m->gpa);
		*perms = m->perms;
		*level = allow_2m && region >= m->gpa && region + 2 * MiB <= m->gpa + m->size &&
				 IS_ALIGNED(m->gpa - m->hpa, 2 * MiB)
			 ? 2
			 : 1;
		return true;
	}
	return false;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void check_against_model(const struct ept *ept, uint64_t gpa)
{
	uint64_t want_hpa = 0, want_perms = 0, got_hpa = 0, got_perms = 0;
	unsigned want_level = 0, got_level = 0;
	bool want = model_lookup(gpa, ept->allow_2m, &want_hpa, &want_perms, &want_level);
	bool got = ept_lookup(ept, gpa, &got_hpa, &got_perms, &got_level);

	CHECK_EQ(got, want);
	if (got && want) {
		CHECK_EQ(got_hpa, want_hpa);
		CHECK_EQ(got_perms, want_perms);
		CHECK_EQ(got_level, want_level);
	}
}

static void random_round(bool allow_2m)
{
	/* Windows around the start, a 1 GiB boundary, a 512 GiB boundary and the 48-bit top. */
	static const uint64_t windows[] = { 0, GiB - 32 * MiB, 512 * GiB - 32 * MiB,
					    (1ull << 48) - 64 * MiB };
	static const uint64_t perms_choice[] = { EPT_READ, EPT_READ | EPT_WRITE, EPT_RWX,
						 EPT_READ | EPT_EXEC, EPT_EXEC };
	static const uint64_t types[] = { 0, 1, 4, 5, 6 };
	struct ept ept;
	unsigned op, probe;

	setup(&ept, allow_2m);
	model_count = 0;
	for (op = 0; op < 400 && model_count < MODEL_MAX; op++) {
		uint64_t base = windows[rng() % ARRAY_SIZE(windows)];
		uint64_t gpa = base + ALIGN_DOWN(rng() % (64 * MiB), 4096);
		uint64_t size = 4096 * (1 + rng() % (rng() % 2 ? 16 : 1024));
		uint64_t hpa = ALIGN_DOWN(rng() % (1ull << 40), 4096);
		uint64_t perms = perms_choice[rng() % ARRAY_SIZE(perms_choice)];
		int expect, ret;

		if (rng() % 2) {
			gpa = ALIGN_DOWN(gpa, 2 * MiB);
			hpa = ALIGN_DOWN(hpa, 2 * MiB);
			size = ALIGN_UP(size, 2 * MiB);
		}
		if (gpa + size > (1ull << 48))
			expect = -E_INVAL;
		else if (model_overlaps(gpa, size))
			expect = -E_EXIST;
		else
			expect = 0;

		/* Now and then the allocator runs dry part-way. */
		if (rng() % 6 == 0)
			fake_fail_after = (long)(rng() % 4);
		ret = ept_map(&ept, gpa, hpa, size, perms, types[rng() % ARRAY_SIZE(types)]);
		if (expect == 0 && ret == -E_NOMEM && fake_fail_after == 0)
			expect = -E_NOMEM;
		fake_fail_after = -1;
		CHECK_EQ(ret, expect);
		if (ret == 0)
			model[model_count++] = (struct model_map){ gpa, hpa, size, perms };
		CHECK_EQ(ept.tables, fake_in_use);

		for (probe = 0; probe < 24 && model_count; probe++) {
			const struct model_map *m = &model[rng() % model_count];

			check_against_model(&ept, m->gpa);
			check_against_model(&ept, m->gpa + m->size - 1);
			check_against_model(&ept, m->gpa + m->size);
			check_against_model(&ept, m->gpa - 1);
			check_against_model(&ept, m->gpa + rng() % m->size);
			check_against_model(&ept, windows[rng() % ARRAY_SIZE(windows)] +
							  rng() % (128 * MiB));
		}
		if (test_failed_checks)
			break;
	}
	CHECK(model_count > 50);
	teardown(&ept);
}

static void test_random_against_model(void)
{
	unsigned round;

	for (round = 0; round < 6; round++)
		random_round(round % 3 != 0);
}

int main(void)
{
	RUN_TEST(test_init_destroy_eptp);
	RUN_TEST(test_map_16m_with_2m_leaves);
	RUN_TEST(test_map_16m_misaligned_hpa);
	RUN_TEST(test_map_1g_leaves);
	RUN_TEST(test_map_without_2m);
	RUN_TEST(test_map_mixed_leaf_sizes);
	RUN_TEST(test_permissions_and_memtype);
	RUN_TEST(test_overlap_changes_nothing);
	RUN_TEST(test_invalid_arguments);
	RUN_TEST(test_crossing_512g_and_1g);
	RUN_TEST(test_out_of_memory_rolls_back);
	RUN_TEST(test_random_against_model);
	return test_any_failed;
}
