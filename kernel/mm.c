/* Builds the frame pool from the boot memory map and hands out zeroed pages and ranges. */
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/spinlock.h"

struct frame_pool frame_pool;
static uint64_t usable_bytes;
static struct spinlock mm_lock;
static uint64_t allocated_bytes;

int mm_init(const struct boot_info *bi)
{
	int err;

	/* The first MiB holds the real-mode IVT, BIOS data, EBDA and ROMs: never hand it out. */
	err = frame_pool_build(&frame_pool, bi, (uint64_t)_image_start, (uint64_t)_image_end,
			       1 * MiB, MM_IDENTITY_LIMIT);
	if (err < 0) {
		log_err("memory: cannot build the frame pool from the memory map: %s", err_name(err));
		return err;
	}
	for (unsigned i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			usable_bytes += bi->mmap[i].length;
	log_info("memory: %lu KiB usable RAM in the map, %lu KiB kept by Cloison and the boot modules, %lu KiB free",
		 usable_bytes / KiB, frame_pool.reserved_bytes / KiB, frame_pool_free_bytes(&frame_pool) / KiB);
	log_info("memory: image 0x%lx-0x%lx (%lu KiB)", (uint64_t)_image_start, (uint64_t)_image_end,
		 ((uint64_t)_image_end - (uint64_t)_image_start) / KiB);
	return 0;
}

uint64_t phys_alloc_zeroed(uint64_t size, uint64_t align)
{
	uint64_t base;

	spin_lock(&mm_lock);
	base = frame_alloc(&frame_pool, size, align);
	if (base)
		allocated_bytes += ALIGN_UP(size, PAGE_SIZE);
	spin_unlock(&mm_lock);
	if (base)
		memset((void *)base, 0, ALIGN_UP(size, PAGE_SIZE));
	return base;
}

void phys_free(uint64_t base, uint64_t size)
{
	int err;

	spin_lock(&mm_lock);
	err = frame_free(&frame_pool, base, size);
	if (!err)
		allocated_bytes -= ALIGN_UP(size, PAGE_SIZE);
	spin_unlock(&mm_lock);
	if (err < 0)
		log_err("memory: freeing 0x%lx (+0x%lx) failed: %s", base, size, err_name(err));
}

uint64_t page_alloc_phys(void)
{
	return phys_alloc_zeroed(PAGE_SIZE, PAGE_SIZE);
}

void page_free_phys(uint64_t phys)
{
	phys_free(phys, PAGE_SIZE);
}

uint64_t mm_usable_bytes(void)
{
	return usable_bytes;
}

uint64_t mm_allocated_bytes(void)
{
	return allocated_bytes;
}
