/* Host tests for kernel/bzimage.c: synthetic bzImages parsed and refused, every zero-page field,
 * the e820 map, kernel and initrd placement, the page tables walked, the GDT decoded. */
#include <stdlib.h>
#include <sys/mman.h>
#include "tests/unit/test.h"
#include "kernel/bzimage.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define RAM_64M (64ull * 1024 * 1024)
#define KERNEL_LEN 0x3000u
#define HEADER_END 0x26c /* what a 2.15 kernel's jump byte gives: 0x202 + 0x6a */

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 8) + 1);
}

/* What a synthetic image declares; make_bz writes exactly these into the setup header. */
struct bz_spec {
	uint8_t setup_sects;
	uint16_t version;
	uint8_t header_len; /* the jump's offset byte at 0x201 */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_len; /* protected-mode kernel, a multiple of 16 */
	uint32_t trailer;    /* bytes after the kernel (a signature), not loaded */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
};

static struct bz_spec good_spec(void)
{
	return (struct bz_spec){
		.setup_sects = 3,
		.version = 0x020f,
		.header_len = HEADER_END - 0x202,
		.loadflags = BZ_LOADED_HIGH,
		.xloadflags = 0x7f,
		.relocatable = 1,
		.kernel_len = KERNEL_LEN,
		.trailer = 0x100,
		.kernel_alignment = 0x200000,
		.pref_address = 0x1000000,
		.init_size = 0x800000,
		.cmdline_size = 2047,
		.initrd_addr_max = 0x7fffffff,
	};
}

static size_t bz_len(const struct bz_spec *s)
{
	unsigned sects = s->setup_sects ? s->setup_sects : 4;

	return (sects + 1) * 512u + s->kernel_len + s->trailer;
}

/* A bzImage: pattern bytes everywhere, then the header fields of s. */
static uint8_t *make_bz(const struct bz_spec *s, size_t *len)
{
	size_t n = bz_len(s);
	uint8_t *b = malloc(n);

	for (size_t i = 0; i < n; i++)
		b[i] = pattern(i);
	b[0x1f1] = s->setup_sects;
	put_le32(b + 0x1f4, s->kernel_len / 16);
	put_le16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = s->header_len;
	memcpy(b + 0x202, "HdrS", 4);
	put_le16(b + 0x206, s->version);
	b[0x210] = 0;
	b[0x211] = s->loadflags;
	put_le32(b + 0x218, 0);
	put_le32(b + 0x21c, 0);
	put_le32(b + 0x228, 0);
	put_le32(b + 0x22c, s->initrd_addr_max);
	put_le32(b + 0x230, s->kernel_alignment);
	b[0x234] = s->relocatable;
	b[0x235] = 21;
	put_le16(b + 0x236, s->xloadflags);
	put_le32(b + 0x238, s->cmdline_size);
	put_le64(b + 0x258, s->pref_address);
	put_le32(b + 0x260, s->init_size);
	*len = n;
	return b;
}

static uint8_t *new_ram(uint64_t size)
{
	uint8_t *ram = malloc(size);

	memset(ram, 0xcc, size);
	return ram;
}

static void test_parse_good(void)
{
	struct bz_spec s = good_spec();
	struct bzimage_info bi;
	const char *why = NULL;
	size_t len;
	uint8_t *img = make_bz(&s, &len);

	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	CHECK_STR(why, "");
	CHECK_EQ(bi.version, 0x020f);
	CHECK_EQ(bi.setup_sects, 3);
	CHECK_EQ(bi.kernel_offset, 4 * 512);
	CHECK_EQ(bi.kernel_size, KERNEL_LEN);
	CHECK_EQ(bi.header_end, HEADER_END);
	CHECK_EQ(bi.loadflags, BZ_LOADED_HIGH);
	CHECK_EQ(bi.xloadflags, 0x7f);
	CHECK_EQ(bi.pref_address, 0x1000000);
	CHECK_EQ(bi.kernel_alignment, 0x200000);
	CHECK_EQ(bi.min_alignment, 21);
	CHECK_EQ(bi.init_size, 0x800000);
	CHECK_EQ(bi.cmdline_size, 2047);
	CHECK_EQ(bi.initrd_addr_max, 0x7fffffff);
	free(img);

	/* setup_sects 0 means 4; a header longer than boot_params holds is cut at 0x290 */
	s.setup_sects = 0;
	s.header_len = 0xa0;
	img = make_bz(&s, &len);
	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	CHECK_EQ(bi.setup_sects, 4);
	CHECK_EQ(bi.kernel_offset, 5 * 512);
	CHECK_EQ(bi.header_end, BP_HDR_MAX_END);
	free(img);

	/* Protocol 2.12 exactly is enough */
	s = good_spec();
	s.version = 0x020c;
	img = make_bz(&s, &len);
	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	free(img);
}

/* Every length short of the whole image is refused as truncated, reading only what exists. */
static void test_parse_truncated(void)
{
	struct bz_spec s = good_spec();
	size_t len, kernel_offset = 4 * 512;
	uint8_t *img = make_bz(&s, &len);
	struct bzimage_info bi;
	const char *why;
	const char *last = NULL;
	unsigned distinct = 0;

	s.trailer = 0;
	free(img);
	img = make_bz(&s, &len);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, img, cut);
		why = NULL;
		CHECK_EQ(bzimage_parse(copy, cut, &bi, &why), -E_TRUNC);
		CHECK(why && *why);
		if (why && (!last || strcmp(why, last) != 0)) {
			distinct++;
			last = why;
		}
		free(copy);
	}
	/* The boundaries: boot sector, HdrS, version, header, setup code, protected-mode kernel */
	CHECK_EQ(distinct, 6);
	CHECK_EQ(bzimage_parse(img, 0x1ff, &bi, &why), -E_TRUNC);
	CHECK_STR(why, "image shorter than a boot sector");
	CHECK_EQ(bzimage_parse(img, 0x205, &bi, &why), -E_TRUNC);
	CHECK(strstr(why, "HdrS") != NULL);
	CHECK_EQ(bzimage_parse(img, 0x207, &bi, &why), -E_TRUNC);
	CHECK(strstr(why, "version") != NULL);
	CHECK_EQ(bzimage_parse(img, HEADER_END - 1, &bi, &why), -E_TRUNC);
	CHECK(strstr(why, "setup header") != NULL);
	CHECK_EQ(bzimage_parse(img, kernel_offset - 1, &bi, &why), -E_TRUNC);
	CHECK(strstr(why, "setup code") != NULL);
	CHECK_EQ(bzimage_parse(img, len - 1, &bi, &why), -E_TRUNC);
	CHECK(strstr(why, "protected-mode kernel") != NULL);
	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	CHECK_EQ(bzimage_parse(NULL, 0, &bi, &why), -E_INVAL);
	free(img);
}

static int parse_spec(const struct bz_spec *s, const char **why)
{
	struct bzimage_info bi;
	size_t len;
	uint8_t *img = make_bz(s, &len);
	int err = bzimage_parse(img, len, &bi, why);

	free(img);
	return err;
}

static void test_parse_refusals(void)
{
	struct bz_spec s;
	const char *why, *seen[10];
	unsigned k = 0;
	size_t len;
	uint8_t *img;
	struct bzimage_info bi;

	s = good_spec();
	img = make_bz(&s, &len);
	img[0x1fe] = 0x55;
	img[0x1ff] = 0x00;
	CHECK_EQ(bzimage_parse(img, len, &bi, &why), -E_INVAL);
	CHECK(strstr(why, "0xAA55") != NULL);
	seen[k++] = why;
	put_le16(img + 0x1fe, 0xaa55);
	memcpy(img + 0x202, "HdrT", 4);
	CHECK_EQ(bzimage_parse(img, len, &bi, &why), -E_INVAL);
	CHECK(strstr(why, "HdrS") != NULL);
	seen[k++] = why;
	free(img);

	s = good_spec();
	s.version = 0x020b; /* 2.11 */
	CHECK_EQ(parse_spec(&s, &why), -E_NOTSUP);
	CHECK(strstr(why, "2.12") != NULL);
	seen[k++] = why;

	s = good_spec();
	s.xloadflags = 0x7e;
	CHECK_EQ(parse_spec(&s, &why), -E_NOTSUP);
	CHECK(strstr(why, "XLF_KERNEL_64") != NULL);
	seen[k++] = why;

	s = good_spec();
	s.relocatable = 0;
	CHECK_EQ(parse_spec(&s, &why), -E_NOTSUP);
	CHECK(strstr(why, "relocatable") != NULL);
	seen[k++] = why;

	s = good_spec();
	s.loadflags = 0;
	CHECK_EQ(parse_spec(&s, &why), -E_NOTSUP);
	CHECK(strstr(why, "LOADED_HIGH") != NULL);
	seen[k++] = why;

	s = good_spec();
	s.header_len = 0x60; /* ends before init_size */
	CHECK_EQ(parse_spec(&s, &why), -E_INVAL);
	CHECK(strstr(why, "2.12 defines") != NULL);
	seen[k++] = why;

	s = good_spec();
	s.kernel_alignment = 0x300000;
	CHECK_EQ(parse_spec(&s, &why), -E_INVAL);
	CHECK(strstr(why, "kernel_alignment") != NULL);
	seen[k++] = why;
	s.kernel_alignment = 0x800;
	CHECK_EQ(parse_spec(&s, &why), -E_INVAL);

	s = good_spec();
	s.kernel_len = 0x200;
	CHECK_EQ(parse_spec(&s, &why), -E_INVAL);
	CHECK(strstr(why, "64-bit entry") != NULL);
	seen[k++] = why;

	for (unsigned i = 0; i < k; i++)
		for (unsigned j = i + 1; j < k; j++)
			CHECK(strcmp(seen[i], seen[j]) != 0);
}

struct loaded {
	struct bzimage_info bi;
	struct linux_entry e;
	uint8_t *img;
	size_t len;
	uint8_t *ram;
	int err;
	const char *why;
};

static void load_spec(struct loaded *l, const struct bz_spec *s, uint64_t ram_size,
		      const struct linux_boot_params *p)
{
	l->img = make_bz(s, &l->len);
	l->ram = new_ram(ram_size);
	CHECK_EQ(bzimage_parse(l->img, l->len, &l->bi, &l->why), 0);
	l->err = bzimage_load(&l->bi, l->img, l->len, l->ram, ram_size, p, &l->e, &l->why);
}

static void unload(struct loaded *l)
{
	free(l->img);
	free(l->ram);
}

static void check_e820(const uint8_t *zp, const struct linux_e820_entry *want, unsigned n)
{
	CHECK_EQ(zp[BP_E820_ENTRIES], n);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = zp + BP_E820_TABLE + i * BP_E820_ENTRY_SIZE;

		CHECK_EQ(get_le64(e), want[i].addr);
		CHECK_EQ(get_le64(e + 8), want[i].size);
		CHECK_EQ(get_le32(e + 16), want[i].type);
	}
	/* Nothing after the last entry */
	for (unsigned i = n * BP_E820_ENTRY_SIZE; i < BZ_E820_MAX * BP_E820_ENTRY_SIZE && i < 0xd00 - BP_E820_TABLE; i++)
		CHECK_EQ(zp[BP_E820_TABLE + i], 0);
}

static void test_load_zero_page(void)
{
	struct bz_spec s = good_spec();
	static const char cmdline[] = "console=ttyS0 cloison.test=poweroff";
	uint8_t initrd[5000];
	struct linux_e820_entry acpi = { 0xe0000, 0x20000, LINUX_E820_ACPI };
	struct linux_boot_params p = {
		.cmdline = cmdline, .initrd = initrd, .initrd_size = sizeof(initrd),
		.e820_extra = &acpi, .e820_extra_count = 1, .acpi_rsdp = 0xe0000,
	};
	struct loaded l;
	const uint8_t *zp;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 7);
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_STR(l.why, "");
	zp = l.ram + BZ_ZERO_PAGE;

	/* Zeroed except the header; the sentinel stays 0 so Linux trusts the fields */
	for (unsigned i = 0; i < BP_HDR; i++)
		if ((i < BP_ACPI_RSDP_ADDR || i >= BP_ACPI_RSDP_ADDR + 8) && i != BP_E820_ENTRIES)
			CHECK_EQ(zp[i], 0);
	CHECK_EQ(zp[BP_SENTINEL], 0);
	for (unsigned i = HEADER_END; i < 0x2d0; i++)
		CHECK_EQ(zp[i], 0);
	for (unsigned i = BP_E820_TABLE + 4 * 20; i < PAGE_SIZE; i++)
		CHECK_EQ(zp[i], 0);
	/* Header bytes the loader does not own are copied as they are in the image */
	for (unsigned i = BP_HDR; i < HEADER_END; i++) {
		bool loader_field = i == 0x210 || i == 0x211 || (i >= 0x214 && i < 0x220) ||
				    (i >= 0x224 && i < 0x22c);
		if (!loader_field)
			CHECK_EQ(zp[i], l.img[i]);
	}
	CHECK(memcmp(zp + 0x202, "HdrS", 4) == 0);
	CHECK_EQ(get_le16(zp + 0x206), 0x020f);
	CHECK_EQ(zp[0x210], 0xff); /* type_of_loader: undefined */
	CHECK_EQ(zp[0x211], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
	CHECK_EQ(get_le32(zp + 0x214), 0x1000000); /* code32_start */
	CHECK_EQ(get_le16(zp + 0x224), 0xfe00);   /* heap_end_ptr */
	CHECK_EQ(get_le32(zp + 0x228), BZ_CMDLINE);
	CHECK_EQ(get_le32(zp + BP_EXT_CMD_LINE_PTR), 0);
	CHECK_EQ(get_le32(zp + 0x218), l.e.initrd_addr);
	CHECK_EQ(get_le32(zp + 0x21c), sizeof(initrd));
	CHECK_EQ(get_le32(zp + BP_EXT_RAMDISK_IMAGE), 0);
	CHECK_EQ(get_le32(zp + BP_EXT_RAMDISK_SIZE), 0);
	CHECK_EQ(get_le64(zp + BP_ACPI_RSDP_ADDR), 0xe0000);

	/* e820: RAM, reserved hole, the ACPI tables, RAM from 1 MiB to the end, nothing more */
	{
		const struct linux_e820_entry want[] = {
			{ 0, 0x9fc00, LINUX_E820_RAM },
			{ 0x9fc00, 0xe0000 - 0x9fc00, LINUX_E820_RESERVED },
			{ 0xe0000, 0x20000, LINUX_E820_ACPI },
			{ 0x100000, RAM_64M - 0x100000, LINUX_E820_RAM },
		};
		check_e820(zp, want, 4);
		CHECK_EQ(l.e.e820_entries, 4);
	}

	/* Command line, kernel and initrd where the zero page says, byte for byte */
	CHECK_STR((const char *)l.ram + BZ_CMDLINE, cmdline);
	CHECK_EQ(l.e.kernel_addr, 0x1000000);
	CHECK_EQ(l.e.kernel_end, 0x1000000 + 0x800000);
	CHECK(memcmp(l.ram + 0x1000000, l.img + 4 * 512, KERNEL_LEN) == 0);
	CHECK_EQ(l.ram[0x1000000 + KERNEL_LEN], 0xcc); /* the trailer is not loaded */
	CHECK_EQ(l.e.initrd_addr, ALIGN_DOWN(RAM_64M - sizeof(initrd), PAGE_SIZE));
	CHECK_EQ(l.e.initrd_size, sizeof(initrd));
	CHECK(memcmp(l.ram + l.e.initrd_addr, initrd, sizeof(initrd)) == 0);
	unload(&l);

	/* Protocol 2.13 has no acpi_rsdp_addr: left 0; no initrd: ramdisk fields 0 */
	s.version = 0x020d;
	p.initrd = NULL;
	p.initrd_size = 0;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	zp = l.ram + BZ_ZERO_PAGE;
	CHECK_EQ(get_le64(zp + BP_ACPI_RSDP_ADDR), 0);
	CHECK_EQ(get_le32(zp + 0x218), 0);
	CHECK_EQ(get_le32(zp + 0x21c), 0);
	CHECK_EQ(l.e.initrd_addr, 0);
	unload(&l);
}

/* Walks the identity map the way the CPU does, SDM Vol. 3A 4.5; returns the physical address. */
static bool walk(const uint8_t *ram, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t pml4e = get_le64(ram + cr3 + ((va >> 39) & 511) * 8);
	uint64_t pdpte, pde;

	if (!(pml4e & 1) || !(pml4e & 2))
		return false;
	pdpte = get_le64(ram + (pml4e & ~0xfffull) + ((va >> 30) & 511) * 8);
	if (!(pdpte & 1) || (pdpte & 0x80))
		return false;
	pde = get_le64(ram + (pdpte & ~0xfffull) + ((va >> 21) & 511) * 8);
	if (!(pde & 1) || !(pde & 2) || !(pde & 0x80))
		return false;
	*pa = (pde & ~0x1fffffull) + (va & 0x1fffff);
	return true;
}

static void test_entry_state(void)
{
	struct bz_spec s = good_spec();
	struct linux_boot_params p = { .cmdline = "quiet" };
	struct loaded l;
	uint64_t pa, gdt0, code, data;
	static const uint64_t probes[] = { 0, 0x7000, 0x20000, 0x1000000, 0x1000200, 0x3ffffff,
					   0x40000000, 0xfee00000, 0xffffffff, 0x123456789 & 0xffffffff };

	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.rip, 0x1000200);
	CHECK_EQ(l.e.rsi, BZ_ZERO_PAGE);
	CHECK_EQ(l.e.zero_page, BZ_ZERO_PAGE);
	CHECK_EQ(l.e.cmdline_addr, BZ_CMDLINE);
	CHECK_EQ(l.e.cr3, BZ_PML4);
	CHECK_EQ(l.e.rflags & 0x200, 0); /* interrupts off */
	CHECK_EQ(l.e.cr0 & 0x80000001u, 0x80000001u);
	CHECK_EQ(l.e.cr4 & 0x20, 0x20);
	CHECK_EQ(l.e.efer & 0x500, 0x500);
	CHECK_EQ(l.e.cs, 0x10);
	CHECK_EQ(l.e.ds, 0x18);
	CHECK_EQ(l.e.identity_mapped, 4 * GiB);

	/* Identity-mapped with 2 MiB pages over the first 4 GiB, nothing beyond */
	for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
		CHECK(walk(l.ram, l.e.cr3, probes[i], &pa));
		CHECK_EQ(pa, probes[i]);
	}
	for (uint64_t va = 0; va < 4 * GiB; va += 2 * MiB + 4096) {
		CHECK(walk(l.ram, l.e.cr3, va, &pa));
		CHECK_EQ(pa, va);
	}
	CHECK(!walk(l.ram, l.e.cr3, 4 * GiB, &pa));
	CHECK(!walk(l.ram, l.e.cr3, 1ull << 39, &pa));
	/* The tables stay below the command line and out of the zero page */
	CHECK(BZ_PD + 4 * PAGE_SIZE <= BZ_CMDLINE);

	/* GDT: null, null, 64-bit code at 0x10, flat data at 0x18; limits match the table */
	CHECK_EQ(l.e.gdt_base, BZ_GDT);
	CHECK_EQ(l.e.gdt_limit, 4 * 8 - 1);
	gdt0 = get_le64(l.ram + BZ_GDT);
	code = get_le64(l.ram + BZ_GDT + 0x10);
	data = get_le64(l.ram + BZ_GDT + 0x18);
	CHECK_EQ(gdt0, 0);
	CHECK_EQ(get_le64(l.ram + BZ_GDT + 8), 0);
	CHECK_EQ((code >> 40) & 0xff, 0x9b);  /* present, DPL 0, code, execute/read, accessed */
	CHECK_EQ((code >> 53) & 1, 1);        /* L */
	CHECK_EQ((code >> 54) & 1, 0);        /* D clear with L */
	CHECK_EQ((code >> 55) & 1, 1);        /* G */
	CHECK_EQ((data >> 40) & 0xff, 0x93);  /* present, DPL 0, data, read/write, accessed */
	CHECK_EQ((data >> 54) & 1, 1);        /* B */
	CHECK_EQ((data & 0xffff) | ((data >> 32) & 0xf0000), 0xfffff);
	CHECK_EQ((data >> 16 & 0xffffff) | (data >> 56 << 24), 0);
	/* VMCS access rights carry the same type/S/DPL/P and L/DB/G bits, SDM Vol. 3C 24.4.1 */
	CHECK_EQ(l.e.cs_ar, ((code >> 40) & 0xff) | (((code >> 52) & 0xf) << 12));
	CHECK_EQ(l.e.ds_ar, ((data >> 40) & 0xff) | (((data >> 52) & 0xf) << 12));
	unload(&l);
}

/* A sparse guest RAM of any size: only the pages touched are backed. */
static uint8_t *map_ram(uint64_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static void test_identity_large_ram(void)
{
	struct bz_spec s = good_spec();
	struct linux_boot_params p = { .cmdline = "" };
	struct bzimage_info bi;
	struct linux_entry e;
	const char *why;
	size_t len;
	uint8_t *img = make_bz(&s, &len);
	uint64_t sizes[] = { 6 * GiB + 4096, 20 * GiB }, pa;

	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	for (unsigned k = 0; k < ARRAY_SIZE(sizes); k++) {
		uint8_t *ram = map_ram(sizes[k]);
		uint64_t want = k == 0 ? 7 * GiB : 16 * GiB;

		CHECK(ram != NULL);
		if (!ram)
			continue;
		CHECK_EQ(bzimage_load(&bi, img, len, ram, sizes[k], &p, &e, &why), 0);
		CHECK_EQ(e.identity_mapped, want);
		CHECK(walk(ram, e.cr3, want - 1, &pa));
		CHECK_EQ(pa, want - 1);
		CHECK(!walk(ram, e.cr3, want, &pa));
		/* e820 runs to the end of RAM, not of the map */
		CHECK_EQ(get_le64(ram + BZ_ZERO_PAGE + BP_E820_TABLE + 2 * 20 + 8), sizes[k] - MiB);
		munmap(ram, sizes[k]);
	}
	free(img);
}

/* RAM beyond 3.5 GiB appears above 4 GiB (the hole holds the platform's MMIO): e820 says so,
 * and nothing the loader places goes beyond the low part. */
static void test_ram_above_4g(void)
{
	struct bz_spec s = good_spec();
	struct linux_boot_params p = { .cmdline = "x", .ram_below_4g = 0xe0000000ull };
	struct bzimage_info bi;
	struct linux_entry e;
	const char *why;
	size_t len;
	uint8_t *img = make_bz(&s, &len), *ram;
	uint64_t size = 6 * GiB;
	static const uint8_t initrd[8192];

	CHECK_EQ(bzimage_parse(img, len, &bi, &why), 0);
	ram = map_ram(size);
	CHECK(ram != NULL);
	if (ram) {
		p.initrd = initrd;
		p.initrd_size = sizeof(initrd);
		CHECK_EQ(bzimage_load(&bi, img, len, ram, size, &p, &e, &why), 0);
		{
			const struct linux_e820_entry want[] = {
				{ 0, BZ_LOW_END, LINUX_E820_RAM },
				{ BZ_LOW_END, MiB - BZ_LOW_END, LINUX_E820_RESERVED },
				{ MiB, 0xe0000000ull - MiB, LINUX_E820_RAM },
				{ 4 * GiB, size - 0xe0000000ull, LINUX_E820_RAM },
			};
			check_e820(ram + BZ_ZERO_PAGE, want, 4);
		}
		CHECK(e.initrd_addr + e.initrd_size <= 0xe0000000ull);
		CHECK(e.kernel_end <= 0xe0000000ull);
		/* A low window above 4 GiB makes no sense */
		p.ram_below_4g = 5 * GiB;
		CHECK_EQ(bzimage_load(&bi, img, len, ram, size, &p, &e, &why), -E_INVAL);
		munmap(ram, size);
	}
	free(img);
}

static void test_kernel_placement(void)
{
	struct bz_spec s;
	struct linux_boot_params p = { .cmdline = "" };
	struct loaded l;

	/* pref_address does not fit in 32 MiB with a 20 MiB init_size: lowest aligned from 1 MiB */
	s = good_spec();
	s.init_size = 20 * MiB;
	load_spec(&l, &s, 32 * MiB, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.kernel_addr, 2 * MiB);
	CHECK_EQ(l.e.kernel_end, 22 * MiB);
	CHECK_EQ(l.e.rip, 2 * MiB + 0x200);
	CHECK(memcmp(l.ram + 2 * MiB, l.img + 4 * 512, KERNEL_LEN) == 0);
	unload(&l);

	/* An unaligned pref_address is not used: lowest aligned from 16 MiB */
	s = good_spec();
	s.pref_address = 0x1100000;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.kernel_addr, 16 * MiB);
	unload(&l);

	/* No pref_address, 16 MiB alignment */
	s = good_spec();
	s.pref_address = 0;
	s.kernel_alignment = 16 * MiB;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.kernel_addr, 16 * MiB);
	unload(&l);

	/* init_size smaller than the kernel: the kernel's own length counts */
	s = good_spec();
	s.init_size = 0x1000;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.kernel_end, 16 * MiB + KERNEL_LEN);
	unload(&l);

	/* A reserved range over pref_address pushes the kernel to the next free boundary */
	{
		struct linux_e820_entry nvs = { 18 * MiB, MiB, LINUX_E820_NVS };
		const struct linux_e820_entry want[] = {
			{ 0, 0x9fc00, LINUX_E820_RAM },
			{ 0x9fc00, 0x100000 - 0x9fc00, LINUX_E820_RESERVED },
			{ 0x100000, 17 * MiB, LINUX_E820_RAM },
			{ 18 * MiB, MiB, LINUX_E820_NVS },
			{ 19 * MiB, RAM_64M - 19 * MiB, LINUX_E820_RAM },
		};
		s = good_spec();
		p.e820_extra = &nvs;
		p.e820_extra_count = 1;
		load_spec(&l, &s, RAM_64M, &p);
		CHECK_EQ(l.err, 0);
		CHECK_EQ(l.e.kernel_addr, 20 * MiB);
		check_e820(l.ram + BZ_ZERO_PAGE, want, 5);
		unload(&l);
		p.e820_extra = NULL;
		p.e820_extra_count = 0;
	}
}

static void test_initrd_placement(void)
{
	struct bz_spec s;
	static uint8_t initrd[4 * MiB + 100];
	struct linux_boot_params p = { .cmdline = "", .initrd = initrd, .initrd_size = 100000 };
	struct loaded l;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = pattern(i * 3);

	/* Below initrd_addr_max (inclusive) when the kernel cannot take it above 4 GiB */
	s = good_spec();
	s.xloadflags = BZ_XLF_KERNEL_64;
	s.initrd_addr_max = 48 * MiB - 1;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.initrd_addr, ALIGN_DOWN(48 * MiB - 100000, PAGE_SIZE));
	CHECK(l.e.initrd_addr + 100000 <= 48 * MiB);
	CHECK(memcmp(l.ram + l.e.initrd_addr, initrd, 100000) == 0);
	unload(&l);

	/* XLF_CAN_BE_LOADED_ABOVE_4G: initrd_addr_max no longer limits it */
	s.xloadflags = BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.initrd_addr, ALIGN_DOWN(RAM_64M - 100000, PAGE_SIZE));
	unload(&l);

	/* Kernel up to 62 MiB: a 4 MiB initrd goes below it, right under 16 MiB */
	s = good_spec();
	s.init_size = 46 * MiB;
	p.initrd_size = 4 * MiB;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(l.e.kernel_end, 62 * MiB);
	CHECK_EQ(l.e.initrd_addr, 12 * MiB);
	CHECK(memcmp(l.ram + 12 * MiB, initrd, 4 * MiB) == 0);
	unload(&l);

	/* An initrd that fits exactly between 1 MiB and the kernel */
	p.initrd_size = 15 * MiB > sizeof(initrd) ? sizeof(initrd) : 15 * MiB;
	s.init_size = 48 * MiB; /* kernel 16-64 MiB: the initrd must go below */
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK(l.e.initrd_addr >= MiB);
	CHECK(l.e.initrd_addr + p.initrd_size <= 16 * MiB);
	CHECK(IS_ALIGNED(l.e.initrd_addr, PAGE_SIZE));
	unload(&l);
}

static bool ram_untouched(const uint8_t *ram, uint64_t size)
{
	for (uint64_t i = 0; i < size; i++)
		if (ram[i] != 0xcc)
			return false;
	return true;
}

static void test_load_refusals(void)
{
	struct bz_spec s;
	static uint8_t initrd[8 * MiB];
	struct linux_boot_params p = { .cmdline = "" };
	struct linux_e820_entry extra[BZ_MAX_EXTRA_E820 + 1];
	struct loaded l;
	char longline[64];

	/* Kernel too large for RAM: says what it needed and what there is */
	s = good_spec();
	s.init_size = 40 * MiB;
	load_spec(&l, &s, 32 * MiB, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK(strstr(l.why, "needed 43008 KiB") != NULL);
	CHECK(strstr(l.why, "guest has 32768 KiB") != NULL);
	CHECK(ram_untouched(l.ram, 32 * MiB));
	unload(&l);

	/* Initrd too large next to the kernel */
	s = good_spec();
	p.initrd = initrd;
	p.initrd_size = sizeof(initrd);
	s.init_size = 20 * MiB;
	load_spec(&l, &s, 24 * MiB, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK(strstr(l.why, "initrd of 8192 KiB") != NULL);
	CHECK(strstr(l.why, "guest has 24576 KiB") != NULL);
	CHECK(ram_untouched(l.ram, 24 * MiB));
	unload(&l);
	/* ... and one that only fails because of initrd_addr_max */
	s = good_spec();
	s.xloadflags = BZ_XLF_KERNEL_64;
	s.initrd_addr_max = 4 * MiB - 1;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK(strstr(l.why, "below 0x400000") != NULL);
	unload(&l);
	p.initrd = NULL;
	p.initrd_size = 0;

	/* Command line: cmdline_size bytes are fine, one more is refused */
	s = good_spec();
	s.cmdline_size = 10;
	memset(longline, 'x', sizeof(longline));
	longline[10] = '\0';
	p.cmdline = longline;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	CHECK_STR((const char *)l.ram + BZ_CMDLINE, longline);
	unload(&l);
	longline[10] = 'x';
	longline[11] = '\0';
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK_STR(l.why, "command line of 11 bytes is longer than the kernel's 10");
	CHECK(ram_untouched(l.ram, RAM_64M));
	unload(&l);
	p.cmdline = NULL;

	/* Bad parameters */
	s = good_spec();
	p.initrd_size = 10;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_INVAL);
	unload(&l);
	p.initrd_size = 0;
	load_spec(&l, &s, 2 * MiB, &p);
	CHECK_EQ(l.err, -E_RANGE);
	unload(&l);

	/* Extra e820 ranges: outside RAM, over the loader's area, overlapping, RAM type, too many */
	p.e820_extra = extra;
	p.e820_extra_count = 1;
	extra[0] = (struct linux_e820_entry){ RAM_64M - 4096, 8192, LINUX_E820_RESERVED };
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK(strstr(l.why, "outside guest RAM") != NULL);
	unload(&l);
	extra[0] = (struct linux_e820_entry){ 0x1f000, 0x2000, LINUX_E820_RESERVED };
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_RANGE);
	CHECK(strstr(l.why, "loader's area") != NULL);
	unload(&l);
	extra[0] = (struct linux_e820_entry){ 0xe0000, 0x20000, LINUX_E820_RAM };
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_INVAL);
	unload(&l);
	extra[0] = (struct linux_e820_entry){ 0xe0000, 0x20000, LINUX_E820_ACPI };
	extra[1] = (struct linux_e820_entry){ 0xf0000, 0x1000, LINUX_E820_NVS };
	p.e820_extra_count = 2;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_INVAL);
	CHECK(strstr(l.why, "overlap each other") != NULL);
	unload(&l);
	p.e820_extra_count = BZ_MAX_EXTRA_E820 + 1;
	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, -E_INVAL);
	unload(&l);
}

/* A reserved extra range in the hole merges with it; several extras carve high RAM. */
static void test_e820_merge(void)
{
	struct bz_spec s = good_spec();
	struct linux_e820_entry extra[] = {
		{ 0xe0000, 0x20000, LINUX_E820_RESERVED },
		{ 40 * MiB, 4096, LINUX_E820_NVS },
		{ 50 * MiB, 2 * MiB, LINUX_E820_RESERVED },
	};
	const struct linux_e820_entry want[] = {
		{ 0, 0x9fc00, LINUX_E820_RAM },
		{ 0x9fc00, 0x100000 - 0x9fc00, LINUX_E820_RESERVED },
		{ 0x100000, 39 * MiB, LINUX_E820_RAM },
		{ 40 * MiB, 4096, LINUX_E820_NVS },
		{ 40 * MiB + 4096, 10 * MiB - 4096, LINUX_E820_RAM },
		{ 50 * MiB, 2 * MiB, LINUX_E820_RESERVED },
		{ 52 * MiB, RAM_64M - 52 * MiB, LINUX_E820_RAM },
	};
	struct linux_boot_params p = { .e820_extra = extra, .e820_extra_count = 3 };
	struct loaded l;

	load_spec(&l, &s, RAM_64M, &p);
	CHECK_EQ(l.err, 0);
	check_e820(l.ram + BZ_ZERO_PAGE, want, ARRAY_SIZE(want));
	unload(&l);
}

/* Random header bytes: parse never reads past the image and load never writes outside RAM. */
static void test_fuzz(void)
{
	struct bz_spec s = good_spec();
	struct linux_boot_params p = { .cmdline = "console=ttyS0" };
	uint8_t *ram = malloc(RAM_64M);
	unsigned accepted = 0;

	srand(1);
	for (unsigned iter = 0; iter < 3000; iter++) {
		size_t len;
		uint8_t *img = make_bz(&s, &len);
		struct bzimage_info bi;
		struct linux_entry e;
		const char *why;

		for (unsigned k = 0; k < 4; k++)
			img[0x1f1 + rand() % (HEADER_END - 0x1f1)] = (uint8_t)rand();
		if (bzimage_parse(img, len, &bi, &why) == 0) {
			int err = bzimage_load(&bi, img, len, ram, RAM_64M, &p, &e, &why);

			CHECK(why != NULL);
			if (err == 0) {
				accepted++;
				CHECK(e.kernel_end <= RAM_64M);
				CHECK(e.kernel_addr >= MiB);
			}
		} else {
			CHECK(why && *why);
		}
		free(img);
	}
	CHECK(accepted > 100);
	free(ram);
}

int main(void)
{
	RUN_TEST(test_parse_good);
	RUN_TEST(test_parse_truncated);
	RUN_TEST(test_parse_refusals);
	RUN_TEST(test_load_zero_page);
	RUN_TEST(test_entry_state);
	RUN_TEST(test_identity_large_ram);
	RUN_TEST(test_ram_above_4g);
	RUN_TEST(test_kernel_placement);
	RUN_TEST(test_initrd_placement);
	RUN_TEST(test_load_refusals);
	RUN_TEST(test_e820_merge);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
