/* cloison.efi: UEFI memory map conversion and the multiboot2 information block it hands Cloison. */
#include "boot/efi/efi_mb2.h"
#include "boot/boot_info.h"
#include "kernel/lib.h"

/* EFI_MEMORY_TYPE and attribute bits, UEFI spec 7.2 */
enum {
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BOOT_SERVICES_CODE = 3,
	EFI_BOOT_SERVICES_DATA = 4,
	EFI_CONVENTIONAL_MEMORY = 7,
	EFI_UNUSABLE_MEMORY = 8,
	EFI_ACPI_RECLAIM_MEMORY = 9,
	EFI_ACPI_MEMORY_NVS = 10,
};
#define EFI_MEMORY_WB (1ull << 3)
#define EFI_MEMORY_RUNTIME (1ull << 63)
#define EFI_PAGE_SHIFT 12

/* Multiboot2 tag types, spec 3.6 */
enum {
	TAG_END = 0,
	TAG_CMDLINE = 1,
	TAG_LOADER_NAME = 2,
	TAG_MODULE = 3,
	TAG_BASIC_MEMINFO = 4,
	TAG_MMAP = 6,
	TAG_EFI64 = 12,
	TAG_ACPI_OLD = 14,
	TAG_ACPI_NEW = 15,
	TAG_EFI_MMAP = 17,
};
#define TAG_HEADER 8

uint32_t efi_mmap_type(uint32_t efi_type, uint64_t attribute)
{
	/* Memory the runtime services keep using stays out of everyone's way */
	if (attribute & EFI_MEMORY_RUNTIME)
		return BOOT_MEM_RESERVED;
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		/* RAM only where it can be cached write-back, as Linux and Xen read the map */
		return attribute & EFI_MEMORY_WB ? BOOT_MEM_USABLE : BOOT_MEM_RESERVED;
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

/* Which type wins where ranges overlap: the one that gives the hypervisor less. */
static unsigned mmap_strictness(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE:
		return 0;
	case BOOT_MEM_ACPI_RECLAIMABLE:
		return 1;
	case BOOT_MEM_ACPI_NVS:
		return 2;
	case BOOT_MEM_BAD:
		return 4;
	default:
		return 3;
	}
}

struct mmap_desc {
	uint64_t base, end; /* end exclusive */
	uint32_t type;
};

/* Descriptor i as a range; false when it has no pages or its end passes 2^64. */
static bool mmap_desc(const uint8_t *map, size_t desc_size, size_t i, struct mmap_desc *d)
{
	const uint8_t *p = map + i * desc_size;
	uint64_t pages = get_le64(p + 24);

	d->base = get_le64(p + 8);
	if (!pages || pages > (UINT64_MAX - d->base) >> EFI_PAGE_SHIFT)
		return false;
	d->end = d->base + (pages << EFI_PAGE_SHIFT);
	d->type = efi_mmap_type(get_le32(p), get_le64(p + 32));
	return true;
}

int efi_mmap_convert(const void *map, size_t map_size, size_t desc_size,
		     struct efi_mb2_mmap_entry *out, size_t cap, size_t *count, unsigned *ignored)
{
	size_t n, used = 0;
	unsigned skipped = 0;
	uint64_t pos = 0;

	*count = 0;
	if (ignored)
		*ignored = 0;
	if (desc_size < EFI_MB2_DESC_MIN)
		return -E_INVAL;
	n = map_size / desc_size;
	for (size_t i = 0; i < n; i++) {
		struct mmap_desc d;

		if (!mmap_desc(map, desc_size, i, &d))
			skipped++;
	}
	if (ignored)
		*ignored = skipped;

	/* Sweep upwards from 0: at each step the type at pos is the strictest of the descriptors
	 * covering it, up to the next place where any descriptor starts or ends. O(n^2), no
	 * scratch memory: firmware maps hold a few hundred descriptors. */
	for (;;) {
		bool covered = false, more = false;
		uint32_t type = 0;
		uint64_t next = UINT64_MAX;

		for (size_t i = 0; i < n; i++) {
			struct mmap_desc d;

			if (!mmap_desc(map, desc_size, i, &d))
				continue;
			if (d.base <= pos && pos < d.end) {
				if (!covered || mmap_strictness(d.type) > mmap_strictness(type))
					type = d.type;
				covered = true;
				next = MIN(next, d.end);
				more = true;
			} else if (d.base > pos) {
				next = MIN(next, d.base);
				more = true;
			}
		}
		if (!more)
			break;
		if (covered) {
			struct efi_mb2_mmap_entry *last = used ? &out[used - 1] : NULL;

			if (last && last->type == type && last->base + last->length == pos) {
				last->length += next - pos;
			} else {
				if (used >= cap)
					return -E_FULL;
				out[used++] = (struct efi_mb2_mmap_entry){ pos, next - pos, type, 0 };
			}
			*count = used;
		}
		pos = next;
	}
	return 0;
}

struct mb2_out {
	uint8_t *buf;
	size_t cap, len;
};

/* Appends a tag of payload_size bytes; returns its payload, or NULL when it does not fit. */
static uint8_t *out_tag(struct mb2_out *o, uint32_t type, size_t payload_size)
{
	size_t size = TAG_HEADER + payload_size, padded = ALIGN_UP(size, 8);
	uint8_t *tag;

	if (payload_size > o->cap || padded > o->cap - o->len)
		return NULL;
	tag = o->buf + o->len;
	memset(tag, 0, padded);
	put_le32(tag, type);
	put_le32(tag + 4, (uint32_t)size);
	o->len += padded;
	return tag + TAG_HEADER;
}

static int out_string(struct mb2_out *o, uint32_t type, const char *s)
{
	size_t n = strlen(s) + 1;
	uint8_t *p = out_tag(o, type, n);

	if (!p)
		return -E_FULL;
	memcpy(p, s, n);
	return 0;
}

static int out_module(struct mb2_out *o, const struct efi_mb2_module *m)
{
	size_t n = strlen(m->string) + 1;
	uint8_t *p;

	if (m->start > m->end)
		return -E_INVAL;
	p = out_tag(o, TAG_MODULE, 8 + n);
	if (!p)
		return -E_FULL;
	put_le32(p, m->start);
	put_le32(p + 4, m->end);
	memcpy(p + 8, m->string, n);
	return 0;
}

/* Memory-map tag, Multiboot2 spec 3.6.8: entries converted in place. */
static int out_mmap(struct mb2_out *o, const struct efi_mb2_input *in,
		    const struct efi_mb2_mmap_entry **entries, size_t *count)
{
	uint8_t *tag = o->buf + o->len;
	struct efi_mb2_mmap_entry *e;
	size_t room;
	int err;

	if (o->cap - o->len < 16)
		return -E_FULL;
	room = (o->cap - o->len - 16) / sizeof(*e);
	e = (struct efi_mb2_mmap_entry *)(tag + 16);
	err = efi_mmap_convert(in->efi_mmap, in->efi_mmap_size, in->desc_size, e, room, count, NULL);
	if (err)
		return err;
	put_le32(tag, TAG_MMAP);
	put_le32(tag + 4, (uint32_t)(16 + *count * sizeof(*e)));
	put_le32(tag + 8, sizeof(*e));
	put_le32(tag + 12, 0);
	o->len += 16 + *count * sizeof(*e);
	*entries = e;
	return 0;
}

/* Basic memory information, Multiboot2 spec 3.6.3: usable KiB from 0 and from 1 MiB. */
static int out_meminfo(struct mb2_out *o, const struct efi_mb2_mmap_entry *e, size_t count)
{
	uint64_t lower = 0, upper = 0;
	uint8_t *p;

	for (size_t i = 0; i < count; i++) {
		if (e[i].type != BOOT_MEM_USABLE)
			continue;
		if (e[i].base == 0)
			lower = MIN(e[i].length, 640 * KiB) / KiB;
		if (e[i].base <= MiB && MiB < e[i].base + e[i].length)
			upper = MIN((e[i].base + e[i].length - MiB) / KiB, (uint64_t)UINT32_MAX);
	}
	p = out_tag(o, TAG_BASIC_MEMINFO, 8);
	if (!p)
		return -E_FULL;
	put_le32(p, (uint32_t)lower);
	put_le32(p + 4, (uint32_t)upper);
	return 0;
}

/* EFI memory-map tag, Multiboot2 spec 3.6.19: descriptors repacked to a multiple of 8 bytes. */
static int out_efi_mmap(struct mb2_out *o, const struct efi_mb2_input *in)
{
	size_t stride = ALIGN_UP(in->desc_size, 8), n = in->efi_mmap_size / in->desc_size;
	const uint8_t *src = in->efi_mmap;
	uint8_t *p;

	if (n > (o->cap - 8) / stride)
		return -E_FULL;
	p = out_tag(o, TAG_EFI_MMAP, 8 + n * stride);
	if (!p)
		return -E_FULL;
	put_le32(p, (uint32_t)stride);
	put_le32(p + 4, in->desc_version);
	for (size_t i = 0; i < n; i++)
		memcpy(p + 8 + i * stride, src + i * in->desc_size, in->desc_size);
	return 0;
}

static int out_bytes(struct mb2_out *o, uint32_t type, const void *data, size_t n)
{
	uint8_t *p = out_tag(o, type, n);

	if (!p)
		return -E_FULL;
	memcpy(p, data, n);
	return 0;
}

size_t efi_mb2_size_bound(const struct efi_mb2_input *in, size_t map_cap)
{
	size_t descs = in->desc_size ? map_cap / in->desc_size : 0;
	size_t size = 8 + 8; /* header, end tag */

	size += ALIGN_UP(TAG_HEADER + strlen(in->cmdline) + 1, 8);
	size += ALIGN_UP(TAG_HEADER + strlen(in->loader_name) + 1, 8);
	for (unsigned i = 0; i < in->module_count; i++)
		size += ALIGN_UP(TAG_HEADER + 8 + strlen(in->modules[i].string) + 1, 8);
	size += 16;                                                       /* basic meminfo */
	size += 16 + (2 * descs + 1) * sizeof(struct efi_mb2_mmap_entry); /* n ranges cut 2n+1 */
	size += 16;                                                       /* EFI64 */
	size += ALIGN_UP(TAG_HEADER + EFI_MB2_RSDP_V1_SIZE, 8);
	size += ALIGN_UP(TAG_HEADER + EFI_MB2_RSDP_V2_MAX, 8);
	size += 16 + descs * ALIGN_UP(in->desc_size, 8);
	return size;
}

int efi_mb2_build(const struct efi_mb2_input *in, void *buf, size_t cap, size_t *len)
{
	struct mb2_out o = { .buf = buf, .cap = cap, .len = 8 };
	const struct efi_mb2_mmap_entry *entries = NULL;
	size_t count = 0;
	int err;

	*len = 0;
	if (in->desc_size < EFI_MB2_DESC_MIN || in->efi_mmap_size / in->desc_size == 0 ||
	    (in->rsdp_v2 && (in->rsdp_v2_length < EFI_MB2_RSDP_V1_SIZE ||
			     in->rsdp_v2_length > EFI_MB2_RSDP_V2_MAX)))
		return -E_INVAL;
	if (cap < 16)
		return -E_FULL;
	err = out_string(&o, TAG_CMDLINE, in->cmdline);
	if (!err)
		err = out_string(&o, TAG_LOADER_NAME, in->loader_name);
	for (unsigned i = 0; !err && i < in->module_count; i++)
		err = out_module(&o, &in->modules[i]);
	if (!err)
		err = out_mmap(&o, in, &entries, &count);
	if (!err)
		err = out_meminfo(&o, entries, count);
	if (!err && in->efi_system_table) {
		uint8_t *p = out_tag(&o, TAG_EFI64, 8);

		if (p)
			put_le64(p, in->efi_system_table);
		else
			err = -E_FULL;
	}
	if (!err && in->rsdp_v1)
		err = out_bytes(&o, TAG_ACPI_OLD, in->rsdp_v1, EFI_MB2_RSDP_V1_SIZE);
	if (!err && in->rsdp_v2)
		err = out_bytes(&o, TAG_ACPI_NEW, in->rsdp_v2, in->rsdp_v2_length);
	if (!err)
		err = out_efi_mmap(&o, in);
	if (!err && !out_tag(&o, TAG_END, 0))
		err = -E_FULL;
	if (err)
		return err;
	put_le32(o.buf, (uint32_t)o.len);
	put_le32(o.buf + 4, 0);
	*len = o.len;
	return 0;
}
