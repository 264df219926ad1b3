/* Host tests for boot/mb2.c: synthetic multiboot2 information blocks, truncations and fuzzing. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "boot/boot_info.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define MBI_PHYS 0x10000ULL

struct mbi {
	_Alignas(8) uint8_t buf[16384];
	size_t len;
};

struct mmap_entry {
	uint64_t base, length;
	uint32_t type, reserved;
};

struct efi_desc {
	uint32_t type, pad;
	uint64_t phys, virt, pages, attr;
};

static struct boot_info bi;
static size_t where;

static void mbi_begin(struct mbi *m)
{
	memset(m->buf, 0, sizeof(m->buf));
	m->len = 8;
}

/* Appends a tag with the given payload (zeros when NULL); returns its offset. */
static size_t mbi_tag(struct mbi *m, uint32_t type, const void *payload, size_t payload_len)
{
	size_t off = m->len;

	put_le32(m->buf + off, type);
	put_le32(m->buf + off + 4, (uint32_t)(8 + payload_len));
	if (payload)
		memcpy(m->buf + off + 8, payload, payload_len);
	m->len = off + ALIGN_UP(8 + payload_len, 8);
	return off;
}

static size_t mbi_string(struct mbi *m, uint32_t type, const char *s)
{
	return mbi_tag(m, type, s, strlen(s) + 1);
}

static size_t mbi_module(struct mbi *m, uint32_t start, uint32_t end, const char *s)
{
	uint8_t p[256];

	put_le32(p, start);
	put_le32(p + 4, end);
	memcpy(p + 8, s, strlen(s) + 1);
	return mbi_tag(m, 3, p, 8 + strlen(s) + 1);
}

static size_t mbi_mmap(struct mbi *m, const struct mmap_entry *e, unsigned n, uint32_t entry_size)
{
	static uint8_t p[8192];

	memset(p, 0, sizeof(p));
	put_le32(p, entry_size);
	put_le32(p + 4, 0);
	for (unsigned i = 0; i < n; i++)
		memcpy(p + 8 + i * entry_size, &e[i], sizeof(e[i]));
	return mbi_tag(m, 6, p, 8 + (size_t)n * entry_size);
}

static size_t mbi_efi_mmap(struct mbi *m, const struct efi_desc *d, unsigned n, uint32_t desc_size)
{
	static uint8_t p[8192];

	memset(p, 0, sizeof(p));
	put_le32(p, desc_size);
	put_le32(p + 4, 1);
	for (unsigned i = 0; i < n; i++)
		memcpy(p + 8 + i * desc_size, &d[i], MIN(sizeof(d[i]), (size_t)desc_size));
	return mbi_tag(m, 17, p, 8 + (size_t)n * desc_size);
}

static size_t mbi_rsdp(struct mbi *m, uint32_t type, uint8_t revision, uint8_t fill, size_t len)
{
	uint8_t p[64];

	memset(p, fill, sizeof(p));
	memcpy(p, "RSD PTR ", 8);
	p[15] = revision;
	return mbi_tag(m, type, p, len);
}

static size_t mbi_u64(struct mbi *m, uint32_t type, uint64_t v)
{
	return mbi_tag(m, type, &v, 8);
}

static size_t mbi_end(struct mbi *m)
{
	size_t off = mbi_tag(m, 0, NULL, 0);

	put_le32(m->buf, (uint32_t)m->len);
	return off;
}

/* Parses a copy of exactly len bytes so ASan sees any read past avail. */
static int parse_exact(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, data, len);
	err = mb2_parse(copy, len, MBI_PHYS, &bi, &where);
	free(copy);
	return err;
}

static int parse(const struct mbi *m)
{
	return parse_exact(m->buf, m->len);
}

static const struct mmap_entry bios_map[] = {
	{ 0x0, 0x9fc00, 1, 0 },
	{ 0x9fc00, 0x400, 2, 0 },
	{ 0xf0000, 0x10000, 2, 0 },
	{ 0x100000, 0xfee0000, 1, 0 },
	{ 0xffe0000, 0x20000, 3, 0 },
	{ 0xfffc0000, 0x40000, 2, 0 },
};

static void build_grub_bios(struct mbi *m)
{
	uint8_t bootdev[12] = { 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t fb[24] = { 0 };

	mbi_begin(m);
	mbi_string(m, 1, "cloison console=com1 sched=rr");
	mbi_string(m, 2, "GRUB 2.06-13+deb12u1");
	mbi_module(m, 0x200000, 0x201234, "guest0 linux");
	mbi_module(m, 0x202000, 0x202000, "");
	mbi_u64(m, 21, 0x100000); /* load base address: not decoded */
	mbi_tag(m, 4, (uint32_t[]){ 639, 261120 }, 8);
	mbi_tag(m, 5, bootdev, sizeof(bootdev));
	mbi_mmap(m, bios_map, ARRAY_SIZE(bios_map), 24);
	mbi_tag(m, 8, fb, sizeof(fb));
	mbi_rsdp(m, 14, 0, 0xaa, 20);
	mbi_end(m);
}

static void test_grub_bios(void)
{
	struct mbi m;

	build_grub_bios(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(where, 0);
	CHECK_EQ(bi.mbi_start, MBI_PHYS);
	CHECK_EQ(bi.mbi_end, MBI_PHYS + m.len);
	CHECK_STR(bi.cmdline, "cloison console=com1 sched=rr");
	CHECK_STR(bi.loader_name, "GRUB 2.06-13+deb12u1");
	CHECK(bi.has_basic_meminfo);
	CHECK_EQ(bi.mem_lower_kib, 639);
	CHECK_EQ(bi.mem_upper_kib, 261120);
	CHECK_EQ(bi.module_count, 2);
	CHECK_EQ(bi.modules_dropped, 0);
	CHECK_EQ(bi.modules[0].start, 0x200000);
	CHECK_EQ(bi.modules[0].end, 0x201234);
	CHECK_STR(bi.modules[0].string, "guest0 linux");
	CHECK_STR(bi.modules[1].string, "");
	CHECK_EQ(bi.mmap_count, ARRAY_SIZE(bios_map));
	for (unsigned i = 0; i < ARRAY_SIZE(bios_map); i++) {
		CHECK_EQ(bi.mmap[i].base, bios_map[i].base);
		CHECK_EQ(bi.mmap[i].length, bios_map[i].length);
		CHECK_EQ(bi.mmap[i].type, bios_map[i].type);
	}
	CHECK(!bi.mmap_from_efi);
	CHECK(!bi.has_efi_mmap);
	CHECK(bi.has_rsdp);
	CHECK_EQ(bi.rsdp_revision, 0);
	CHECK_EQ(bi.rsdp_length, 20);
	CHECK(memcmp(bi.rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(bi.rsdp[19], 0xaa);
	CHECK_EQ(bi.rsdp[20], 0);
	CHECK(!bi.efi_boot_services_active);
	CHECK_EQ(bi.efi_system_table, 0);
}

static const struct efi_desc uefi_map[] = {
	{ 3, 0, 0x0, 0, 1, 0xf },          /* boot services code */
	{ 7, 0, 0x1000, 0, 0x9e, 0xf },    /* conventional: merges with the above */
	{ 0, 0, 0x9f000, 0, 1, 0xf },      /* reserved */
	{ 2, 0, 0x100000, 0, 0x100, 0xf }, /* loader data */
	{ 1, 0, 0x200000, 0, 0x10, 0xf },  /* loader code: merges */
	{ 4, 0, 0x210000, 0, 0x10, 0xf },  /* boot services data: merges */
	{ 7, 0, 0x300000, 0, 0x100, 0xf }, /* gap before it: does not merge */
	{ 9, 0, 0x400000, 0, 0x10, 0xf },  /* ACPI reclaim */
	{ 10, 0, 0x410000, 0, 0x10, 0xf }, /* ACPI NVS */
	{ 10, 0, 0x420000, 0, 0x10, 0xf }, /* merges */
	{ 8, 0, 0x430000, 0, 0x1, 0xf },   /* unusable */
	{ 5, 0, 0x431000, 0, 0x1, 0xf },   /* runtime code */
	{ 6, 0, 0x432000, 0, 0x1, 0xf },   /* runtime data: merges as reserved */
	{ 11, 0, 0xfec00000, 0, 0x1, 0 },  /* MMIO */
	{ 7, 0, 0x500000, 0, 0, 0xf },     /* zero pages: dropped */
	{ 14, 0, 0x600000, 0, 0x10, 0xf }, /* persistent memory: reserved */
};

static const struct boot_mem_range uefi_expected[] = {
	{ 0x0, 0x9f000, BOOT_MEM_USABLE },
	{ 0x9f000, 0x1000, BOOT_MEM_RESERVED },
	{ 0x100000, 0x120000, BOOT_MEM_USABLE },
	{ 0x300000, 0x100000, BOOT_MEM_USABLE },
	{ 0x400000, 0x10000, BOOT_MEM_ACPI_RECLAIMABLE },
	{ 0x410000, 0x20000, BOOT_MEM_ACPI_NVS },
	{ 0x430000, 0x1000, BOOT_MEM_BAD },
	{ 0x431000, 0x2000, BOOT_MEM_RESERVED },
	{ 0xfec00000, 0x1000, BOOT_MEM_RESERVED },
	{ 0x600000, 0x10000, BOOT_MEM_RESERVED },
};

static void check_uefi_map(void)
{
	CHECK(bi.mmap_from_efi);
	CHECK(bi.has_efi_mmap);
	CHECK_EQ(bi.mmap_count, ARRAY_SIZE(uefi_expected));
	for (unsigned i = 0; i < ARRAY_SIZE(uefi_expected) && i < bi.mmap_count; i++) {
		CHECK_EQ(bi.mmap[i].base, uefi_expected[i].base);
		CHECK_EQ(bi.mmap[i].length, uefi_expected[i].length);
		CHECK_EQ(bi.mmap[i].type, uefi_expected[i].type);
	}
}

static void test_grub_uefi(void)
{
	struct mbi m;

	mbi_begin(&m);
	mbi_string(&m, 1, "cloison");
	mbi_string(&m, 2, "GRUB 2.12");
	mbi_u64(&m, 12, 0x7f9e8018);
	mbi_rsdp(&m, 15, 2, 0x55, 36);
	mbi_efi_mmap(&m, uefi_map, ARRAY_SIZE(uefi_map), 48);
	mbi_tag(&m, 18, NULL, 0);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	check_uefi_map();
	CHECK(bi.efi_boot_services_active);
	CHECK_EQ(bi.efi_system_table, 0x7f9e8018);
	CHECK(bi.has_rsdp);
	CHECK_EQ(bi.rsdp_revision, 2);
	CHECK_EQ(bi.rsdp_length, 36);
	CHECK_EQ(bi.rsdp[35], 0x55);

	/* The minimal descriptor size works too */
	mbi_begin(&m);
	mbi_efi_mmap(&m, uefi_map, ARRAY_SIZE(uefi_map), 40);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	check_uefi_map();
}

static void test_efi_map_loses_to_mmap(void)
{
	struct mbi m;

	/* EFI map first, then tag 6: tag 6 replaces it */
	mbi_begin(&m);
	mbi_efi_mmap(&m, uefi_map, ARRAY_SIZE(uefi_map), 48);
	mbi_mmap(&m, bios_map, ARRAY_SIZE(bios_map), 24);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK(bi.has_efi_mmap);
	CHECK(!bi.mmap_from_efi);
	CHECK_EQ(bi.mmap_count, ARRAY_SIZE(bios_map));
	CHECK_EQ(bi.mmap[1].base, 0x9fc00);

	/* Tag 6 first, then the EFI map: tag 6 stays */
	mbi_begin(&m);
	mbi_mmap(&m, bios_map, ARRAY_SIZE(bios_map), 24);
	mbi_efi_mmap(&m, uefi_map, ARRAY_SIZE(uefi_map), 48);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK(bi.has_efi_mmap);
	CHECK(!bi.mmap_from_efi);
	CHECK_EQ(bi.mmap_count, ARRAY_SIZE(bios_map));
	CHECK_EQ(bi.mmap[1].base, 0x9fc00);
}

static void test_efi_map_errors(void)
{
	struct efi_desc huge = { 7, 0, 0xfffffffffff00000ull, 0, 0x1000, 0 };
	struct mbi m;
	size_t off;

	mbi_begin(&m);
	mbi_string(&m, 1, "x");
	off = mbi_efi_mmap(&m, uefi_map, 2, 32);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_efi_mmap(&m, uefi_map, 2, 44);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_efi_mmap(&m, &huge, 1, 48);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_RANGE);
	CHECK_EQ(where, off);

	/* A tag too short for its descriptor_size field */
	mbi_begin(&m);
	off = mbi_tag(&m, 17, (uint32_t[]){ 48 }, 4);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	/* No descriptors at all: an empty map */
	mbi_begin(&m);
	mbi_efi_mmap(&m, NULL, 0, 48);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK(bi.has_efi_mmap);
	CHECK_EQ(bi.mmap_count, 0);
}

static void test_rsdp_precedence(void)
{
	struct mbi m;
	size_t off;

	mbi_begin(&m);
	mbi_rsdp(&m, 14, 0, 0x11, 20);
	mbi_rsdp(&m, 15, 2, 0x22, 36);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.rsdp_revision, 2);
	CHECK_EQ(bi.rsdp_length, 36);
	CHECK_EQ(bi.rsdp[16], 0x22);

	mbi_begin(&m);
	mbi_rsdp(&m, 15, 2, 0x22, 36);
	mbi_rsdp(&m, 14, 0, 0x11, 20);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.rsdp_revision, 2);
	CHECK_EQ(bi.rsdp_length, 36);
	CHECK_EQ(bi.rsdp[16], 0x22);

	/* A longer new tag is cut at 36 bytes; a v1-sized new tag is kept at 20 */
	mbi_begin(&m);
	mbi_rsdp(&m, 15, 3, 0x33, 48);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.rsdp_length, 36);
	CHECK_EQ(bi.rsdp_revision, 3);

	mbi_begin(&m);
	mbi_rsdp(&m, 15, 0, 0x44, 20);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.rsdp_length, 20);
	CHECK_EQ(bi.rsdp[20], 0);

	mbi_begin(&m);
	off = mbi_rsdp(&m, 14, 0, 0x11, 19);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	mbi_rsdp(&m, 14, 0, 0x11, 20);
	off = mbi_rsdp(&m, 15, 2, 0x11, 12);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);
}

static void test_modules(void)
{
	char name[32];
	struct mbi m;
	size_t off;

	mbi_begin(&m);
	for (unsigned i = 0; i < BOOT_MAX_MODULES + 4; i++) {
		snprintf(name, sizeof(name), "mod%u", i);
		mbi_module(&m, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, name);
	}
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.module_count, BOOT_MAX_MODULES);
	CHECK_EQ(bi.modules_dropped, 4);
	CHECK_STR(bi.modules[BOOT_MAX_MODULES - 1].string, "mod15");
	CHECK_EQ(bi.modules[3].start, 0x1003000);
	CHECK_EQ(bi.modules[3].end, 0x1003800);

	mbi_begin(&m);
	off = mbi_module(&m, 0x2000, 0x1000, "backwards");
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	/* The string must end inside the tag */
	mbi_begin(&m);
	off = mbi_tag(&m, 3, "\x00\x10\x00\x00\x00\x20\x00\x00" "abc", 11);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_tag(&m, 3, "\x00\x10\x00\x00\x00\x20\x00\x00", 8);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_tag(&m, 3, "\x00\x10\x00\x00", 4);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	/* Long module strings are cut, still terminated */
	{
		char long_name[300];

		memset(long_name, 'm', sizeof(long_name) - 1);
		long_name[sizeof(long_name) - 1] = 0;
		mbi_begin(&m);
		mbi_tag(&m, 3, (uint8_t[308]){ 0 }, 308);
		memcpy(m.buf + 16 + 8, long_name, sizeof(long_name));
		mbi_end(&m);
		CHECK_EQ(parse(&m), 0);
		CHECK_EQ(strlen(bi.modules[0].string), BOOT_MODULE_STRING_MAX - 1);
	}
}

static void test_strings(void)
{
	char long_cmd[1000];
	struct mbi m;
	size_t off;

	memset(long_cmd, 'c', sizeof(long_cmd) - 1);
	long_cmd[sizeof(long_cmd) - 1] = 0;
	mbi_begin(&m);
	mbi_string(&m, 1, long_cmd);
	mbi_string(&m, 2, long_cmd);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK_EQ(strlen(bi.loader_name), sizeof(bi.loader_name) - 1);

	/* Unterminated command line, even with zero padding after the tag */
	mbi_begin(&m);
	mbi_string(&m, 2, "GRUB");
	off = mbi_tag(&m, 1, "abc", 3);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_tag(&m, 2, NULL, 0);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	/* An empty string is fine; the last tag wins */
	mbi_begin(&m);
	mbi_string(&m, 1, "first");
	mbi_string(&m, 1, "");
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_STR(bi.cmdline, "");
}

static void test_mmap_tag(void)
{
	static struct mmap_entry many[BOOT_MAX_MMAP + 10];
	struct mmap_entry overflow = { 0xfffffffffffff000ull, 0x2000, 1, 0 };
	struct mbi m;
	size_t off;

	mbi_begin(&m);
	mbi_mmap(&m, bios_map, ARRAY_SIZE(bios_map), 32);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.mmap_count, ARRAY_SIZE(bios_map));
	CHECK_EQ(bi.mmap[3].length, 0xfee0000);
	CHECK_EQ(bi.mmap[4].type, 3);

	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct mmap_entry){ i * 0x10000ull, 0x8000, 1 + i % 5, 0 };
	mbi_begin(&m);
	mbi_mmap(&m, many, ARRAY_SIZE(many), 24);
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_EQ(bi.mmap_count, BOOT_MAX_MMAP);
	CHECK_EQ(bi.mmap[BOOT_MAX_MMAP - 1].base, (BOOT_MAX_MMAP - 1) * 0x10000ull);

	mbi_begin(&m);
	off = mbi_mmap(&m, bios_map, 2, 20);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_mmap(&m, bios_map, 2, 28);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	mbi_string(&m, 1, "cmd");
	off = mbi_mmap(&m, &overflow, 1, 24);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_RANGE);
	CHECK_EQ(where, off);

	/* Meminfo too short for mem_upper */
	mbi_begin(&m);
	off = mbi_tag(&m, 4, (uint32_t[]){ 639 }, 4);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);

	mbi_begin(&m);
	off = mbi_tag(&m, 12, (uint32_t[]){ 1 }, 4);
	mbi_end(&m);
	CHECK_EQ(parse(&m), -E_INVAL);
	CHECK_EQ(where, off);
}

static void test_header_errors(void)
{
	uint8_t small[16] = { 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0 };

	CHECK_EQ(parse_exact(small, 0), -E_TRUNC);
	CHECK_EQ(parse_exact(small, 7), -E_TRUNC);
	CHECK_EQ(where, 0);
	/* The smallest valid MBI: header and end tag */
	CHECK_EQ(parse_exact(small, 16), 0);
	CHECK_EQ(bi.mbi_end, MBI_PHYS + 16);
	CHECK_EQ(bi.mmap_count, 0);
	small[0] = 8;
	CHECK_EQ(parse_exact(small, 16), -E_INVAL);
	small[0] = 15;
	CHECK_EQ(parse_exact(small, 16), -E_INVAL);
	small[0] = 24;
	CHECK_EQ(parse_exact(small, 16), -E_TRUNC);
	CHECK_EQ(where, 0);
	put_le32(small, 0xffffffff);
	CHECK_EQ(parse_exact(small, 16), -E_TRUNC);
	/* Data after total_size is ignored */
	small[0] = 16;
	small[1] = small[2] = small[3] = 0;
	CHECK_EQ(parse_exact(small, 16), 0);
	CHECK_EQ(mb2_parse(small, sizeof(small), 0, &bi, NULL), 0);
}

static void test_bad_tag_sizes(void)
{
	static const uint32_t bad_sizes[] = { 0, 1, 7 };
	struct mbi m;
	size_t off;

	for (unsigned i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		mbi_begin(&m);
		mbi_string(&m, 1, "ok");
		off = mbi_tag(&m, 4, (uint32_t[]){ 1, 2 }, 8);
		mbi_end(&m);
		put_le32(m.buf + off + 4, bad_sizes[i]);
		CHECK_EQ(parse(&m), -E_INVAL);
		CHECK_EQ(where, off);
	}

	static const uint32_t past_end[] = { 33, 64, 0x1000, 0x7ffffff8, 0xfffffff8, 0xffffffff };
	for (unsigned i = 0; i < ARRAY_SIZE(past_end); i++) {
		mbi_begin(&m);
		mbi_string(&m, 2, "loader");
		off = mbi_tag(&m, 99, NULL, 16);
		mbi_end(&m);
		/* off + 32 is the end of the MBI: 33 and more run past it */
		put_le32(m.buf + off + 4, past_end[i]);
		CHECK_EQ(parse(&m), -E_TRUNC);
		CHECK_EQ(where, off);
	}

	/* Missing end tag: the last tag is a skipped unknown one */
	mbi_begin(&m);
	mbi_string(&m, 1, "cmd");
	mbi_tag(&m, 99, NULL, 8);
	put_le32(m.buf, (uint32_t)m.len);
	CHECK_EQ(parse(&m), -E_TRUNC);
	CHECK_EQ(where, m.len);

	/* A stray 4 bytes at the end cannot hold a tag header */
	mbi_begin(&m);
	mbi_tag(&m, 99, NULL, 4);
	put_le32(m.buf, (uint32_t)m.len + 4);
	CHECK_EQ(parse_exact(m.buf, m.len + 4), -E_TRUNC);
	CHECK_EQ(where, m.len);

	/* A tag whose size is not a multiple of 8 is padded before the next one */
	mbi_begin(&m);
	mbi_tag(&m, 99, "abcde", 5);
	mbi_string(&m, 1, "after");
	mbi_end(&m);
	CHECK_EQ(parse(&m), 0);
	CHECK_STR(bi.cmdline, "after");
}

static void test_truncation_every_length(void)
{
	struct mbi m, cut;

	build_grub_bios(&m);
	for (size_t len = 0; len < m.len; len++) {
		/* The header still claims the full size */
		CHECK(parse_exact(m.buf, len) < 0);
		CHECK(where <= len);

		/* The header agrees with the cut: the walk itself must notice */
		if (len >= 8) {
			memcpy(cut.buf, m.buf, len);
			put_le32(cut.buf, (uint32_t)len);
			CHECK(parse_exact(cut.buf, len) < 0);
			CHECK(where <= len);
		}
	}
	CHECK_EQ(parse_exact(m.buf, m.len), 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_sane(int err, size_t len)
{
	CHECK(err <= 0);
	CHECK(where <= len);
	if (err)
		return;
	CHECK(bi.mmap_count <= BOOT_MAX_MMAP);
	CHECK(bi.module_count <= BOOT_MAX_MODULES);
	CHECK(strnlen(bi.cmdline, sizeof(bi.cmdline)) < sizeof(bi.cmdline));
	CHECK(strnlen(bi.loader_name, sizeof(bi.loader_name)) < sizeof(bi.loader_name));
	CHECK(bi.rsdp_length <= sizeof(bi.rsdp));
	for (unsigned i = 0; i < bi.module_count; i++)
		CHECK(bi.modules[i].start <= bi.modules[i].end);
}

static void test_fuzz_random(void)
{
	static uint8_t buf[512];
	unsigned ok = 0;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 16 + rng() % (sizeof(buf) - 16);
		int err;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		put_le32(buf, (uint32_t)len);
		/* Small types and sizes make the walk go deeper than pure noise would */
		for (size_t off = 8; off + 8 <= len; off += 8 * (1 + rng() % 4)) {
			put_le32(buf + off, (uint32_t)(rng() % 20));
			if (rng() % 4)
				put_le32(buf + off + 4, (uint32_t)(rng() % 96));
		}
		if (rng() % 2)
			put_le32(buf + ALIGN_DOWN(len - 8, 8), 0);
		err = parse_exact(buf, len);
		check_sane(err, len);
		ok += err == 0;
	}
	/* Some inputs must get through, or the fuzzing never reached the decoders */
	CHECK(ok > 100);
}

static void test_fuzz_mutations(void)
{
	struct mbi m, mut;
	unsigned ok = 0;

	mbi_begin(&m);
	mbi_string(&m, 1, "cmd");
	mbi_module(&m, 0x1000, 0x2000, "m");
	mbi_mmap(&m, bios_map, ARRAY_SIZE(bios_map), 24);
	mbi_efi_mmap(&m, uefi_map, 4, 48);
	mbi_rsdp(&m, 14, 0, 1, 20);
	mbi_rsdp(&m, 15, 2, 2, 36);
	mbi_u64(&m, 12, 0x1234);
	mbi_end(&m);
	for (int iter = 0; iter < 20000; iter++) {
		unsigned flips = 1 + rng() % 4;
		int err;

		memcpy(mut.buf, m.buf, m.len);
		for (unsigned i = 0; i < flips; i++)
			mut.buf[4 + rng() % (m.len - 4)] = (uint8_t)rng();
		err = parse_exact(mut.buf, m.len);
		check_sane(err, m.len);
		ok += err == 0;
	}
	CHECK(ok > 1000 && ok < 20000);
}

int main(void)
{
	RUN_TEST(test_grub_bios);
	RUN_TEST(test_grub_uefi);
	RUN_TEST(test_efi_map_loses_to_mmap);
	RUN_TEST(test_efi_map_errors);
	RUN_TEST(test_rsdp_precedence);
	RUN_TEST(test_modules);
	RUN_TEST(test_strings);
	RUN_TEST(test_mmap_tag);
	RUN_TEST(test_header_errors);
	RUN_TEST(test_bad_tag_sizes);
	RUN_TEST(test_truncation_every_length);
	RUN_TEST(test_fuzz_random);
	RUN_TEST(test_fuzz_mutations);
	return test_any_failed;
}
