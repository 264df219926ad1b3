/* Multiboot (v1) guest images: header search, ELF32 or a.out-kludge layout, loading, boot info. */
#include "kernel/mb1.h"
#include "kernel/lib.h"

/* Header flags, Multiboot 0.6.96 section 3.1.2 */
#define MB1_FLAG_PAGE_ALIGN 0x00000001u
#define MB1_FLAG_MEMORY_INFO 0x00000002u
#define MB1_FLAG_VIDEO_MODE 0x00000004u
#define MB1_FLAG_AOUT_KLUDGE 0x00010000u
#define MB1_FLAGS_REQUIRED 0x0000ffffu
/* Modules are always page aligned, memory info always given; a video request is tolerated, unmet */
#define MB1_FLAGS_HONOURED (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO | MB1_FLAG_VIDEO_MODE)

/* Header layout, Multiboot 0.6.96 section 3.1.1: magic, flags, checksum, then the address fields */
#define MB1_HEADER_SIZE 12
#define MB1_HEADER_AOUT_SIZE 32

/* Boot information flags, Multiboot 0.6.96 section 3.3 */
#define MB1_INFO_MEMORY 0x00000001u
#define MB1_INFO_CMDLINE 0x00000004u
#define MB1_INFO_MODS 0x00000008u
#define MB1_INFO_MEM_MAP 0x00000040u
#define MB1_INFO_LOADER_NAME 0x00000200u

/* struct multiboot_info up to its framebuffer fields, Multiboot 0.6.96 section 3.3 */
#define MB1_INFO_SIZE 116
#define MB1_INFO_OFF_FLAGS 0
#define MB1_INFO_OFF_MEM_LOWER 4
#define MB1_INFO_OFF_MEM_UPPER 8
#define MB1_INFO_OFF_CMDLINE 16
#define MB1_INFO_OFF_MODS_COUNT 20
#define MB1_INFO_OFF_MODS_ADDR 24
#define MB1_INFO_OFF_MMAP_LENGTH 44
#define MB1_INFO_OFF_MMAP_ADDR 48
#define MB1_INFO_OFF_LOADER_NAME 64

#define MB1_MODULE_ENTRY_SIZE 16 /* mod_start, mod_end, string, reserved */
#define MB1_MMAP_ENTRY_SIZE 24   /* size, base_addr, length, type */
#define MB1_MMAP_ENTRIES 3
#define MB1_MMAP_AVAILABLE 1
#define MB1_MMAP_RESERVED 2

#define MB1_MIN_RAM (2 * MiB)
#define MB1_4GIB 0x100000000ULL

/* ELF32 header and program header, System V ABI (gABI) chapter 4 and 5 */
#define ELF_EHDR_SIZE 52
#define ELF_PHDR_SIZE 32
#define ELF_EI_CLASS 4
#define ELF_EI_DATA 5
#define ELF_CLASS32 1
#define ELF_DATA2LSB 1
#define ELF_ET_EXEC 2
#define ELF_EM_386 3
#define ELF_PT_LOAD 1
#define ELF_OFF_TYPE 16
#define ELF_OFF_MACHINE 18
#define ELF_OFF_ENTRY 24
#define ELF_OFF_PHOFF 28
#define ELF_OFF_PHENTSIZE 42
#define ELF_OFF_PHNUM 44
#define ELF_PH_OFF_TYPE 0
#define ELF_PH_OFF_OFFSET 4
#define ELF_PH_OFF_VADDR 8
#define ELF_PH_OFF_PADDR 12
#define ELF_PH_OFF_FILESZ 16
#define ELF_PH_OFF_MEMSZ 20

static int mb1_fail(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

/* A reason naming a header flag or segment number n (< 100): "<before><n><after>", written
 * into out->why so that parsing stays reentrant without a table of every variant. */
static int mb1_fail_n(struct mb1_image *out, const char **why, const char *before, unsigned n,
		      const char *after, int err)
{
	size_t len = str_copy(out->why, before, sizeof(out->why));

	if (n >= 10)
		out->why[len++] = (char)('0' + n / 10);
	out->why[len++] = (char)('0' + n % 10);
	str_copy(out->why + len, after, sizeof(out->why) - len);
	return mb1_fail(why, out->why, err);
}

static void mb1_add_segment(struct mb1_image *out, uint32_t file_offset, uint32_t file_size,
			    uint32_t load_addr, uint32_t mem_size)
{
	struct mb1_segment *seg = &out->segments[out->segment_count++];
	uint32_t end = load_addr + mem_size;

	seg->file_offset = file_offset;
	seg->file_size = file_size;
	seg->load_addr = load_addr;
	seg->mem_size = mem_size;
	if (out->segment_count == 1 || load_addr < out->load_start)
		out->load_start = load_addr;
	if (out->segment_count == 1 || end > out->load_end)
		out->load_end = end;
}

/* The address fields of flag 16 replace the ELF headers, Multiboot 0.6.96 section 3.1.3 */
static int mb1_parse_aout(const uint8_t *p, size_t len, struct mb1_image *out, const char **why)
{
	const uint8_t *hdr = p + out->header_offset;
	uint32_t header_addr = get_le32(hdr + 12);
	uint32_t load_addr = get_le32(hdr + 16);
	uint32_t load_end_addr = get_le32(hdr + 20);
	uint32_t bss_end_addr = get_le32(hdr + 24);
	uint64_t file_offset, available, file_size, mem_size;

	if (load_addr > header_addr)
		return mb1_fail(why, "a.out kludge load_addr is above header_addr", -E_INVAL);
	if (header_addr - load_addr > out->header_offset)
		return mb1_fail(why, "a.out kludge load_addr lies before the start of the image",
				-E_INVAL);
	file_offset = out->header_offset - (header_addr - load_addr);
	available = len - file_offset;
	if (load_end_addr != 0 && load_end_addr < load_addr)
		return mb1_fail(why, "a.out kludge load_end_addr is below load_addr", -E_INVAL);
	/* A zero load_end_addr means text and data run to the end of the file */
	file_size = load_end_addr ? load_end_addr - load_addr : available;
	if (file_size > available)
		return mb1_fail(why, "a.out kludge load_end_addr lies past the end of the image",
				-E_TRUNC);
	if (bss_end_addr != 0 && bss_end_addr < load_addr + file_size)
		return mb1_fail(why, "a.out kludge bss_end_addr is below the end of the data",
				-E_INVAL);
	/* A zero bss_end_addr means there is no bss */
	mem_size = bss_end_addr ? bss_end_addr - load_addr : file_size;
	if (mem_size == 0)
		return mb1_fail(why, "a.out kludge loads nothing", -E_INVAL);
	if (load_addr + mem_size > UINT32_MAX)
		return mb1_fail(why, "a.out kludge image ends above 4 GiB", -E_INVAL);

	out->aout_kludge = true;
	out->entry = get_le32(hdr + 28);
	mb1_add_segment(out, (uint32_t)file_offset, (uint32_t)file_size, load_addr,
			(uint32_t)mem_size);
	return 0;
}

/* Loads PT_LOAD segments at p_paddr and maps e_entry through its segment, as GRUB does */
static int mb1_parse_elf(const uint8_t *p, size_t len, struct mb1_image *out, const char **why)
{
	uint32_t e_entry, phoff;
	uint16_t phentsize, phnum;
	bool entry_found = false;

	if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return mb1_fail(why, "not an ELF file and the header has no a.out kludge",
				-E_INVAL);
	if (len < ELF_EHDR_SIZE)
		return mb1_fail(why, "ELF header truncated", -E_TRUNC);
	if (p[ELF_EI_CLASS] != ELF_CLASS32)
		return mb1_fail(why, "not a 32-bit ELF file", -E_INVAL);
	if (p[ELF_EI_DATA] != ELF_DATA2LSB)
		return mb1_fail(why, "not a little-endian ELF file", -E_INVAL);
	if (get_le16(p + ELF_OFF_TYPE) != ELF_ET_EXEC)
		return mb1_fail(why, "ELF file is not an executable (ET_EXEC)", -E_INVAL);
	if (get_le16(p + ELF_OFF_MACHINE) != ELF_EM_386)
		return mb1_fail(why, "ELF machine is not i386 (EM_386)", -E_INVAL);

	e_entry = get_le32(p + ELF_OFF_ENTRY);
	phoff = get_le32(p + ELF_OFF_PHOFF);
	phentsize = get_le16(p + ELF_OFF_PHENTSIZE);
	phnum = get_le16(p + ELF_OFF_PHNUM);
	if (phnum == 0)
		return mb1_fail(why, "ELF file has no program headers", -E_INVAL);
	if (phentsize < ELF_PHDR_SIZE)
		return mb1_fail(why, "ELF program header entry size is too small", -E_INVAL);
	if ((uint64_t)phoff + (uint64_t)phnum * phentsize > len)
		return mb1_fail(why, "ELF program headers extend past the end of the image",
				-E_TRUNC);

	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (size_t)i * phentsize;
		uint32_t offset = get_le32(ph + ELF_PH_OFF_OFFSET);
		uint32_t vaddr = get_le32(ph + ELF_PH_OFF_VADDR);
		uint32_t paddr = get_le32(ph + ELF_PH_OFF_PADDR);
		uint32_t filesz = get_le32(ph + ELF_PH_OFF_FILESZ);
		uint32_t memsz = get_le32(ph + ELF_PH_OFF_MEMSZ);
		unsigned n = out->segment_count; /* among the loadable (PT_LOAD, non-empty) ones */

		if (get_le32(ph + ELF_PH_OFF_TYPE) != ELF_PT_LOAD || memsz == 0)
			continue;
		if (n == MB1_MAX_SEGMENTS)
			return mb1_fail(why, "more than 8 loadable ELF segments", -E_NOTSUP);
		if (filesz > memsz)
			return mb1_fail_n(out, why, "ELF segment ", n,
					  " has a file size larger than its memory size", -E_INVAL);
		if (filesz == 0)
			offset = 0;
		else if ((uint64_t)offset + filesz > len)
			return mb1_fail_n(out, why, "ELF segment ", n,
					  " extends past the end of the image", -E_TRUNC);
		if ((uint64_t)paddr + memsz > UINT32_MAX)
			return mb1_fail_n(out, why, "ELF segment ", n, " ends above 4 GiB", -E_INVAL);
		/* e_entry is virtual; GRUB re-expresses it in its segment's physical terms */
		if (!entry_found && e_entry >= vaddr && e_entry - vaddr < memsz) {
			out->entry = e_entry - vaddr + paddr;
			entry_found = true;
		}
		mb1_add_segment(out, offset, filesz, paddr, memsz);
	}
	if (out->segment_count == 0)
		return mb1_fail(why, "ELF file has no loadable segments", -E_INVAL);
	if (!entry_found)
		return mb1_fail(why, "ELF entry point is not in a loadable segment", -E_INVAL);
	return 0;
}

int mb1_parse(const void *image, size_t len, struct mb1_image *out, const char **why)
{
	const uint8_t *p = image;
	size_t limit = MIN(len, (size_t)MB1_SEARCH_LIMIT);
	const char *ignored;
	bool bad_checksum = false;
	bool found = false;
	uint32_t flags = 0, unsupported;
	size_t off;
	int err;

	if (!why)
		why = &ignored;
	*why = "";
	memset(out, 0, sizeof(*out));
	if (!p && len)
		return mb1_fail(why, "no image", -E_INVAL);

	/* 4-byte aligned and wholly inside the first 8192 bytes, Multiboot 0.6.96 section 3.1.1 */
	for (off = 0; off + MB1_HEADER_SIZE <= limit; off += 4) {
		uint32_t magic = get_le32(p + off);
		uint32_t checksum = get_le32(p + off + 8);

		if (magic != MB1_HEADER_MAGIC)
			continue;
		flags = get_le32(p + off + 4);
		/* magic + flags + checksum must be zero mod 2^32, Multiboot 0.6.96 section 3.1.2 */
		if ((uint32_t)(magic + flags + checksum) != 0) {
			bad_checksum = true;
			continue;
		}
		found = true;
		break;
	}
	if (!found) {
		if (bad_checksum)
			return mb1_fail(why, "bad header checksum", -E_INVAL);
		return mb1_fail(why, "no Multiboot header in the first 8 KiB", -E_NOENT);
	}
	out->header_offset = (uint32_t)off;
	out->header_flags = flags;

	unsupported = flags & MB1_FLAGS_REQUIRED & ~MB1_FLAGS_HONOURED;
	if (unsupported)
		return mb1_fail_n(out, why, "header requires flag bit ",
				  (unsigned)__builtin_ctz(unsupported), ", unknown to Multiboot 0.6.96",
				  -E_NOTSUP);

	if (flags & MB1_FLAG_AOUT_KLUDGE) {
		if (off + MB1_HEADER_AOUT_SIZE > len)
			return mb1_fail(why, "a.out kludge fields extend past the end of the image",
					-E_TRUNC);
		if (off + MB1_HEADER_AOUT_SIZE > MB1_SEARCH_LIMIT)
			return mb1_fail(why, "a.out kludge fields extend past the first 8 KiB",
					-E_INVAL);
		err = mb1_parse_aout(p, len, out, why);
	} else {
		err = mb1_parse_elf(p, len, out, why);
	}
	if (err) {
		out->segment_count = 0;
		out->load_start = out->load_end = 0;
	}
	return err;
}

int mb1_load(const struct mb1_image *im, const void *image, size_t len, uint8_t *ram,
	     uint64_t ram_size)
{
	const uint8_t *p = image;

	if (im->segment_count > MB1_MAX_SEGMENTS)
		return -E_INVAL;
	/* Check every segment before writing any, so a refused image leaves RAM untouched */
	for (unsigned i = 0; i < im->segment_count; i++) {
		const struct mb1_segment *seg = &im->segments[i];
		uint64_t end = (uint64_t)seg->load_addr + seg->mem_size;

		if (seg->file_size > seg->mem_size ||
		    (uint64_t)seg->file_offset + seg->file_size > len)
			return -E_INVAL;
		if (end > ram_size)
			return -E_RANGE;
	}
	for (unsigned i = 0; i < im->segment_count; i++) {
		const struct mb1_segment *seg = &im->segments[i];

		memcpy(ram + seg->load_addr, p + seg->file_offset, seg->file_size);
		memset(ram + seg->load_addr + seg->file_size, 0, seg->mem_size - seg->file_size);
	}
	return 0;
}

static const char *mb1_string_or_empty(const char *s)
{
	return s ? s : "";
}

/* Lays out the information from its start: block, strings, module list, memory map. Gives the
 * offsets and the total size; false when it would exceed MB1_INFO_MAX. */
static bool mb1_info_layout(const struct mb1_boot_params *p, uint64_t *mods_at, uint64_t *mmap_at,
			    uint64_t *size)
{
	uint64_t window = MB1_INFO_MAX;
	uint64_t at = MB1_INFO_SIZE;

	at += strnlen(mb1_string_or_empty(p->cmdline), window) + 1;
	at += strnlen(mb1_string_or_empty(p->loader_name), window) + 1;
	at = ALIGN_UP(at, 4);
	*mods_at = at;
	at += (uint64_t)p->module_count * MB1_MODULE_ENTRY_SIZE;
	for (unsigned i = 0; i < p->module_count && at <= window; i++)
		at += strnlen(mb1_string_or_empty(p->modules[i].string), window) + 1;
	at = ALIGN_UP(at, 4);
	*mmap_at = at;
	at += MB1_MMAP_ENTRIES * MB1_MMAP_ENTRY_SIZE;
	*size = at;
	return at <= window;
}

/* Where a module of size bytes goes when the one before ended at prev: page aligned, and not
 * across the EBDA and ROM hole that the memory map reserves (it goes to 1 MiB instead). */
static uint64_t mb1_module_at(uint64_t prev, uint64_t size)
{
	uint64_t addr = ALIGN_UP(prev, PAGE_SIZE);

	if (addr < MiB && addr + size > MB1_LOW_MEM_END)
		addr = MiB;
	return addr;
}

/* Modules go one after the other from modules_start, within RAM and 4 GiB; *end gets the end
 * of the last one (modules_start when there is none). */
static int mb1_place_modules(uint8_t *ram, const struct mb1_boot_params *p, uint8_t *list,
			     bool copy, uint64_t *end_out)
{
	uint64_t next = p->modules_start;

	for (unsigned i = 0; i < p->module_count; i++) {
		const struct mb1_module *mod = &p->modules[i];
		uint64_t addr = mb1_module_at(next, mod->size);
		uint64_t end = addr + mod->size;

		if (mod->size && !mod->data)
			return -E_INVAL;
		if (mod->size > p->ram_size || end > p->ram_size || end > UINT32_MAX)
			return -E_RANGE;
		if (copy) {
			if (mod->size)
				memcpy(ram + addr, mod->data, mod->size);
			put_le32(list + i * MB1_MODULE_ENTRY_SIZE, (uint32_t)addr);
			put_le32(list + i * MB1_MODULE_ENTRY_SIZE + 4, (uint32_t)end);
		}
		next = end;
	}
	*end_out = next;
	return 0;
}

static bool mb1_overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* Whether [at, end) is clear of every image segment and module. */
static bool mb1_info_clear(const struct mb1_boot_params *p, uint64_t at, uint64_t end)
{
	uint64_t next = p->modules_start;

	for (unsigned i = 0; p->image && i < p->image->segment_count && i < MB1_MAX_SEGMENTS; i++) {
		const struct mb1_segment *seg = &p->image->segments[i];

		if (mb1_overlap(at, end, seg->load_addr, (uint64_t)seg->load_addr + seg->mem_size))
			return false;
	}
	for (unsigned i = 0; i < p->module_count; i++) {
		uint64_t addr = mb1_module_at(next, p->modules[i].size);

		next = addr + p->modules[i].size;
		if (mb1_overlap(at, end, addr, next))
			return false;
	}
	return true;
}

/* The information block's candidate starts: MB1_INFO_BASE, MB1_LOW_SEARCH_START, and the page
 * after each segment, after each module and after them all. Every gap starts at one of them. */
static uint64_t mb1_info_candidate(const struct mb1_boot_params *p, unsigned k, uint64_t all_end)
{
	unsigned segs = p->image ? MIN(p->image->segment_count, (unsigned)MB1_MAX_SEGMENTS) : 0;
	uint64_t next = p->modules_start;

	if (k == 0)
		return MB1_INFO_BASE;
	if (k == 1)
		return MB1_LOW_SEARCH_START;
	if (k == 2)
		return ALIGN_UP(MAX(all_end, (uint64_t)MiB), PAGE_SIZE);
	k -= 3;
	if (k < segs)
		return ALIGN_UP((uint64_t)p->image->segments[k].load_addr +
				p->image->segments[k].mem_size, PAGE_SIZE);
	k -= segs;
	for (unsigned i = 0; i <= k && i < p->module_count; i++)
		next = mb1_module_at(next, p->modules[i].size) + p->modules[i].size;
	return ALIGN_UP(next, PAGE_SIZE);
}

/* Preference: low memory from MB1_INFO_BASE up, then low memory below it, then high memory. */
static uint64_t mb1_info_rank(uint64_t at)
{
	if (at >= MB1_INFO_BASE && at < MiB)
		return at;
	return at < MiB ? at + (1ull << 40) : at + (1ull << 41);
}

/* The first gap of size bytes that neither the image nor a module uses. */
static bool mb1_info_place(const struct mb1_boot_params *p, uint64_t size, uint64_t all_end,
			   uint64_t *base)
{
	unsigned segs = p->image ? MIN(p->image->segment_count, (unsigned)MB1_MAX_SEGMENTS) : 0;
	unsigned candidates = 3 + segs + p->module_count;
	uint64_t high_end = MIN(p->ram_size, MB1_4GIB);
	bool found = false;

	for (unsigned k = 0; k < candidates; k++) {
		uint64_t at = mb1_info_candidate(p, k, all_end);
		uint64_t limit = at < MiB ? MB1_LOW_MEM_END : high_end;

		if (at < MB1_LOW_SEARCH_START || at + size > limit || !mb1_info_clear(p, at, at + size))
			continue;
		if (!found || mb1_info_rank(at) < mb1_info_rank(*base))
			*base = at;
		found = true;
	}
	return found;
}

static void mb1_put_string(uint8_t *ram, uint64_t *at, const char *s, uint32_t *gpa)
{
	size_t n = strlen(mb1_string_or_empty(s)) + 1;

	*gpa = (uint32_t)*at;
	memcpy(ram + *at, mb1_string_or_empty(s), n);
	*at += n;
}

static void mb1_put_mmap_entry(uint8_t *entry, uint64_t base, uint64_t length, uint32_t type)
{
	/* size counts the bytes after itself, Multiboot 0.6.96 section 3.3 */
	put_le32(entry, MB1_MMAP_ENTRY_SIZE - 4);
	put_le64(entry + 4, base);
	put_le64(entry + 12, length);
	put_le32(entry + 20, type);
}

int mb1_boot_setup(uint8_t *ram, const struct mb1_boot_params *p, uint32_t *mbi_gpa)
{
	uint64_t mods_off, mmap_off, size, at, upper_end, modules_end, all_end, base = 0;
	uint8_t *info, *mmap;
	uint32_t gpa;
	int err;

	if (p->module_count && !p->modules)
		return -E_INVAL;
	/* The map below reserves 0x9fc00..1 MiB and gives 1 MiB up as RAM: there must be some */
	if (p->ram_size < MB1_MIN_RAM)
		return -E_RANGE;
	if (!mb1_info_layout(p, &mods_off, &mmap_off, &size))
		return -E_RANGE;
	err = mb1_place_modules(ram, p, NULL, false, &modules_end);
	if (err)
		return err;
	all_end = MAX(modules_end, (uint64_t)p->modules_start);
	if (p->image)
		all_end = MAX(all_end, (uint64_t)p->image->load_end);
	if (!mb1_info_place(p, size, all_end, &base))
		return -E_RANGE;

	info = ram + base;
	memset(info, 0, MB1_INFO_SIZE);
	mb1_place_modules(ram, p, info + mods_off, true, &modules_end);
	at = base + MB1_INFO_SIZE;
	mb1_put_string(ram, &at, p->cmdline, &gpa);
	put_le32(info + MB1_INFO_OFF_CMDLINE, gpa);
	mb1_put_string(ram, &at, p->loader_name, &gpa);
	put_le32(info + MB1_INFO_OFF_LOADER_NAME, gpa);
	at = base + mods_off + (uint64_t)p->module_count * MB1_MODULE_ENTRY_SIZE;
	for (unsigned i = 0; i < p->module_count; i++) {
		uint8_t *entry = info + mods_off + i * MB1_MODULE_ENTRY_SIZE;

		mb1_put_string(ram, &at, p->modules[i].string, &gpa);
		put_le32(entry + 8, gpa);
		put_le32(entry + 12, 0);
	}
	put_le32(info + MB1_INFO_OFF_MODS_COUNT, p->module_count);
	put_le32(info + MB1_INFO_OFF_MODS_ADDR, (uint32_t)(base + mods_off));

	mmap = info + mmap_off;
	mb1_put_mmap_entry(mmap, 0, MB1_LOW_MEM_END, MB1_MMAP_AVAILABLE);
	mb1_put_mmap_entry(mmap + MB1_MMAP_ENTRY_SIZE, MB1_LOW_MEM_END, MiB - MB1_LOW_MEM_END,
			   MB1_MMAP_RESERVED);
	mb1_put_mmap_entry(mmap + 2 * MB1_MMAP_ENTRY_SIZE, MiB, p->ram_size - MiB,
			   MB1_MMAP_AVAILABLE);
	put_le32(info + MB1_INFO_OFF_MMAP_LENGTH, MB1_MMAP_ENTRIES * MB1_MMAP_ENTRY_SIZE);
	put_le32(info + MB1_INFO_OFF_MMAP_ADDR, (uint32_t)(base + mmap_off));

	/* mem_lower counts KiB from 0, mem_upper KiB from 1 MiB, Multiboot 0.6.96 section 3.3 */
	upper_end = MIN(p->ram_size, MB1_4GIB);
	put_le32(info + MB1_INFO_OFF_MEM_LOWER, MB1_LOW_MEM_END / KiB);
	put_le32(info + MB1_INFO_OFF_MEM_UPPER, (uint32_t)((upper_end - MiB) / KiB));
	put_le32(info + MB1_INFO_OFF_FLAGS, MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS |
						    MB1_INFO_MEM_MAP | MB1_INFO_LOADER_NAME);
	*mbi_gpa = (uint32_t)base;
	return 0;
}
