/* The partition planner: one contiguous host-physical RAM range per configured guest. */
#ifndef CLOISON_PLAN_H
#define CLOISON_PLAN_H

#include <stdint.h>
#include "kernel/config.h"
#include "kernel/frame.h"

struct plan_guest {
	uint64_t ram_base; /* host-physical, 2 MiB aligned; 0 when the guest got no RAM */
	uint64_t ram_size; /* the guest's memory, 0 when it got no RAM */
};

struct plan {
	struct plan_guest guests[MAX_GUESTS]; /* indexed like config.guests */
	unsigned placed;                      /* guests that got RAM */
	uint64_t free_after;                  /* bytes left free in the pool */
	uint64_t largest_after;               /* the largest 2 MiB-aligned free range left */
};

/* Takes each guest's RAM out of pool itself (the hypervisor's live pool, so that nothing allocated
 * later can land in a guest): first the guests with a fixed address, then the others largest
 * first, each in the free range it fills best (1 GiB aligned when it is 1 GiB or more and that
 * fits, else 2 MiB aligned). Refused guests are skipped; a guest that cannot be placed
 * is refused and reported through config_refuse and takes nothing. To plan without committing,
 * pass a copy of the pool. Returns 0, or -E_INVAL when it refused a guest. */
int plan_partition(struct plan *plan, struct frame_pool *pool, struct config *c,
		   config_report_fn report, void *ctx);

/* The largest size, a multiple of align, that frame_alloc(pool, size, align) can still place. */
uint64_t plan_largest_fit(const struct frame_pool *pool, uint64_t align);

/* Fills order with the indexes of the placed guests by ascending ram_base (for printing the
 * memory map); returns how many. */
unsigned plan_order(const struct plan *plan, unsigned order[MAX_GUESTS]);

#endif
