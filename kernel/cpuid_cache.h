/* A vCPU's CPUID answers, remembered after the full virtual CPU model (kernel/cpu_model.c)
 * computed them once, so that the exit stub (vmx/vmexit.S) answers a repeated leaf with a few
 * loads. Pure logic, unit-tested on the host. */
#ifndef CLOISON_CPUID_CACHE_H
#define CLOISON_CPUID_CACHE_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define CPUID_CACHE_SLOTS 16 /* direct-mapped: a colliding leaf replaces the older one */
#define CPUID_CACHE_ENTRY_SHIFT 5

struct cpuid_cache_entry {
	uint32_t leaf, subleaf;
	uint32_t eax, ebx, ecx, edx;
	uint64_t reserved; /* 32 bytes: the slot's address is a shift */
};
_Static_assert(sizeof(struct cpuid_cache_entry) == 1u << CPUID_CACHE_ENTRY_SHIFT,
	       "vmx/vmexit.S finds a slot with a shift");

struct cpuid_cache {
	struct cpuid_cache_entry slot[CPUID_CACHE_SLOTS];
};

/* Whether the model's answer for leaf is fixed for a whole run of the vCPU. Leaf 1 (OSXSAVE
 * follows the guest's CR4) and leaf 0xD (sizes follow its XCR0) change with guest state. */
static inline bool cpuid_cache_cacheable(uint32_t leaf)
{
	return leaf != 1 && leaf != 0xd;
}

/* vmx/vmexit.S computes the same slot for its hits: change both together. */
static inline unsigned cpuid_cache_slot(uint32_t leaf, uint32_t subleaf)
{
	/* The hypervisor (0x4000xxxx) and extended (0x8000xxxx) ranges land apart from the basic one */
	return (leaf ^ (leaf >> 28) ^ subleaf) & (CPUID_CACHE_SLOTS - 1);
}

/* The remembered answer for (leaf, subleaf), or NULL. An empty slot holds a key that belongs to
 * another slot (cpuid_cache_clear), so no lookup ever matches it: no valid flag to test. */
static inline const struct cpuid_cache_entry *cpuid_cache_lookup(const struct cpuid_cache *c,
								  uint32_t leaf, uint32_t subleaf)
{
	const struct cpuid_cache_entry *e = &c->slot[cpuid_cache_slot(leaf, subleaf)];

	return e->leaf == leaf && e->subleaf == subleaf ? e : NULL;
}

/* Remembers the model's answer when the leaf is cacheable. */
void cpuid_cache_fill(struct cpuid_cache *c, uint32_t leaf, uint32_t subleaf, uint32_t eax,
		      uint32_t ebx, uint32_t ecx, uint32_t edx);
/* Forgets everything: a new run (or an INIT) of the vCPU. */
void cpuid_cache_clear(struct cpuid_cache *c);

#endif
