/* Physical frame allocator: first-fit over a sorted, coalesced list of free page extents. */
#include "kernel/frame.h"
#include "kernel/lib.h"

/* The highest page-aligned address: an exclusive end cannot name the last page of 2^64 */
#define FRAME_TOP ALIGN_DOWN(UINT64_MAX, PAGE_SIZE)

static void extent_remove(struct frame_pool *pool, unsigned i, unsigned n)
{
	memmove(&pool->free[i], &pool->free[i + n], (pool->count - i - n) * sizeof(pool->free[0]));
	pool->count -= n;
}

/* @pre pool->count < FRAME_MAX_EXTENTS */
static void extent_insert(struct frame_pool *pool, unsigned i, uint64_t base, uint64_t end)
{
	memmove(&pool->free[i + 1], &pool->free[i], (pool->count - i) * sizeof(pool->free[0]));
	pool->free[i] = (struct frame_extent){ base, end };
	pool->count++;
}

/* Index of the first extent that ends at or after base, i.e. may touch [base, ...) */
static unsigned extent_first_touching(const struct frame_pool *pool, uint64_t base)
{
	unsigned i = 0;

	while (i < pool->count && pool->free[i].end < base)
		i++;
	return i;
}

/* Makes [base, end) free, merging with every extent it overlaps or touches; *added gets the
 * bytes that were not free before. Returns 0, or -E_FULL with no change. */
static int extent_union(struct frame_pool *pool, uint64_t base, uint64_t end, uint64_t *added)
{
	unsigned first = extent_first_touching(pool, base), last = first;
	uint64_t old_bytes = 0;

	while (last < pool->count && pool->free[last].base <= end) {
		old_bytes += pool->free[last].end - pool->free[last].base;
		last++;
	}
	if (first == last) {
		if (pool->count >= FRAME_MAX_EXTENTS)
			return -E_FULL;
		extent_insert(pool, first, base, end);
		*added = end - base;
		return 0;
	}
	base = MIN(base, pool->free[first].base);
	end = MAX(end, pool->free[last - 1].end);
	pool->free[first] = (struct frame_extent){ base, end };
	extent_remove(pool, first + 1, last - first - 1);
	*added = end - base - old_bytes;
	return 0;
}

/* Takes [base, end) out of the free list; *removed gets the bytes that were free.
 * Returns 0, or -E_FULL with no change. */
static int extent_cut(struct frame_pool *pool, uint64_t base, uint64_t end, uint64_t *removed)
{
	unsigned i = extent_first_touching(pool, base);

	*removed = 0;

	while (i < pool->count && pool->free[i].base < end) {
		struct frame_extent *ext = &pool->free[i];

		if (ext->end <= base) {
			i++;
		} else if (ext->base < base && ext->end > end) {
			/* Cutting the middle splits one extent in two */
			if (pool->count >= FRAME_MAX_EXTENTS)
				return -E_FULL;
			extent_insert(pool, i + 1, end, ext->end);
			pool->free[i].end = base;
			*removed = end - base;
			return 0;
		} else if (ext->base < base) {
			*removed += ext->end - base;
			ext->end = base;
			i++;
		} else if (ext->end > end) {
			*removed += end - ext->base;
			ext->base = end;
			break;
		} else {
			*removed += ext->end - ext->base;
			extent_remove(pool, i, 1);
		}
	}
	return 0;
}

void frame_pool_init(struct frame_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
}

int frame_pool_add(struct frame_pool *pool, uint64_t base, uint64_t end)
{
	uint64_t added;
	int err;

	if (end < base)
		return -E_INVAL;
	if (base > FRAME_TOP)
		return 0;
	/* Page 0 stays out: frame_alloc() reports failure as address 0 */
	base = MAX(ALIGN_UP(base, PAGE_SIZE), PAGE_SIZE);
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (end <= base)
		return 0;
	err = extent_union(pool, base, end, &added);
	if (!err)
		pool->usable_bytes += added;
	return err;
}

int frame_pool_reserve(struct frame_pool *pool, uint64_t base, uint64_t end)
{
	uint64_t removed;
	int err;

	if (end < base)
		return -E_INVAL;
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = end > FRAME_TOP ? FRAME_TOP : ALIGN_UP(end, PAGE_SIZE);
	if (end <= base)
		return 0;
	err = extent_cut(pool, base, end, &removed);
	if (!err)
		pool->reserved_bytes += removed;
	return err;
}

/* A map entry's exclusive end, saturated: entries come from firmware */
static uint64_t boot_range_end(const struct boot_mem_range *r)
{
	return r->length > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->length;
}

int frame_pool_build(struct frame_pool *pool, const struct boot_info *bi, uint64_t image_start,
		     uint64_t image_end, uint64_t floor, uint64_t ceiling)
{
	unsigned n = MIN(bi->mmap_count, (unsigned)BOOT_MAX_MMAP);
	int err;

	frame_pool_init(pool);
	for (unsigned i = 0; i < n; i++) {
		const struct boot_mem_range *r = &bi->mmap[i];
		uint64_t base = MAX(r->base, floor), end = MIN(boot_range_end(r), ceiling);

		if (r->type != BOOT_MEM_USABLE || end <= base)
			continue;
		err = frame_pool_add(pool, base, end);
		if (err)
			return err;
	}
	/* Only after every usable range is in can a reserved range that overlaps one win */
	for (unsigned i = 0; i < n; i++) {
		const struct boot_mem_range *r = &bi->mmap[i];

		if (r->type == BOOT_MEM_USABLE)
			continue;
		err = frame_pool_reserve(pool, r->base, boot_range_end(r));
		if (err)
			return err;
	}
	err = frame_pool_reserve(pool, bi->mbi_start, bi->mbi_end);
	for (unsigned i = 0; !err && i < MIN(bi->module_count, (unsigned)BOOT_MAX_MODULES); i++)
		err = frame_pool_reserve(pool, bi->modules[i].start, bi->modules[i].end);
	if (!err)
		err = frame_pool_reserve(pool, image_start, image_end);
	return err;
}

uint64_t frame_alloc(struct frame_pool *pool, uint64_t size, uint64_t align)
{
	if (!size || size > FRAME_TOP || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);

	for (unsigned i = 0; i < pool->count; i++) {
		struct frame_extent *ext = &pool->free[i];
		uint64_t start;

		if (ext->base > UINT64_MAX - (align - 1))
			break;
		start = ALIGN_UP(ext->base, align);
		if (start >= ext->end || ext->end - start < size)
			continue;
		if (start == ext->base) {
			ext->base += size;
		} else if (start + size == ext->end) {
			ext->end = start;
		} else {
			/* A split needs a slot; with the list full, look further up instead */
			if (pool->count >= FRAME_MAX_EXTENTS)
				continue;
			extent_insert(pool, i + 1, start + size, ext->end);
			pool->free[i].end = start;
		}
		if (ext->base == ext->end)
			extent_remove(pool, i, 1);
		return start;
	}
	return 0;
}

int frame_free(struct frame_pool *pool, uint64_t base, uint64_t size)
{
	uint64_t added;
	unsigned i;

	if (!size || !IS_ALIGNED(base, PAGE_SIZE) || base < PAGE_SIZE || size > FRAME_TOP - base)
		return -E_INVAL;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (size > FRAME_TOP - base)
		return -E_INVAL;

	/* Double free: some page of the range is already free */
	i = extent_first_touching(pool, base);
	while (i < pool->count && pool->free[i].end == base)
		i++;
	if (i < pool->count && pool->free[i].base < base + size)
		return -E_EXIST;

	return extent_union(pool, base, base + size, &added);
}

int frame_claim(struct frame_pool *pool, uint64_t base, uint64_t size)
{
	uint64_t removed;
	unsigned i;

	if (!size || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) ||
	    size > FRAME_TOP - base)
		return -E_INVAL;

	/* Extents are coalesced, so a range that is all free lies inside one of them */
	i = extent_first_touching(pool, base);
	while (i < pool->count && pool->free[i].end <= base)
		i++;
	if (i == pool->count || pool->free[i].base > base || pool->free[i].end < base + size)
		return -E_EXIST;
	return extent_cut(pool, base, base + size, &removed);
}

uint64_t frame_pool_free_bytes(const struct frame_pool *pool)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < pool->count; i++)
		bytes += pool->free[i].end - pool->free[i].base;
	return bytes;
}

uint64_t frame_pool_largest_free(const struct frame_pool *pool)
{
	uint64_t largest = 0;

	for (unsigned i = 0; i < pool->count; i++)
		largest = MAX(largest, pool->free[i].end - pool->free[i].base);
	return largest;
}
