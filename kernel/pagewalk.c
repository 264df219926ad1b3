/* Guest page-table walker: 32-bit, PAE, 4- and 5-level paging over a guest-memory read callback. */
#include "kernel/pagewalk.h"
#include "kernel/lib.h"

/* Control-register and EFER bits, SDM Vol. 3A 2.5 and 2.2.1 */
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Paging-structure entry bits, SDM Vol. 3A 4.3-4.5 Tables 4-4 to 4-20 */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define PAGEWALK_ACCESS_BITS (PAGEWALK_WRITE | PAGEWALK_USER | PAGEWALK_FETCH)

/* Bits m-1..n set. */
static uint64_t pw_bits(unsigned high, unsigned low)
{
	return (high >= 63 ? ~0ull : (1ull << (high + 1)) - 1) & ~((1ull << low) - 1);
}

static unsigned pw_maxphyaddr(const struct pagewalk_ctx *ctx)
{
	unsigned m = ctx->maxphyaddr;

	return m == 0 || m > 52 ? 52 : m < 32 ? 32 : m;
}

/* The rights the entries of one walk grant together, SDM Vol. 3A 4.6.1 */
struct pw_rights {
	bool user;     /* U/S = 1 in every entry */
	bool writable; /* R/W = 1 in every entry */
	bool nx;       /* XD = 1 in any entry (with EFER.NXE) */
};

static void pw_account(struct pw_rights *r, uint64_t entry)
{
	r->user = r->user && (entry & PTE_US);
	r->writable = r->writable && (entry & PTE_RW);
	r->nx = r->nx || (entry & PTE_XD);
}

/* The I/D bit only exists with SMEP or with NXE under PAE/4-level paging, SDM Vol. 3A 4.7 */
static uint64_t pw_error_code(const struct pagewalk_ctx *ctx, unsigned access, uint64_t bits)
{
	uint64_t code = bits | (access & (PF_ERR_WRITE | PF_ERR_USER));

	if ((access & PAGEWALK_FETCH) &&
	    ((ctx->cr4 & CR4_SMEP) || ((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE))))
		code |= PF_ERR_FETCH;
	return code;
}

/* Access rights of the finished walk, SDM Vol. 3A 4.6.1 (SMAP and protection keys not modelled) */
static bool pw_allowed(const struct pagewalk_ctx *ctx, unsigned access, const struct pw_rights *r)
{
	if (access & PAGEWALK_USER) {
		if (!r->user)
			return false;
		if ((access & PAGEWALK_WRITE) && !r->writable)
			return false;
	} else {
		/* Supervisor writes ignore R/W unless CR0.WP; SMEP forbids fetching user pages */
		if ((access & PAGEWALK_WRITE) && !r->writable && (ctx->cr0 & CR0_WP))
			return false;
		if ((access & PAGEWALK_FETCH) && r->user && (ctx->cr4 & CR4_SMEP))
			return false;
	}
	return !((access & PAGEWALK_FETCH) && r->nx);
}

static int pw_read_entry(const struct pagewalk_ctx *ctx, uint64_t addr, unsigned size,
			 uint64_t *entry, uint64_t *gpa)
{
	uint64_t value = 0;

	if (ctx->read_gpa(ctx->opaque, addr, &value, size) != 0) {
		*gpa = addr;
		return -E_RANGE;
	}
	*entry = value;
	return 0;
}

/* 32-bit paging: 4-byte entries (so no XD bit), 4 MiB pages with CR4.PSE (PSE-36 bits 20:13), SDM Vol. 3A 4.3 */
static int pw_walk_32(const struct pagewalk_ctx *ctx, uint32_t linear, unsigned access,
		      uint64_t *gpa, uint64_t *fault)
{
	struct pw_rights rights = { true, true, false };
	unsigned m = pw_maxphyaddr(ctx) > 40 ? 40 : pw_maxphyaddr(ctx);
	uint64_t pde, pte, page;
	int err;

	err = pw_read_entry(ctx, (ctx->cr3 & 0xfffff000u) + ((linear >> 22) << 2), 4, &pde, gpa);
	if (err)
		return err;
	if (!(pde & PTE_P))
		goto not_present;
	pw_account(&rights, pde);
	if ((pde & PTE_PS) && (ctx->cr4 & CR4_PSE)) {
		/* 4 MiB page: bit 21 reserved, bits 20:13 hold PA bits 39:32 up to MAXPHYADDR, Table 4-4 */
		uint64_t rsvd = (1ull << 21) | pw_bits(20, m - 32 + 13);

		if (pde & rsvd) {
			*fault = pw_error_code(ctx, access, PF_ERR_PRESENT | PF_ERR_RSVD);
			return PAGEWALK_FAULT;
		}
		page = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32);
		*gpa = page | (linear & 0x3fffffu);
	} else {
		err = pw_read_entry(ctx, (pde & 0xfffff000u) + (((linear >> 12) & 0x3ff) << 2), 4, &pte, gpa);
		if (err)
			return err;
		if (!(pte & PTE_P))
			goto not_present;
		pw_account(&rights, pte);
		*gpa = (pte & 0xfffff000u) | (linear & 0xfffu);
	}
	if (!pw_allowed(ctx, access, &rights)) {
		*fault = pw_error_code(ctx, access, PF_ERR_PRESENT);
		return PAGEWALK_FAULT;
	}
	return 0;

not_present:
	*fault = pw_error_code(ctx, access, 0);
	return PAGEWALK_FAULT;
}

/* PAE, 4-level and 5-level paging: 8-byte entries, 9 index bits per level, SDM Vol. 3A 4.4, 4.5 */
static int pw_walk_64(const struct pagewalk_ctx *ctx, uint64_t linear, unsigned access,
		      uint64_t *gpa, uint64_t *fault)
{
	struct pw_rights rights = { true, true, false };
	bool pae = !(ctx->efer & EFER_LMA);
	unsigned m = pw_maxphyaddr(ctx), level;
	uint64_t addr_mask = pw_bits(m - 1, 12), entry, table;
	/* Reserved in every entry: bits above MAXPHYADDR (PAE: 62:M), XD without NXE, Tables 4-8..4-20 */
	uint64_t rsvd_common = pae ? pw_bits(62, m) : pw_bits(51, m);
	int err;

	if (!(ctx->efer & EFER_NXE))
		rsvd_common |= PTE_XD;

	if (pae) {
		/* The four PDPTEs sit at CR3[31:5]; only P matters, bits 2:1, 8:5 and 63:M are reserved, 4.4.1 */
		uint64_t addr = (ctx->cr3 & 0xffffffe0u) + ((linear >> 30) & 3) * 8;

		err = pw_read_entry(ctx, addr, 8, &entry, gpa);
		if (err)
			return err;
		if (!(entry & PTE_P))
			goto not_present;
		if (entry & (pw_bits(2, 1) | pw_bits(8, 5) | pw_bits(63, m)))
			goto reserved;
		table = entry & addr_mask;
		level = 2;
	} else {
		table = ctx->cr3 & addr_mask;
		level = (ctx->cr4 & CR4_LA57) ? 5 : 4;
	}

	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t rsvd = rsvd_common;

		err = pw_read_entry(ctx, table + ((linear >> shift) & 511) * 8, 8, &entry, gpa);
		if (err)
			return err;
		if (!(entry & PTE_P))
			goto not_present;
		/* PS is reserved in PML5Es and PML4Es; a large page's low address bits are reserved, 4.5.4 */
		if (level >= 4)
			rsvd |= PTE_PS;
		else if (level >= 2 && (entry & PTE_PS))
			rsvd |= pw_bits(shift - 1, 13);
		if (entry & rsvd)
			goto reserved;
		pw_account(&rights, entry);
		if (level == 1 || (level <= 3 && (entry & PTE_PS))) {
			*gpa = (entry & addr_mask & ~pw_bits(shift - 1, 0)) | (linear & pw_bits(shift - 1, 0));
			break;
		}
		table = entry & addr_mask;
	}
	if (!pw_allowed(ctx, access, &rights)) {
		*fault = pw_error_code(ctx, access, PF_ERR_PRESENT);
		return PAGEWALK_FAULT;
	}
	return 0;

not_present:
	*fault = pw_error_code(ctx, access, 0);
	return PAGEWALK_FAULT;
reserved:
	*fault = pw_error_code(ctx, access, PF_ERR_PRESENT | PF_ERR_RSVD);
	return PAGEWALK_FAULT;
}

int pagewalk(const struct pagewalk_ctx *ctx, uint64_t linear, unsigned access, uint64_t *gpa,
	     uint64_t *fault_error_code)
{
	uint64_t unused_gpa, unused_fault;

	if (!gpa)
		gpa = &unused_gpa;
	if (!fault_error_code)
		fault_error_code = &unused_fault;
	*fault_error_code = 0;
	if ((access & ~PAGEWALK_ACCESS_BITS) ||
	    ((access & PAGEWALK_WRITE) && (access & PAGEWALK_FETCH)))
		return -E_INVAL;

	/* Paging off: linear addresses are physical (and 32 bits wide), SDM Vol. 3A 4.1.1 */
	if (!(ctx->cr0 & CR0_PG)) {
		*gpa = linear & 0xffffffffu;
		return 0;
	}
	if (!(ctx->cr4 & CR4_PAE)) {
		if (ctx->efer & EFER_LMA)
			return -E_INVAL;
		return pw_walk_32(ctx, (uint32_t)linear, access, gpa, fault_error_code);
	}
	if (ctx->efer & EFER_LMA) {
		/* Bits above the top index must copy it (canonical), else #GP, SDM Vol. 3A 4.5 */
		unsigned top = (ctx->cr4 & CR4_LA57) ? 56 : 47;
		uint64_t upper = linear >> top;

		if (upper != 0 && upper != (~0ull >> top))
			return -E_INVAL;
		return pw_walk_64(ctx, linear, access, gpa, fault_error_code);
	}
	return pw_walk_64(ctx, linear & 0xffffffffu, access, gpa, fault_error_code);
}

int pagewalk_read(const struct pagewalk_ctx *ctx, uint64_t linear, unsigned access, void *buf,
		  size_t len, size_t *done, uint64_t *fault_error_code)
{
	uint8_t *out = buf;
	size_t copied = 0;
	int err = 0;

	while (copied < len) {
		size_t chunk = PAGE_SIZE - (linear & (PAGE_SIZE - 1));
		uint64_t gpa;

		if (chunk > len - copied)
			chunk = len - copied;
		err = pagewalk(ctx, linear, access, &gpa, fault_error_code);
		if (err)
			break;
		if (ctx->read_gpa(ctx->opaque, gpa, out + copied, chunk) != 0) {
			err = -E_RANGE;
			break;
		}
		copied += chunk;
		linear += chunk; /* pagewalk() wraps it at 4 GiB outside IA-32e mode */
	}
	if (done)
		*done = copied;
	return err;
}
