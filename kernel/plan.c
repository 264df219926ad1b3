/* Partition planner: fixed-address guests first, then the others largest first, each best fit. */
#include "kernel/plan.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

#define PLAN_ALIGN ((uint64_t)CONFIG_MEMORY_ALIGN)
#define PLAN_HUGE (1ull << 30) /* a 1 GiB EPT page, SDM Vol. 3C 29.3.2 */

/* "512 MiB", "2 GiB", "200 KiB": sizes as people read them in a message. */
static void plan_size(char *buf, size_t size, uint64_t bytes)
{
	if (bytes && bytes % GiB == 0)
		fmt_snprintf(buf, size, "%lu GiB", bytes / GiB);
	else if (bytes % MiB == 0)
		fmt_snprintf(buf, size, "%lu MiB", bytes / MiB);
	else
		fmt_snprintf(buf, size, "%lu KiB", bytes / KiB);
}

uint64_t plan_largest_fit(const struct frame_pool *pool, uint64_t align)
{
	uint64_t largest = 0;

	for (unsigned i = 0; i < pool->count && i < FRAME_MAX_EXTENTS; i++) {
		const struct frame_extent *ext = &pool->free[i];
		uint64_t start;

		if (ext->base > UINT64_MAX - (align - 1))
			break;
		start = ALIGN_UP(ext->base, align);
		if (start < ext->end)
			largest = MAX(largest, ALIGN_DOWN(ext->end - start, align));
	}
	return largest;
}

/* A guest's memory must be a positive multiple of 2 MiB (config_parse makes it so). */
static bool plan_memory_valid(struct config *c, struct guest_config *g, config_report_fn report,
			      void *ctx)
{
	if (g->memory && IS_ALIGNED(g->memory, PLAN_ALIGN))
		return true;
	config_refuse(c, g, report, ctx, "memory", "0x%lx bytes is not a positive multiple of 2 MiB",
		      g->memory);
	return false;
}

static void plan_fixed(struct plan *plan, struct frame_pool *pool, struct config *c, unsigned i,
		       config_report_fn report, void *ctx)
{
	struct guest_config *g = &c->guests[i];
	uint64_t base = g->address, size = g->memory;
	int err;

	if (!IS_ALIGNED(base, PLAN_ALIGN)) {
		config_refuse(c, g, report, ctx, "address", "0x%lx is not 2 MiB aligned", base);
		return;
	}
	if (size > UINT64_MAX - base) {
		config_refuse(c, g, report, ctx, "address",
			      "0x%lx plus the memory is beyond the address space", base);
		return;
	}
	for (unsigned j = 0; j < i; j++) {
		const struct plan_guest *other = &plan->guests[j];

		if (!other->ram_size || base >= other->ram_base + other->ram_size ||
		    other->ram_base >= base + size)
			continue;
		config_refuse(c, g, report, ctx, "address",
			      "0x%lx - 0x%lx overlaps guest %s (0x%lx - 0x%lx)", base, base + size - 1,
			      c->guests[j].name, other->ram_base,
			      other->ram_base + other->ram_size - 1);
		return;
	}
	err = frame_claim(pool, base, size);
	if (err == -E_FULL) {
		config_refuse(c, g, report, ctx, "address",
			      "0x%lx - 0x%lx cannot be taken: the free list is too fragmented", base,
			      base + size - 1);
		return;
	}
	if (err) {
		config_refuse(c, g, report, ctx, "address",
			      "0x%lx - 0x%lx is not free RAM (hypervisor, firmware, another guest or beyond the map)",
			      base, base + size - 1);
		return;
	}
	plan->guests[i] = (struct plan_guest){ base, size };
	plan->placed++;
}

/* Best fit: the free extent that holds size with the least left over, so that small guests fill
 * small holes and large ranges stay whole. Inside it, a guest of 1 GiB or more starts on a 1 GiB
 * boundary when that still fits (EPT can then map it with 1 GiB pages), else on 2 MiB. Returns
 * the base, 0 when no extent holds it. */
static uint64_t plan_best_fit(const struct frame_pool *pool, uint64_t size)
{
	uint64_t best = 0, best_left = UINT64_MAX;

	for (unsigned i = 0; i < pool->count && i < FRAME_MAX_EXTENTS; i++) {
		const struct frame_extent *ext = &pool->free[i];
		uint64_t start, left;

		if (ext->base > UINT64_MAX - (PLAN_ALIGN - 1))
			break;
		start = ALIGN_UP(ext->base, PLAN_ALIGN);
		if (start >= ext->end || ext->end - start < size)
			continue;
		left = ext->end - start - size;
		if (size >= PLAN_HUGE && ext->base <= UINT64_MAX - (PLAN_HUGE - 1)) {
			uint64_t huge = ALIGN_UP(ext->base, PLAN_HUGE);

			if (huge < ext->end && ext->end - huge >= size)
				start = huge;
		}
		if (left < best_left) {
			best = start;
			best_left = left;
		}
	}
	return best;
}

static void plan_any(struct plan *plan, struct frame_pool *pool, struct config *c, unsigned i,
		     config_report_fn report, void *ctx)
{
	struct guest_config *g = &c->guests[i];
	char want[24], largest[24];
	uint64_t base = plan_best_fit(pool, g->memory);

	if (base && frame_claim(pool, base, g->memory) < 0)
		base = frame_alloc(pool, g->memory, PLAN_ALIGN); /* the free list is full: no split */
	if (!base) {
		plan_size(want, sizeof(want), g->memory);
		plan_size(largest, sizeof(largest), plan_largest_fit(pool, PLAN_ALIGN));
		config_refuse(c, g, report, ctx, "memory", "%s does not fit (largest free range %s)",
			      want, largest);
		return;
	}
	plan->guests[i] = (struct plan_guest){ base, g->memory };
	plan->placed++;
}

int plan_partition(struct plan *plan, struct frame_pool *pool, struct config *c,
		   config_report_fn report, void *ctx)
{
	unsigned count = MIN(c->guest_count, (unsigned)MAX_GUESTS);
	unsigned errors = c->error_count;
	unsigned by_size[MAX_GUESTS], n = 0;

	memset(plan, 0, sizeof(*plan));
	/* Fixed ranges first, so that no guest placed anywhere takes one */
	for (unsigned i = 0; i < count; i++) {
		struct guest_config *g = &c->guests[i];

		if (!g->refused && g->address && plan_memory_valid(c, g, report, ctx))
			plan_fixed(plan, pool, c, i, report, ctx);
	}
	/* Largest first, config order among equals: the big ranges are cut while they exist */
	for (unsigned i = 0; i < count; i++) {
		unsigned at = n;

		while (at && c->guests[by_size[at - 1]].memory < c->guests[i].memory) {
			by_size[at] = by_size[at - 1];
			at--;
		}
		by_size[at] = i;
		n++;
	}
	for (unsigned k = 0; k < n; k++) {
		struct guest_config *g = &c->guests[by_size[k]];

		if (!g->refused && !g->address && plan_memory_valid(c, g, report, ctx))
			plan_any(plan, pool, c, by_size[k], report, ctx);
	}
	plan->free_after = frame_pool_free_bytes(pool);
	plan->largest_after = plan_largest_fit(pool, PLAN_ALIGN);
	return c->error_count != errors ? -E_INVAL : 0;
}

unsigned plan_order(const struct plan *plan, unsigned order[MAX_GUESTS])
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		unsigned at = n;

		if (!plan->guests[i].ram_size)
			continue;
		/* Insertion sort: MAX_GUESTS entries at most */
		while (at && plan->guests[order[at - 1]].ram_base > plan->guests[i].ram_base) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
		n++;
	}
	return n;
}
