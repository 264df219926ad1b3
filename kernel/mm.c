/* Builds the frame pool from the boot memory map, maps all of it, hands out zeroed pages and ranges. */
#include "kernel/mm.h"
#include "kernel/idmap.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

struct frame_pool frame_pool;
static uint64_t usable_bytes;
static struct spinlock mm_lock;
static uint64_t allocated_bytes;
static struct idmap idmap;

/* MAXPHYADDR from CPUID.80000008H:EAX[7:0], 36 bits when the leaf is missing (SDM Vol. 3A 4.1.4) */
static uint64_t mm_phys_limit(void)
{
	struct cpuid_regs r;
	unsigned bits = 36;

	cpuid(0x80000000, 0, &r);
	if (r.eax >= 0x80000008) {
		cpuid(0x80000008, 0, &r);
		bits = r.eax & 0xff;
	}
	bits = MIN(MAX(bits, 32u), 48u);
	return 1ull << bits;
}

/* 1 GiB pages: CPUID.80000001H:EDX[26] (SDM Vol. 3A 4.1.4) */
static bool mm_has_1g_pages(void)
{
	struct cpuid_regs r;

	cpuid(0x80000000, 0, &r);
	if (r.eax < 0x80000001)
		return false;
	cpuid(0x80000001, 0, &r);
	return (r.edx >> 26) & 1;
}

/* Tables of the new map come from the pool; until CR3 switches only the boot map's 4 GiB are
 * reachable, and the AP trampoline loads CR3 with 32 bits, so they must lie below 4 GiB. */
static void *mm_table_alloc(void *ctx, uint64_t *phys)
{
	uint64_t base = frame_alloc(&frame_pool, PAGE_SIZE, PAGE_SIZE);

	(void)ctx;
	if (base && base + PAGE_SIZE > MM_IDENTITY_LIMIT) {
		frame_free(&frame_pool, base, PAGE_SIZE);
		base = 0;
	}
	if (!base)
		return NULL;
	allocated_bytes += PAGE_SIZE;
	memset((void *)base, 0, PAGE_SIZE);
	*phys = base;
	return (void *)base;
}

static void *mm_table_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)phys;
}

/* The first 4 GiB (RAM, the local and I/O APIC, firmware) as before, and every range of the memory
 * map above them: VA = PA keeps every (void *)phys of the code valid. */
static int mm_map_all(const struct boot_info *bi, uint64_t phys_limit)
{
	const struct idmap_mm ops = { mm_table_alloc, mm_table_virt, NULL };
	int err = idmap_init(&idmap, &ops, mm_has_1g_pages());

	if (!err)
		err = idmap_map(&idmap, 0, MM_IDENTITY_LIMIT);
	for (unsigned i = 0; !err && i < bi->mmap_count; i++) {
		const struct boot_mem_range *r = &bi->mmap[i];
		uint64_t end = r->length > phys_limit - MIN(r->base, phys_limit) ?
				       phys_limit : r->base + r->length;

		if (r->base < phys_limit && end > MM_IDENTITY_LIMIT)
			err = idmap_map(&idmap, MAX(r->base, MM_IDENTITY_LIMIT), end);
	}
	if (err)
		return err;
	write_cr3(idmap.pml4_phys);
	log_info("memory: identity map up to 0x%lx: %lu 1 GiB and %lu 2 MiB pages, %u tables",
		 idmap.mapped_end, idmap.pages_1g, idmap.pages_2m, idmap.tables);
	return 0;
}

int mm_init(const struct boot_info *bi)
{
	uint64_t phys_limit = mm_phys_limit();
	int err;

	/* The first MiB holds the real-mode IVT, BIOS data, EBDA and ROMs: never hand it out. */
	err = frame_pool_build(&frame_pool, bi, (uint64_t)_image_start, (uint64_t)_image_end,
			       1 * MiB, phys_limit);
	if (err < 0) {
		log_err("memory: cannot build the frame pool from the memory map: %s", err_name(err));
		return err;
	}
	err = mm_map_all(bi, phys_limit);
	if (err < 0) {
		log_err("memory: cannot map the memory above 4 GiB: %s", err_name(err));
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

uint64_t mm_mapped_end(void)
{
	return idmap.mapped_end;
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
