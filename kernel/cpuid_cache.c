/* A vCPU's remembered CPUID answers (see kernel/cpuid_cache.h). */
#include "kernel/cpuid_cache.h"
#include "kernel/lib.h"

void cpuid_cache_fill(struct cpuid_cache *c, uint32_t leaf, uint32_t subleaf, uint32_t eax,
		      uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct cpuid_cache_entry *e;

	if (!cpuid_cache_cacheable(leaf))
		return;
	e = &c->slot[cpuid_cache_slot(leaf, subleaf)];
	e->leaf = leaf;
	e->subleaf = subleaf;
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
}

void cpuid_cache_clear(struct cpuid_cache *c)
{
	memset(c, 0, sizeof(*c));
	/* Slot i gets the key (i + 1, 0), whose own slot is i + 1 (mod the slot count) */
	for (unsigned i = 0; i < CPUID_CACHE_SLOTS; i++)
		c->slot[i].leaf = (i + 1) % CPUID_CACHE_SLOTS;
}
