/* Host tests for Multiboot (v1): header, ELF32 and a.out parsing, loading, boot information. */
#include "tests/unit/test.h"
#include "kernel/mb1.h"
#include "kernel/lib.h"

#include <stdlib.h>

TEST_MAIN_GLOBALS;

#define IMAGE_MAX 0x4000
#define RAM_16M (16 * 1024 * 1024)

struct elf_seg {
	uint32_t type, offset, vaddr, paddr, filesz, memsz;
};

static void put_mb_header(uint8_t *p, uint32_t flags)
{
	put_le32(p, MB1_HEADER_MAGIC);
	put_le32(p + 4, flags);
	put_le32(p + 8, (uint32_t)-(MB1_HEADER_MAGIC + flags));
}

/* Byte i of every test image: easy to recognise once loaded */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/* An ELF32 i386 executable: ELF header, program headers, Multiboot header, then data. */
static size_t make_elf(uint8_t *buf, uint32_t entry, const struct elf_seg *segs, unsigned n,
		       uint32_t mb_flags)
{
	size_t len = 0x100;
	uint32_t mb_off = (uint32_t)ALIGN_UP(52 + n * 32, 4);

	for (unsigned i = 0; i < n; i++)
		if (segs[i].filesz && segs[i].offset + segs[i].filesz > len)
			len = segs[i].offset + segs[i].filesz;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i);
	memset(buf, 0, 52 + n * 32 + 12);
	memcpy(buf, "\x7f" "ELF", 4);
	buf[4] = 1; /* ELFCLASS32 */
	buf[5] = 1; /* ELFDATA2LSB */
	buf[6] = 1; /* EV_CURRENT */
	put_le16(buf + 16, 2); /* ET_EXEC */
	put_le16(buf + 18, 3); /* EM_386 */
	put_le32(buf + 20, 1);
	put_le32(buf + 24, entry);
	put_le32(buf + 28, 52);
	put_le16(buf + 40, 52);
	put_le16(buf + 42, 32);
	put_le16(buf + 44, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *ph = buf + 52 + i * 32;

		put_le32(ph, segs[i].type);
		put_le32(ph + 4, segs[i].offset);
		put_le32(ph + 8, segs[i].vaddr);
		put_le32(ph + 12, segs[i].paddr);
		put_le32(ph + 16, segs[i].filesz);
		put_le32(ph + 20, segs[i].memsz);
		put_le32(ph + 24, 5);
		put_le32(ph + 28, 0x1000);
	}
	put_mb_header(buf + mb_off, mb_flags);
	return len;
}

/* Text at 1 MiB, data+bss at 1 MiB + 8 KiB, and a PT_NOTE that must be ignored. */
static const struct elf_seg good_segs[] = {
	{ 1, 0x1000, 0x100000, 0x100000, 0x800, 0x800 },
	{ 4, 0x1800, 0, 0, 0x20, 0x20 },
	{ 1, 0x1800, 0x102000, 0x102000, 0x100, 0x1100 },
};

static size_t make_good_elf(uint8_t *buf)
{
	return make_elf(buf, 0x100010, good_segs, ARRAY_SIZE(good_segs), 0x3);
}

struct aout_fields {
	uint32_t header_off, header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	uint32_t flags;
};

/* A flat binary with the a.out-kludge header at header_off. */
static size_t make_aout(uint8_t *buf, size_t len, const struct aout_fields *f)
{
	uint8_t *hdr = buf + f->header_off;

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(i);
	put_mb_header(hdr, f->flags | 0x10000);
	put_le32(hdr + 12, f->header_addr);
	put_le32(hdr + 16, f->load_addr);
	put_le32(hdr + 20, f->load_end_addr);
	put_le32(hdr + 24, f->bss_end_addr);
	put_le32(hdr + 28, f->entry_addr);
	return len;
}

static const struct aout_fields good_aout = {
	.header_off = 0x40,
	.header_addr = 0x100040,
	.load_addr = 0x100000,
	.load_end_addr = 0x102000,
	.bss_end_addr = 0x104000,
	.entry_addr = 0x100080,
	.flags = 0x2,
};

static void test_parse_elf(void)
{
	uint8_t buf[IMAGE_MAX];
	struct mb1_image im;
	const char *why = NULL;
	size_t len = make_good_elf(buf);

	CHECK_EQ(len, 0x1900);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK(why != NULL);
	CHECK_EQ(im.header_offset, 52 + 3 * 32);
	CHECK_EQ(im.header_flags, 0x3);
	CHECK(!im.aout_kludge);
	CHECK_EQ(im.entry, 0x100010);
	CHECK_EQ(im.segment_count, 2);
	CHECK_EQ(im.segments[0].file_offset, 0x1000);
	CHECK_EQ(im.segments[0].file_size, 0x800);
	CHECK_EQ(im.segments[0].load_addr, 0x100000);
	CHECK_EQ(im.segments[0].mem_size, 0x800);
	CHECK_EQ(im.segments[1].file_offset, 0x1800);
	CHECK_EQ(im.segments[1].file_size, 0x100);
	CHECK_EQ(im.segments[1].load_addr, 0x102000);
	CHECK_EQ(im.segments[1].mem_size, 0x1100);
	CHECK_EQ(im.load_start, 0x100000);
	CHECK_EQ(im.load_end, 0x103100);
	/* why may be NULL */
	CHECK_EQ(mb1_parse(buf, len, &im, NULL), 0);
}

static void test_parse_elf_details(void)
{
	uint8_t buf[IMAGE_MAX];
	struct mb1_image im;
	const char *why;
	size_t len;

	/* Higher-half kernel: p_paddr is where it loads, e_entry goes through p_vaddr -> p_paddr */
	const struct elf_seg high[] = {
		{ 1, 0x1000, 0xc0100000, 0x100000, 0x400, 0x2000 },
		{ 1, 0x1400, 0xc0200000, 0x200000, 0x100, 0x100 },
	};
	len = make_elf(buf, 0xc0200020, high, 2, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(im.entry, 0x200020);
	CHECK_EQ(im.load_start, 0x100000);
	CHECK_EQ(im.load_end, 0x200100);

	/* Segments out of address order, an empty PT_LOAD skipped, a bss-only segment */
	const struct elf_seg mixed[] = {
		{ 1, 0x1000, 0x300000, 0x300000, 0x10, 0x10 },
		{ 1, 0x9999999, 0x400000, 0x400000, 0, 0 },
		{ 1, 0x9999999, 0x180000, 0x180000, 0, 0x3000 },
	};
	len = make_elf(buf, 0x300000, mixed, 3, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(im.segment_count, 2);
	CHECK_EQ(im.segments[1].file_size, 0);
	CHECK_EQ(im.segments[1].mem_size, 0x3000);
	CHECK_EQ(im.load_start, 0x180000);
	CHECK_EQ(im.load_end, 0x300010);

	/* Exactly MB1_MAX_SEGMENTS loadable segments fit; one more does not */
	struct elf_seg many[MB1_MAX_SEGMENTS + 1];
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct elf_seg){ 1, 0x1000 + i * 0x10, 0x100000 + i * 0x1000,
					    0x100000 + i * 0x1000, 0x10, 0x10 };
	len = make_elf(buf, 0x100000, many, MB1_MAX_SEGMENTS, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(im.segment_count, MB1_MAX_SEGMENTS);
	len = make_elf(buf, 0x100000, many, MB1_MAX_SEGMENTS + 1, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), -E_NOTSUP);
	CHECK_STR(why, "more than 8 loadable ELF segments");

	/* Video mode (bit 2) is tolerated; optional bits 17-31 are ignored */
	len = make_elf(buf, 0x100010, good_segs, 3, 0x4 | 0xfffe0000);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(im.header_flags, 0xfffe0004);
}

static void test_parse_aout(void)
{
	uint8_t buf[IMAGE_MAX];
	struct mb1_image im;
	const char *why;
	struct aout_fields f = good_aout;
	size_t len = make_aout(buf, 0x3000, &f);

	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK(im.aout_kludge);
	CHECK_EQ(im.header_offset, 0x40);
	CHECK_EQ(im.entry, 0x100080);
	CHECK_EQ(im.segment_count, 1);
	CHECK_EQ(im.segments[0].file_offset, 0);
	CHECK_EQ(im.segments[0].file_size, 0x2000);
	CHECK_EQ(im.segments[0].load_addr, 0x100000);
	CHECK_EQ(im.segments[0].mem_size, 0x4000);
	CHECK_EQ(im.load_start, 0x100000);
	CHECK_EQ(im.load_end, 0x104000);

	/* Load starts part-way into the file; no load_end (whole file) and no bss */
	f.load_addr = 0x100020;
	f.load_end_addr = 0;
	f.bss_end_addr = 0;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(im.segments[0].file_offset, 0x20);
	CHECK_EQ(im.segments[0].file_size, 0x3000 - 0x20);
	CHECK_EQ(im.segments[0].mem_size, 0x3000 - 0x20);
	CHECK_EQ(im.load_end, 0x100020 + 0x3000 - 0x20);

	/* An ELF file with flag 16 is loaded by the a.out fields, as GRUB does */
	len = make_good_elf(buf);
	put_mb_header(buf + 0x80, 0x10000);
	put_le32(buf + 0x80 + 12, 0x200080);
	put_le32(buf + 0x80 + 16, 0x200000);
	put_le32(buf + 0x80 + 20, 0);
	put_le32(buf + 0x80 + 24, 0);
	put_le32(buf + 0x80 + 28, 0x200100);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK(im.aout_kludge);
	CHECK_EQ(im.entry, 0x200100);
	CHECK_EQ(im.segments[0].file_size, len);
}

static int parse_why(const uint8_t *buf, size_t len, const char **why)
{
	static struct mb1_image im; /* *why may point into it */

	return mb1_parse(buf, len, &im, why);
}

static void test_header_errors(void)
{
	uint8_t buf[0x3000];
	const char *why;
	size_t len;

	memset(buf, 0, sizeof(buf));
	CHECK_EQ(parse_why(buf, sizeof(buf), &why), -E_NOENT);
	CHECK_STR(why, "no Multiboot header in the first 8 KiB");
	CHECK_EQ(parse_why(buf, 0, &why), -E_NOENT);
	CHECK_EQ(parse_why(NULL, 0, &why), -E_NOENT);

	/* Header past the first 8 KiB, or straddling its end */
	len = make_good_elf(buf);
	memset(buf + 52 + 3 * 32, 0, 12);
	len = sizeof(buf);
	put_mb_header(buf + 8192, 0);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOENT);
	put_mb_header(buf + 8184, 0);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOENT);
	/* Ends exactly at 8 KiB: found */
	put_mb_header(buf + 8180, 0);
	CHECK_EQ(parse_why(buf, len, &why), 0);
	memset(buf + 8180, 0, 12);

	/* Not 4-byte aligned: not a header */
	put_mb_header(buf + 0x102, 0);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOENT);
	memset(buf + 0x102, 0, 12);

	/* Bad checksum alone, then followed by a good header */
	len = make_good_elf(buf);
	put_le32(buf + 52 + 3 * 32 + 8, 0x12345678);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "bad header checksum");
	put_mb_header(buf + 0x200, 0);
	CHECK_EQ(parse_why(buf, len, &why), 0);

	/* Required flags we do not know */
	len = make_elf(buf, 0x100010, good_segs, 3, 0x8);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOTSUP);
	CHECK_STR(why, "header requires flag bit 3, unknown to Multiboot 0.6.96");
	len = make_elf(buf, 0x100010, good_segs, 3, 0x8003);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOTSUP);
	CHECK_STR(why, "header requires flag bit 15, unknown to Multiboot 0.6.96");
	len = make_elf(buf, 0x100010, good_segs, 3, 0x1000);
	CHECK_EQ(parse_why(buf, len, &why), -E_NOTSUP);
	CHECK(strstr(why, "bit 12") != NULL);
}

static void test_elf_errors(void)
{
	uint8_t buf[IMAGE_MAX];
	const char *why;
	size_t len;

	/* Too short for an ELF header, with the Multiboot header inside it */
	memset(buf, 0, 64);
	memcpy(buf, "\x7f" "ELF", 4);
	put_mb_header(buf + 20, 0);
	CHECK_EQ(parse_why(buf, 40, &why), -E_TRUNC);
	CHECK_STR(why, "ELF header truncated");

	/* Neither ELF nor a.out */
	len = make_good_elf(buf);
	buf[1] = 'X';
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "not an ELF file and the header has no a.out kludge");

	len = make_good_elf(buf);
	buf[4] = 2;
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "not a 32-bit ELF file");

	len = make_good_elf(buf);
	buf[5] = 2;
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "not a little-endian ELF file");

	len = make_good_elf(buf);
	put_le16(buf + 16, 3);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF file is not an executable (ET_EXEC)");

	len = make_good_elf(buf);
	put_le16(buf + 18, 62);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF machine is not i386 (EM_386)");

	len = make_good_elf(buf);
	put_le16(buf + 44, 0);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF file has no program headers");

	len = make_good_elf(buf);
	put_le16(buf + 42, 16);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF program header entry size is too small");

	len = make_good_elf(buf);
	put_le32(buf + 28, (uint32_t)len - 64);
	CHECK_EQ(parse_why(buf, len, &why), -E_TRUNC);
	CHECK_STR(why, "ELF program headers extend past the end of the image");
	put_le32(buf + 28, 0xffffffff);
	put_le16(buf + 44, 0xffff);
	CHECK_EQ(parse_why(buf, len, &why), -E_TRUNC);

	/* Segment 1 (the third program header) runs past the end */
	len = make_good_elf(buf);
	CHECK_EQ(parse_why(buf, len - 1, &why), -E_TRUNC);
	CHECK_STR(why, "ELF segment 1 extends past the end of the image");
	put_le32(buf + 52 + 2 * 32 + 4, 0xfffffff0);
	CHECK_EQ(parse_why(buf, len, &why), -E_TRUNC);
	CHECK_STR(why, "ELF segment 1 extends past the end of the image");

	len = make_good_elf(buf);
	put_le32(buf + 52 + 16, 0x801);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF segment 0 has a file size larger than its memory size");

	len = make_good_elf(buf);
	put_le32(buf + 52 + 2 * 32 + 12, 0xfffff000);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF segment 1 ends above 4 GiB");

	len = make_good_elf(buf);
	put_le32(buf + 24, 0x200000);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF entry point is not in a loadable segment");
	/* Entry in the bss part of a segment still counts, as in GRUB */
	put_le32(buf + 24, 0x1030ff);
	CHECK_EQ(parse_why(buf, len, &why), 0);

	const struct elf_seg notes[] = { { 4, 0x1000, 0x100000, 0x100000, 0x10, 0x10 } };
	len = make_elf(buf, 0x100000, notes, 1, 0);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "ELF file has no loadable segments");
}

static void test_aout_errors(void)
{
	uint8_t buf[IMAGE_MAX];
	const char *why;
	struct aout_fields f;
	size_t len;

	f = good_aout;
	f.load_addr = f.header_addr + 4;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge load_addr is above header_addr");

	f = good_aout;
	f.load_addr = f.header_addr - 0x44;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge load_addr lies before the start of the image");

	f = good_aout;
	f.load_end_addr = f.load_addr - 1;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge load_end_addr is below load_addr");

	f = good_aout;
	f.load_end_addr = f.load_addr + 0x3001;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_TRUNC);
	CHECK_STR(why, "a.out kludge load_end_addr lies past the end of the image");
	/* Exactly the whole file is fine */
	f.load_end_addr = f.load_addr + 0x3000;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), 0);

	f = good_aout;
	f.bss_end_addr = f.load_end_addr - 1;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge bss_end_addr is below the end of the data");
	/* bss_end == load_end: an empty bss */
	f.bss_end_addr = f.load_end_addr;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), 0);

	f = good_aout;
	f.load_end_addr = f.load_addr;
	f.bss_end_addr = 0;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge loads nothing");

	f = good_aout;
	f.header_addr = 0xffffff40;
	f.load_addr = 0xffffff00;
	f.load_end_addr = 0;
	f.bss_end_addr = 0;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge image ends above 4 GiB");

	/* The address fields must be in the image and in the first 8 KiB */
	f = good_aout;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, 0x40 + 31, &why), -E_TRUNC);
	CHECK_STR(why, "a.out kludge fields extend past the end of the image");
	memset(buf, 0, sizeof(buf));
	f.header_off = 8180;
	f.header_addr = f.load_addr + 8180;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(parse_why(buf, len, &why), -E_INVAL);
	CHECK_STR(why, "a.out kludge fields extend past the first 8 KiB");
}

/* What a successful parse promises: segments inside the image, sizes consistent. */
static void check_image_sane(const struct mb1_image *im, size_t len)
{
	CHECK(im->segment_count >= 1 && im->segment_count <= MB1_MAX_SEGMENTS);
	CHECK(im->header_offset + 12 <= len && im->header_offset + 12 <= MB1_SEARCH_LIMIT);
	for (unsigned i = 0; i < im->segment_count; i++) {
		const struct mb1_segment *s = &im->segments[i];

		CHECK(s->file_size <= s->mem_size);
		CHECK((uint64_t)s->file_offset + s->file_size <= len);
		CHECK((uint64_t)s->load_addr + s->mem_size <= UINT32_MAX);
		CHECK(s->load_addr >= im->load_start);
		CHECK(s->load_addr + s->mem_size <= im->load_end);
	}
}

static void test_truncation(void)
{
	static uint8_t elf[IMAGE_MAX], aout[IMAGE_MAX];
	struct aout_fields f = good_aout;
	size_t elf_len = make_good_elf(elf);
	size_t aout_len = make_aout(aout, 0x3000, &f);
	struct mb1_image im;
	const char *why;
	unsigned ok = 0;

	/* Exact-size heap copies so ASan catches any read past the length */
	for (size_t n = 0; n <= elf_len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int err;

		memcpy(copy, elf, n);
		err = mb1_parse(copy, n, &im, &why);
		if (err == 0) {
			check_image_sane(&im, n);
			ok++;
		} else {
			CHECK(err == -E_NOENT || err == -E_TRUNC || err == -E_INVAL);
			CHECK(why && why[0]);
		}
		free(copy);
	}
	CHECK_EQ(ok, 1);
	ok = 0;
	for (size_t n = 0; n <= aout_len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		int err;

		memcpy(copy, aout, n);
		err = mb1_parse(copy, n, &im, &why);
		if (err == 0) {
			check_image_sane(&im, n);
			ok++;
		} else {
			CHECK(why && why[0]);
		}
		free(copy);
	}
	/* load_end_addr is fixed at 0x2000, so every length from there on loads */
	CHECK_EQ(ok, aout_len - 0x2000 + 1);
}

static void test_fuzz(void)
{
	static uint8_t base[2][IMAGE_MAX], buf[IMAGE_MAX];
	size_t base_len[2];
	struct aout_fields f = good_aout;
	uint8_t *ram = malloc(2 * MiB);
	struct mb1_image im;
	const char *why;
	unsigned parsed = 0;

	base_len[0] = make_good_elf(base[0]);
	base_len[1] = make_aout(base[1], 0x3000, &f);
	srand(4242);
	for (int iter = 0; iter < 100000; iter++) {
		int which = rand() & 1;
		size_t len = base_len[which];
		int flips = 1 + rand() % 4;
		int err;

		memcpy(buf, base[which], len);
		for (int i = 0; i < flips; i++) {
			size_t at = (size_t)rand() % 0x100;

			if (rand() & 1)
				buf[at] = (uint8_t)rand();
			else
				buf[at] ^= (uint8_t)(1u << (rand() % 8));
		}
		if (rand() % 8 == 0)
			len = (size_t)rand() % (len + 1);
		err = mb1_parse(buf, len, &im, &why);
		CHECK(why != NULL);
		if (err == 0) {
			parsed++;
			check_image_sane(&im, len);
			err = mb1_load(&im, buf, len, ram, 2 * MiB);
			CHECK(err == 0 || err == -E_RANGE);
		}
	}
	CHECK(parsed > 0);

	/* Pure noise with a planted header */
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 64 + (size_t)rand() % (IMAGE_MAX - 64);
		uint32_t flags = (rand() & 1) ? 0x10000u : (uint32_t)rand() & 0x10007u;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (rand() & 1)
			memcpy(buf, "\x7f" "ELF\x01\x01\x01", 7);
		put_mb_header(buf + 4 * ((size_t)rand() % 16), flags);
		if (mb1_parse(buf, len, &im, &why) == 0) {
			check_image_sane(&im, len);
			mb1_load(&im, buf, len, ram, 2 * MiB);
		}
	}
	free(ram);
}

static void test_load(void)
{
	static uint8_t buf[IMAGE_MAX];
	uint8_t *ram = malloc(RAM_16M);
	struct mb1_image im;
	const char *why;
	size_t len = make_good_elf(buf);

	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	memset(ram, 0xaa, RAM_16M);
	CHECK_EQ(mb1_load(&im, buf, len, ram, RAM_16M), 0);
	CHECK(memcmp(ram + 0x100000, buf + 0x1000, 0x800) == 0);
	CHECK_EQ(ram[0xfffff], 0xaa);
	CHECK_EQ(ram[0x100800], 0xaa);
	CHECK(memcmp(ram + 0x102000, buf + 0x1800, 0x100) == 0);
	for (size_t i = 0x102100; i < 0x103100; i++)
		if (ram[i] != 0) {
			CHECK_EQ(i, 0);
			break;
		}
	CHECK_EQ(ram[0x103100], 0xaa);

	/* Past the end of RAM: refused, nothing written */
	memset(ram, 0xaa, RAM_16M);
	CHECK_EQ(mb1_load(&im, buf, len, ram, 0x103000), -E_RANGE);
	CHECK_EQ(ram[0x100000], 0xaa);
	CHECK_EQ(mb1_load(&im, buf, len, ram, 0x103100), 0);

	/* Low memory is the image's too (a kernel linked at 0x8000): the information block moves
	 * instead (test_boot_setup_low) */
	const struct elf_seg low[] = { { 1, 0x1000, 0x7000, 0x7000, 0x800, 0x1001 } };
	len = make_elf(buf, 0x7000, low, 1, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	memset(ram, 0xaa, RAM_16M);
	CHECK_EQ(mb1_load(&im, buf, len, ram, RAM_16M), 0);
	CHECK(memcmp(ram + 0x7000, buf + 0x1000, 0x800) == 0);
	CHECK_EQ(ram[0x8000], 0);
	CHECK_EQ(ram[0x8001], 0xaa);
	const struct elf_seg at_8000[] = { { 1, 0x1000, 0x8000, 0x8000, 0x10, 0x90000 } };
	len = make_elf(buf, 0x8000, at_8000, 1, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(mb1_load(&im, buf, len, ram, RAM_16M), 0);
	CHECK(memcmp(ram + 0x8000, buf + 0x1000, 0x10) == 0);

	/* A segment high in the 32-bit space against a 16 MiB guest: no wrap-around */
	const struct elf_seg high[] = { { 1, 0x1000, 0xfffff000, 0xfffff000, 0x10, 0xfff } };
	len = make_elf(buf, 0xfffff000, high, 1, 0);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(mb1_load(&im, buf, len, ram, RAM_16M), -E_RANGE);

	/* A description that does not match the image handed in */
	len = make_good_elf(buf);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	CHECK_EQ(mb1_load(&im, buf, 0x1000, ram, RAM_16M), -E_INVAL);

	/* a.out: file bytes then zeroed bss */
	struct aout_fields f = good_aout;
	len = make_aout(buf, 0x3000, &f);
	CHECK_EQ(mb1_parse(buf, len, &im, &why), 0);
	memset(ram, 0xaa, RAM_16M);
	CHECK_EQ(mb1_load(&im, buf, len, ram, RAM_16M), 0);
	CHECK(memcmp(ram + 0x100000, buf, 0x2000) == 0);
	CHECK_EQ(ram[0x102000], 0);
	CHECK_EQ(ram[0x103fff], 0);
	CHECK_EQ(ram[0x104000], 0xaa);
	CHECK_EQ(get_le32(ram + 0x100040), MB1_HEADER_MAGIC);
	free(ram);
}

/* The guest's view: struct multiboot_info fields by offset. */
static uint32_t mbi32(const uint8_t *ram, uint32_t mbi, unsigned off)
{
	return get_le32(ram + mbi + off);
}

static bool in_window(uint64_t gpa, uint64_t size)
{
	return gpa >= MB1_INFO_BASE && gpa + size <= MB1_INFO_BASE + MB1_INFO_MAX;
}

static void test_boot_setup(void)
{
	uint8_t *ram = calloc(1, RAM_16M);
	uint8_t two[5000];
	const char one[] = "module-one-data";
	struct mb1_module mods[2] = {
		{ one, sizeof(one) - 1, "initrd" },
		{ two, sizeof(two), "second arg=1" },
	};
	struct mb1_boot_params p = {
		.ram_size = RAM_16M,
		.cmdline = "console=ttyS0 quiet",
		.loader_name = "Cloison",
		.modules = mods,
		.module_count = 2,
		.modules_start = 0x103100,
	};
	uint32_t mbi = 0, mods_addr, mmap_addr, mmap_len;
	static const struct {
		uint64_t base, len;
		uint32_t type;
	} want_mmap[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x100000 - 0x9fc00, 2 },
		{ 0x100000, RAM_16M - 0x100000, 1 },
	};
	unsigned entries = 0;

	for (size_t i = 0; i < sizeof(two); i++)
		two[i] = pattern(i + 11);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi, MB1_INFO_BASE);

	/* flags: MEMORY, CMDLINE, MODS, MMAP, LOADER_NAME */
	CHECK_EQ(mbi32(ram, mbi, 0), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	CHECK_EQ(mbi32(ram, mbi, 4), 639);
	CHECK_EQ(mbi32(ram, mbi, 8), 15360);
	CHECK(in_window(mbi32(ram, mbi, 16), 20));
	CHECK_STR((const char *)ram + mbi32(ram, mbi, 16), "console=ttyS0 quiet");
	CHECK(in_window(mbi32(ram, mbi, 64), 8));
	CHECK_STR((const char *)ram + mbi32(ram, mbi, 64), "Cloison");
	/* Fields for flags we do not set stay zero */
	CHECK_EQ(mbi32(ram, mbi, 12), 0);
	CHECK_EQ(mbi32(ram, mbi, 52), 0);
	CHECK_EQ(mbi32(ram, mbi, 68), 0);

	/* Modules: page aligned from ALIGN_UP(modules_start), contents and strings intact */
	CHECK_EQ(mbi32(ram, mbi, 20), 2);
	mods_addr = mbi32(ram, mbi, 24);
	CHECK(in_window(mods_addr, 32));
	CHECK_EQ(mods_addr % 4, 0);
	CHECK_EQ(get_le32(ram + mods_addr), 0x104000);
	CHECK_EQ(get_le32(ram + mods_addr + 4), 0x104000 + sizeof(one) - 1);
	CHECK(memcmp(ram + 0x104000, one, sizeof(one) - 1) == 0);
	CHECK(in_window(get_le32(ram + mods_addr + 8), 7));
	CHECK_STR((const char *)ram + get_le32(ram + mods_addr + 8), "initrd");
	CHECK_EQ(get_le32(ram + mods_addr + 12), 0);
	CHECK_EQ(get_le32(ram + mods_addr + 16), 0x105000);
	CHECK_EQ(get_le32(ram + mods_addr + 20), 0x105000 + sizeof(two));
	CHECK(memcmp(ram + 0x105000, two, sizeof(two)) == 0);
	CHECK_STR((const char *)ram + get_le32(ram + mods_addr + 24), "second arg=1");
	for (unsigned i = 0; i < 2; i++)
		CHECK_EQ(get_le32(ram + mods_addr + i * 16) % 4096, 0);

	/* Memory map, walked the way the specification tells a guest to */
	mmap_len = mbi32(ram, mbi, 44);
	mmap_addr = mbi32(ram, mbi, 48);
	CHECK_EQ(mmap_len, 72);
	CHECK(in_window(mmap_addr, mmap_len));
	for (uint32_t at = mmap_addr; at < mmap_addr + mmap_len; at += get_le32(ram + at) + 4) {
		CHECK_EQ(get_le32(ram + at), 20);
		if (entries < ARRAY_SIZE(want_mmap)) {
			CHECK_EQ(get_le64(ram + at + 4), want_mmap[entries].base);
			CHECK_EQ(get_le64(ram + at + 12), want_mmap[entries].len);
			CHECK_EQ(get_le32(ram + at + 20), want_mmap[entries].type);
		}
		entries++;
	}
	CHECK_EQ(entries, 3);

	/* The pieces do not overlap one another */
	CHECK(mbi32(ram, mbi, 16) >= mbi + 116);
	CHECK(mods_addr >= mbi32(ram, mbi, 64) + 8);
	CHECK(mmap_addr >= get_le32(ram + mods_addr + 24) + sizeof("second arg=1"));
	free(ram);
}

static void test_boot_setup_edges(void)
{
	uint8_t *ram = calloc(1, RAM_16M);
	static uint8_t blob[64 * 1024];
	struct mb1_module mod = { blob, sizeof(blob), NULL };
	struct mb1_boot_params p = { .ram_size = RAM_16M, .modules_start = 0x100000 };
	uint32_t mbi;

	/* No modules, NULL strings: MODS still set with an empty list, empty strings */
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi32(ram, mbi, 0) & (1u << 3), 1u << 3);
	CHECK_EQ(mbi32(ram, mbi, 20), 0);
	CHECK_STR((const char *)ram + mbi32(ram, mbi, 16), "");
	CHECK_STR((const char *)ram + mbi32(ram, mbi, 64), "");

	/* A module that ends exactly at the end of RAM fits; one byte more does not */
	p.modules = &mod;
	p.module_count = 1;
	p.modules_start = RAM_16M - sizeof(blob);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24) + 4), RAM_16M);
	CHECK_STR((const char *)ram + get_le32(ram + mbi32(ram, mbi, 24) + 8), "");
	p.modules_start = RAM_16M - sizeof(blob) + 1;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);
	p.modules_start = 0xfffff000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);

	/* Second module pushed past the end by the first one's page alignment */
	struct mb1_module two[2] = { { blob, 1, "a" }, { blob, sizeof(blob), "b" } };
	p.modules = two;
	p.module_count = 2;
	p.modules_start = RAM_16M - sizeof(blob) - 4096;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	p.modules_start += 1;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);

	/* A module may go in low memory (the information block then moves past it), but not
	 * across the EBDA and ROM hole: then it goes to 1 MiB */
	p.modules = &mod;
	p.module_count = 1;
	p.modules_start = 0x1000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), 0x1000);
	CHECK_EQ(mbi, 0x1000 + sizeof(blob));
	p.modules_start = 0xa0000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), MiB);
	CHECK_EQ(mbi, MB1_INFO_BASE);
	p.modules_start = MB1_LOW_MEM_END - sizeof(blob) + 1;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), MiB);
	p.modules_start = ALIGN_DOWN(MB1_LOW_MEM_END - sizeof(blob), 4096);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), p.modules_start);
	mod.size = 0x7000;
	p.modules_start = 0x1000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi, MB1_INFO_BASE);
	mod.size = sizeof(blob);

	/* A module with no data */
	struct mb1_module empty = { NULL, 10, "x" };
	p.modules = &empty;
	p.modules_start = 0x200000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_INVAL);
	empty.size = 0;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	p.modules = NULL;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_INVAL);
	p.module_count = 0;

	/* Guest RAM at least 2 MiB */
	p.ram_size = 2 * MiB - 1;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);
	p.ram_size = 2 * MiB;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi32(ram, mbi, 8), 1024);

	/* Above 4 GiB, mem_upper stops at 4 GiB while the map shows it all */
	p.ram_size = 6 * GiB;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi32(ram, mbi, 8), (4 * GiB - MiB) / KiB);
	CHECK_EQ(get_le64(ram + mbi32(ram, mbi, 48) + 2 * 24 + 12), 6 * GiB - MiB);

	/* A command line too long for the window */
	size_t big = MB1_INFO_MAX;
	char *line = malloc(big + 1);
	memset(line, 'x', big);
	line[big] = 0;
	p.ram_size = RAM_16M;
	p.cmdline = line;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);
	line[big - 1000] = 0;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(strlen((const char *)ram + mbi32(ram, mbi, 16)), big - 1000);
	free(line);
	free(ram);
}

/* An image made of these [start, end) segments, as mb1_parse describes one. */
static void image_of(struct mb1_image *im, const uint32_t (*segs)[2], unsigned n)
{
	memset(im, 0, sizeof(*im));
	for (unsigned i = 0; i < n; i++) {
		im->segments[i].load_addr = segs[i][0];
		im->segments[i].mem_size = segs[i][1] - segs[i][0];
		if (i == 0 || segs[i][0] < im->load_start)
			im->load_start = segs[i][0];
		if (segs[i][1] > im->load_end)
			im->load_end = segs[i][1];
	}
	im->segment_count = n;
}

static bool apart(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a_end <= b || b_end <= a;
}

/* Everything the information block holds lies in [mbi, *end); returns false if a piece does
 * not. */
static bool info_extent(const uint8_t *ram, uint32_t mbi, uint64_t *end)
{
	uint32_t mods = mbi32(ram, mbi, 24), count = mbi32(ram, mbi, 20);
	uint64_t e = mbi + 116;

	e = MAX(e, mbi32(ram, mbi, 16) + strlen((const char *)ram + mbi32(ram, mbi, 16)) + 1);
	e = MAX(e, mbi32(ram, mbi, 64) + strlen((const char *)ram + mbi32(ram, mbi, 64)) + 1);
	e = MAX(e, (uint64_t)mods + count * 16);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t str = get_le32(ram + mods + i * 16 + 8);

		if (str < mbi)
			return false;
		e = MAX(e, str + strlen((const char *)ram + str) + 1);
	}
	e = MAX(e, (uint64_t)mbi32(ram, mbi, 48) + mbi32(ram, mbi, 44));
	*end = e;
	return mbi32(ram, mbi, 16) >= mbi && mbi32(ram, mbi, 64) >= mbi && mods >= mbi &&
	       mbi32(ram, mbi, 48) >= mbi;
}

/* Issue 12 item 10: a kernel linked at 0x8000, as GRUB boots it. */
static void test_boot_setup_low(void)
{
	uint8_t *ram = calloc(1, RAM_16M);
	static uint8_t blob[5000];
	struct mb1_module mod = { blob, sizeof(blob), "lowdata" };
	struct mb1_image im;
	struct mb1_boot_params p = { .ram_size = RAM_16M, .cmdline = "low at 0x8000",
				     .loader_name = "Cloison", .modules = &mod, .module_count = 1,
				     .image = &im };
	uint32_t mbi, mod_at;
	uint64_t end;

	/* Image at 0x8000-0xdba0, its module right after it: the block follows the module */
	const uint32_t at_8000[][2] = { { 0x8000, 0xdba0 } };
	image_of(&im, at_8000, 1);
	p.modules_start = ALIGN_UP(im.load_end, 4096);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	mod_at = get_le32(ram + mbi32(ram, mbi, 24));
	CHECK_EQ(mod_at, 0xe000);
	CHECK_EQ(mbi, 0x10000);
	CHECK(info_extent(ram, mbi, &end));
	CHECK(apart(mbi, end, 0x8000, 0xdba0));
	CHECK(apart(mbi, end, mod_at, mod_at + sizeof(blob)));
	CHECK_STR((const char *)ram + mbi32(ram, mbi, 16), "low at 0x8000");

	/* A gap below the image still holds it at 0x8000 */
	const uint32_t at_9000[][2] = { { 0x9000, 0x20000 } };
	image_of(&im, at_9000, 1);
	p.modules_start = 0x100000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi, MB1_INFO_BASE);
	CHECK(info_extent(ram, mbi, &end));
	CHECK(end <= 0x9000);

	/* A gap too small at 0x8000: the next one up */
	const uint32_t tight[][2] = { { 0x8080, 0x9000 }, { 0xa000, 0xb000 } };
	image_of(&im, tight, 2);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi, 0x9000);

	/* Low memory from 0x8000 up taken: below it, from 0x1000 */
	const uint32_t upper_low[][2] = { { 0x8000, MB1_LOW_MEM_END } };
	image_of(&im, upper_low, 1);
	p.modules_start = 0x9f000;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(mbi, 0x1000);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), MiB); /* the module skipped the ROM hole */

	/* All of low memory taken: after the module, above 1 MiB */
	const uint32_t all_low[][2] = { { 0x1000, MB1_LOW_MEM_END } };
	image_of(&im, all_low, 1);
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), 0);
	CHECK_EQ(get_le32(ram + mbi32(ram, mbi, 24)), MiB);
	CHECK_EQ(mbi, MiB + 0x2000);

	/* No room anywhere: low memory and RAM up to its end are the image's */
	const uint32_t everything[][2] = { { 0x1000, MB1_LOW_MEM_END }, { 0x100000, RAM_16M } };
	image_of(&im, everything, 2);
	p.modules_start = RAM_16M;
	p.module_count = 0;
	CHECK_EQ(mb1_boot_setup(ram, &p, &mbi), -E_RANGE);
	free(ram);
}

/* Random images and modules: whenever set-up succeeds, the block, every piece of it, each
 * module and each segment lie apart from one another and inside RAM. */
static void test_boot_setup_placement_fuzz(void)
{
	uint64_t ram_size = 8 * MiB;
	uint8_t *ram = calloc(1, ram_size);
	static uint8_t blob[0x30000];
	struct mb1_module mods[4];
	struct mb1_image im;
	struct mb1_boot_params p = { .ram_size = ram_size, .cmdline = "fuzz", .loader_name = "L",
				     .modules = mods, .image = &im };
	unsigned placed = 0, high = 0;

	srand(10);
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t segs[MB1_MAX_SEGMENTS][2];
		unsigned n = 1 + (unsigned)rand() % MB1_MAX_SEGMENTS;
		uint32_t mbi, list;
		uint64_t end;

		for (unsigned i = 0; i < n; i++) {
			uint32_t start = (uint32_t)rand() % (rand() % 2 ? 0xa0000 : 0x400000);
			uint32_t len = 1 + (uint32_t)rand() % (rand() % 4 ? 0x8000 : 0x90000);

			segs[i][0] = start;
			segs[i][1] = start + len;
		}
		if (rand() % 4 == 0) { /* low memory all taken */
			segs[0][0] = 0x1000;
			segs[0][1] = MB1_LOW_MEM_END;
		}
		image_of(&im, (const uint32_t (*)[2])segs, n);
		p.module_count = (unsigned)rand() % 5;
		for (unsigned i = 0; i < p.module_count; i++)
			mods[i] = (struct mb1_module){ blob, (size_t)rand() % sizeof(blob), "m" };
		p.modules_start = ALIGN_UP(im.load_end, 4096);
		if (mb1_boot_setup(ram, &p, &mbi) != 0)
			continue;
		placed++;
		high += mbi >= MiB;
		CHECK(info_extent(ram, mbi, &end));
		CHECK(end <= ram_size);
		CHECK(mbi >= MB1_LOW_SEARCH_START);
		CHECK(mbi >= MiB || end <= MB1_LOW_MEM_END);
		list = mbi32(ram, mbi, 24);
		for (unsigned i = 0; i < n; i++)
			CHECK(apart(mbi, end, segs[i][0], segs[i][1]));
		for (unsigned i = 0; i < p.module_count; i++) {
			uint32_t ms = get_le32(ram + list + i * 16), me = get_le32(ram + list + i * 16 + 4);

			CHECK_EQ(me - ms, mods[i].size);
			CHECK(apart(mbi, end, ms, me));
			CHECK(me <= ram_size);
			CHECK(ms >= MiB || me <= MB1_LOW_MEM_END);
			for (unsigned j = 0; j < n; j++)
				CHECK(apart(ms, me, segs[j][0], segs[j][1]));
		}
	}
	CHECK(placed > 2500);
	CHECK(high > 100);
	CHECK(placed - high > 100);
	free(ram);
}

int main(void)
{
	RUN_TEST(test_parse_elf);
	RUN_TEST(test_parse_elf_details);
	RUN_TEST(test_parse_aout);
	RUN_TEST(test_header_errors);
	RUN_TEST(test_elf_errors);
	RUN_TEST(test_aout_errors);
	RUN_TEST(test_truncation);
	RUN_TEST(test_fuzz);
	RUN_TEST(test_load);
	RUN_TEST(test_boot_setup);
	RUN_TEST(test_boot_setup_edges);
	RUN_TEST(test_boot_setup_low);
	RUN_TEST(test_boot_setup_placement_fuzz);
	return test_any_failed;
}
