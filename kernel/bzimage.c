/* Linux x86 boot protocol: bzImage setup header, placement, zero page, e820, 64-bit entry state. */
#include "kernel/bzimage.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

#define BZ_BOOT_FLAG 0xaa55
#define BZ_MAGIC 0x53726448u /* "HdrS" */
#define BZ_SECTOR 512
#define BZ_DEFAULT_SETUP_SECTS 4 /* setup_sects 0 means 4, boot.rst "Details of Header Fields" */
#define BZ_KERNEL_FLOOR (1 * MiB)
#define BZ_KERNEL_FIRST_TRY (16 * MiB)
#define BZ_4GIB 0x100000000ull
#define BZ_LOADER_UNDEFINED 0xff /* type_of_loader for a boot loader without an assigned id */
#define BZ_HEAP_END 0xfe00       /* heap_end_ptr: end of a 64 KiB real-mode segment, minus 0x200 */
#define BZ_PAGE_2M (2 * MiB)
#define BZ_LOADER_AREA_END (BZ_CMDLINE + BZ_CMDLINE_MAX)
#define BZ_MAX_OBSTACLES (BZ_MAX_EXTRA_E820 + 2)

/* Page-table entry bits, SDM Vol. 3A 4.5 (Table 4-15, 4-17) */
#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_PS 0x80ull

/* Control registers for the 64-bit entry: protected mode, paging, PAE, long mode, SDM Vol. 3A 9.8.5 */
#define BZ_CR0 0x80000031ull /* PG | NE | ET | PE */
#define BZ_CR4 0x20ull       /* PAE */
#define BZ_EFER 0x500ull     /* LMA | LME */
#define BZ_RFLAGS 0x2ull     /* reserved bit 1 only: interrupts off, as boot.rst requires */

/* GDT descriptors: flat 64-bit code (L=1) and flat data, SDM Vol. 3A 3.4.5 */
#define BZ_GDT_CODE64 0x00af9b000000ffffull
#define BZ_GDT_DATA 0x00cf93000000ffffull
/* The same as VMCS access rights: type, S, DPL, P, then AVL, L, D/B, G, SDM Vol. 3C 24.4.1 */
#define BZ_AR_CODE64 0xa09bu
#define BZ_AR_DATA 0xc093u

struct bz_range {
	uint64_t start, end;
};

static int bz_fail(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

static unsigned long long bz_kib(uint64_t bytes)
{
	return (unsigned long long)((bytes + KiB - 1) / KiB);
}

int bzimage_parse(const void *image, size_t size, struct bzimage_info *out, const char **why)
{
	const uint8_t *p = image;
	const char *ignored;
	uint32_t header_end, syssize;
	unsigned setup_sects;

	if (!why)
		why = &ignored;
	*why = "";
	memset(out, 0, sizeof(*out));
	if (!p)
		return bz_fail(why, "no image", -E_INVAL);
	if (size < BZ_HDR_BOOT_FLAG + 2)
		return bz_fail(why, "image shorter than a boot sector", -E_TRUNC);
	if (get_le16(p + BZ_HDR_BOOT_FLAG) != BZ_BOOT_FLAG)
		return bz_fail(why, "no boot flag 0xAA55 at 0x1fe: not a Linux kernel image", -E_INVAL);
	if (size < BZ_HDR_MAGIC + 4)
		return bz_fail(why, "image ends before the setup header's \"HdrS\"", -E_TRUNC);
	if (get_le32(p + BZ_HDR_MAGIC) != BZ_MAGIC)
		return bz_fail(why, "no \"HdrS\" at 0x202: not a bzImage (boot protocol before 2.00)",
			       -E_INVAL);
	if (size < BZ_HDR_VERSION + 2)
		return bz_fail(why, "image ends before the boot protocol version", -E_TRUNC);
	out->version = get_le16(p + BZ_HDR_VERSION);
	if (out->version < BZ_MIN_VERSION)
		return bz_fail(why, "boot protocol older than 2.12: no 64-bit entry or xloadflags",
			       -E_NOTSUP);
	/* The header ends at 0x202 + the jump's offset byte, boot.rst "The Real-Mode Kernel Header" */
	header_end = BZ_HDR_MAGIC + p[BZ_HDR_JUMP + 1];
	if (header_end < BZ_HDR_MIN_END + 4)
		return bz_fail(why, "setup header shorter than boot protocol 2.12 defines", -E_INVAL);
	if (size < BZ_HDR_MIN_END + 4 || size < header_end)
		return bz_fail(why, "image ends inside the setup header", -E_TRUNC);
	out->header_end = MIN(header_end, (uint32_t)BP_HDR_MAX_END);

	out->loadflags = p[BZ_HDR_LOADFLAGS];
	out->xloadflags = get_le16(p + BZ_HDR_XLOADFLAGS);
	out->pref_address = get_le64(p + BZ_HDR_PREF_ADDRESS);
	out->kernel_alignment = get_le32(p + BZ_HDR_KERNEL_ALIGNMENT);
	out->min_alignment = p[BZ_HDR_MIN_ALIGNMENT];
	out->init_size = get_le32(p + BZ_HDR_INIT_SIZE);
	out->cmdline_size = get_le32(p + BZ_HDR_CMDLINE_SIZE);
	out->initrd_addr_max = get_le32(p + BZ_HDR_INITRD_ADDR_MAX);
	if (!(out->xloadflags & BZ_XLF_KERNEL_64))
		return bz_fail(why, "kernel has no 64-bit entry (xloadflags XLF_KERNEL_64 clear)",
			       -E_NOTSUP);
	if (!p[BZ_HDR_RELOCATABLE])
		return bz_fail(why, "kernel is not relocatable (relocatable_kernel 0)", -E_NOTSUP);
	if (!(out->loadflags & BZ_LOADED_HIGH))
		return bz_fail(why, "zImage loaded at 0x10000 (LOADED_HIGH clear) is not supported",
			       -E_NOTSUP);
	if (out->kernel_alignment < PAGE_SIZE ||
	    (out->kernel_alignment & (out->kernel_alignment - 1)))
		return bz_fail(why, "kernel_alignment is not a power of two of at least 4 KiB",
			       -E_INVAL);

	setup_sects = p[BZ_HDR_SETUP_SECTS] ? p[BZ_HDR_SETUP_SECTS] : BZ_DEFAULT_SETUP_SECTS;
	out->setup_sects = (uint8_t)setup_sects;
	out->kernel_offset = (setup_sects + 1) * BZ_SECTOR;
	if (out->kernel_offset > size)
		return bz_fail(why, "image ends inside the real-mode setup code", -E_TRUNC);
	/* syssize counts 16-byte paragraphs of the protected-mode kernel; a signature may follow */
	syssize = get_le32(p + BZ_HDR_SYSSIZE);
	if ((uint64_t)syssize * 16 > size - out->kernel_offset)
		return bz_fail(why, "image ends inside the protected-mode kernel (syssize)", -E_TRUNC);
	out->kernel_size = syssize * 16;
	if (out->kernel_size <= BZ_ENTRY_64_OFFSET)
		return bz_fail(why, "protected-mode kernel too small to hold the 64-bit entry",
			       -E_INVAL);
	return 0;
}

static bool bz_overlaps(uint64_t start, uint64_t end, const struct bz_range *r)
{
	return start < r->end && r->start < end;
}

/* Lowest align-multiple start >= lo with [start, start+len) inside [lo, hi) and clear of obs */
static bool bz_first_fit(uint64_t lo, uint64_t hi, uint64_t len, uint64_t align,
			 const struct bz_range *obs, unsigned n, uint64_t *at)
{
	uint64_t start = ALIGN_UP(lo, align);

	while (start >= lo && start <= hi && len <= hi - start) {
		bool moved = false;

		for (unsigned i = 0; i < n; i++) {
			if (bz_overlaps(start, start + len, &obs[i])) {
				start = ALIGN_UP(obs[i].end, align);
				moved = true;
			}
		}
		if (!moved) {
			*at = start;
			return true;
		}
	}
	return false;
}

/* Highest align-multiple start with [start, start+len) inside [lo, hi) and clear of obs */
static bool bz_last_fit(uint64_t lo, uint64_t hi, uint64_t len, uint64_t align,
			const struct bz_range *obs, unsigned n, uint64_t *at)
{
	uint64_t start;

	if (hi < lo || len > hi - lo)
		return false;
	start = ALIGN_DOWN(hi - len, align);
	while (start >= lo) {
		bool moved = false;

		for (unsigned i = 0; i < n; i++) {
			if (bz_overlaps(start, start + len, &obs[i])) {
				if (obs[i].start < lo + len)
					return false;
				start = ALIGN_DOWN(obs[i].start - len, align);
				moved = true;
			}
		}
		if (!moved) {
			*at = start;
			return true;
		}
	}
	return false;
}

/* The loader's low area, from the zero page to the end of the command-line window */
static const struct bz_range bz_loader_area = { BZ_ZERO_PAGE, BZ_LOADER_AREA_END };

static int bz_check_extra(const struct linux_boot_params *p, uint64_t ram_size, const char **why)
{
	if (p->e820_extra_count > BZ_MAX_EXTRA_E820)
		return bz_fail(why, "more than 8 extra e820 ranges", -E_INVAL);
	if (p->e820_extra_count && !p->e820_extra)
		return bz_fail(why, "extra e820 ranges missing", -E_INVAL);
	for (unsigned i = 0; i < p->e820_extra_count; i++) {
		const struct linux_e820_entry *e = &p->e820_extra[i];

		if (e->size == 0 || e->type == LINUX_E820_RAM || e->type == 0)
			return bz_fail(why, "extra e820 range empty or not a reserved type", -E_INVAL);
		if (e->addr >= ram_size || e->size > ram_size - e->addr)
			return bz_fail(why, "extra e820 range lies outside guest RAM", -E_RANGE);
		if (bz_overlaps(e->addr, e->addr + e->size, &bz_loader_area))
			return bz_fail(why, "extra e820 range overlaps the loader's area 0x7000-0x30000",
				       -E_RANGE);
		for (unsigned j = 0; j < i; j++) {
			const struct linux_e820_entry *f = &p->e820_extra[j];
			struct bz_range fr = { f->addr, f->addr + f->size };

			if (bz_overlaps(e->addr, e->addr + e->size, &fr))
				return bz_fail(why, "extra e820 ranges overlap each other", -E_INVAL);
		}
	}
	return 0;
}

static void bz_e820_insert(struct linux_e820_entry *map, unsigned *n, uint64_t addr,
			   uint64_t end, uint32_t type)
{
	unsigned i = *n;

	if (end <= addr)
		return;
	while (i > 0 && map[i - 1].addr > addr) {
		map[i] = map[i - 1];
		i--;
	}
	map[i] = (struct linux_e820_entry){ .addr = addr, .size = end - addr, .type = type };
	(*n)++;
}

/* The guest's RAM as usable, 0x9fc00-1 MiB reserved, then each extra range carved out of what
 * lies under it; neighbours of one type merged. Sorted, no overlaps, nothing past ram_size. */
static unsigned bz_build_e820(const struct linux_boot_params *p, uint64_t ram_size,
			      struct linux_e820_entry *map)
{
	struct linux_e820_entry tmp[3 + 3 * BZ_MAX_EXTRA_E820];
	unsigned n = 0, m;

	bz_e820_insert(map, &n, 0, MIN(ram_size, (uint64_t)BZ_LOW_END), LINUX_E820_RAM);
	bz_e820_insert(map, &n, BZ_LOW_END, MIN(ram_size, (uint64_t)MiB), LINUX_E820_RESERVED);
	bz_e820_insert(map, &n, MiB, ram_size, LINUX_E820_RAM);
	for (unsigned x = 0; x < p->e820_extra_count; x++) {
		const struct linux_e820_entry *e = &p->e820_extra[x];
		uint64_t end = e->addr + e->size;

		m = 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t s = map[i].addr, t = map[i].addr + map[i].size;

			if (t <= e->addr || s >= end) {
				bz_e820_insert(tmp, &m, s, t, map[i].type);
				continue;
			}
			bz_e820_insert(tmp, &m, s, MIN(t, e->addr), map[i].type);
			bz_e820_insert(tmp, &m, MAX(s, end), t, map[i].type);
		}
		bz_e820_insert(tmp, &m, e->addr, end, e->type);
		memcpy(map, tmp, m * sizeof(tmp[0]));
		n = m;
	}
	m = 0;
	for (unsigned i = 0; i < n; i++) {
		if (m && map[m - 1].type == map[i].type &&
		    map[m - 1].addr + map[m - 1].size == map[i].addr)
			map[m - 1].size += map[i].size;
		else
			map[m++] = map[i];
	}
	return m;
}

/* Identity map [0, bytes) with 2 MiB pages: PML4[0] -> PDPT -> one PD per GiB, SDM Vol. 3A 4.5 */
static void bz_build_page_tables(uint8_t *ram, uint64_t bytes)
{
	unsigned gib = (unsigned)(bytes / GiB);

	memset(ram + BZ_PML4, 0, 2 * PAGE_SIZE + (size_t)gib * PAGE_SIZE);
	put_le64(ram + BZ_PML4, BZ_PDPT | PTE_PRESENT | PTE_WRITE);
	for (unsigned g = 0; g < gib; g++) {
		uint64_t pd = BZ_PD + (uint64_t)g * PAGE_SIZE;

		put_le64(ram + BZ_PDPT + g * 8, pd | PTE_PRESENT | PTE_WRITE);
		for (unsigned e = 0; e < 512; e++)
			put_le64(ram + pd + e * 8, ((uint64_t)g * GiB + (uint64_t)e * BZ_PAGE_2M) |
							   PTE_PRESENT | PTE_WRITE | PTE_PS);
	}
}

/* Setup-header fields the loader fills in, boot.rst "Details of Header Fields" */
static void bz_fill_zero_page(uint8_t *zp, const struct bzimage_info *bi, const uint8_t *image,
			      const struct linux_boot_params *p, const struct linux_entry *out,
			      const struct linux_e820_entry *map, unsigned entries)
{
	memset(zp, 0, PAGE_SIZE);
	/* Copy the header exactly as long as the kernel says; the sentinel at 0x1ef stays 0 */
	memcpy(zp + BP_HDR, image + BP_HDR, bi->header_end - BP_HDR);
	zp[BZ_HDR_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
	zp[BZ_HDR_LOADFLAGS] = (uint8_t)((bi->loadflags | BZ_LOADED_HIGH | BZ_CAN_USE_HEAP) &
					 ~BZ_KEEP_SEGMENTS);
	put_le16(zp + BZ_HDR_HEAP_END_PTR, BZ_HEAP_END);
	if (out->kernel_addr < BZ_4GIB)
		put_le32(zp + BZ_HDR_CODE32_START, (uint32_t)out->kernel_addr);
	put_le32(zp + BZ_HDR_CMD_LINE_PTR, (uint32_t)out->cmdline_addr);
	put_le32(zp + BP_EXT_CMD_LINE_PTR, (uint32_t)(out->cmdline_addr >> 32));
	put_le32(zp + BZ_HDR_RAMDISK_IMAGE, (uint32_t)out->initrd_addr);
	put_le32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(out->initrd_addr >> 32));
	put_le32(zp + BZ_HDR_RAMDISK_SIZE, (uint32_t)out->initrd_size);
	put_le32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(out->initrd_size >> 32));
	if (bi->version >= BZ_VERSION_RSDP)
		put_le64(zp + BP_ACPI_RSDP_ADDR, p->acpi_rsdp);
	zp[BP_E820_ENTRIES] = (uint8_t)entries;
	for (unsigned i = 0; i < entries; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;

		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
	}
}

static void bz_fill_entry(struct linux_entry *out)
{
	out->rip = out->kernel_addr + BZ_ENTRY_64_OFFSET;
	out->rsi = BZ_ZERO_PAGE;
	out->rflags = BZ_RFLAGS;
	out->cr0 = BZ_CR0;
	out->cr3 = BZ_PML4;
	out->cr4 = BZ_CR4;
	out->efer = BZ_EFER;
	out->gdt_base = BZ_GDT;
	out->gdt_limit = BZ_GDT_ENTRIES * 8 - 1;
	out->cs = BZ_BOOT_CS;
	out->ds = BZ_BOOT_DS;
	out->cs_ar = BZ_AR_CODE64;
	out->ds_ar = BZ_AR_DATA;
}

/* Kernel at pref_address if it fits, else the lowest aligned place from 16 MiB, else from 1 MiB */
static int bz_place_kernel(const struct bzimage_info *bi, uint64_t limit, const struct bz_range *obs,
			   unsigned n, struct linux_entry *out, const char **why)
{
	uint64_t align = bi->kernel_alignment;
	uint64_t len = ALIGN_UP((uint64_t)MAX(bi->kernel_size, bi->init_size), PAGE_SIZE);
	uint64_t at = bi->pref_address;
	bool found = false;

	if (at >= BZ_KERNEL_FLOOR && IS_ALIGNED(at, align) && at <= limit && len <= limit - at) {
		found = true;
		for (unsigned i = 0; i < n; i++)
			found = found && !bz_overlaps(at, at + len, &obs[i]);
	}
	if (!found)
		found = bz_first_fit(BZ_KERNEL_FIRST_TRY, limit, len, align, obs, n, &at) ||
			bz_first_fit(BZ_KERNEL_FLOOR, limit, len, align, obs, n, &at);
	if (!found) {
		fmt_snprintf(out->why_buf, sizeof(out->why_buf),
			     "kernel needs %llu KiB (init_size) on a %llu KiB boundary above 1 MiB: "
			     "needed %llu KiB of RAM, guest has %llu KiB",
			     bz_kib(len), bz_kib(align), bz_kib(ALIGN_UP(BZ_KERNEL_FLOOR, align) + len),
			     bz_kib(limit));
		return bz_fail(why, out->why_buf, -E_RANGE);
	}
	out->kernel_addr = at;
	out->kernel_end = at + len;
	return 0;
}

/* Initrd as high as allowed, 4 KiB aligned, above 1 MiB and clear of the kernel and extras */
static int bz_place_initrd(const struct bzimage_info *bi, uint64_t ram_size, size_t size,
			   struct bz_range *obs, unsigned n, struct linux_entry *out, const char **why)
{
	uint64_t hi = ram_size, at;

	if (size == 0)
		return 0;
	if (!(bi->xloadflags & BZ_XLF_CAN_BE_LOADED_ABOVE_4G))
		hi = MIN(hi, (uint64_t)bi->initrd_addr_max + 1);
	obs[n++] = (struct bz_range){ out->kernel_addr, out->kernel_end };
	if (!bz_last_fit(BZ_KERNEL_FLOOR, hi, size, PAGE_SIZE, obs, n, &at)) {
		fmt_snprintf(out->why_buf, sizeof(out->why_buf),
			     "initrd of %llu KiB does not fit below 0x%llx beside the kernel at "
			     "0x%llx-0x%llx: needs %llu KiB, guest has %llu KiB",
			     bz_kib(size), (unsigned long long)hi,
			     (unsigned long long)out->kernel_addr, (unsigned long long)out->kernel_end,
			     bz_kib(ALIGN_UP(out->kernel_end, PAGE_SIZE) + size), bz_kib(ram_size));
		return bz_fail(why, out->why_buf, -E_RANGE);
	}
	out->initrd_addr = at;
	out->initrd_size = size;
	return 0;
}

int bzimage_load(const struct bzimage_info *bi, const void *image, size_t size, uint8_t *ram,
		 uint64_t ram_size, const struct linux_boot_params *p, struct linux_entry *out,
		 const char **why)
{
	struct linux_e820_entry map[3 + 3 * BZ_MAX_EXTRA_E820];
	struct bz_range obs[BZ_MAX_OBSTACLES + 1];
	const char *cmdline = p->cmdline ? p->cmdline : "";
	const char *ignored;
	unsigned n = 0, entries;
	size_t cmdline_len;
	uint64_t mapped, high_size = 0;
	int err;

	if (!why)
		why = &ignored;
	*why = "";
	memset(out, 0, sizeof(*out));
	if (!image || !ram || bi->kernel_size <= BZ_ENTRY_64_OFFSET ||
	    (uint64_t)bi->kernel_offset + bi->kernel_size > size || bi->header_end > BP_HDR_MAX_END ||
	    bi->header_end < BZ_HDR_MIN_END + 4 || bi->kernel_alignment < PAGE_SIZE ||
	    (bi->kernel_alignment & (bi->kernel_alignment - 1)))
		return bz_fail(why, "kernel description does not match the image", -E_INVAL);
	if (p->initrd_size && !p->initrd)
		return bz_fail(why, "initrd size given without its data", -E_INVAL);
	if (ram_size < BZ_KERNEL_FLOOR + BZ_PAGE_2M)
		return bz_fail(why, "guest RAM smaller than 3 MiB", -E_RANGE);
	/* Beyond p->ram_below_4g, the buffer's RAM is the guest's from 4 GiB on: everything the
	 * loader places goes in the low part, which guest-physical and buffer offsets share. */
	if (p->ram_below_4g && p->ram_below_4g < ram_size) {
		if (p->ram_below_4g > BZ_HIGH_RAM_BASE)
			return bz_fail(why, "RAM below 4 GiB larger than 4 GiB", -E_INVAL);
		high_size = ram_size - p->ram_below_4g;
		ram_size = p->ram_below_4g;
	}
	err = bz_check_extra(p, ram_size, why);
	if (err)
		return err;

	/* cmdline_size excludes the terminating NUL, boot.rst "Details of Header Fields" */
	cmdline_len = strnlen(cmdline, BZ_CMDLINE_MAX);
	if (cmdline_len > bi->cmdline_size || cmdline_len >= BZ_CMDLINE_MAX) {
		fmt_snprintf(out->why_buf, sizeof(out->why_buf),
			     "command line of %zu%s bytes is longer than the kernel's %u", cmdline_len,
			     cmdline_len >= BZ_CMDLINE_MAX ? "+" : "",
			     MIN(bi->cmdline_size, (uint32_t)BZ_CMDLINE_MAX - 1));
		return bz_fail(why, out->why_buf, -E_RANGE);
	}
	out->cmdline_addr = BZ_CMDLINE;
	out->zero_page = BZ_ZERO_PAGE;

	/* At least 4 GiB identity-mapped, all of RAM when more, within the page directories we have */
	mapped = MAX(ALIGN_UP(ram_size, (uint64_t)GiB), 4 * (uint64_t)GiB);
	mapped = MIN(mapped, (uint64_t)BZ_MAX_IDENTITY_GIB * GiB);
	out->identity_mapped = mapped;

	obs[n++] = (struct bz_range){ 0, BZ_KERNEL_FLOOR };
	for (unsigned i = 0; i < p->e820_extra_count; i++)
		obs[n++] = (struct bz_range){ p->e820_extra[i].addr,
					      p->e820_extra[i].addr + p->e820_extra[i].size };
	/* The kernel runs from the identity map before it builds its own page tables */
	err = bz_place_kernel(bi, MIN(ram_size, mapped), obs, n, out, why);
	if (err)
		return err;
	err = bz_place_initrd(bi, ram_size, p->initrd_size, obs, n, out, why);
	if (err)
		return err;
	entries = bz_build_e820(p, ram_size, map);
	/* RAM past the low window sits above 4 GiB, after the hole where the platform's MMIO lives */
	if (high_size && entries < ARRAY_SIZE(map)) {
		map[entries++] = (struct linux_e820_entry){ .addr = BZ_HIGH_RAM_BASE, .size = high_size,
							    .type = LINUX_E820_RAM };
	}

	/* All checks done: write guest RAM */
	memcpy(ram + out->kernel_addr, (const uint8_t *)image + bi->kernel_offset, bi->kernel_size);
	if (p->initrd_size)
		memcpy(ram + out->initrd_addr, p->initrd, p->initrd_size);
	memcpy(ram + BZ_CMDLINE, cmdline, cmdline_len + 1);
	memset(ram + BZ_GDT, 0, PAGE_SIZE);
	put_le64(ram + BZ_GDT + BZ_BOOT_CS, BZ_GDT_CODE64);
	put_le64(ram + BZ_GDT + BZ_BOOT_DS, BZ_GDT_DATA);
	bz_build_page_tables(ram, mapped);
	bz_fill_zero_page(ram + BZ_ZERO_PAGE, bi, image, p, out, map, entries);
	out->e820_entries = entries;
	bz_fill_entry(out);
	return 0;
}
