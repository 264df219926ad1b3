/* EPT paging structures: building, walking and freeing 4-level tables over handed-in memory. */
#include "vmx/ept.h"
#include "kernel/lib.h"

#define EPT_LEVELS 4
#define EPT_ENTRIES 512
#define EPT_GPA_LIMIT (1ull << 48)
#define EPT_HPA_LIMIT (1ull << 52)
#define EPT_2M (2 * MiB)
#define EPT_1G (1ull << 30)

/* Bytes one entry maps at a level: 4 KiB at level 1 up to 512 GiB at level 4, SDM Vol. 3C 29.3.2 */
static uint64_t ept_span(unsigned level)
{
	return 1ull << (12 + 9 * (level - 1));
}

/* The entry for gpa in a table of the given level: 9 bits of the address each, SDM Vol. 3C 29.3.2 */
static unsigned ept_index(uint64_t gpa, unsigned level)
{
	return (unsigned)(gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

/* An entry with bits 2:0 clear is not present, SDM Vol. 3C 29.3.2 */
static bool ept_present(uint64_t entry)
{
	return (entry & EPT_RWX) != 0;
}

static bool ept_is_leaf(uint64_t entry, unsigned level)
{
	return level == 1 || (entry & EPT_LARGE_PAGE);
}

static uint64_t *ept_table(const struct ept *ept, uint64_t entry)
{
	return ept->mm.to_virt(ept->mm.ctx, entry & EPT_ADDR_MASK);
}

/* The table *entry points to, allocated and linked when the entry is empty; NULL when out of memory. */
static uint64_t *ept_child(struct ept *ept, uint64_t *entry)
{
	uint64_t phys;
	uint64_t *table;

	if (ept_present(*entry))
		return ept_table(ept, *entry);
	table = ept->mm.alloc(ept->mm.ctx, &phys);
	if (!table)
		return NULL;
	ept->tables++;
	/* Full rights on non-leaf entries so that the leaf alone decides access, SDM Vol. 3C 29.3.3.2 */
	*entry = (phys & EPT_ADDR_MASK) | EPT_RWX;
	return table;
}

/* True when no page of [gpa, end) is mapped; skips whole empty subtrees. */
static bool ept_range_free(const struct ept *ept, uint64_t gpa, uint64_t end)
{
	while (gpa < end) {
		const uint64_t *table = ept->pml4;
		unsigned level;

		for (level = EPT_LEVELS;; level--) {
			uint64_t entry = table[ept_index(gpa, level)];

			if (!ept_present(entry)) {
				gpa = ALIGN_DOWN(gpa, ept_span(level)) + ept_span(level);
				break;
			}
			if (ept_is_leaf(entry, level))
				return false;
			table = ept_table(ept, entry);
		}
	}
	return true;
}

static bool ept_table_empty(const uint64_t *table)
{
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (table[i])
			return false;
	return true;
}

/* Clears every leaf of the table overlapping [gpa, end) and frees the tables this leaves empty.
 * @pre every leaf overlapping the range lies wholly inside it. */
static void ept_clear(struct ept *ept, uint64_t *table, unsigned level, uint64_t base, uint64_t gpa,
		      uint64_t end)
{
	uint64_t span = ept_span(level);
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		uint64_t start = base + i * span;
		uint64_t *child;

		if (start + span <= gpa || start >= end || !ept_present(table[i]))
			continue;
		if (ept_is_leaf(table[i], level)) {
			table[i] = 0;
			continue;
		}
		child = ept_table(ept, table[i]);
		ept_clear(ept, child, level - 1, start, gpa, end);
		if (ept_table_empty(child)) {
			ept->mm.free(ept->mm.ctx, table[i] & EPT_ADDR_MASK);
			ept->tables--;
			table[i] = 0;
		}
	}
}

/* Frees the tables below a table of the given level, not the table itself. */
static void ept_free_below(struct ept *ept, uint64_t *table, unsigned level)
{
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		if (!ept_present(table[i]) || ept_is_leaf(table[i], level))
			continue;
		ept_free_below(ept, ept_table(ept, table[i]), level - 1);
		ept->mm.free(ept->mm.ctx, table[i] & EPT_ADDR_MASK);
		ept->tables--;
		table[i] = 0;
	}
}

int ept_init(struct ept *ept, const struct ept_mm *mm, bool allow_2m)
{
	return ept_init_sizes(ept, mm, allow_2m, false);
}

int ept_init_sizes(struct ept *ept, const struct ept_mm *mm, bool allow_2m, bool allow_1g)
{
	memset(ept, 0, sizeof(*ept));
	if (!mm || !mm->alloc || !mm->to_virt || !mm->free)
		return -E_INVAL;
	ept->mm = *mm;
	ept->allow_2m = allow_2m;
	ept->allow_1g = allow_2m && allow_1g;
	ept->pml4 = mm->alloc(mm->ctx, &ept->pml4_phys);
	if (!ept->pml4) {
		memset(ept, 0, sizeof(*ept));
		return -E_NOMEM;
	}
	ept->tables = 1;
	return 0;
}

/* Nothing is left changed on any error: a mapping cut short by -E_NOMEM is rolled back, and the
 * tables allocated for it are freed again. */
int ept_map(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, uint64_t memtype)
{
	uint64_t start = gpa, end = gpa + size;
	uint64_t leaf;

	if (!ept->pml4 || !size || !IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(hpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE))
		return -E_INVAL;
	/* 4 levels translate 48 bits of guest-physical address, SDM Vol. 3C 29.3.2 */
	if (gpa >= EPT_GPA_LIMIT || size > EPT_GPA_LIMIT - gpa)
		return -E_INVAL;
	if (hpa >= EPT_HPA_LIMIT || size > EPT_HPA_LIMIT - hpa)
		return -E_INVAL;
	/* No access at all maps nothing; write without read is a misconfiguration, SDM Vol. 3C 29.3.3.1 */
	if (!perms || (perms & ~EPT_RWX) || (perms & (EPT_READ | EPT_WRITE)) == EPT_WRITE)
		return -E_INVAL;
	/* Memory types 2, 3 and 7 are reserved and misconfigure the entry, SDM Vol. 3C 29.3.3.1 */
	if (memtype > 7 || memtype == 2 || memtype == 3 || memtype == 7)
		return -E_INVAL;
	if (!ept_range_free(ept, gpa, end))
		return -E_EXIST;

	leaf = perms | (memtype << EPT_MEMTYPE_SHIFT);
	while (gpa < end) {
		uint64_t *pdpt, *pd, *pt, *pde, *pdpte;
		unsigned i;

		pdpt = ept_child(ept, &ept->pml4[ept_index(gpa, 4)]);
		if (!pdpt)
			goto nomem;
		pdpte = &pdpt[ept_index(gpa, 3)];
		/* A 1 GiB page needs both addresses 1 GiB aligned, SDM Vol. 3C 29.3.2 */
		if (ept->allow_1g && !*pdpte && IS_ALIGNED(gpa, EPT_1G) && IS_ALIGNED(hpa, EPT_1G) &&
		    end - gpa >= EPT_1G) {
			*pdpte = hpa | leaf | EPT_LARGE_PAGE;
			gpa += EPT_1G;
			hpa += EPT_1G;
			continue;
		}
		pd = ept_child(ept, pdpte);
		if (!pd)
			goto nomem;
		pde = &pd[ept_index(gpa, 2)];
		/* A 2 MiB page needs both addresses 2 MiB aligned, SDM Vol. 3C 29.3.2 */
		if (ept->allow_2m && !*pde && IS_ALIGNED(gpa, EPT_2M) && IS_ALIGNED(hpa, EPT_2M) &&
		    end - gpa >= EPT_2M) {
			*pde = hpa | leaf | EPT_LARGE_PAGE;
			gpa += EPT_2M;
			hpa += EPT_2M;
			continue;
		}
		pt = ept_child(ept, pde);
		if (!pt)
			goto nomem;
		for (i = ept_index(gpa, 1); i < EPT_ENTRIES && gpa < end; i++) {
			pt[i] = hpa | leaf;
			gpa += PAGE_SIZE;
			hpa += PAGE_SIZE;
		}
	}
	return 0;

nomem:
	/* The whole range was free on entry, so clearing all of it undoes exactly this call */
	ept_clear(ept, ept->pml4, EPT_LEVELS, 0, start, end);
	return -E_NOMEM;
}

bool ept_lookup(const struct ept *ept, uint64_t gpa, uint64_t *hpa, uint64_t *perms, unsigned *level)
{
	const uint64_t *table = ept->pml4;
	unsigned lvl;

	if (!table || gpa >= EPT_GPA_LIMIT)
		return false;
	for (lvl = EPT_LEVELS;; lvl--) {
		uint64_t entry = table[ept_index(gpa, lvl)];
		uint64_t offset_mask = ept_span(lvl) - 1;

		if (!ept_present(entry))
			return false;
		if (ept_is_leaf(entry, lvl)) {
			if (hpa)
				*hpa = (entry & EPT_ADDR_MASK & ~offset_mask) | (gpa & offset_mask);
			if (perms)
				*perms = entry & EPT_RWX;
			if (level)
				*level = lvl;
			return true;
		}
		table = ept_table(ept, entry);
	}
}

static void ept_count_below(const struct ept *ept, const uint64_t *table, unsigned level,
			    struct ept_page_counts *out)
{
	for (unsigned i = 0; i < EPT_ENTRIES; i++) {
		if (!ept_present(table[i]))
			continue;
		if (ept_is_leaf(table[i], level)) {
			if (level <= 3)
				out->pages[level - 1]++;
			continue;
		}
		ept_count_below(ept, ept_table(ept, table[i]), level - 1, out);
	}
}

void ept_count_pages(const struct ept *ept, struct ept_page_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (ept->pml4)
		ept_count_below(ept, ept->pml4, EPT_LEVELS, out);
}

void ept_destroy(struct ept *ept)
{
	if (ept->pml4) {
		ept_free_below(ept, ept->pml4, EPT_LEVELS);
		ept->mm.free(ept->mm.ctx, ept->pml4_phys);
	}
	memset(ept, 0, sizeof(*ept));
}

uint64_t ept_eptp(const struct ept *ept, bool enable_ad)
{
	/* WB paging-structure memory type in bits 2:0, walk length - 1 in bits 5:3, A/D enable in
	 * bit 6, SDM Vol. 3C 24.6.11 */
	return ept->pml4_phys | (3ull << 3) | EPT_MEMTYPE_WB | (enable_ad ? 1ull << 6 : 0);
}
