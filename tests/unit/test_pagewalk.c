/* Host tests for kernel/pagewalk.c: page tables built in a buffer that stands in for guest RAM. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "kernel/lib.h"
#include "kernel/pagewalk.h"

TEST_MAIN_GLOBALS;

#define RAM_SIZE (16 * MiB)
#define TABLES_BASE 0x100000ull /* page tables are handed out from here up */

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define XD (1ull << 63)

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

struct guest {
	uint8_t *ram;
	uint64_t next_table;
	unsigned reads;
	struct pagewalk_ctx ctx;
};

/* The integrator's callback in miniature: bounds-checked copies out of guest RAM. */
static int ram_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	struct guest *g = opaque;

	g->reads++;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(buf, g->ram + gpa, len);
	return 0;
}

static void guest_init(struct guest *g, uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	g->ram = calloc(1, RAM_SIZE);
	g->next_table = TABLES_BASE;
	g->reads = 0;
	g->ctx = (struct pagewalk_ctx){
		.cr0 = cr0, .cr4 = cr4, .efer = efer, .maxphyaddr = 46,
		.read_gpa = ram_read, .opaque = g,
	};
}

static void guest_free(struct guest *g)
{
	free(g->ram);
}

static uint64_t alloc_table(struct guest *g)
{
	uint64_t t = g->next_table;

	g->next_table += PAGE_SIZE;
	CHECK(g->next_table <= RAM_SIZE);
	return t;
}

static uint64_t get64(struct guest *g, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, g->ram + gpa, 8);
	return v;
}

static void set64(struct guest *g, uint64_t gpa, uint64_t v)
{
	memcpy(g->ram + gpa, &v, 8);
}

static void set32(struct guest *g, uint64_t gpa, uint32_t v)
{
	memcpy(g->ram + gpa, &v, 4);
}

/* Maps linear -> phys with a leaf at leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) in 4-/5-level or
 * PAE tables (levels 5/4 .. 1; PAE uses its PDPT at CR3). ent[level] gets each entry's address. */
static void map64(struct guest *g, uint64_t linear, uint64_t phys, unsigned leaf_level,
		  uint64_t leaf_flags, uint64_t ent[6])
{
	bool pae = !(g->ctx.efer & EFER_LMA);
	unsigned top = pae ? 3 : (g->ctx.cr4 & CR4_LA57) ? 5 : 4;
	uint64_t table = pae ? (g->ctx.cr3 & 0xffffffe0u) : (g->ctx.cr3 & ~0xfffull);

	for (unsigned level = top;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t idx = pae && level == 3 ? (linear >> 30) & 3 : (linear >> shift) & 511;
		uint64_t addr = table + idx * 8, e = get64(g, addr);

		if (ent)
			ent[level] = addr;
		if (level == leaf_level) {
			set64(g, addr, phys | leaf_flags | (level > 1 ? PS : 0));
			return;
		}
		if (!(e & P)) {
			/* PAE PDPTEs carry only P (R/W and U/S there are reserved) */
			e = alloc_table(g) | P | (pae && level == 3 ? 0 : RW | US);
			set64(g, addr, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
}

static int walk(struct guest *g, uint64_t linear, unsigned access, uint64_t *gpa, uint64_t *fault)
{
	*gpa = ~0ull;
	*fault = ~0ull;
	return pagewalk(&g->ctx, linear, access, gpa, fault);
}

/* Expects a translation. */
#define CHECK_MAPS(g, linear, access, expect_gpa)                                                  \
	do {                                                                                       \
		uint64_t gpa_, fault_;                                                             \
		CHECK_EQ(walk((g), (linear), (access), &gpa_, &fault_), 0);                        \
		CHECK_EQ(gpa_, (expect_gpa));                                                      \
	} while (0)

/* Expects #PF with this error code. */
#define CHECK_FAULT(g, linear, access, expect_code)                                                \
	do {                                                                                       \
		uint64_t gpa_, fault_;                                                             \
		CHECK_EQ(walk((g), (linear), (access), &gpa_, &fault_), PAGEWALK_FAULT);           \
		CHECK_EQ(fault_, (expect_code));                                                   \
	} while (0)

static void test_paging_off(void)
{
	struct guest g;

	guest_init(&g, CR0_PE, 0, 0);
	CHECK_MAPS(&g, 0x12345678, PAGEWALK_READ, 0x12345678);
	CHECK_MAPS(&g, 0xfee00300, PAGEWALK_WRITE | PAGEWALK_USER, 0xfee00300);
	CHECK_MAPS(&g, 0x100001000ull, PAGEWALK_FETCH, 0x1000); /* 32-bit linear addresses */
	CHECK_EQ(g.reads, 0);
	guest_free(&g);
}

static void build_32(struct guest *g, uint64_t *pd)
{
	*pd = alloc_table(g);
	g->ctx.cr3 = *pd;
}

/* 32-bit paging, SDM Vol. 3A 4.3 */
static void test_32bit_4k_and_4m(void)
{
	struct guest g;
	uint64_t pd, pt;

	guest_init(&g, CR0_PE | CR0_PG | CR0_WP, CR4_PSE, 0);
	build_32(&g, &pd);
	pt = alloc_table(&g);
	/* 0x00401000 -> 0x00234000 through a page table; 0xc0000000 -> 4 MiB page at 0x00c00000 */
	set32(&g, pd + 1 * 4, (uint32_t)(pt | P | RW | US));
	set32(&g, pt + 1 * 4, 0x00234000u | P | RW | US);
	set32(&g, pd + 0x300 * 4, 0x00c00000u | P | RW | PS);
	CHECK_MAPS(&g, 0x00401abc, PAGEWALK_READ, 0x00234abc);
	CHECK_MAPS(&g, 0x00401abc, PAGEWALK_WRITE | PAGEWALK_USER, 0x00234abc);
	CHECK_MAPS(&g, 0xc0123456, PAGEWALK_FETCH, 0x00d23456);
	CHECK_FAULT(&g, 0xc0123456, PAGEWALK_READ | PAGEWALK_USER, PF_ERR_PRESENT | PF_ERR_USER);

	/* Without CR4.PSE the PS bit is ignored: the PDE points at a page table */
	g.ctx.cr4 = 0;
	set32(&g, 0x00c00000 + 0x123 * 4, 0x00345000u | P);
	CHECK_MAPS(&g, 0xc0123456, PAGEWALK_READ, 0x00345456);
	g.ctx.cr4 = CR4_PSE;

	/* PSE-36: PDE bits 20:13 are physical bits 39:32 up to MAXPHYADDR; bit 21 is reserved */
	g.ctx.maxphyaddr = 40;
	set32(&g, pd + 0x301 * 4, 0x00800000u | (0xabu << 13) | P | PS);
	CHECK_MAPS(&g, 0xc0400010, PAGEWALK_READ, 0xab00800010ull);
	g.ctx.maxphyaddr = 36;
	CHECK_FAULT(&g, 0xc0400010, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set32(&g, pd + 0x301 * 4, 0x00800000u | (0xbu << 13) | P | PS);
	CHECK_MAPS(&g, 0xc0400010, PAGEWALK_READ, 0xb00800010ull);
	set32(&g, pd + 0x301 * 4, 0x00800000u | (0x10u << 13) | P | PS);
	CHECK_FAULT(&g, 0xc0400010, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	g.ctx.maxphyaddr = 32; /* no PSE-36: all of bits 20:13 reserved */
	set32(&g, pd + 0x301 * 4, 0x00800000u | (1u << 13) | P | PS);
	CHECK_FAULT(&g, 0xc0400010, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	g.ctx.maxphyaddr = 36;
	set32(&g, pd + 0x301 * 4, 0x00800000u | (1u << 21) | P | PS);
	CHECK_FAULT(&g, 0xc0400010, PAGEWALK_WRITE, PF_ERR_PRESENT | PF_ERR_RSVD | PF_ERR_WRITE);

	/* Not present at the PDE and at the PTE */
	CHECK_FAULT(&g, 0x00801000, PAGEWALK_READ, 0);
	CHECK_FAULT(&g, 0x00402000, PAGEWALK_WRITE | PAGEWALK_USER, PF_ERR_WRITE | PF_ERR_USER);
	/* No I/D bit in 32-bit paging unless SMEP, SDM Vol. 3A 4.7 */
	CHECK_FAULT(&g, 0x00402000, PAGEWALK_FETCH, 0);
	g.ctx.cr4 |= CR4_SMEP;
	CHECK_FAULT(&g, 0x00402000, PAGEWALK_FETCH, PF_ERR_FETCH);
	/* SMEP: a supervisor fetch from a user page faults */
	CHECK_FAULT(&g, 0x00401000, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
	guest_free(&g);
}

/* Write protection and user/supervisor in 32-bit paging, SDM Vol. 3A 4.6.1 */
static void test_32bit_rights(void)
{
	struct guest g;
	uint64_t pd, pt;

	guest_init(&g, CR0_PE | CR0_PG, 0, 0);
	build_32(&g, &pd);
	pt = alloc_table(&g);
	set32(&g, pd, (uint32_t)(pt | P | US));           /* the PDE takes R/W away */
	set32(&g, pt + 4 * 4, 0x00005000u | P | RW | US);
	set32(&g, pt + 5 * 4, 0x00006000u | P | RW);      /* supervisor only */

	/* CR0.WP = 0: the supervisor writes read-only pages, the user cannot */
	CHECK_MAPS(&g, 0x4000, PAGEWALK_WRITE, 0x5000);
	CHECK_FAULT(&g, 0x4000, PAGEWALK_WRITE | PAGEWALK_USER, PF_ERR_PRESENT | PF_ERR_WRITE | PF_ERR_USER);
	CHECK_MAPS(&g, 0x4000, PAGEWALK_READ | PAGEWALK_USER, 0x5000);
	g.ctx.cr0 |= CR0_WP;
	CHECK_FAULT(&g, 0x4000, PAGEWALK_WRITE, PF_ERR_PRESENT | PF_ERR_WRITE);
	set32(&g, pd, (uint32_t)(pt | P | RW | US));
	CHECK_MAPS(&g, 0x4000, PAGEWALK_WRITE, 0x5000);
	CHECK_FAULT(&g, 0x5000, PAGEWALK_READ | PAGEWALK_USER, PF_ERR_PRESENT | PF_ERR_USER);
	CHECK_MAPS(&g, 0x5000, PAGEWALK_WRITE, 0x6000);
	guest_free(&g);
}

/* PAE paging: PDPTEs through CR3, 4 KiB and 2 MiB pages, XD, reserved bits, SDM Vol. 3A 4.4 */
static void test_pae(void)
{
	struct guest g;
	uint64_t ent[6], pdpt;

	guest_init(&g, CR0_PE | CR0_PG | CR0_WP, CR4_PAE, EFER_NXE);
	pdpt = alloc_table(&g);
	g.ctx.cr3 = pdpt + 0x20; /* 32-byte aligned, not page aligned */
	map64(&g, 0xc0001000, 0x00777000, 1, P | RW | US, ent);
	CHECK_EQ(ent[3], pdpt + 0x20 + 3 * 8);
	CHECK_MAPS(&g, 0xc0001234, PAGEWALK_READ, 0x00777234);
	map64(&g, 0x40200000, 0x00600000, 2, P | RW, NULL);
	CHECK_MAPS(&g, 0x402fffff, PAGEWALK_WRITE, 0x006fffff);
	CHECK_FAULT(&g, 0x402fffff, PAGEWALK_USER, PF_ERR_PRESENT | PF_ERR_USER);

	/* XD with NXE: fetches fault with I/D set, reads pass */
	set64(&g, ent[1], get64(&g, ent[1]) | XD);
	CHECK_MAPS(&g, 0xc0001234, PAGEWALK_READ, 0x00777234);
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
	/* XD without NXE is a reserved bit */
	g.ctx.efer = 0;
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_RSVD);
	g.ctx.efer = EFER_NXE;
	set64(&g, ent[1], get64(&g, ent[1]) & ~XD);
	/* PAE entries reserve bits 62:MAXPHYADDR (62:52 too, unlike 4-level paging) */
	set64(&g, ent[2], get64(&g, ent[2]) | (1ull << 60));
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[2], (get64(&g, ent[2]) & ~(1ull << 60)) | (1ull << 46));
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[2], get64(&g, ent[2]) & ~(1ull << 46));
	CHECK_MAPS(&g, 0xc0001234, PAGEWALK_READ, 0x00777234);
	/* PDPTE: R/W (bit 1) is reserved there; not present gives P = 0 */
	set64(&g, ent[3], get64(&g, ent[3]) | RW);
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[3], get64(&g, ent[3]) & ~(RW | P));
	CHECK_FAULT(&g, 0xc0001234, PAGEWALK_WRITE, PF_ERR_WRITE);
	/* The 2 MiB page reserves bits 20:13 */
	map64(&g, 0x40400000, 0x00800000 | (1ull << 13), 2, P | RW, NULL);
	CHECK_FAULT(&g, 0x40400000, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	/* Not present PDE and PTE */
	CHECK_FAULT(&g, 0x80000000, PAGEWALK_READ, 0);
	CHECK_FAULT(&g, 0x40000000, PAGEWALK_FETCH, PF_ERR_FETCH);
	guest_free(&g);
}

static void setup_long(struct guest *g, bool la57)
{
	guest_init(g, CR0_PE | CR0_PG | CR0_WP, CR4_PAE | (la57 ? CR4_LA57 : 0),
		   EFER_LME | EFER_LMA | EFER_NXE);
	g->ctx.cr3 = alloc_table(g);
}

/* 4-level paging with 4 KiB, 2 MiB and 1 GiB pages, SDM Vol. 3A 4.5 */
static void test_4level_page_sizes(void)
{
	struct guest g;

	setup_long(&g, false);
	map64(&g, 0xffffffff81000000ull, 0x01000000, 2, P | RW, NULL);
	map64(&g, 0x00007fffdeadb000ull, 0x00321000, 1, P | RW | US, NULL);
	map64(&g, 0xffff888000000000ull, 0x40000000, 3, P | RW | XD, NULL);
	CHECK_MAPS(&g, 0xffffffff81123456ull, PAGEWALK_FETCH, 0x01123456);
	CHECK_MAPS(&g, 0x00007fffdeadbeefull, PAGEWALK_WRITE | PAGEWALK_USER, 0x00321eef);
	CHECK_MAPS(&g, 0xffff888012345678ull, PAGEWALK_WRITE, 0x52345678);
	CHECK_FAULT(&g, 0xffff888012345678ull, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
	/* The page's frame above 4 GiB, up to MAXPHYADDR */
	map64(&g, 0x0000000100000000ull, 0x3fffffe00000ull, 2, P, NULL);
	CHECK_MAPS(&g, 0x00000001000abcdeull, PAGEWALK_READ, 0x3fffffeabcdeull);
	/* Bit 51 is an address bit only when MAXPHYADDR is 52 (the default for 0) */
	map64(&g, 0x0000000140000000ull, 0x000ffffffffff000ull, 1, P, NULL);
	CHECK_FAULT(&g, 0x0000000140000000ull, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	g.ctx.maxphyaddr = 0;
	CHECK_MAPS(&g, 0x0000000140000abcull, PAGEWALK_READ, 0x000ffffffffffabcull);
	g.ctx.maxphyaddr = 46;
	/* Non-canonical addresses are #GP, not #PF */
	CHECK_EQ(pagewalk(&g.ctx, 0x0000800000000000ull, PAGEWALK_READ, NULL, NULL), -E_INVAL);
	CHECK_EQ(pagewalk(&g.ctx, 0xffff7fffffffffffull, PAGEWALK_READ, NULL, NULL), -E_INVAL);
	CHECK_FAULT(&g, 0xffff800000000000ull, PAGEWALK_READ, 0);
	guest_free(&g);
}

/* Not present at each level, and reserved bits at each level, SDM Vol. 3A 4.5.4 and 4.7 */
static void test_4level_not_present_and_reserved(void)
{
	struct guest g;
	uint64_t ent[6];
	const uint64_t va = 0x0000123456789000ull;

	setup_long(&g, false);
	map64(&g, va, 0x00400000, 1, P | RW | US, ent);
	CHECK_MAPS(&g, va + 0x10, PAGEWALK_READ, 0x00400010);
	for (unsigned level = 1; level <= 4; level++) {
		uint64_t e = get64(&g, ent[level]);

		set64(&g, ent[level], e & ~P);
		CHECK_FAULT(&g, va, PAGEWALK_WRITE | PAGEWALK_USER, PF_ERR_WRITE | PF_ERR_USER);
		CHECK_FAULT(&g, va, PAGEWALK_FETCH, PF_ERR_FETCH);
		/* A not-present entry's other bits do not matter */
		set64(&g, ent[level], (e & ~P) | (1ull << 50) | XD);
		CHECK_FAULT(&g, va, PAGEWALK_READ, 0);
		/* Bits MAXPHYADDR..51 are reserved in every present entry */
		set64(&g, ent[level], e | (1ull << 50));
		CHECK_FAULT(&g, va, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
		CHECK_FAULT(&g, va, PAGEWALK_FETCH | PAGEWALK_USER,
			    PF_ERR_PRESENT | PF_ERR_RSVD | PF_ERR_USER | PF_ERR_FETCH);
		/* Bits 62:52 are ignored in 4-level paging */
		set64(&g, ent[level], e | (1ull << 55));
		CHECK_MAPS(&g, va, PAGEWALK_READ, 0x00400000);
		set64(&g, ent[level], e);
	}
	CHECK_MAPS(&g, va, PAGEWALK_READ, 0x00400000);

	/* PS is reserved in a PML4E */
	set64(&g, ent[4], get64(&g, ent[4]) | PS);
	CHECK_FAULT(&g, va, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[4], get64(&g, ent[4]) & ~PS);
	/* ... even when the address bits under it would do for a 512 GiB page (table at 0x1000) */
	{
		uint64_t pml4e = get64(&g, ent[4]);

		set64(&g, ent[4], 0x1000 | P | RW | US | PS);
		CHECK_FAULT(&g, va, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
		set64(&g, ent[4], 0x1000 | P | RW | US);
		CHECK_FAULT(&g, va, PAGEWALK_READ, 0);
		set64(&g, ent[4], pml4e);
	}
	/* XD without EFER.NXE is reserved */
	set64(&g, ent[2], get64(&g, ent[2]) | XD);
	CHECK_FAULT(&g, va, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
	g.ctx.efer &= ~EFER_NXE;
	CHECK_FAULT(&g, va, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	/* no I/D bit without NXE or SMEP */
	CHECK_FAULT(&g, va, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[2], get64(&g, ent[2]) & ~XD);
	CHECK_MAPS(&g, va, PAGEWALK_FETCH, 0x00400000);
	g.ctx.efer |= EFER_NXE;

	/* Large pages reserve their low address bits: 20:13 for 2 MiB, 29:13 for 1 GiB */
	map64(&g, 0x0000000200000000ull, 0x00200000 | (1ull << 20), 2, P, NULL);
	CHECK_FAULT(&g, 0x0000000200000000ull, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	map64(&g, 0x0000008000000000ull, 0x40000000 | (1ull << 29), 3, P, NULL);
	CHECK_FAULT(&g, 0x0000008000000000ull, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	map64(&g, 0x0000010000000000ull, 0x40000000 | (1ull << 13), 3, P, NULL);
	CHECK_FAULT(&g, 0x0000010000000000ull, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	/* Bit 12 of a large page is PAT, not reserved */
	map64(&g, 0x0000018000000000ull, 0x40000000 | (1ull << 12), 3, P, NULL);
	CHECK_MAPS(&g, 0x0000018000000004ull, PAGEWALK_READ, 0x40000004);
	guest_free(&g);
}

/* User/supervisor, write protection, NX and SMEP across levels, SDM Vol. 3A 4.6.1 */
static void test_4level_rights(void)
{
	struct guest g;
	uint64_t ent[6];
	const uint64_t va = 0x00000000deadb000ull;

	setup_long(&g, false);
	map64(&g, va, 0x00500000, 1, P | RW | US, ent);
	CHECK_MAPS(&g, va, PAGEWALK_WRITE | PAGEWALK_USER, 0x00500000);
	for (unsigned level = 1; level <= 4; level++) {
		uint64_t e = get64(&g, ent[level]);

		/* U/S = 0 at any level makes a supervisor page */
		set64(&g, ent[level], e & ~US);
		CHECK_FAULT(&g, va, PAGEWALK_READ | PAGEWALK_USER, PF_ERR_PRESENT | PF_ERR_USER);
		CHECK_MAPS(&g, va, PAGEWALK_FETCH, 0x00500000);
		/* R/W = 0 at any level makes it read-only: for the supervisor only with CR0.WP */
		set64(&g, ent[level], e & ~RW);
		CHECK_FAULT(&g, va, PAGEWALK_WRITE | PAGEWALK_USER,
			    PF_ERR_PRESENT | PF_ERR_WRITE | PF_ERR_USER);
		CHECK_FAULT(&g, va, PAGEWALK_WRITE, PF_ERR_PRESENT | PF_ERR_WRITE);
		g.ctx.cr0 &= ~CR0_WP;
		CHECK_MAPS(&g, va, PAGEWALK_WRITE, 0x00500000);
		CHECK_FAULT(&g, va, PAGEWALK_WRITE | PAGEWALK_USER,
			    PF_ERR_PRESENT | PF_ERR_WRITE | PF_ERR_USER);
		g.ctx.cr0 |= CR0_WP;
		/* XD at any level forbids fetches, user or supervisor */
		set64(&g, ent[level], e | XD);
		CHECK_FAULT(&g, va, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
		CHECK_FAULT(&g, va, PAGEWALK_FETCH | PAGEWALK_USER,
			    PF_ERR_PRESENT | PF_ERR_FETCH | PF_ERR_USER);
		CHECK_MAPS(&g, va, PAGEWALK_WRITE | PAGEWALK_USER, 0x00500000);
		set64(&g, ent[level], e);
	}
	/* SMEP: the supervisor may not fetch from a user page, but may read it */
	g.ctx.cr4 |= CR4_SMEP;
	CHECK_FAULT(&g, va, PAGEWALK_FETCH, PF_ERR_PRESENT | PF_ERR_FETCH);
	CHECK_MAPS(&g, va, PAGEWALK_READ, 0x00500000);
	CHECK_MAPS(&g, va, PAGEWALK_FETCH | PAGEWALK_USER, 0x00500000);
	guest_free(&g);
}

/* 5-level paging with CR4.LA57: 57-bit canonical addresses, PS reserved in PML5Es, SDM Vol. 3A 4.5 */
static void test_5level(void)
{
	struct guest g;
	uint64_t ent[6];
	const uint64_t va = 0xff12345678901000ull; /* bits 63:56 copy bit 56 */

	setup_long(&g, true);
	map64(&g, va, 0x00654000, 1, P | RW, ent);
	CHECK_MAPS(&g, va + 0x123, PAGEWALK_READ, 0x00654123);
	/* the same low 48 bits under another PML5 index are not mapped */
	CHECK_FAULT(&g, 0xff02345678901000ull, PAGEWALK_READ, 0);
	map64(&g, 0x00ff800000000000ull, 0x00200000, 2, P, NULL);
	CHECK_MAPS(&g, 0x00ff800000012345ull, PAGEWALK_READ, 0x00212345);
	CHECK_EQ(pagewalk(&g.ctx, 0x0100000000000000ull, PAGEWALK_READ, NULL, NULL), -E_INVAL);
	set64(&g, ent[5], get64(&g, ent[5]) | PS);
	CHECK_FAULT(&g, va, PAGEWALK_READ, PF_ERR_PRESENT | PF_ERR_RSVD);
	set64(&g, ent[5], get64(&g, ent[5]) & ~(PS | P));
	CHECK_FAULT(&g, va, PAGEWALK_READ, 0);
	/* Without LA57 the same tables are walked from level 4, and the address is not canonical */
	g.ctx.cr4 &= ~CR4_LA57;
	CHECK_EQ(pagewalk(&g.ctx, va, PAGEWALK_READ, NULL, NULL), -E_INVAL);
	guest_free(&g);
}

/* A table pointer outside guest RAM is -E_RANGE, not a #PF; *gpa names the entry */
static void test_table_outside_ram(void)
{
	struct guest g;
	uint64_t ent[6], gpa, fault;

	setup_long(&g, false);
	map64(&g, 0x1000, 0x2000, 1, P | RW, ent);
	set64(&g, ent[2], 0x40000000ull | P | RW);
	CHECK_EQ(walk(&g, 0x1000, PAGEWALK_READ, &gpa, &fault), -E_RANGE);
	CHECK_EQ(gpa, 0x40000000ull + 1 * 8);
	g.ctx.cr3 = 0x7fff000000ull;
	CHECK_EQ(walk(&g, 0x1000, PAGEWALK_READ, &gpa, &fault), -E_RANGE);
	CHECK_EQ(gpa, 0x7fff000000ull);
	guest_free(&g);

	/* 32-bit paging: the page table beyond RAM */
	guest_init(&g, CR0_PE | CR0_PG, 0, 0);
	g.ctx.cr3 = alloc_table(&g);
	set32(&g, g.ctx.cr3, 0xfffff000u | P);
	CHECK_EQ(walk(&g, 0x3000, PAGEWALK_READ, &gpa, &fault), -E_RANGE);
	CHECK_EQ(gpa, 0xfffff000ull + 3 * 4);
	guest_free(&g);
}

static void test_bad_arguments(void)
{
	struct guest g;

	setup_long(&g, false);
	CHECK_EQ(pagewalk(&g.ctx, 0, PAGEWALK_WRITE | PAGEWALK_FETCH, NULL, NULL), -E_INVAL);
	CHECK_EQ(pagewalk(&g.ctx, 0, 1u << 3, NULL, NULL), -E_INVAL);
	/* long mode needs CR4.PAE */
	g.ctx.cr4 = 0;
	CHECK_EQ(pagewalk(&g.ctx, 0, PAGEWALK_READ, NULL, NULL), -E_INVAL);
	guest_free(&g);
}

static void fill_pattern(struct guest *g, uint64_t gpa, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		g->ram[gpa + i] = (uint8_t)(seed + i * 7);
}

/* An instruction fetch that spans two pages mapped to unrelated frames */
static void test_read_across_pages(void)
{
	struct guest g;
	uint64_t ent[6], fault;
	uint8_t buf[15];
	size_t done;

	setup_long(&g, false);
	map64(&g, 0xffffffff81000000ull, 0x00300000, 1, P, NULL);
	map64(&g, 0xffffffff81001000ull, 0x00200000, 1, P, ent);
	fill_pattern(&g, 0x00300ff8, 8, 1);
	fill_pattern(&g, 0x00200000, 8, 100);
	CHECK_EQ(pagewalk_read(&g.ctx, 0xffffffff81000ffbull, PAGEWALK_FETCH, buf, sizeof(buf), &done,
			       &fault), 0);
	CHECK_EQ(done, 15);
	CHECK_EQ(memcmp(buf, g.ram + 0x00300ffb, 5), 0);
	CHECK_EQ(memcmp(buf + 5, g.ram + 0x00200000, 10), 0);

	/* Second page not present: 5 bytes read, #PF at the second page for a fetch */
	set64(&g, ent[1], 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(pagewalk_read(&g.ctx, 0xffffffff81000ffbull, PAGEWALK_FETCH, buf, sizeof(buf), &done,
			       &fault), PAGEWALK_FAULT);
	CHECK_EQ(done, 5);
	CHECK_EQ(fault, PF_ERR_FETCH);
	CHECK_EQ(memcmp(buf, g.ram + 0x00300ffb, 5), 0);
	/* Entirely within the first page: no fault */
	CHECK_EQ(pagewalk_read(&g.ctx, 0xffffffff81000ff0ull, PAGEWALK_FETCH, buf, 15, &done, &fault), 0);
	CHECK_EQ(done, 15);
	/* The second page's frame outside RAM */
	set64(&g, ent[1], 0x7fff0000000ull | P);
	CHECK_EQ(pagewalk_read(&g.ctx, 0xffffffff81000ffbull, PAGEWALK_FETCH, buf, sizeof(buf), &done,
			       &fault), -E_RANGE);
	CHECK_EQ(done, 5);
	/* Zero bytes */
	CHECK_EQ(pagewalk_read(&g.ctx, 0, PAGEWALK_READ, buf, 0, &done, &fault), 0);
	CHECK_EQ(done, 0);
	guest_free(&g);

	/* 32-bit paging: a read at the top of the 4 GiB space wraps to linear 0 */
	guest_init(&g, CR0_PE | CR0_PG, CR4_PSE, 0);
	g.ctx.cr3 = alloc_table(&g);
	set32(&g, g.ctx.cr3 + 1023 * 4, 0x00400000u | P | PS);
	set32(&g, g.ctx.cr3, 0x00000000u | P | PS);
	fill_pattern(&g, 0x007ffffc, 4, 7);
	fill_pattern(&g, 0, 4, 50);
	CHECK_EQ(pagewalk_read(&g.ctx, 0xfffffffc, PAGEWALK_READ, buf, 8, NULL, &fault), 0);
	CHECK_EQ(memcmp(buf, g.ram + 0x007ffffc, 4), 0);
	CHECK_EQ(memcmp(buf + 4, g.ram, 4), 0);
	guest_free(&g);

	/* Paging off: a plain physical copy */
	guest_init(&g, CR0_PE, 0, 0);
	fill_pattern(&g, 0x7000, 16, 3);
	CHECK_EQ(pagewalk_read(&g.ctx, 0x6ffa, PAGEWALK_FETCH, buf, 15, &done, &fault), 0);
	CHECK_EQ(memcmp(buf, g.ram + 0x6ffa, 15), 0);
	guest_free(&g);
}

int main(void)
{
	RUN_TEST(test_paging_off);
	RUN_TEST(test_32bit_4k_and_4m);
	RUN_TEST(test_32bit_rights);
	RUN_TEST(test_pae);
	RUN_TEST(test_4level_page_sizes);
	RUN_TEST(test_4level_not_present_and_reserved);
	RUN_TEST(test_4level_rights);
	RUN_TEST(test_5level);
	RUN_TEST(test_table_outside_ram);
	RUN_TEST(test_bad_arguments);
	RUN_TEST(test_read_across_pages);
	return test_any_failed;
}
