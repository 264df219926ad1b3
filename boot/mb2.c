/* Multiboot2 information parser: bounds-checked decode of the tags into struct boot_info. */
#include "boot/boot_info.h"
#include "kernel/lib.h"

/* Tag types, Multiboot2 spec 3.6 */
enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_BASIC_MEMINFO = 4,
	MB2_TAG_MMAP = 6,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
	MB2_TAG_EFI_BS = 18,
};

#define MB2_HEADER_SIZE 8 /* u32 total_size, u32 reserved */
#define MB2_TAG_HEADER 8  /* u32 type, u32 size */
#define MB2_MMAP_ENTRY_MIN 24
#define EFI_DESC_MIN 40 /* sizeof(EFI_MEMORY_DESCRIPTOR), UEFI spec 7.2 GetMemoryMap() */
#define EFI_PAGE_SIZE 4096
#define RSDP_V1_SIZE 20 /* ACPI 6.5 5.2.5.3 */
#define RSDP_REVISION_OFFSET 15

/* EFI_MEMORY_TYPE values, UEFI spec 7.2 */
enum efi_mem_type {
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BOOT_SERVICES_CODE = 3,
	EFI_BOOT_SERVICES_DATA = 4,
	EFI_CONVENTIONAL_MEMORY = 7,
	EFI_UNUSABLE_MEMORY = 8,
	EFI_ACPI_RECLAIM_MEMORY = 9,
	EFI_ACPI_MEMORY_NVS = 10,
};

/* One tag being decoded: its bytes (header included) and its size, checked against the MBI. */
struct mb2_tag {
	const uint8_t *data;
	uint32_t size;
};

/* Copies the NUL-terminated string at tag offset off; the NUL must lie inside the tag. */
static int mb2_string(const struct mb2_tag *tag, uint32_t off, char *dst, size_t dst_size)
{
	const char *s = (const char *)tag->data + off;

	if (off >= tag->size || strnlen(s, tag->size - off) == tag->size - off)
		return -E_INVAL;
	str_copy(dst, s, dst_size);
	return 0;
}

static void mb2_mmap_append(struct boot_info *out, uint64_t base, uint64_t length, uint32_t type,
			    bool merge)
{
	struct boot_mem_range *last = out->mmap_count ? &out->mmap[out->mmap_count - 1] : NULL;

	if (!length)
		return;
	if (merge && last && last->type == type && last->base + last->length == base) {
		last->length += length;
		return;
	}
	if (out->mmap_count < BOOT_MAX_MMAP)
		out->mmap[out->mmap_count++] = (struct boot_mem_range){ base, length, type };
}

/* Memory map tag, Multiboot2 spec 3.6.8 */
static int mb2_mmap(const struct mb2_tag *tag, struct boot_info *out)
{
	uint32_t entry_size, count;

	if (tag->size < 16)
		return -E_INVAL;
	entry_size = get_le32(tag->data + 8);
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % 8)
		return -E_INVAL;
	count = (tag->size - 16) / entry_size;

	out->mmap_count = 0;
	out->mmap_from_efi = false;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = tag->data + 16 + (size_t)i * entry_size;
		uint64_t base = get_le64(e), length = get_le64(e + 8);

		if (length > UINT64_MAX - base)
			return -E_RANGE;
		mb2_mmap_append(out, base, length, get_le32(e + 16), false);
	}
	return 0;
}

static uint32_t efi_to_boot_type(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return BOOT_MEM_USABLE;
	case EFI_ACPI_RECLAIM_MEMORY:
		return BOOT_MEM_ACPI_RECLAIMABLE;
	case EFI_ACPI_MEMORY_NVS:
		return BOOT_MEM_ACPI_NVS;
	case EFI_UNUSABLE_MEMORY:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

/* EFI memory map tag, Multiboot2 spec 3.6.19; only becomes the map without a tag 6 */
static int mb2_efi_mmap(const struct mb2_tag *tag, struct boot_info *out, bool have_mb2_mmap)
{
	uint32_t desc_size, count;

	if (tag->size < 16)
		return -E_INVAL;
	desc_size = get_le32(tag->data + 8);
	if (desc_size < EFI_DESC_MIN || desc_size % 8)
		return -E_INVAL;
	count = (tag->size - 16) / desc_size;

	out->has_efi_mmap = true;
	if (have_mb2_mmap)
		return 0;
	out->mmap_count = 0;
	out->mmap_from_efi = true;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = tag->data + 16 + (size_t)i * desc_size;
		uint64_t base = get_le64(d + 8), pages = get_le64(d + 24);

		if (pages > (UINT64_MAX - base) / EFI_PAGE_SIZE)
			return -E_RANGE;
		mb2_mmap_append(out, base, pages * EFI_PAGE_SIZE, efi_to_boot_type(get_le32(d)),
				true);
	}
	return 0;
}

/* ACPI RSDP tags, Multiboot2 spec 3.6.16-17: the revision comes from the RSDP itself */
static int mb2_rsdp(const struct mb2_tag *tag, struct boot_info *out, uint32_t max_len)
{
	uint32_t len;

	if (tag->size < MB2_TAG_HEADER + RSDP_V1_SIZE)
		return -E_INVAL;
	len = MIN(tag->size - MB2_TAG_HEADER, max_len);
	memset(out->rsdp, 0, sizeof(out->rsdp));
	memcpy(out->rsdp, tag->data + MB2_TAG_HEADER, len);
	out->rsdp_length = len;
	out->rsdp_revision = out->rsdp[RSDP_REVISION_OFFSET];
	out->has_rsdp = true;
	return 0;
}

static int mb2_module(const struct mb2_tag *tag, struct boot_info *out)
{
	struct boot_module *mod;
	char string[BOOT_MODULE_STRING_MAX];
	uint32_t start, end;
	int err;

	if (tag->size < 16)
		return -E_INVAL;
	start = get_le32(tag->data + 8);
	end = get_le32(tag->data + 12);
	if (start > end)
		return -E_INVAL;
	err = mb2_string(tag, 16, string, sizeof(string));
	if (err)
		return err;
	if (out->module_count >= BOOT_MAX_MODULES) {
		out->modules_dropped++;
		return 0;
	}
	mod = &out->modules[out->module_count++];
	mod->start = start;
	mod->end = end;
	memcpy(mod->string, string, sizeof(string));
	return 0;
}

static int mb2_tag(const struct mb2_tag *tag, struct boot_info *out, bool *have_mb2_mmap,
		   bool *have_new_rsdp)
{
	switch (get_le32(tag->data)) {
	case MB2_TAG_CMDLINE:
		return mb2_string(tag, MB2_TAG_HEADER, out->cmdline, sizeof(out->cmdline));
	case MB2_TAG_LOADER_NAME:
		return mb2_string(tag, MB2_TAG_HEADER, out->loader_name, sizeof(out->loader_name));
	case MB2_TAG_MODULE:
		return mb2_module(tag, out);
	case MB2_TAG_BASIC_MEMINFO:
		if (tag->size < 16)
			return -E_INVAL;
		out->mem_lower_kib = get_le32(tag->data + 8);
		out->mem_upper_kib = get_le32(tag->data + 12);
		out->has_basic_meminfo = true;
		return 0;
	case MB2_TAG_MMAP:
		*have_mb2_mmap = true;
		return mb2_mmap(tag, out);
	case MB2_TAG_EFI_MMAP:
		return mb2_efi_mmap(tag, out, *have_mb2_mmap);
	case MB2_TAG_ACPI_OLD:
		if (*have_new_rsdp)
			return tag->size < MB2_TAG_HEADER + RSDP_V1_SIZE ? -E_INVAL : 0;
		return mb2_rsdp(tag, out, RSDP_V1_SIZE);
	case MB2_TAG_ACPI_NEW:
		*have_new_rsdp = true;
		return mb2_rsdp(tag, out, sizeof(out->rsdp));
	case MB2_TAG_EFI64:
		if (tag->size < 16)
			return -E_INVAL;
		out->efi_system_table = get_le64(tag->data + 8);
		return 0;
	case MB2_TAG_EFI_BS:
		out->efi_boot_services_active = true;
		return 0;
	default:
		return 0;
	}
}

int mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys, struct boot_info *out,
	      size_t *where)
{
	const uint8_t *base = mbi;
	bool have_mb2_mmap = false, have_new_rsdp = false;
	size_t off = MB2_HEADER_SIZE, total;
	size_t dummy;
	int err;

	if (!where)
		where = &dummy;
	*where = 0;
	memset(out, 0, sizeof(*out));
	if (avail < MB2_HEADER_SIZE)
		return -E_TRUNC;
	total = get_le32(base);
	/* The fixed part plus the 8-byte end tag, Multiboot2 spec 3.6.1 */
	if (total < MB2_HEADER_SIZE + MB2_TAG_HEADER)
		return -E_INVAL;
	if (total > avail)
		return -E_TRUNC;
	out->mbi_start = mbi_phys;
	out->mbi_end = mbi_phys + total;

	/* Tags start 8-byte aligned and are padded to 8 bytes, Multiboot2 spec 3.6.1 */
	while (off <= total - MB2_TAG_HEADER) {
		struct mb2_tag tag = { .data = base + off, .size = get_le32(base + off + 4) };

		*where = off;
		if (tag.size < MB2_TAG_HEADER)
			return -E_INVAL;
		if (tag.size > total - off)
			return -E_TRUNC;
		if (get_le32(tag.data) == MB2_TAG_END) {
			*where = 0;
			return 0;
		}
		err = mb2_tag(&tag, out, &have_mb2_mmap, &have_new_rsdp);
		if (err)
			return err;
		off += ALIGN_UP((size_t)tag.size, 8);
	}
	/* Ran out of bytes before the end tag; padding of the last tag may pass total */
	*where = MIN(off, total);
	return -E_TRUNC;
}
