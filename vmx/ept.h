/* EPT paging structures: a 4-level builder and walker over table memory handed to it. */
#ifndef CLOISON_EPT_H
#define CLOISON_EPT_H

#include <stdint.h>
#include <stdbool.h>

/* EPT entry bits, SDM Vol. 3C 29.3.2 */
#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_UC 0ull
#define EPT_MEMTYPE_WB 6ull
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE_PAGE (1ull << 7)
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/* How the builder gets table memory: alloc returns a zeroed 4 KiB table and its host-physical
 * address; to_virt turns a table's host-physical address back into a pointer; free gives one back. */
struct ept_mm {
	void *(*alloc)(void *ctx, uint64_t *phys);
	void *(*to_virt)(void *ctx, uint64_t phys);
	void (*free)(void *ctx, uint64_t phys);
	void *ctx;
};

struct ept {
	struct ept_mm mm;
	uint64_t pml4_phys;
	uint64_t *pml4;
	unsigned tables; /* paging-structure pages in use, the PML4 included */
	bool allow_2m;   /* use 2 MiB leaves where alignment permits */
	bool allow_1g;   /* use 1 GiB leaves where alignment permits (IA32_VMX_EPT_VPID_CAP bit 17) */
};

/* Leaves of each size, for the partition map: [0] 4 KiB, [1] 2 MiB, [2] 1 GiB. */
struct ept_page_counts {
	uint64_t pages[3];
};

int ept_init(struct ept *ept, const struct ept_mm *mm, bool allow_2m);
/* As ept_init, also allowing 1 GiB leaves (only together with 2 MiB ones). */
int ept_init_sizes(struct ept *ept, const struct ept_mm *mm, bool allow_2m, bool allow_1g);
/* Maps [gpa, gpa+size) to [hpa, hpa+size) with perms (EPT_READ|EPT_WRITE|EPT_EXEC) and memtype.
 * All three must be 4 KiB aligned. 1 GiB (2 MiB) leaves are used wherever allowed, gpa and hpa are
 * 1 GiB (2 MiB) aligned and at least that much remains. Returns -E_EXIST if any page is already mapped (nothing changed then),
 * -E_NOMEM when table allocation fails, -E_INVAL for misalignment or gpa beyond 48 bits.
 * All or nothing: on -E_NOMEM the pages mapped so far and the tables allocated are undone too.
 * -E_INVAL also for size 0, no permission, write without read, or a reserved memtype (2, 3, 7). */
int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, uint64_t memtype);
/* Translates gpa. Returns false when not mapped; else the host-physical address of that byte,
 * the leaf's permission bits and the leaf level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB). */
bool ept_lookup(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *perms, unsigned *level);
/* Counts the leaves of each size. */
void ept_count_pages(const struct ept *ept, struct ept_page_counts *out);
/* Frees every table, the PML4 included. */
void ept_destroy(struct ept *ept);
/* EPTP: WB paging-structure memory type, 4-level walk, optional A/D flags (SDM Vol. 3C 24.6.11). */
uint64_t ept_eptp(const struct ept *ept, bool enable_ad);

#endif
