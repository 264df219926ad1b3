/* Identity map builder: 1 GiB and 2 MiB leaves over tables handed in by the caller. */
#include "kernel/idmap.h"
#include "kernel/lib.h"

#define IDMAP_ENTRIES 512

/* 9 bits of the address per level, level 4 = PML4, SDM Vol. 3A 4.5 */
static unsigned idmap_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & (IDMAP_ENTRIES - 1);
}

static uint64_t *idmap_table(const struct idmap *m, uint64_t entry)
{
	return m->mm.to_virt(m->mm.ctx, entry & IDMAP_ADDR_MASK);
}

/* The table *entry points to, made when the entry is empty; NULL when out of memory. */
static uint64_t *idmap_child(struct idmap *m, uint64_t *entry)
{
	uint64_t phys;
	uint64_t *table;

	if (*entry & IDMAP_PRESENT)
		return idmap_table(m, *entry);
	table = m->mm.alloc(m->mm.ctx, &phys);
	if (!table)
		return NULL;
	m->tables++;
	*entry = (phys & IDMAP_ADDR_MASK) | IDMAP_PRESENT | IDMAP_WRITE;
	return table;
}

int idmap_init(struct idmap *m, const struct idmap_mm *mm, bool allow_1g)
{
	memset(m, 0, sizeof(*m));
	if (!mm || !mm->alloc || !mm->to_virt)
		return -E_INVAL;
	m->mm = *mm;
	m->allow_1g = allow_1g;
	m->pml4 = mm->alloc(mm->ctx, &m->pml4_phys);
	if (!m->pml4)
		return -E_NOMEM;
	m->tables = 1;
	return 0;
}

int idmap_map(struct idmap *m, uint64_t base, uint64_t end)
{
	uint64_t va;

	if (!m->pml4 || end < base || base >= IDMAP_LIMIT)
		return -E_INVAL;
	if (end > IDMAP_LIMIT)
		return -E_INVAL;
	base = ALIGN_DOWN(base, IDMAP_2M);
	end = ALIGN_UP(end, IDMAP_2M);
	for (va = base; va < end;) {
		uint64_t *pdpt, *pd, *pdpte, *pde;

		pdpt = idmap_child(m, &m->pml4[idmap_index(va, 4)]);
		if (!pdpt)
			return -E_NOMEM;
		pdpte = &pdpt[idmap_index(va, 3)];
		if ((*pdpte & IDMAP_PRESENT) && (*pdpte & IDMAP_LARGE)) {
			va = ALIGN_DOWN(va, IDMAP_1G) + IDMAP_1G;
			continue;
		}
		/* A 1 GiB leaf needs a 1 GiB aligned address, SDM Vol. 3A 4.5 Table 4-15 */
		if (m->allow_1g && !*pdpte && IS_ALIGNED(va, IDMAP_1G) && end - va >= IDMAP_1G) {
			*pdpte = va | IDMAP_PRESENT | IDMAP_WRITE | IDMAP_LARGE;
			m->pages_1g++;
			va += IDMAP_1G;
			continue;
		}
		pd = idmap_child(m, pdpte);
		if (!pd)
			return -E_NOMEM;
		pde = &pd[idmap_index(va, 2)];
		if (!(*pde & IDMAP_PRESENT)) {
			*pde = va | IDMAP_PRESENT | IDMAP_WRITE | IDMAP_LARGE;
			m->pages_2m++;
		}
		va += IDMAP_2M;
	}
	m->mapped_end = MAX(m->mapped_end, end);
	return 0;
}

bool idmap_lookup(const struct idmap *m, uint64_t va, uint64_t *pa, uint64_t *page_size)
{
	const uint64_t *table = m->pml4;

	if (!table || va >= IDMAP_LIMIT)
		return false;
	for (unsigned level = 4;; level--) {
		uint64_t entry = table[idmap_index(va, level)];
		uint64_t span = 1ull << (12 + 9 * (level - 1));

		if (!(entry & IDMAP_PRESENT))
			return false;
		if (level == 1 || (level < 4 && (entry & IDMAP_LARGE))) {
			if (pa)
				*pa = (entry & IDMAP_ADDR_MASK & ~(span - 1)) | (va & (span - 1));
			if (page_size)
				*page_size = span;
			return true;
		}
		table = idmap_table(m, entry);
	}
}
