/* Host tests for kernel/frame.c: building from boot maps, allocating, freeing, a bitmap model. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/frame.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define IMAGE_START 0x100000ULL
#define IMAGE_END 0x183456ULL
#define MBI_START 0x184000ULL
#define MBI_END 0x1850a0ULL
#define MOD0_START 0x200000ULL
#define MOD0_END 0x2a1234ULL
#define MOD1_START 0x2a2000ULL
#define MOD1_END 0x2b0000ULL
#define RAM_END 0xfee0000ULL
#define IMAGE_END_PAGE 0x184000ULL /* ACPI tables sit at the end of the 256 MiB */

static struct frame_pool pool;
static struct boot_info bi;

static void add_range(uint64_t base, uint64_t length, uint32_t type)
{
	bi.mmap[bi.mmap_count++] = (struct boot_mem_range){ base, length, type };
}

/* A QEMU-like BIOS map with 256 MiB of RAM, the image, the MBI and two modules. */
static void make_bios_boot_info(void)
{
	memset(&bi, 0, sizeof(bi));
	add_range(0x0, 0x9fc00, BOOT_MEM_USABLE);
	add_range(0x9fc00, 0x400, BOOT_MEM_RESERVED);
	add_range(0xf0000, 0x10000, BOOT_MEM_RESERVED);
	add_range(0x100000, RAM_END - 0x100000, BOOT_MEM_USABLE);
	add_range(RAM_END, 0x10000000 - RAM_END, BOOT_MEM_ACPI_RECLAIMABLE);
	add_range(0xfffc0000, 0x40000, BOOT_MEM_RESERVED);
	bi.mbi_start = MBI_START;
	bi.mbi_end = MBI_END;
	bi.module_count = 2;
	bi.modules[0] = (struct boot_module){ .start = MOD0_START, .end = MOD0_END };
	bi.modules[1] = (struct boot_module){ .start = MOD1_START, .end = MOD1_END };
}

static int build_bios_pool(void)
{
	make_bios_boot_info();
	return frame_pool_build(&pool, &bi, IMAGE_START, IMAGE_END, 0, 4 * GiB);
}

static void check_invariants(const struct frame_pool *p)
{
	CHECK(p->count <= FRAME_MAX_EXTENTS);
	for (unsigned i = 0; i < p->count; i++) {
		CHECK(IS_ALIGNED(p->free[i].base, PAGE_SIZE));
		CHECK(IS_ALIGNED(p->free[i].end, PAGE_SIZE));
		CHECK(p->free[i].base < p->free[i].end);
		CHECK(p->free[i].base != 0);
		if (i)
			CHECK(p->free[i - 1].end < p->free[i].base);
	}
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* Whether [addr, addr + size) avoids everything the allocator must never hand out. */
static bool allowed(uint64_t addr, uint64_t size)
{
	uint64_t end = addr + size;

	if (addr == 0 || overlaps(addr, end, IMAGE_START, IMAGE_END) ||
	    overlaps(addr, end, MBI_START, MBI_END) || overlaps(addr, end, MOD0_START, MOD0_END) ||
	    overlaps(addr, end, MOD1_START, MOD1_END))
		return false;
	for (unsigned i = 0; i < bi.mmap_count; i++)
		if (bi.mmap[i].type != BOOT_MEM_USABLE &&
		    overlaps(addr, end, bi.mmap[i].base, bi.mmap[i].base + bi.mmap[i].length))
			return false;
	return end <= RAM_END;
}

static void test_build_bios(void)
{
	CHECK_EQ(build_bios_pool(), 0);
	check_invariants(&pool);
	CHECK_EQ(pool.count, 3);
	CHECK_EQ(pool.free[0].base, 0x1000);
	CHECK_EQ(pool.free[0].end, 0x9f000);
	CHECK_EQ(pool.free[1].base, 0x186000);
	CHECK_EQ(pool.free[1].end, 0x200000);
	CHECK_EQ(pool.free[2].base, 0x2b0000);
	CHECK_EQ(pool.free[2].end, RAM_END);
	CHECK_EQ(pool.usable_bytes, (0x9f000 - 0x1000) + (RAM_END - 0x100000));
	CHECK_EQ(pool.reserved_bytes, 0x186000 - 0x100000 + 0x2b0000 - 0x200000);
	CHECK_EQ(frame_pool_free_bytes(&pool), pool.usable_bytes - pool.reserved_bytes);
	CHECK_EQ(frame_pool_largest_free(&pool), RAM_END - 0x2b0000);
}

static void test_page_by_page(void)
{
	uint64_t pages = RAM_END / PAGE_SIZE;
	uint8_t *seen = calloc(pages, 1);
	uint64_t total, got = 0, addr;

	CHECK_EQ(build_bios_pool(), 0);
	total = frame_pool_free_bytes(&pool);
	while ((addr = frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE)) != 0) {
		CHECK(allowed(addr, PAGE_SIZE));
		CHECK(IS_ALIGNED(addr, PAGE_SIZE));
		if (addr / PAGE_SIZE < pages) {
			CHECK(!seen[addr / PAGE_SIZE]);
			seen[addr / PAGE_SIZE] = 1;
		}
		got += PAGE_SIZE;
	}
	CHECK_EQ(got, total);
	CHECK_EQ(pool.count, 0);
	CHECK_EQ(frame_pool_free_bytes(&pool), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE), 0);

	/* Giving everything back, upwards and downwards, rebuilds the original three extents */
	for (uint64_t p = pages / 2; p-- > 0;)
		if (seen[p])
			CHECK_EQ(frame_free(&pool, p * PAGE_SIZE, PAGE_SIZE), 0);
	for (uint64_t p = pages / 2; p < pages; p++)
		if (seen[p])
			CHECK_EQ(frame_free(&pool, p * PAGE_SIZE, PAGE_SIZE), 0);
	check_invariants(&pool);
	CHECK_EQ(pool.count, 3);
	CHECK_EQ(frame_pool_free_bytes(&pool), total);
	free(seen);
}

static void test_chunks(void)
{
	static const uint64_t sizes[] = { 64 * KiB, 5 * PAGE_SIZE, 1 * MiB, 100, 3 * MiB + 1 };
	uint64_t addr, got = 0, before;
	unsigned n = 0;

	CHECK_EQ(build_bios_pool(), 0);
	before = frame_pool_free_bytes(&pool);
	for (;;) {
		uint64_t size = sizes[n % ARRAY_SIZE(sizes)];

		addr = frame_alloc(&pool, size, PAGE_SIZE);
		if (!addr) {
			addr = frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE);
			size = PAGE_SIZE;
			if (!addr)
				break;
		}
		CHECK(allowed(addr, ALIGN_UP(size, PAGE_SIZE)));
		got += ALIGN_UP(size, PAGE_SIZE);
		n++;
	}
	CHECK_EQ(got, before);
	check_invariants(&pool);
}

static void test_align_2mib(void)
{
	uint64_t a, b, c;

	CHECK_EQ(build_bios_pool(), 0);
	a = frame_alloc(&pool, 2 * MiB, 2 * MiB);
	CHECK_EQ(a, 0x400000);
	b = frame_alloc(&pool, 2 * MiB, 2 * MiB);
	CHECK_EQ(b, 0x600000);
	/* The gap below the first one is still there for small allocations */
	CHECK_EQ(pool.free[2].base, 0x2b0000);
	CHECK_EQ(pool.free[2].end, 0x400000);
	c = frame_alloc(&pool, 64 * MiB, 64 * MiB);
	CHECK_EQ(c, 0x4000000);
	CHECK_EQ(frame_alloc(&pool, 128 * MiB, 128 * MiB), 0);
	CHECK_EQ(frame_alloc(&pool, GiB, PAGE_SIZE), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE), 0x1000);
	CHECK_EQ(frame_alloc(&pool, 1, 1 * MiB), 0x300000);
	check_invariants(&pool);

	CHECK_EQ(frame_free(&pool, a, 2 * MiB), 0);
	CHECK_EQ(frame_free(&pool, b, 2 * MiB), 0);
	CHECK_EQ(frame_free(&pool, c, 64 * MiB), 0);
	CHECK_EQ(frame_free(&pool, 0x1000, PAGE_SIZE), 0);
	CHECK_EQ(frame_free(&pool, 0x300000, 1), 0);
	CHECK_EQ(pool.count, 3);
	CHECK_EQ(frame_pool_largest_free(&pool), RAM_END - 0x2b0000);
}

static void test_invalid_args(void)
{
	struct frame_pool before;

	CHECK_EQ(build_bios_pool(), 0);
	before = pool;
	CHECK_EQ(frame_alloc(&pool, 0, PAGE_SIZE), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 0), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 2048), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 3 * PAGE_SIZE), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE + 1), 0);
	CHECK_EQ(frame_alloc(&pool, UINT64_MAX, PAGE_SIZE), 0);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 1ULL << 63), 0);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);

	CHECK_EQ(frame_free(&pool, 0x300001, PAGE_SIZE), -E_INVAL);
	CHECK_EQ(frame_free(&pool, 0, PAGE_SIZE), -E_INVAL);
	CHECK_EQ(frame_free(&pool, 0x300000, 0), -E_INVAL);
	CHECK_EQ(frame_free(&pool, 0xfffffffffff00000ull, 0x200000), -E_INVAL);
	CHECK_EQ(frame_pool_add(&pool, 0x5000, 0x4000), -E_INVAL);
	CHECK_EQ(frame_pool_reserve(&pool, 0x5000, 0x4000), -E_INVAL);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);

	/* Sizes round up to whole pages */
	CHECK_EQ(frame_alloc(&pool, 1, PAGE_SIZE), 0x1000);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE + 1, PAGE_SIZE), 0x2000);
	CHECK_EQ(frame_alloc(&pool, 1, PAGE_SIZE), 0x4000);
}

static void test_free_merge_double(void)
{
	struct frame_pool before;
	uint64_t a, b, c;

	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 0x100000, 0x200000), 0);
	a = frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE);
	b = frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE);
	c = frame_alloc(&pool, PAGE_SIZE, PAGE_SIZE);
	CHECK_EQ(a, 0x100000);
	CHECK_EQ(b, 0x101000);
	CHECK_EQ(c, 0x102000);
	CHECK_EQ(pool.count, 1);

	CHECK_EQ(frame_free(&pool, b, PAGE_SIZE), 0);
	CHECK_EQ(pool.count, 2);
	before = pool;
	CHECK_EQ(frame_free(&pool, b, PAGE_SIZE), -E_EXIST);
	CHECK_EQ(frame_free(&pool, a, 2 * PAGE_SIZE), -E_EXIST);
	CHECK_EQ(frame_free(&pool, c, 2 * PAGE_SIZE), -E_EXIST);
	CHECK_EQ(frame_free(&pool, 0x1ff000, PAGE_SIZE), -E_EXIST);
	CHECK_EQ(frame_free(&pool, 0x80000, 0x200000), -E_EXIST);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);

	CHECK_EQ(frame_free(&pool, a, PAGE_SIZE), 0);
	CHECK_EQ(pool.count, 2);
	CHECK_EQ(frame_free(&pool, c, PAGE_SIZE), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].base, 0x100000);
	CHECK_EQ(pool.free[0].end, 0x200000);

	/* Freeing memory that was never in the pool grows it, and merges on both sides */
	CHECK_EQ(frame_free(&pool, 0x200000, 0x1000), 0);
	CHECK_EQ(frame_free(&pool, 0x80000, 0x80000), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].base, 0x80000);
	CHECK_EQ(pool.free[0].end, 0x201000);
	CHECK_EQ(pool.usable_bytes, 0x100000);
}

static void test_add_reserve_rounding(void)
{
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 0x1001, 0x1fff), 0);
	CHECK_EQ(pool.count, 0);
	CHECK_EQ(frame_pool_add(&pool, 0x1001, 0x3fff), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].base, 0x2000);
	CHECK_EQ(pool.free[0].end, 0x3000);
	/* Page 0 is never added */
	CHECK_EQ(frame_pool_add(&pool, 0, 0x2000), 0);
	CHECK_EQ(pool.free[0].base, 0x1000);
	CHECK_EQ(pool.free[0].end, 0x3000);
	CHECK_EQ(pool.usable_bytes, 0x2000);
	/* Re-adding free memory counts nothing twice */
	CHECK_EQ(frame_pool_add(&pool, 0x1000, 0x3000), 0);
	CHECK_EQ(pool.usable_bytes, 0x2000);

	CHECK_EQ(frame_pool_add(&pool, 0x10000, 0x20000), 0);
	CHECK_EQ(frame_pool_reserve(&pool, 0x11fff, 0x12001), 0);
	CHECK_EQ(pool.count, 3);
	CHECK_EQ(pool.free[1].end, 0x11000);
	CHECK_EQ(pool.free[2].base, 0x13000);
	CHECK_EQ(pool.reserved_bytes, 0x2000);
	/* Reserving what is not free changes nothing */
	CHECK_EQ(frame_pool_reserve(&pool, 0x5000, 0x9000), 0);
	CHECK_EQ(frame_pool_reserve(&pool, 0x12000, 0x12000), 0);
	CHECK_EQ(pool.reserved_bytes, 0x2000);
	/* One reservation across several extents */
	CHECK_EQ(frame_pool_reserve(&pool, 0x2000, 0x13000), 0);
	CHECK_EQ(pool.count, 2);
	CHECK_EQ(pool.free[0].end, 0x2000);
	CHECK_EQ(pool.free[1].base, 0x13000);
	CHECK_EQ(pool.reserved_bytes, 0x2000 + 0x1000 + 0x1000);
	check_invariants(&pool);

	/* The top of the address space */
	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, UINT64_MAX - 10, UINT64_MAX), 0);
	CHECK_EQ(pool.count, 0);
	CHECK_EQ(frame_pool_add(&pool, 0xffffffffffffc000ull, UINT64_MAX), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].end, 0xfffffffffffff000ull);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 0x4000), 0xffffffffffffc000ull);
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 0x8000), 0);
	CHECK_EQ(frame_pool_reserve(&pool, 0xffffffffffffe800ull, UINT64_MAX), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].end, 0xffffffffffffe000ull);
	CHECK_EQ(frame_pool_add(&pool, PAGE_SIZE, UINT64_MAX), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(frame_pool_free_bytes(&pool), 0xfffffffffffff000ull - PAGE_SIZE);
}

static void test_list_full(void)
{
	struct frame_pool before;
	uint64_t last_base;

	/* Extents of 3 pages at odd page numbers, 8 pages apart; the last starts on an even page */
	frame_pool_init(&pool);
	for (unsigned i = 0; i < FRAME_MAX_EXTENTS; i++) {
		uint64_t base = (1 + 8ULL * i + (i == FRAME_MAX_EXTENTS - 1)) * PAGE_SIZE;

		CHECK_EQ(frame_pool_add(&pool, base, base + 3 * PAGE_SIZE), 0);
	}
	last_base = pool.free[FRAME_MAX_EXTENTS - 1].base;
	CHECK_EQ(pool.count, FRAME_MAX_EXTENTS);
	before = pool;

	CHECK_EQ(frame_pool_add(&pool, 0x10000000, 0x10001000), -E_FULL);
	CHECK_EQ(frame_pool_reserve(&pool, 0x2000, 0x3000), -E_FULL);
	CHECK_EQ(frame_free(&pool, 0x6000, PAGE_SIZE), -E_FULL);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);

	/* A 2-page aligned page inside each 3-page extent needs a split; only the last fits */
	CHECK_EQ(frame_alloc(&pool, PAGE_SIZE, 2 * PAGE_SIZE), last_base);
	CHECK_EQ(pool.count, FRAME_MAX_EXTENTS);

	/* Changes that do not need a new slot still work */
	CHECK_EQ(frame_pool_reserve(&pool, 0x1000, 0x2000), 0);
	CHECK_EQ(frame_pool_add(&pool, 0x4000, 0x9000), 0);
	CHECK_EQ(pool.count, FRAME_MAX_EXTENTS - 1);
	CHECK_EQ(pool.free[0].base, 0x2000);
	CHECK_EQ(pool.free[0].end, 0xc000);
	CHECK_EQ(frame_pool_add(&pool, 0x10000000, 0x10001000), 0);
	CHECK_EQ(pool.count, FRAME_MAX_EXTENTS);
	check_invariants(&pool);

	/* A map too fragmented for the list makes frame_pool_build fail */
	memset(&bi, 0, sizeof(bi));
	for (unsigned i = 0; i < FRAME_MAX_EXTENTS; i++)
		add_range(0x100000 + i * 0x10000ULL, 0x8000, BOOT_MEM_USABLE);
	CHECK_EQ(frame_pool_build(&pool, &bi, 0, 0, 0, UINT64_MAX), 0);
	bi.module_count = 1;
	bi.modules[0] = (struct boot_module){ .start = 0x152000, .end = 0x153000 };
	CHECK_EQ(frame_pool_build(&pool, &bi, 0, 0, 0, UINT64_MAX), -E_FULL);
}

static void test_overlapping_map(void)
{
	memset(&bi, 0, sizeof(bi));
	add_range(6 * MiB, 1 * MiB, BOOT_MEM_RESERVED); /* listed before the RAM it punches */
	add_range(1 * MiB, 7 * MiB, BOOT_MEM_USABLE);
	add_range(4 * MiB, 12 * MiB, BOOT_MEM_USABLE);
	add_range(15 * MiB, 0, BOOT_MEM_USABLE);
	add_range(10 * MiB + 0x800, 0x800, 20);          /* unknown type: reserved */
	add_range(12 * MiB, 1 * MiB, BOOT_MEM_BAD);
	add_range(12 * MiB + 0x10, 0x100, BOOT_MEM_USABLE); /* usable inside bad */
	add_range(32 * MiB + 0x123, 1 * MiB, BOOT_MEM_USABLE); /* rounds inward */
	add_range(0xfffffffffffff000ull, 0x2000, BOOT_MEM_RESERVED); /* wraps: saturated */
	CHECK_EQ(frame_pool_build(&pool, &bi, 0, 0, 0, UINT64_MAX), 0);
	check_invariants(&pool);
	CHECK_EQ(pool.count, 5);
	CHECK_EQ(pool.free[0].base, 1 * MiB);
	CHECK_EQ(pool.free[0].end, 6 * MiB);
	CHECK_EQ(pool.free[1].base, 7 * MiB);
	CHECK_EQ(pool.free[1].end, 10 * MiB);
	CHECK_EQ(pool.free[2].base, 10 * MiB + 0x1000);
	CHECK_EQ(pool.free[2].end, 12 * MiB);
	CHECK_EQ(pool.free[3].base, 13 * MiB);
	CHECK_EQ(pool.free[3].end, 16 * MiB);
	CHECK_EQ(pool.free[4].base, 32 * MiB + 0x1000);
	CHECK_EQ(pool.free[4].end, 33 * MiB);
	CHECK_EQ(pool.usable_bytes, 15 * MiB + 1 * MiB - 0x1000);
	CHECK_EQ(pool.reserved_bytes, 1 * MiB + 0x1000 + 1 * MiB);
	CHECK_EQ(frame_pool_free_bytes(&pool), pool.usable_bytes - pool.reserved_bytes);
}

static void test_floor_ceiling(void)
{
	make_bios_boot_info();
	CHECK_EQ(frame_pool_build(&pool, &bi, IMAGE_START, IMAGE_END, 0x180000, 64 * MiB + 0x800),
		 0);
	CHECK_EQ(pool.count, 2);
	CHECK_EQ(pool.free[0].base, 0x186000);
	CHECK_EQ(pool.free[1].end, 64 * MiB);
	CHECK_EQ(pool.usable_bytes, 64 * MiB - 0x180000);
	CHECK_EQ(pool.reserved_bytes, 0x186000 - 0x180000 + 0x2b0000 - 0x200000);

	/* A ceiling below the floor leaves nothing */
	CHECK_EQ(frame_pool_build(&pool, &bi, 0, 0, 64 * MiB, 1 * MiB), 0);
	CHECK_EQ(pool.count, 0);
	CHECK_EQ(pool.usable_bytes, 0);
}

static void test_claim(void)
{
	struct frame_pool before;

	frame_pool_init(&pool);
	CHECK_EQ(frame_pool_add(&pool, 0x100000, 0x200000), 0);
	CHECK_EQ(frame_pool_add(&pool, 0x300000, 0x400000), 0);
	before = pool;

	/* Anything not entirely free changes nothing */
	CHECK_EQ(frame_claim(&pool, 0x80000, 0x100000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x1ff000, 0x2000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x100000, 0x300000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x200000, 0x1000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x400000, 0x1000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x100800, 0x1000), -E_INVAL);
	CHECK_EQ(frame_claim(&pool, 0x100000, 0x800), -E_INVAL);
	CHECK_EQ(frame_claim(&pool, 0x100000, 0), -E_INVAL);
	CHECK_EQ(frame_claim(&pool, 0xfffffffffff00000ull, 0x200000), -E_INVAL);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);

	/* Middle, start, end, whole */
	CHECK_EQ(frame_claim(&pool, 0x140000, 0x10000), 0);
	CHECK_EQ(pool.count, 3);
	CHECK_EQ(pool.free[0].end, 0x140000);
	CHECK_EQ(pool.free[1].base, 0x150000);
	CHECK_EQ(frame_claim(&pool, 0x140000, 0x1000), -E_EXIST);
	CHECK_EQ(frame_claim(&pool, 0x100000, 0x1000), 0);
	CHECK_EQ(pool.free[0].base, 0x101000);
	CHECK_EQ(frame_claim(&pool, 0x1ff000, 0x1000), 0);
	CHECK_EQ(pool.free[1].end, 0x1ff000);
	CHECK_EQ(frame_claim(&pool, 0x300000, 0x100000), 0);
	CHECK_EQ(pool.count, 2);
	CHECK_EQ(pool.reserved_bytes, 0);
	CHECK_EQ(frame_pool_free_bytes(&pool), 0x3f000 + 0xaf000);
	check_invariants(&pool);

	/* Claimed memory goes back with frame_free */
	CHECK_EQ(frame_free(&pool, 0x140000, 0x10000), 0);
	CHECK_EQ(frame_free(&pool, 0x100000, 0x1000), 0);
	CHECK_EQ(frame_free(&pool, 0x1ff000, 0x1000), 0);
	CHECK_EQ(pool.count, 1);
	CHECK_EQ(pool.free[0].base, 0x100000);
	CHECK_EQ(pool.free[0].end, 0x200000);

	/* A claim that splits an extent needs a free slot */
	frame_pool_init(&pool);
	for (unsigned i = 0; i < FRAME_MAX_EXTENTS; i++)
		CHECK_EQ(frame_pool_add(&pool, (1 + 8ULL * i) * PAGE_SIZE, (4 + 8ULL * i) * PAGE_SIZE),
			 0);
	before = pool;
	CHECK_EQ(frame_claim(&pool, 2 * PAGE_SIZE, PAGE_SIZE), -E_FULL);
	CHECK(memcmp(&before, &pool, sizeof(pool)) == 0);
	CHECK_EQ(frame_claim(&pool, 1 * PAGE_SIZE, PAGE_SIZE), 0);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define MODEL_PAGES 512

/* The free list must always equal a plain bitmap that sees the same operations. */
static void check_model(const bool *model)
{
	unsigned i = 0;

	check_invariants(&pool);
	for (uint64_t p = 0; p < MODEL_PAGES; p++) {
		bool in = false;

		while (i < pool.count && pool.free[i].end <= p * PAGE_SIZE)
			i++;
		if (i < pool.count && pool.free[i].base <= p * PAGE_SIZE)
			in = true;
		CHECK_EQ(in, model[p]);
	}
}

/* frame_claim against the bitmap model: it succeeds exactly when every page is free. */
static void test_claim_model(void)
{
	static bool model[MODEL_PAGES];

	memset(model, 0, sizeof(model));
	frame_pool_init(&pool);
	for (int iter = 0; iter < 20000; iter++) {
		uint64_t a = 1 + rng() % (MODEL_PAGES - 1), n = 1 + rng() % 24;
		uint64_t end = MIN(a + n, (uint64_t)MODEL_PAGES);
		bool all_free = true;
		int err;

		if (rng() % 3 == 0) {
			err = frame_pool_add(&pool, a * PAGE_SIZE, end * PAGE_SIZE);
			if (!err)
				for (uint64_t p = a; p < end; p++)
					model[p] = true;
			continue;
		}
		for (uint64_t p = a; p < end; p++)
			all_free &= model[p];
		err = frame_claim(&pool, a * PAGE_SIZE, (end - a) * PAGE_SIZE);
		if (!all_free)
			CHECK_EQ(err, -E_EXIST);
		else if (!err)
			for (uint64_t p = a; p < end; p++)
				model[p] = false;
		else
			CHECK_EQ(err, -E_FULL);
		if (iter % 64 == 0)
			check_model(model);
	}
	check_model(model);
}

static void test_model_random(void)
{
	static bool model[MODEL_PAGES];

	memset(model, 0, sizeof(model));
	frame_pool_init(&pool);
	for (int iter = 0; iter < 20000; iter++) {
		uint64_t a = rng() % MODEL_PAGES, n = 1 + rng() % 16;
		uint64_t align = PAGE_SIZE << (rng() % 4);
		uint64_t end = MIN(a + n, (uint64_t)MODEL_PAGES);
		uint64_t addr;
		bool any_free = false;
		int err;

		switch (rng() % 4) {
		case 0:
			err = frame_pool_add(&pool, a * PAGE_SIZE, end * PAGE_SIZE);
			if (!err)
				for (uint64_t p = MAX(a, 1); p < end; p++)
					model[p] = true;
			CHECK(err == 0 || err == -E_FULL);
			break;
		case 1:
			err = frame_pool_reserve(&pool, a * PAGE_SIZE, end * PAGE_SIZE);
			if (!err)
				for (uint64_t p = a; p < end; p++)
					model[p] = false;
			CHECK(err == 0 || err == -E_FULL);
			break;
		case 2:
			addr = frame_alloc(&pool, n * PAGE_SIZE, align);
			if (addr) {
				CHECK(IS_ALIGNED(addr, align));
				for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++) {
					CHECK(p < MODEL_PAGES && model[p]);
					if (p < MODEL_PAGES)
						model[p] = false;
				}
			}
			break;
		default:
			for (uint64_t p = a; p < end; p++)
				any_free |= model[p];
			err = frame_free(&pool, a * PAGE_SIZE, (end - a) * PAGE_SIZE);
			if (a == 0)
				CHECK_EQ(err, -E_INVAL);
			else if (any_free)
				CHECK_EQ(err, -E_EXIST);
			else if (!err)
				for (uint64_t p = a; p < end; p++)
					model[p] = true;
			else
				CHECK_EQ(err, -E_FULL);
			break;
		}
		if (iter % 64 == 0)
			check_model(model);
	}
	check_model(model);
}

/* Real servers' maps: the 3-4 GiB PCI hole, RAM above 4 GiB up to hundreds of GiB, firmware
 * ranges up there too; with the whole address space as ceiling all of it is in the pool. */
static void test_server_maps(void)
{
	uint64_t base;

	/* Bochs with 6 GiB (as seen): 3 GiB below the hole, 2 GiB at 0x100000000 */
	memset(&bi, 0, sizeof(bi));
	add_range(0x0, 0x9f000, BOOT_MEM_USABLE);
	add_range(0x9f000, 0x1000, BOOT_MEM_RESERVED);
	add_range(0xe8000, 0x18000, BOOT_MEM_RESERVED);
	add_range(0x100000, 0xbfef0000 - 0x100000, BOOT_MEM_USABLE);
	add_range(0xbfef0000, 0x10000, BOOT_MEM_ACPI_RECLAIMABLE);
	add_range(0xfffc0000, 0x40000, BOOT_MEM_RESERVED);
	add_range(0x100000000ull, 0x80000000ull, BOOT_MEM_USABLE);
	CHECK_EQ(frame_pool_build(&pool, &bi, IMAGE_START, IMAGE_END, 1 * MiB, 1ull << 46), 0);
	check_invariants(&pool);
	CHECK_EQ(pool.count, 2);
	CHECK_EQ(pool.free[1].base, 0x100000000ull);
	CHECK_EQ(pool.free[1].end, 0x180000000ull);
	/* [1 MiB, 0xbfef0000) less the image, and the 2 GiB above 4 GiB */
	CHECK_EQ(frame_pool_free_bytes(&pool), 0xbfef0000 - IMAGE_END_PAGE + 0x80000000ull);
	/* A 1 GiB-aligned 2 GiB allocation can only come from above 4 GiB */
	CHECK_EQ(frame_alloc(&pool, 2 * GiB, 1 * GiB), 0x100000000ull);
	CHECK_EQ(frame_pool_largest_free(&pool), 0xbfef0000 - IMAGE_END_PAGE);

	/* The old 4 GiB ceiling leaves the 2 GiB above out, as Cloison did before */
	CHECK_EQ(frame_pool_build(&pool, &bi, IMAGE_START, IMAGE_END, 1 * MiB, 4 * GiB), 0);
	CHECK(pool.free[pool.count - 1].end <= 4 * GiB);

	/* A two-socket server: 2 GiB below the hole, 766 GiB above, a reserved hole between the
	 * sockets' memory at 384 GiB, ACPI NVS at the top; GRUB's modules high up */
	memset(&bi, 0, sizeof(bi));
	add_range(0x0, 0x9c000, BOOT_MEM_USABLE);
	add_range(0x100000, 0x7ff00000, BOOT_MEM_USABLE);
	add_range(0x80000000, 0x80000000, BOOT_MEM_RESERVED);
	add_range(4ull << 30, 380ull << 30, BOOT_MEM_USABLE);
	add_range(384ull << 30, 64 * MiB, BOOT_MEM_RESERVED);
	add_range((384ull << 30) + 64 * MiB, (386ull << 30) - 64 * MiB, BOOT_MEM_USABLE);
	add_range(770ull << 30, 1 * MiB, BOOT_MEM_ACPI_NVS);
	bi.module_count = 1;
	bi.modules[0] = (struct boot_module){ .start = (700ull << 30) + 0x1234, .end = (700ull << 30) + 5 * MiB };
	CHECK_EQ(frame_pool_build(&pool, &bi, IMAGE_START, IMAGE_END, 1 * MiB, 1ull << 46), 0);
	check_invariants(&pool);
	CHECK_EQ(pool.usable_bytes, 0x9c000 - 0x1000 + 0x7ff00000 + (766ull << 30) - 64 * MiB - 0x9c000 + 0x1000);
	CHECK_EQ(frame_pool_free_bytes(&pool),
		 (2ull << 30) - 1 * MiB - (IMAGE_END_PAGE - IMAGE_START) + (766ull << 30) - 64 * MiB -
			 (5 * MiB - 0x1000)); /* the module from its page, 700 GiB + 4 KiB */
	/* Hundreds of GiB in one piece */
	base = frame_alloc(&pool, 300ull << 30, 1ull << 30);
	CHECK_EQ(base, 4ull << 30);
	CHECK_EQ(frame_free(&pool, base, 300ull << 30), 0);
	CHECK_EQ(frame_claim(&pool, (384ull << 30) + 64 * MiB, 316ull << 30), -E_EXIST); /* the module */
	CHECK_EQ(frame_claim(&pool, (384ull << 30) + 64 * MiB, 315ull << 30), 0);
	CHECK_EQ(frame_claim(&pool, 700ull << 30, 2 * MiB), -E_EXIST); /* the module */
	check_invariants(&pool);
}

int main(void)
{
	RUN_TEST(test_build_bios);
	RUN_TEST(test_page_by_page);
	RUN_TEST(test_chunks);
	RUN_TEST(test_align_2mib);
	RUN_TEST(test_invalid_args);
	RUN_TEST(test_free_merge_double);
	RUN_TEST(test_add_reserve_rounding);
	RUN_TEST(test_list_full);
	RUN_TEST(test_overlapping_map);
	RUN_TEST(test_floor_ceiling);
	RUN_TEST(test_model_random);
	RUN_TEST(test_claim);
	RUN_TEST(test_claim_model);
	RUN_TEST(test_server_maps);
	return test_any_failed;
}
