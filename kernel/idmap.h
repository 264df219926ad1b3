/* The hypervisor's identity map of physical memory (VA = PA): 4-level tables over handed-in pages. */
#ifndef CLOISON_IDMAP_H
#define CLOISON_IDMAP_H

#include <stdint.h>
#include <stdbool.h>

/* Page-table entry bits, SDM Vol. 3A 4.5 */
#define IDMAP_PRESENT (1ull << 0)
#define IDMAP_WRITE (1ull << 1)
#define IDMAP_LARGE (1ull << 7)
#define IDMAP_ADDR_MASK 0x000ffffffffff000ull
#define IDMAP_2M (2ull << 20)
#define IDMAP_1G (1ull << 30)
#define IDMAP_LIMIT (1ull << 48) /* what 4-level paging translates */

/* alloc returns a zeroed 4 KiB table and its physical address (NULL when none is left);
 * to_virt turns a table's physical address back into a pointer. */
struct idmap_mm {
	void *(*alloc)(void *ctx, uint64_t *phys);
	void *(*to_virt)(void *ctx, uint64_t phys);
	void *ctx;
};

struct idmap {
	struct idmap_mm mm;
	uint64_t pml4_phys;
	uint64_t *pml4;
	bool allow_1g;    /* CPUID.80000001H:EDX[26]: 1 GiB pages */
	unsigned tables;  /* paging-structure pages, the PML4 included */
	uint64_t pages_1g, pages_2m;
	uint64_t mapped_end; /* the highest mapped address + 1 */
};

int idmap_init(struct idmap *m, const struct idmap_mm *mm, bool allow_1g);
/* Maps [base, end) rounded outward to 2 MiB, present and writable, with 1 GiB pages where a whole
 * aligned GiB is inside the rounded range and 2 MiB pages elsewhere. Pages already mapped stay as
 * they are, so ranges may overlap. -E_INVAL beyond 48 bits, -E_NOMEM when a table cannot be had
 * (what was mapped until then stays mapped). */
int idmap_map(struct idmap *m, uint64_t base, uint64_t end);
/* The physical address va maps to and the leaf's size (4 KiB, 2 MiB, 1 GiB); false when unmapped. */
bool idmap_lookup(const struct idmap *m, uint64_t va, uint64_t *pa, uint64_t *page_size);

#endif
