/* Physical frame allocator: a sorted list of free extents built from the boot memory map. */
#ifndef CLOISON_FRAME_H
#define CLOISON_FRAME_H

#include <stdint.h>
#include <stdbool.h>
#include "boot/boot_info.h"

#define FRAME_MAX_EXTENTS 128

struct frame_extent {
	uint64_t base; /* page aligned */
	uint64_t end;  /* page aligned, exclusive */
};

struct frame_pool {
	struct frame_extent free[FRAME_MAX_EXTENTS]; /* sorted, non-overlapping, non-adjacent */
	unsigned count;
	uint64_t usable_bytes;   /* usable RAM reported by the map, after rounding */
	uint64_t reserved_bytes; /* usable RAM taken out by frame_pool_reserve */
};

void frame_pool_init(struct frame_pool *pool);
/* Adds usable RAM [base, end), rounded inward to pages. */
int frame_pool_add(struct frame_pool *pool, uint64_t base, uint64_t end);
/* Removes [base, end), rounded outward to pages, from the free list for good. */
int frame_pool_reserve(struct frame_pool *pool, uint64_t base, uint64_t end);

/* Builds the pool from a boot map: usable ranges in [floor, ceiling), minus the MBI, the modules,
 * and [image_start, image_end). Reserved/ACPI/bad ranges win over usable ones that overlap them. */
int frame_pool_build(struct frame_pool *pool, const struct boot_info *bi, uint64_t image_start,
		     uint64_t image_end, uint64_t floor, uint64_t ceiling);

/* Allocates size bytes (rounded up to pages) aligned to align (a power of two >= 4096),
 * lowest address first. Returns the physical address, 0 when nothing fits. */
uint64_t frame_alloc(struct frame_pool *pool, uint64_t size, uint64_t align);
/* Gives back an allocated range; E_EXIST when any page of it is already free. */
int frame_free(struct frame_pool *pool, uint64_t base, uint64_t size);
/* Takes exactly [base, base + size), page aligned, out of the free list: for memory whose place is
 * fixed. -E_EXIST with no change when any page of it is not free. */
int frame_claim(struct frame_pool *pool, uint64_t base, uint64_t size);

uint64_t frame_pool_free_bytes(const struct frame_pool *pool);
uint64_t frame_pool_largest_free(const struct frame_pool *pool);

#endif
