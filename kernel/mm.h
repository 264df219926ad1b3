/* The hypervisor's physical memory: the global frame pool and page helpers over it. */
#ifndef CLOISON_MM_H
#define CLOISON_MM_H

#include <stdint.h>
#include "kernel/frame.h"
#include "boot/boot_info.h"

extern struct frame_pool frame_pool;
extern char _image_start[], _image_end[];

/* entry.S identity-maps this much; mm_init then maps every range of the memory map above it too. */
#define MM_IDENTITY_LIMIT (4ull << 30)

int mm_init(const struct boot_info *bi);
/* One zeroed 4 KiB page; returns its physical (= virtual) address, 0 when memory is exhausted. */
uint64_t page_alloc_phys(void);
void page_free_phys(uint64_t phys);
/* A zeroed, aligned, contiguous range; 0 when none fits. */
uint64_t phys_alloc_zeroed(uint64_t size, uint64_t align);
void phys_free(uint64_t base, uint64_t size);
/* The end of the identity map mm_init built (all RAM in the map, and the first 4 GiB). */
uint64_t mm_mapped_end(void);
/* What the hypervisor holds through phys_alloc_zeroed, for the partition map. */
uint64_t mm_allocated_bytes(void);
/* Usable RAM in the boot memory map, all of it (what the map reported, before any reservation). */
uint64_t mm_usable_bytes(void);

#endif
