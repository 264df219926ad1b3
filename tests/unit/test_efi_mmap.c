/* Host tests for boot/efi/efi_mb2.c and efi_elf.c: UEFI memory maps to multiboot2 (types,
 * merging, sorting, overlaps, odd descriptor sizes), the whole information block parsed back by
 * boot/mb2.c, and the hypervisor image checks. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "boot/efi/efi_mb2.h"
#include "boot/efi/efi_elf.h"
#include "boot/boot_info.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define WB (1ull << 3)
#define RUNTIME (1ull << 63)

/* A UEFI map with desc_size-byte descriptors, the way firmware hands it over. */
struct efi_map {
	_Alignas(8) uint8_t buf[64 * 1024];
	size_t size, desc_size;
};

static void map_begin(struct efi_map *m, size_t desc_size)
{
	memset(m->buf, 0xa5, sizeof(m->buf)); /* junk in the padding past the struct */
	m->size = 0;
	m->desc_size = desc_size;
}

static void map_add(struct efi_map *m, uint32_t type, uint64_t base, uint64_t pages, uint64_t attr)
{
	uint8_t *d = m->buf + m->size;
	uint32_t pad = 0;
	uint64_t virt = 0;

	memcpy(d, &type, 4);
	memcpy(d + 4, &pad, 4);
	memcpy(d + 8, &base, 8);
	memcpy(d + 16, &virt, 8);
	memcpy(d + 24, &pages, 8);
	memcpy(d + 32, &attr, 8);
	m->size += m->desc_size;
}

static struct efi_map map;
static struct efi_mb2_mmap_entry out[512];
static size_t count;
static unsigned ignored;

static int convert(void)
{
	return efi_mmap_convert(map.buf, map.size, map.desc_size, out, ARRAY_SIZE(out), &count,
				&ignored);
}

#define CHECK_RANGE(i, b, l, t)                 \
	do {                                    \
		CHECK((i) < count);             \
		CHECK_EQ(out[i].base, b);       \
		CHECK_EQ(out[i].length, l);     \
		CHECK_EQ(out[i].type, t);       \
		CHECK_EQ(out[i].reserved, 0);   \
	} while (0)

static void test_types(void)
{
	CHECK_EQ(efi_mmap_type(1, WB), BOOT_MEM_USABLE);  /* loader code */
	CHECK_EQ(efi_mmap_type(2, WB), BOOT_MEM_USABLE);  /* loader data */
	CHECK_EQ(efi_mmap_type(3, WB), BOOT_MEM_USABLE);  /* boot services code */
	CHECK_EQ(efi_mmap_type(4, WB), BOOT_MEM_USABLE);  /* boot services data */
	CHECK_EQ(efi_mmap_type(7, WB), BOOT_MEM_USABLE);  /* conventional */
	CHECK_EQ(efi_mmap_type(7, 0), BOOT_MEM_RESERVED); /* not write-back cacheable */
	CHECK_EQ(efi_mmap_type(7, WB | RUNTIME), BOOT_MEM_RESERVED);
	CHECK_EQ(efi_mmap_type(0, WB), BOOT_MEM_RESERVED); /* reserved */
	CHECK_EQ(efi_mmap_type(5, WB | RUNTIME), BOOT_MEM_RESERVED); /* runtime code */
	CHECK_EQ(efi_mmap_type(6, WB | RUNTIME), BOOT_MEM_RESERVED); /* runtime data */
	CHECK_EQ(efi_mmap_type(8, WB), BOOT_MEM_BAD);
	CHECK_EQ(efi_mmap_type(9, WB), BOOT_MEM_ACPI_RECLAIMABLE);
	CHECK_EQ(efi_mmap_type(10, WB), BOOT_MEM_ACPI_NVS);
	CHECK_EQ(efi_mmap_type(11, 0), BOOT_MEM_RESERVED); /* MMIO */
	CHECK_EQ(efi_mmap_type(12, 0), BOOT_MEM_RESERVED); /* MMIO port space */
	CHECK_EQ(efi_mmap_type(14, WB), BOOT_MEM_RESERVED); /* persistent */
	CHECK_EQ(efi_mmap_type(0x80000001u, WB), BOOT_MEM_RESERVED); /* OEM */
}

/* An OVMF-like map, out of order, 48-byte descriptors. */
static void ovmf_like(size_t desc_size)
{
	map_begin(&map, desc_size);
	map_add(&map, 7, 0x100000, 0x700, WB);      /* 1 MiB .. 8 MiB conventional */
	map_add(&map, 4, 0x0, 0xa0, WB);            /* 0 .. 640K boot services data */
	map_add(&map, 2, 0x800000, 0x100, WB);      /* loader data, adjacent: merges */
	map_add(&map, 9, 0x7f00000, 0x10, WB);      /* ACPI tables */
	map_add(&map, 10, 0x7f10000, 0x10, WB);     /* ACPI NVS */
	map_add(&map, 6, 0x7f20000, 0xe0, WB | RUNTIME);
	map_add(&map, 3, 0x900000, 0x7600, WB);     /* 9 MiB .. 0x7f00000 boot services code */
	map_add(&map, 11, 0xffc00000, 0x400, RUNTIME); /* flash */
	map_add(&map, 7, 0x100000000ull, 0x40000, WB); /* 4 GiB .. 5 GiB */
}

static void test_sort_and_merge(void)
{
	ovmf_like(48);
	CHECK_EQ(convert(), 0);
	CHECK_EQ(count, 7);
	CHECK_EQ(ignored, 0);
	CHECK_RANGE(0, 0x0, 0xa0000, BOOT_MEM_USABLE);
	CHECK_RANGE(1, 0x100000, 0x7e00000, BOOT_MEM_USABLE); /* 1 MiB .. 0x7f00000, four merged */
	CHECK_RANGE(2, 0x7f00000, 0x10000, BOOT_MEM_ACPI_RECLAIMABLE);
	CHECK_RANGE(3, 0x7f10000, 0x10000, BOOT_MEM_ACPI_NVS);
	CHECK_RANGE(4, 0x7f20000, 0xe0000, BOOT_MEM_RESERVED);
	CHECK_RANGE(5, 0xffc00000, 0x400000, BOOT_MEM_RESERVED);
	CHECK_RANGE(6, 0x100000000ull, 0x40000000ull, BOOT_MEM_USABLE);
	for (size_t i = 1; i < count; i++)
		CHECK(out[i - 1].base + out[i - 1].length <= out[i].base);
}

static void test_descriptor_sizes(void)
{
	/* The same map with the bare struct, the common 48 bytes, an odd size and a large one */
	static const size_t sizes[] = { 40, 48, 41, 57, 128 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		ovmf_like(sizes[k]);
		CHECK_EQ(convert(), 0);
		CHECK_EQ(count, 7);
		CHECK_RANGE(1, 0x100000, 0x7e00000, BOOT_MEM_USABLE);
	}
	ovmf_like(48);
	CHECK_EQ(efi_mmap_convert(map.buf, map.size, 39, out, 8, &count, NULL), -E_INVAL);
	CHECK_EQ(efi_mmap_convert(map.buf, map.size, 0, out, 8, &count, NULL), -E_INVAL);
	/* A trailing partial descriptor is not read */
	CHECK_EQ(efi_mmap_convert(map.buf, 48 + 47, 48, out, 8, &count, NULL), 0);
	CHECK_EQ(count, 1);
	CHECK_RANGE(0, 0x100000, 0x700000, BOOT_MEM_USABLE);
}

static void test_overlaps(void)
{
	map_begin(&map, 48);
	map_add(&map, 7, 0x0, 0x1000, WB);    /* 0 .. 16 MiB usable */
	map_add(&map, 0, 0x200000, 0x10, 0);  /* reserved hole inside it */
	map_add(&map, 9, 0x400000, 0x100, WB); /* ACPI inside it */
	map_add(&map, 8, 0x400000, 0x10, WB);  /* bad memory over the ACPI range's start */
	map_add(&map, 7, 0x800000, 0x1000, WB); /* usable overlapping usable past the end */
	CHECK_EQ(convert(), 0);
	CHECK_EQ(count, 6);
	CHECK_RANGE(0, 0x0, 0x200000, BOOT_MEM_USABLE);
	CHECK_RANGE(1, 0x200000, 0x10000, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0x210000, 0x1f0000, BOOT_MEM_USABLE);
	CHECK_RANGE(3, 0x400000, 0x10000, BOOT_MEM_BAD);
	CHECK_RANGE(4, 0x410000, 0xf0000, BOOT_MEM_ACPI_RECLAIMABLE);
	CHECK_RANGE(5, 0x500000, 0x1300000, BOOT_MEM_USABLE); /* up to 0x1800000 */
}

static void test_odd_descriptors(void)
{
	map_begin(&map, 48);
	map_add(&map, 7, 0x100000, 0, WB);                   /* no pages */
	map_add(&map, 7, 0xfffffffffffff000ull, 2, WB);      /* end passes 2^64 */
	map_add(&map, 7, 0xffffffffffffe000ull, 1, WB);      /* ends just below 2^64 */
	map_add(&map, 7, 0x1000, 1, WB);
	map_add(&map, 4, 0x2000, 1, WB);                     /* adjacent, other EFI type: merges */
	CHECK_EQ(convert(), 0);
	CHECK_EQ(ignored, 2);
	CHECK_EQ(count, 2);
	CHECK_RANGE(0, 0x1000, 0x2000, BOOT_MEM_USABLE);
	CHECK_RANGE(1, 0xffffffffffffe000ull, 0x1000, BOOT_MEM_USABLE);

	map_begin(&map, 48);
	CHECK_EQ(convert(), 0);
	CHECK_EQ(count, 0);
}

static void test_full(void)
{
	map_begin(&map, 48);
	for (int i = 0; i < 10; i++)
		map_add(&map, (i & 1) ? 0 : 7, (uint64_t)i << 20, 256, WB);
	CHECK_EQ(efi_mmap_convert(map.buf, map.size, 48, out, 10, &count, NULL), 0);
	CHECK_EQ(count, 10);
	CHECK_EQ(efi_mmap_convert(map.buf, map.size, 48, out, 9, &count, NULL), -E_FULL);
}

/* Random maps: output sorted, disjoint, merged, and each address has the strictest type. */
static unsigned strictness(uint32_t t)
{
	return t == 1 ? 0 : t == 3 ? 1 : t == 4 ? 2 : t == 5 ? 4 : 3;
}

static void test_random_maps(void)
{
	unsigned seed = 99;

	for (int round = 0; round < 300; round++) {
		unsigned n = 1 + round % 40;

		map_begin(&map, 40 + 8 * (round % 3));
		for (unsigned i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			map_add(&map, (seed >> 4) % 12, (uint64_t)((seed >> 8) % 64) << 12,
				(seed >> 16) % 8, (seed & 1) ? WB : 0);
		}
		CHECK_EQ(convert(), 0);
		for (size_t i = 0; i < count; i++) {
			CHECK(out[i].length > 0);
			if (i) {
				uint64_t prev_end = out[i - 1].base + out[i - 1].length;

				CHECK(prev_end <= out[i].base);
				CHECK(prev_end < out[i].base || out[i - 1].type != out[i].type);
			}
		}
		/* Every page: covered by the output exactly when by a descriptor, with the strictest type */
		for (uint64_t page = 0; page < 72; page++) {
			uint64_t a = page << 12;
			int want = -1, got = -1;

			for (size_t i = 0; i < map.size / map.desc_size; i++) {
				const uint8_t *d = map.buf + i * map.desc_size;
				uint32_t type;
				uint64_t base, pages, attr;

				memcpy(&type, d, 4);
				memcpy(&base, d + 8, 8);
				memcpy(&pages, d + 24, 8);
				memcpy(&attr, d + 32, 8);
				if (base <= a && a < base + (pages << 12)) {
					uint32_t t = efi_mmap_type(type, attr);

					if (want < 0 || strictness(t) > strictness((uint32_t)want))
						want = (int)t;
				}
			}
			for (size_t i = 0; i < count; i++)
				if (out[i].base <= a && a < out[i].base + out[i].length)
					got = (int)out[i].type;
			CHECK_EQ(got, want);
		}
	}
}

static const uint8_t RSDP_V1[20] = "RSD PTR \x42OEMID \x00\x00\x10\x00\x00";
static const uint8_t RSDP_V2[36] = "RSD PTR \x42OEMID \x02\x00\x10\x00\x00\x24\x00\x00\x00"
				   "\x00\x20\x00\x00\x00\x00\x00\x00\x11";

static struct efi_mb2_module mods[] = {
	{ 0x1000000, 0x1004321, "demo greeting=hi" },
	{ 0x1005000, 0x1005000, "empty" },
	{ 0x1006000, 0x1006800, "config" },
};

static struct efi_mb2_input input(void)
{
	return (struct efi_mb2_input){
		.cmdline = "console=0x3f8,115200 onidle=halt",
		.loader_name = EFI_MB2_LOADER_NAME,
		.modules = mods,
		.module_count = ARRAY_SIZE(mods),
		.efi_mmap = map.buf,
		.efi_mmap_size = map.size,
		.desc_size = map.desc_size,
		.desc_version = 1,
		.rsdp_v1 = RSDP_V1,
		.rsdp_v2 = RSDP_V2,
		.rsdp_v2_length = 36,
		.efi_system_table = 0x7fabc018,
	};
}

static _Alignas(8) uint8_t mbi[64 * 1024];
static struct boot_info bi;

static void test_build_parses_back(void)
{
	static const size_t sizes[] = { 48, 40, 41 };

	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		struct efi_mb2_input in;
		size_t len = 0, where = 0;

		ovmf_like(sizes[k]);
		in = input();
		memset(mbi, 0xcc, sizeof(mbi));
		CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), 0);
		CHECK(len > 0 && len % 8 == 0);
		CHECK(len <= efi_mb2_size_bound(&in, map.size));
		CHECK_EQ(mb2_parse(mbi, len, 0x9000000, &bi, &where), 0);
		CHECK_EQ(where, 0);
		CHECK_EQ(bi.mbi_start, 0x9000000);
		CHECK_EQ(bi.mbi_end, 0x9000000 + len);
		CHECK_STR(bi.cmdline, "console=0x3f8,115200 onidle=halt");
		CHECK_STR(bi.loader_name, "cloison.efi");
		CHECK_EQ(bi.module_count, 3);
		CHECK_EQ(bi.modules[0].start, 0x1000000);
		CHECK_EQ(bi.modules[0].end, 0x1004321);
		CHECK_STR(bi.modules[0].string, "demo greeting=hi");
		CHECK_EQ(bi.modules[1].start, bi.modules[1].end);
		CHECK_STR(bi.modules[2].string, "config");
		CHECK(bi.has_basic_meminfo);
		CHECK_EQ(bi.mem_lower_kib, 640);
		CHECK_EQ(bi.mem_upper_kib, (0x7f00000 - 0x100000) / 1024);
		CHECK(!bi.mmap_from_efi); /* the converted tag 6 wins over the raw EFI map */
		CHECK(bi.has_efi_mmap);
		CHECK_EQ(bi.mmap_count, 7);
		CHECK_EQ(bi.mmap[1].base, 0x100000);
		CHECK_EQ(bi.mmap[1].length, 0x7e00000);
		CHECK_EQ(bi.mmap[4].type, BOOT_MEM_RESERVED);
		CHECK_EQ(bi.mmap[6].base, 0x100000000ull);
		CHECK(bi.has_rsdp);
		CHECK_EQ(bi.rsdp_revision, 2);
		CHECK_EQ(bi.rsdp_length, 36);
		CHECK(memcmp(bi.rsdp, RSDP_V2, 36) == 0);
		CHECK_EQ(bi.efi_system_table, 0x7fabc018);
		CHECK(!bi.efi_boot_services_active);
	}
}

/* The repacked EFI map tag, read back by the parser's EFI path when there is no tag 6. */
static void test_efi_tag_repacked(void)
{
	struct efi_mb2_input in;
	size_t len, off = 8, where;

	ovmf_like(41);
	in = input();
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), 0);
	/* Turn tag 6 into an unknown tag so that mb2_parse falls back to tag 17 */
	while (off < len) {
		uint32_t type, size;

		memcpy(&type, mbi + off, 4);
		memcpy(&size, mbi + off + 4, 4);
		if (type == 17) {
			uint32_t desc_size;

			memcpy(&desc_size, mbi + off + 8, 4);
			CHECK_EQ(desc_size, 48);
			CHECK_EQ(size, 16 + 9 * 48);
		}
		if (type == 6) {
			type = 0x1234;
			memcpy(mbi + off, &type, 4);
		}
		if (type == 0)
			break;
		off += ALIGN_UP(size, 8);
	}
	CHECK_EQ(mb2_parse(mbi, len, 0x9000000, &bi, &where), 0);
	CHECK(bi.mmap_from_efi);
	CHECK_EQ(bi.mmap_count, 9); /* the parser merges only adjacent same-type entries in order */
	CHECK_EQ(bi.mmap[0].base, 0x100000);
	CHECK_EQ(bi.mmap[0].length, 0x700000);
}

static void test_build_optional_and_errors(void)
{
	struct efi_mb2_input in;
	size_t len, where, need;

	ovmf_like(48);
	in = input();
	in.rsdp_v2 = NULL;
	in.efi_system_table = 0;
	in.module_count = 0;
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), 0);
	CHECK_EQ(mb2_parse(mbi, len, 0x9000000, &bi, &where), 0);
	CHECK_EQ(bi.rsdp_revision, 0);
	CHECK_EQ(bi.rsdp_length, 20);
	CHECK_EQ(bi.efi_system_table, 0);
	CHECK_EQ(bi.module_count, 0);

	in = input();
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &need), 0);
	/* Every shorter buffer is refused, never overrun (ASan watches the heap copy) */
	for (size_t cap = 0; cap < need; cap += 8) {
		uint8_t *small = malloc(cap ? cap : 1);

		CHECK_EQ(efi_mb2_build(&in, small, cap, &len), -E_FULL);
		CHECK_EQ(len, 0);
		free(small);
	}
	in.desc_size = 39;
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), -E_INVAL);
	in = input();
	in.efi_mmap_size = 0;
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), -E_INVAL);
	in = input();
	in.rsdp_v2_length = 37;
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), -E_INVAL);
	in = input();
	mods[1].start = mods[1].end + 1;
	CHECK_EQ(efi_mb2_build(&in, mbi, sizeof(mbi), &len), -E_INVAL);
	mods[1].start = mods[1].end;
}

/* A minimal ELF64 executable: header, program headers, a multiboot2 header at file offset mb2. */
struct elf_file {
	_Alignas(8) uint8_t buf[8192];
	size_t size;
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void elf_phdr(struct elf_file *f, unsigned i, uint32_t type, uint64_t off, uint64_t paddr,
		     uint64_t filesz, uint64_t memsz)
{
	uint8_t *ph = f->buf + 64 + i * 56;

	put32(ph, type);
	put64(ph + 8, off);
	put64(ph + 16, paddr);
	put64(ph + 24, paddr);
	put64(ph + 32, filesz);
	put64(ph + 40, memsz);
}

static void elf_make(struct elf_file *f)
{
	uint8_t *h = f->buf;

	memset(f->buf, 0, sizeof(f->buf));
	memcpy(h, "\177ELF\x02\x01\x01", 7);
	put16(h + 16, 2);
	put16(h + 18, 62);
	put64(h + 24, 0x200010); /* entry */
	put64(h + 32, 64);       /* phoff */
	put16(h + 54, 56);
	put16(h + 56, 2);
	elf_phdr(f, 0, 1, 0x1000, 0x200000, 0x1000, 0x1000);
	elf_phdr(f, 1, 1, 0x1000, 0x201000, 0x800, 0x5000); /* data + bss */
	/* multiboot2 header at the start of .text, spec 3.1.1 */
	put32(h + 0x1000, 0xe85250d6);
	put32(h + 0x1004, 0);
	put32(h + 0x1008, 24);
	put32(h + 0x100c, -(0xe85250d6u + 24));
	f->size = 0x2000;
}

static struct elf_file elf;
static struct efi_elf_image img;
static char why[160];

static int elf_check(void)
{
	return efi_elf_check(elf.buf, elf.size, &img, why, sizeof(why));
}

#define CHECK_ELF_ERR(want)                                                \
	do {                                                               \
		CHECK(elf_check() < 0);                                    \
		CHECK(strncmp(why, want, strlen(want)) == 0);              \
		if (strncmp(why, want, strlen(want)) != 0)                 \
			printf("  %s:%d got: %s\n", __FILE__, __LINE__, why); \
	} while (0)

static void test_elf_good(void)
{
	elf_make(&elf);
	CHECK_EQ(elf_check(), 0);
	CHECK_EQ(img.entry, 0x200010);
	CHECK_EQ(img.segment_count, 2);
	CHECK_EQ(img.segments[1].paddr, 0x201000);
	CHECK_EQ(img.segments[1].filesz, 0x800);
	CHECK_EQ(img.segments[1].memsz, 0x5000);
	/* Non-load headers and empty segments are skipped */
	elf_phdr(&elf, 1, 4, 0xffffff, 0, 0xfffff, 0xfffff);
	CHECK_EQ(elf_check(), 0);
	CHECK_EQ(img.segment_count, 1);
}

static void test_elf_errors(void)
{
	elf_make(&elf);
	elf.size = 63;
	CHECK_ELF_ERR("not an ELF file (shorter than an ELF header)");
	elf_make(&elf);
	memcpy(elf.buf, "#!/bin/sh", 9);
	CHECK_ELF_ERR("not an ELF file (no ELF magic)");
	elf_make(&elf);
	elf.buf[4] = 1;
	CHECK_ELF_ERR("not a 64-bit little-endian ELF (class 1, data 1)");
	elf_make(&elf);
	put16(elf.buf + 16, 3);
	CHECK_ELF_ERR("not an x86-64 executable (type 3, machine 62)");
	elf_make(&elf);
	put16(elf.buf + 56, 200);
	CHECK_ELF_ERR("program headers (200 of 56 bytes at 64) lie outside the file");
	elf_make(&elf);
	put64(elf.buf + 32, UINT64_MAX - 10);
	CHECK_ELF_ERR("program headers");
	elf_make(&elf);
	elf_phdr(&elf, 1, 1, 0x1000, 0x201000, 0x6000, 0x5000);
	CHECK_ELF_ERR("segment 1 has more file bytes (24576) than memory bytes (20480)");
	elf_make(&elf);
	elf.size = 0x1800;
	CHECK_ELF_ERR("segment 0 (file bytes 0x1000+0x1000) lies past the file's end");
	elf_make(&elf);
	elf_phdr(&elf, 1, 1, UINT64_MAX, 0x201000, 2, 2);
	CHECK_ELF_ERR("segment 1 (file bytes");
	elf_make(&elf);
	elf_phdr(&elf, 1, 1, 0x1000, 0xfffff000, 0x800, 0x2000);
	CHECK_ELF_ERR("segment 1 (0xfffff000+0x2000) is not below 4 GiB");
	elf_make(&elf);
	elf_phdr(&elf, 1, 1, 0x1000, 0x200800, 0x800, 0x800);
	CHECK_ELF_ERR("segments overlap at 0x200800");
	elf_make(&elf);
	put64(elf.buf + 24, 0x100000);
	CHECK_ELF_ERR("entry 0x100000 lies in no loadable segment");
	elf_make(&elf);
	elf_phdr(&elf, 0, 2, 0, 0, 0, 0);
	elf_phdr(&elf, 1, 2, 0, 0, 0, 0);
	CHECK_ELF_ERR("no loadable segment");
	elf_make(&elf);
	put32(elf.buf + 0x100c, 0);
	CHECK_ELF_ERR("not a multiboot2 kernel: no multiboot2 header in its first 32 KiB");
	elf_make(&elf);
	put32(elf.buf + 0x1004, 4);
	put32(elf.buf + 0x100c, -(0xe85250d6u + 4 + 24));
	CHECK_ELF_ERR("its multiboot2 header is for architecture 4, not i386");
}

int main(void)
{
	RUN_TEST(test_types);
	RUN_TEST(test_sort_and_merge);
	RUN_TEST(test_descriptor_sizes);
	RUN_TEST(test_overlaps);
	RUN_TEST(test_odd_descriptors);
	RUN_TEST(test_full);
	RUN_TEST(test_random_maps);
	RUN_TEST(test_build_parses_back);
	RUN_TEST(test_efi_tag_repacked);
	RUN_TEST(test_build_optional_and_errors);
	RUN_TEST(test_elf_good);
	RUN_TEST(test_elf_errors);
	return test_any_failed;
}
