/* Host tests for drivers/acpi.c: synthetic tables in a fake physical memory, broken tables, fuzzing.
 * The fake map() hands out a fresh heap copy of exactly the bytes asked for and frees it at the
 * next call, so ASan catches any read outside what map() returned or after it was replaced. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "drivers/acpi.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define MEM_SIZE (256 * 1024)
#define RSDT_AT 0x1000
#define XSDT_AT 0x2000
#define FADT_AT 0x3000
#define MADT_AT 0x4000
#define MADT2_AT 0x5000
#define SSDT_AT 0x6000
#define DSDT_AT 0x8000
#define DSDT2_AT 0x10000
#define MADT_BIG_AT 0x20000 /* room for hundreds of entries */
#define FADT_LEN 276 /* ACPI 6.5 FADT */

static uint8_t mem[MEM_SIZE];
static uint8_t rsdp[36];
static struct acpi_info info;

struct fake_mem {
	size_t size;  /* bytes of mem[] that exist */
	void *live;   /* the copy handed out last */
	unsigned maps;
};
static struct fake_mem fake;

static const void *fake_map(void *ctx, uint64_t phys, size_t len)
{
	struct fake_mem *f = ctx;

	free(f->live);
	f->live = NULL;
	f->maps++;
	if (phys >= f->size || len > f->size - phys || len == 0)
		return NULL;
	f->live = malloc(len);
	memcpy(f->live, mem + phys, len);
	return f->live;
}

static void w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void w64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t r32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Recomputes the checksum of the table at phys from its own length field. */
static void table_fix(uint64_t phys)
{
	uint8_t *t = mem + phys;
	uint32_t len = r32(t + 4);

	t[9] = 0;
	t[9] = (uint8_t)(0 - sum8(t, len));
}

static void table_header(uint64_t phys, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *t = mem + phys;

	memcpy(t, sig, 4);
	w32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "CLOISN", 6);
	memcpy(t + 16, "TESTTABL", 8);
	w32(t + 24, 1);
	memcpy(t + 28, "TEST", 4);
	w32(t + 32, 1);
	table_fix(phys);
}

static void rsdp_v1(uint32_t rsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "BOCHS ", 6);
	rsdp[15] = 0;
	w32(rsdp + 16, rsdt);
	rsdp[8] = (uint8_t)(0 - sum8(rsdp, 20));
}

static void rsdp_v2(uint32_t rsdt, uint64_t xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "OVMF\x01\x02", 6);
	rsdp[15] = 2;
	w32(rsdp + 16, rsdt);
	w32(rsdp + 20, 36);
	w64(rsdp + 24, xsdt);
	rsdp[8] = (uint8_t)(0 - sum8(rsdp, 20));
	rsdp[32] = (uint8_t)(0 - sum8(rsdp, 36));
}

static void rsdt_make(uint64_t phys, const uint32_t *entries, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		w32(mem + phys + 36 + 4 * i, entries[i]);
	table_header(phys, "RSDT", 36 + 4 * n, 1);
}

static void xsdt_make(uint64_t phys, const uint64_t *entries, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		w64(mem + phys + 36 + 8 * i, entries[i]);
	table_header(phys, "XSDT", 36 + 8 * n, 1);
}

/* MADT built entry by entry. */
struct madt {
	uint64_t phys;
	uint32_t len;
};

static void madt_begin(struct madt *m, uint64_t phys, uint32_t lapic, uint32_t flags)
{
	m->phys = phys;
	m->len = 44;
	w32(mem + phys + 36, lapic);
	w32(mem + phys + 40, flags);
}

static void madt_raw(struct madt *m, const uint8_t *bytes, uint32_t n)
{
	memcpy(mem + m->phys + m->len, bytes, n);
	m->len += n;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };
	w32(e + 4, flags);
	madt_raw(m, e, sizeof(e));
}

static void madt_x2apic(struct madt *m, uint32_t uid, uint32_t x2apic_id, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };
	w32(e + 4, x2apic_id);
	w32(e + 8, flags);
	w32(e + 12, uid);
	madt_raw(m, e, sizeof(e));
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	uint8_t e[12] = { 1, 12, id, 0 };
	w32(e + 4, addr);
	w32(e + 8, gsi_base);
	madt_raw(m, e, sizeof(e));
}

static void madt_irq_override(struct madt *m, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t e[10] = { 2, 10, 0, irq };
	w32(e + 4, gsi);
	w16(e + 8, flags);
	madt_raw(m, e, sizeof(e));
}

static void madt_lapic_override(struct madt *m, uint64_t addr)
{
	uint8_t e[12] = { 5, 12 };
	w64(e + 4, addr);
	madt_raw(m, e, sizeof(e));
}

static void madt_end(struct madt *m)
{
	table_header(m->phys, "APIC", m->len, 3);
}

/* A QEMU-like FADT: PM at 0x600, reset register 0xcf9 <- 0x06, both DSDT fields at dsdt. */
static void fadt_make(uint64_t phys, uint32_t len, uint8_t rev, uint32_t dsdt)
{
	uint8_t *f = mem + phys;

	memset(f, 0, FADT_LEN);
	w32(f + 40, dsdt);
	w16(f + 46, 9);
	w32(f + 48, 0xb2);
	f[52] = 0xf1;
	f[53] = 0xf0;
	w32(f + 56, 0x600);
	w32(f + 64, 0x604);
	w32(f + 76, 0x608);
	f[88] = 4;
	f[89] = 2;
	f[91] = 4;
	w32(f + 112, ACPI_FADT_RESET_REG_SUP | ACPI_FADT_TMR_VAL_EXT);
	f[116] = ACPI_GAS_IO;
	f[117] = 8;
	w64(f + 120, 0xcf9);
	f[128] = 0x06;
	w64(f + 140, dsdt);
	f[172] = ACPI_GAS_IO; /* X_PM1a_CNT_BLK */
	f[173] = 16;
	w64(f + 176, 0x604);
	f[208] = ACPI_GAS_IO; /* X_PM_TMR_BLK */
	f[209] = 32;
	w64(f + 212, 0x608);
	table_header(phys, "FACP", len, rev);
}

/* Bochs's and QEMU's \_S5: Name (_S5, Package (0x04) {Zero, Zero, Zero, Zero}) */
static const uint8_t aml_s5_zero_ops[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
					   0x00, 0x00, 0x00, 0x00 };

/* A PC firmware's: Name (\_S5, Package (0x04) {0x07, 0x07, Zero, Zero}), byte constants. */
static const uint8_t aml_s5_byte_prefix[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
					      0x0a, 0x07, 0x0a, 0x07, 0x00, 0x00 };

/* Lines around it, as a DSDT has them: a Scope, _S3 and _S4 packages, and a Method _PTS that
 * mentions _S5_ in a comparison (not a NameOp). */
static const uint8_t aml_prologue[] = {
	0x10, 0x06, '\\', '_', 'S', 'B', '_',                                    /* Scope */
	0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05,          /* _S3 */
	0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x02, 0x0a, 0x06, 0x0a, 0x06,          /* _S4 */
	0x14, 0x0e, '_', 'P', 'T', 'S', 0x01, 0x93, 0x68, '_', 'S', '5', '_', 0xa4, 0x00, /* Method */
};

/* Bochs 2.7 BIOS, 4 CPUs: MADT as dumped from the running machine */
static const uint8_t bochs_madt_4cpus[98] = {
	0x41, 0x50, 0x49, 0x43, 0x62, 0x00, 0x00, 0x00, 0x01, 0x8c, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x41, 0x50, 0x49, 0x43,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xe0, 0xfe, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x08, 0x02, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x03, 0x03,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x04, 0x00, 0x00, 0x00, 0xc0, 0xfe,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00,
};

/* Bochs 2.7 BIOS: an ACPI 1.0 FADT (116 bytes, no reset register), DSDT at 0xfff0100 */
static const uint8_t bochs_fadt[116] = {
	0x46, 0x41, 0x43, 0x50, 0x74, 0x00, 0x00, 0x00, 0x01, 0x3b, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x46, 0x41, 0x43, 0x50,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0xc0, 0x00, 0xff, 0x0f, 0x00, 0x01, 0xff, 0x0f, 0x01, 0x00, 0x09, 0x00,
	0xb2, 0x00, 0x00, 0x00, 0xf1, 0xf0, 0x00, 0x00, 0x00, 0xb0, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x08, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0xff, 0x0f, 0xff, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x75, 0x00, 0x00, 0x00,
};

/* QEMU 7.2 q35 with SeaBIOS: FADT revision 3 with the reset register (0xcf9 <- 0x0f) */
static const uint8_t qemu_q35_fadt[244] = {
	0x46, 0x41, 0x43, 0x50, 0xf4, 0x00, 0x00, 0x00, 0x03, 0x28, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xfe, 0x07, 0x40, 0x00, 0xfe, 0x07, 0x01, 0x00, 0x09, 0x00,
	0xb2, 0x00, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x06, 0x00, 0x00, 0x20, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00,
	0xff, 0x0f, 0xff, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x32, 0x02, 0x00, 0x00, 0xa5, 0x84, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00,
	0xf9, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0xfe, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x04, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0x08, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x20, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

static void dsdt_make(uint64_t phys, const uint8_t *body1, size_t n1, const uint8_t *body2,
		      size_t n2)
{
	memcpy(mem + phys + 36, body1, n1);
	if (body2)
		memcpy(mem + phys + 36 + n1, body2, n2);
	table_header(phys, "DSDT", (uint32_t)(36 + n1 + n2), 2);
}

static void reset_mem(void)
{
	memset(mem, 0, sizeof(mem));
	fake = (struct fake_mem){ .size = MEM_SIZE };
}

static int parse(size_t rsdp_len)
{
	int rc = acpi_parse(rsdp, rsdp_len, fake_map, &fake, &info);
	free(fake.live);
	fake.live = NULL;
	return rc;
}

static bool has_note(const char *needle)
{
	for (unsigned i = 0; i < info.note_count; i++)
		if (strstr(info.notes[i], needle))
			return true;
	return false;
}

static void dump_notes(void)
{
	for (unsigned i = 0; i < info.note_count; i++)
		printf("  note: %s\n", info.notes[i]);
}

#define CHECK_NOTE(s)                                                                      \
	do {                                                                               \
		CHECK(has_note(s));                                                        \
		if (!has_note(s))                                                          \
			dump_notes();                                                      \
	} while (0)

/* The machine most tests start from: 4 CPUs (APIC id 2 disabled), one I/O APIC, FADT, DSDT. */
static void standard_tables(void)
{
	struct madt m;

	reset_mem();
	madt_begin(&m, MADT_AT, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	madt_lapic(&m, 2, 2, 0);
	madt_lapic(&m, 3, 3, 1);
	madt_ioapic(&m, 4, 0xfec00000, 0);
	madt_irq_override(&m, 0, 2, 0);
	madt_irq_override(&m, 9, 9, 0x000d);
	madt_end(&m);
	fadt_make(FADT_AT, FADT_LEN, 6, DSDT_AT);
	dsdt_make(DSDT_AT, aml_prologue, sizeof(aml_prologue), aml_s5_zero_ops,
		  sizeof(aml_s5_zero_ops));
	table_header(SSDT_AT, "SSDT", 40, 1);
	uint32_t entries[] = { FADT_AT, MADT_AT, SSDT_AT };
	rsdt_make(RSDT_AT, entries, 3);
	rsdp_v1(RSDT_AT);
}

static void test_rsdp_v1_rsdt(void)
{
	standard_tables();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.rsdp_revision, 0);
	CHECK_STR(info.oem_id, "BOCHS ");
	CHECK(!info.used_xsdt);
	CHECK_EQ(info.root_table, RSDT_AT);
	CHECK_EQ(info.table_count, 3);
	CHECK_STR(info.tables[0], "FACP");
	CHECK_STR(info.tables[1], "APIC");
	CHECK_STR(info.tables[2], "SSDT");
	CHECK(info.has_madt);
	CHECK(info.has_fadt);
	CHECK(info.has_dsdt);
	CHECK_EQ(info.dsdt, DSDT_AT);
}

static void test_madt_four_cpus_one_disabled(void)
{
	standard_tables();
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.lapic_base, 0xfee00000);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_EQ(info.cpus_usable, 3);
	CHECK_EQ(info.cpus_ignored, 0);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(info.cpus[i].apic_id, i);
		CHECK_EQ(info.cpus[i].acpi_uid, i);
		CHECK_EQ(info.cpus[i].enabled, i != 2);
		CHECK(!info.cpus[i].online_capable);
		CHECK(!info.cpus[i].x2apic);
	}
	CHECK_EQ(info.ioapic_count, 1);
	CHECK_EQ(info.ioapics[0].id, 4);
	CHECK_EQ(info.ioapics[0].address, 0xfec00000);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.irq_override_count, 2);
	CHECK_EQ(info.irq_overrides[0].source, 0);
	CHECK_EQ(info.irq_overrides[0].gsi, 2);
	CHECK_EQ(info.irq_overrides[1].source, 9);
	CHECK_EQ(info.irq_overrides[1].flags, 0x000d);
}

static void test_rsdp_v2_xsdt_preferred(void)
{
	struct madt m;

	standard_tables();
	/* The XSDT's MADT has two x2APIC CPUs; the RSDT's has four: the XSDT must win. */
	madt_begin(&m, MADT2_AT, 0xfee00000, 0);
	madt_x2apic(&m, 10, 0x100, 1);
	madt_x2apic(&m, 11, 0x101, 2);
	madt_end(&m);
	uint64_t entries[] = { FADT_AT, MADT2_AT };
	xsdt_make(XSDT_AT, entries, 2);
	rsdp_v2(RSDT_AT, XSDT_AT);
	CHECK_EQ(parse(36), 0);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.rsdp_revision, 2);
	CHECK_STR(info.oem_id, "OVMF??");
	CHECK(info.used_xsdt);
	CHECK_EQ(info.root_table, XSDT_AT);
	CHECK_EQ(info.cpu_count, 2);
	CHECK_EQ(info.cpus[0].apic_id, 0x100);
	CHECK_EQ(info.cpus[0].acpi_uid, 10);
	CHECK(info.cpus[0].x2apic);
	CHECK(info.cpus[0].enabled);
	CHECK(!info.cpus[1].enabled);
	CHECK(info.cpus[1].online_capable);
	CHECK_EQ(info.cpus_usable, 2);
	CHECK(!info.pcat_compat);
	CHECK(info.has_fadt);
}

static void test_rsdp_v2_fallbacks(void)
{
	standard_tables();
	/* XSDT address 0: the RSDT is walked without complaint. */
	rsdp_v2(RSDT_AT, 0);
	CHECK_EQ(parse(36), 0);
	CHECK(!info.used_xsdt);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_EQ(info.note_count, 0);

	/* Revision 2 but only 20 bytes handed over. */
	rsdp_v2(RSDT_AT, XSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.used_xsdt);
	CHECK_NOTE("only 20 bytes");

	/* Extended checksum bad. */
	rsdp_v2(RSDT_AT, XSDT_AT);
	rsdp[33] ^= 0x55;
	CHECK_EQ(parse(36), 0);
	CHECK(!info.used_xsdt);
	CHECK_NOTE("extended checksum bad");

	/* XSDT pointing at garbage: noted, then the RSDT. */
	rsdp_v2(RSDT_AT, 0x30000);
	CHECK_EQ(parse(36), 0);
	CHECK(!info.used_xsdt);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_NOTE("XSDT at 0x30000: signature");
	CHECK_NOTE("falling back to the RSDT");

	/* XSDT beyond memory and no RSDT: nothing to walk. */
	rsdp_v2(0, 0x100000000ull);
	CHECK_EQ(parse(36), -E_NOENT);
	CHECK_NOTE("XSDT at 0x100000000: not accessible");
	CHECK(!info.has_madt);

	/* An RSDP length field larger than the bytes we have. */
	rsdp_v2(RSDT_AT, XSDT_AT);
	w32(rsdp + 20, 40);
	rsdp[32] = 0;
	rsdp[32] = (uint8_t)(0 - sum8(rsdp, 36));
	CHECK_EQ(parse(36), 0);
	CHECK(!info.used_xsdt);
	CHECK_NOTE("RSDP length 40");
}

static void test_rsdp_errors(void)
{
	standard_tables();
	CHECK_EQ(parse(19), -E_TRUNC);
	CHECK_EQ(acpi_parse(NULL, 36, fake_map, &fake, &info), -E_TRUNC);
	rsdp[0] = 'X';
	CHECK_EQ(parse(20), -E_INVAL);
	CHECK_NOTE("bad signature");
	rsdp_v1(RSDT_AT);
	rsdp[16] ^= 1;
	CHECK_EQ(parse(20), -E_INVAL);
	CHECK_NOTE("RSDP: checksum bad");
	CHECK_EQ(info.cpu_count, 0);
	CHECK_EQ(fake.maps, 0);
}

static void test_rsdt_pointing_nowhere(void)
{
	standard_tables();
	rsdp_v1(0x7ff00000);
	CHECK_EQ(parse(20), -E_NOENT);
	CHECK_NOTE("RSDT at 0x7ff00000: not accessible");

	rsdp_v1(0);
	CHECK_EQ(parse(20), -E_NOENT);
	CHECK_NOTE("no RSDT address");

	/* An address whose end wraps around 64 bits never reaches map(). */
	rsdp_v2(0, 0xffffffffffffffe0ull);
	fake.maps = 0;
	CHECK_EQ(parse(36), -E_NOENT);
	CHECK_EQ(fake.maps, 0);

	/* Memory that is zero where the RSDT should be. */
	rsdp_v1(0x20000);
	CHECK_EQ(parse(20), -E_NOENT);
	CHECK_NOTE("signature '");
}

static void test_root_entries_bad(void)
{
	standard_tables();
	uint32_t entries[] = { 0, 0x7fff0000, 0x20000, FADT_AT, MADT_AT };
	rsdt_make(RSDT_AT, entries, 5);
	CHECK_EQ(parse(20), 0);
	CHECK_NOTE("entry 0 is 0");
	CHECK_NOTE("entry 1: 0x7fff0000 not accessible");
	CHECK_STR(info.tables[2], "????");
	CHECK(info.has_fadt);
	CHECK(info.has_madt);
	CHECK_EQ(info.cpu_count, 4);

	/* An RSDT whose length is not a whole number of entries. */
	standard_tables();
	w32(mem + RSDT_AT + 4, 36 + 4 * 3 + 2);
	table_fix(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_NOTE("not a whole number");
	CHECK_EQ(info.table_count, 3);
	CHECK(info.has_madt);
}

static void test_bad_checksums_skip_table(void)
{
	standard_tables();
	mem[MADT_AT + 50] ^= 0x40;
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_madt);
	CHECK_EQ(info.cpu_count, 0);
	CHECK_NOTE("APIC at 0x4000: checksum bad, skipped");
	CHECK(info.has_fadt);
	CHECK(info.s5_valid);

	standard_tables();
	mem[FADT_AT + 100] ^= 1;
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_fadt);
	CHECK_EQ(info.pm1a_cnt, 0);
	CHECK(!info.s5_valid);
	CHECK_NOTE("FACP at 0x3000: checksum bad");
	CHECK(info.has_madt);

	standard_tables();
	mem[DSDT_AT + 40] ^= 1;
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_fadt);
	CHECK(!info.has_dsdt);
	CHECK(!info.s5_valid);
	CHECK_NOTE("DSDT at 0x8000: checksum bad");

	standard_tables();
	mem[RSDT_AT + 36] ^= 1;
	CHECK_EQ(parse(20), -E_NOENT);
	CHECK_NOTE("RSDT at 0x1000: checksum bad");
}

static void test_second_table_used_when_first_bad(void)
{
	struct madt m;

	standard_tables();
	madt_begin(&m, MADT2_AT, 0xfee00000, 0);
	madt_lapic(&m, 7, 7, 1);
	madt_end(&m);
	uint32_t entries[] = { MADT_AT, MADT2_AT, FADT_AT };
	rsdt_make(RSDT_AT, entries, 3);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_NOTE("second MADT at 0x5000 ignored");

	mem[MADT_AT + 44] ^= 1;
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 1);
	CHECK_EQ(info.cpus[0].apic_id, 7);
}

static void test_lengths_bounded(void)
{
	/* A MADT claiming 4 GiB - 1: refused before its body is mapped. */
	standard_tables();
	w32(mem + MADT_AT + 4, 0xffffffffu);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_madt);
	CHECK_NOTE("over the 1048576 limit");

	/* Within the cap but past the end of memory. */
	standard_tables();
	w32(mem + MADT_AT + 4, MEM_SIZE);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_madt);
	CHECK_NOTE("APIC at 0x4000: 262144 bytes not accessible");

	/* A table at the very end of memory whose header fits but body does not. */
	standard_tables();
	table_header(MEM_SIZE - 36, "APIC", 36, 1);
	w32(mem + MEM_SIZE - 36 + 4, 100);
	uint32_t entries[] = { MEM_SIZE - 36 };
	rsdt_make(RSDT_AT, entries, 1);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_madt);
	CHECK_NOTE("100 bytes not accessible");

	/* Lengths shorter than a header, and a MADT too short for its fixed fields. */
	standard_tables();
	w32(mem + MADT_AT + 4, 20);
	CHECK_EQ(parse(20), 0);
	CHECK_NOTE("length 20 shorter than its header");
	standard_tables();
	table_header(MADT_AT, "APIC", 40, 1);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_madt);
	CHECK_NOTE("40 bytes, too short");

	/* An RSDT with a header only: no entries, no error. */
	standard_tables();
	rsdt_make(RSDT_AT, NULL, 0);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.table_count, 0);
	CHECK(!info.has_madt);

	/* A huge XSDT within memory: only the first ACPI_ROOT_MAX_ENTRIES are visited. */
	standard_tables();
	static uint64_t many[1000];
	for (unsigned i = 0; i < 1000; i++)
		many[i] = i == 999 ? MADT_AT : 0x7f000000ull;
	xsdt_make(0x20000, many, 1000);
	rsdp_v2(0, 0x20000);
	fake.maps = 0;
	CHECK_EQ(parse(36), 0);
	CHECK_EQ(info.table_count, 1000);
	CHECK(!info.has_madt);
	CHECK_NOTE("only the first 256");
	CHECK(fake.maps < 600);
}

static void test_madt_truncated_entries(void)
{
	struct madt m;

	/* The last entry says 8 bytes but the table ends after 4 of them. */
	reset_mem();
	madt_begin(&m, MADT_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	m.len -= 4;
	madt_end(&m);
	uint32_t entries[] = { MADT_AT };
	rsdt_make(RSDT_AT, entries, 1);
	rsdp_v1(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_madt);
	CHECK_EQ(info.cpu_count, 1);
	CHECK_NOTE("runs past the end");

	/* A zero-length entry must not loop for ever. */
	reset_mem();
	madt_begin(&m, MADT_AT, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	static const uint8_t zero_len[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	madt_raw(&m, zero_len, sizeof(zero_len));
	madt_lapic(&m, 1, 1, 1);
	madt_end(&m);
	rsdt_make(RSDT_AT, entries, 1);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 1);
	CHECK_NOTE("has length 0");

	/* One stray byte at the end; an entry too short for its type; an unknown type skipped. */
	reset_mem();
	madt_begin(&m, MADT_AT, 0xfee00000, 0);
	static const uint8_t short_lapic[] = { 0, 6, 5, 5, 1, 0 };
	static const uint8_t unknown[] = { 0x7f, 5, 1, 2, 3 };
	static const uint8_t nmi[] = { 4, 6, 0xff, 5, 0, 1 };
	madt_raw(&m, short_lapic, sizeof(short_lapic));
	madt_raw(&m, unknown, sizeof(unknown));
	madt_raw(&m, nmi, sizeof(nmi));
	madt_lapic(&m, 2, 2, 1);
	static const uint8_t stray = 0;
	madt_raw(&m, &stray, 1);
	madt_end(&m);
	rsdt_make(RSDT_AT, entries, 1);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, 1);
	CHECK_EQ(info.cpus[0].apic_id, 2);
	CHECK_NOTE("type 0 entry at offset 44 is 6 bytes, too short");
	CHECK_NOTE("1 stray byte");
}

static void test_madt_x2apic_and_override(void)
{
	struct madt m;

	reset_mem();
	madt_begin(&m, MADT_AT, 0, 0);
	madt_lapic_override(&m, 0x00000001fee00000ull);
	madt_lapic(&m, 0, 0, 1);
	madt_x2apic(&m, 0, 0, 1);     /* same APIC id as above: a duplicate, ignored */
	madt_x2apic(&m, 300, 300, 1); /* x2APIC id above 255 */
	madt_x2apic(&m, 301, 0xffffffffu, 0);
	madt_end(&m);
	uint32_t entries[] = { MADT_AT };
	rsdt_make(RSDT_AT, entries, 1);
	rsdp_v1(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.lapic_base, 0x00000001fee00000ull);
	CHECK_EQ(info.cpu_count, 3);
	CHECK_EQ(info.cpus_ignored, 1);
	CHECK_EQ(info.cpus_usable, 2);
	CHECK(!info.cpus[0].x2apic);
	CHECK_EQ(info.cpus[1].apic_id, 300);
	CHECK_EQ(info.cpus[1].acpi_uid, 300);
	CHECK(info.cpus[1].x2apic);
	CHECK_EQ(info.cpus[2].apic_id, 0xffffffffu);
	CHECK(!info.cpus[2].enabled);
	CHECK_NOTE("APIC id 0 listed twice");

	/* A local APIC address of 0 with no override: the architectural default, noted. */
	reset_mem();
	madt_begin(&m, MADT_AT, 0, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_end(&m);
	rsdt_make(RSDT_AT, entries, 1);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.lapic_base, 0xfee00000);
	CHECK_NOTE("local APIC address 0");
}

/* xAPIC ids up to 254 stay in xAPIC mode; 255 and above, or a disabled CPU above it, decide */
static void test_needs_x2apic(void)
{
	struct acpi_info a;

	memset(&a, 0, sizeof(a));
	CHECK(!acpi_needs_x2apic(&a));
	a.cpu_count = 3;
	a.cpus[0] = (struct acpi_cpu){ .apic_id = 0, .enabled = true };
	a.cpus[1] = (struct acpi_cpu){ .apic_id = 254, .enabled = true };
	a.cpus[2] = (struct acpi_cpu){ .apic_id = 300, .enabled = false };
	CHECK(!acpi_needs_x2apic(&a)); /* the one above is neither enabled nor online-capable */
	a.cpus[2].online_capable = true;
	CHECK(acpi_needs_x2apic(&a));
	a.cpus[2] = (struct acpi_cpu){ .apic_id = 255, .enabled = true, .x2apic = true };
	CHECK(acpi_needs_x2apic(&a));
}

static void test_madt_many_cpus(void)
{
	struct madt m;

	/* 8 disabled placeholders first, then more usable CPUs than fit (x2APIC entries, ids up to
	 * 4 * 263): usable ones displace placeholders. */
	reset_mem();
	madt_begin(&m, MADT_BIG_AT, 0xfee00000, 1);
	for (unsigned i = 0; i < 8; i++)
		madt_x2apic(&m, 0x10000 + i, 0x10000 + i, 0);
	for (unsigned i = 0; i < ACPI_MAX_CPUS + 4; i++)
		madt_x2apic(&m, i, 4 * i, 1);
	madt_lapic(&m, 250, 250, 0); /* unusable, table full of usable ones: dropped */
	for (unsigned i = 0; i < 9; i++)
		madt_ioapic(&m, (uint8_t)(100 + i), 0xfec00000 + 0x1000 * i, 24 * i);
	for (unsigned i = 0; i < ACPI_MAX_IRQ_OVERRIDES + 1; i++)
		madt_irq_override(&m, (uint8_t)i, i, 0);
	madt_end(&m);
	uint32_t entries[] = { MADT_BIG_AT };
	rsdt_make(RSDT_AT, entries, 1);
	rsdp_v1(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.cpu_count, ACPI_MAX_CPUS);
	CHECK_EQ(info.cpus_usable, ACPI_MAX_CPUS);
	CHECK_EQ(info.cpus_ignored, 8 + 4 + 1);
	for (unsigned i = 0; i < ACPI_MAX_CPUS; i++) {
		CHECK_EQ(info.cpus[i].apic_id, 4 * i);
		CHECK(info.cpus[i].enabled);
		CHECK(info.cpus[i].x2apic);
	}
	/* Ids above 254 need the host in x2APIC mode */
	CHECK(acpi_needs_x2apic(&info));
	CHECK_EQ(info.ioapic_count, ACPI_MAX_IOAPICS);
	CHECK_EQ(info.ioapics_ignored, 1);
	CHECK_EQ(info.ioapics[7].gsi_base, 24 * 7);
	CHECK_EQ(info.irq_override_count, ACPI_MAX_IRQ_OVERRIDES);
	CHECK_NOTE("override for IRQ 16 ignored");
}

static void test_fadt_fields(void)
{
	standard_tables();
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_fadt);
	CHECK_EQ(info.fadt_revision, 6);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK_EQ(info.pm_timer, 0x608);
	CHECK(info.pm_timer_32bit);
	CHECK_EQ(info.sci_irq, 9);
	CHECK_EQ(info.smi_cmd, 0xb2);
	CHECK_EQ(info.acpi_enable, 0xf1);
	CHECK_EQ(info.acpi_disable, 0xf0);
	CHECK(info.reset_supported);
	CHECK_EQ(info.reset_reg.space_id, ACPI_GAS_IO);
	CHECK_EQ(info.reset_reg.bit_width, 8);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK_EQ(info.reset_value, 0x06);
	CHECK_EQ(acpi_pm1_sleep_value(info.s5_slp_typa), 0x2000);
	CHECK_EQ(acpi_pm1_sleep_value(5), 0x3400);

	/* X_PM1a/X_PM1b in I/O space override the 32-bit ports. */
	standard_tables();
	w64(mem + FADT_AT + 176, 0x1004);
	mem[FADT_AT + 184] = ACPI_GAS_IO;
	w64(mem + FADT_AT + 188, 0x1044);
	w32(mem + FADT_AT + 68, 0x2044);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.pm1a_cnt, 0x1004);
	CHECK_EQ(info.pm1b_cnt, 0x1044);

	/* An X_PM1a_CNT_BLK in memory space cannot be used as a port: the 32-bit one stays. */
	standard_tables();
	mem[FADT_AT + 172] = ACPI_GAS_MEMORY;
	w64(mem + FADT_AT + 176, 0xfed80000);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_NOTE("X_PM1a_CNT_BLK in space 0");

	/* A 32-bit port field above 0xffff. */
	standard_tables();
	w32(mem + FADT_AT + 64, 0x10604);
	memset(mem + FADT_AT + 172, 0, 12);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.pm1a_cnt, 0);
	CHECK_NOTE("PM1a_CNT_BLK 0x10604 is not an I/O port");

	/* RESET_REG_SUP clear: the register is recorded but not supported. */
	standard_tables();
	w32(mem + FADT_AT + 112, 0);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.reset_supported);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK(!info.pm_timer_32bit);

	/* RESET_REG_SUP set with a zero register. */
	standard_tables();
	memset(mem + FADT_AT + 116, 0, 12);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.reset_supported);
	CHECK_NOTE("reset register is 0");

	/* Memory-mapped reset register (some chipsets): recorded as given. */
	standard_tables();
	mem[FADT_AT + 116] = ACPI_GAS_MEMORY;
	w64(mem + FADT_AT + 120, 0xfed00000);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(info.reset_supported);
	CHECK_EQ(info.reset_reg.space_id, ACPI_GAS_MEMORY);
	CHECK_EQ(info.reset_reg.address, 0xfed00000);

	/* Hardware-reduced flag is noted. */
	standard_tables();
	w32(mem + FADT_AT + 112, ACPI_FADT_HW_REDUCED);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_NOTE("hardware-reduced");
}

static void test_fadt_short_revisions(void)
{
	/* ACPI 1.0 FADT (Bochs, QEMU i440fx): 116 bytes, no reset register, no X_ fields. */
	standard_tables();
	fadt_make(FADT_AT, 116, 1, DSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_fadt);
	CHECK_EQ(info.fadt_revision, 1);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK(!info.reset_supported);
	CHECK_EQ(info.reset_reg.address, 0);
	CHECK_EQ(info.fadt_flags, ACPI_FADT_RESET_REG_SUP | ACPI_FADT_TMR_VAL_EXT);
	CHECK(info.s5_valid);

	/* ACPI 2.0 FADT: 244 bytes, X_ fields present. */
	standard_tables();
	fadt_make(FADT_AT, 244, 3, DSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(info.reset_supported);
	CHECK_EQ(info.pm_timer, 0x608);

	/* Long enough for PM1 but not the flags: the ports still count. */
	standard_tables();
	fadt_make(FADT_AT, 72, 1, DSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_fadt);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm_timer, 0);
	CHECK_EQ(info.fadt_flags, 0);

	/* Too short for the PM1 control blocks. */
	standard_tables();
	fadt_make(FADT_AT, 71, 1, DSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_fadt);
	CHECK_NOTE("71 bytes, too short");
}

static void test_dsdt_selection(void)
{
	/* X_DSDT wins over DSDT. */
	standard_tables();
	dsdt_make(DSDT2_AT, aml_s5_byte_prefix, sizeof(aml_s5_byte_prefix), NULL, 0);
	w64(mem + FADT_AT + 140, DSDT2_AT);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.dsdt, DSDT2_AT);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_slp_typa, 7);

	/* An unreachable X_DSDT falls back to the 32-bit DSDT. */
	standard_tables();
	w64(mem + FADT_AT + 140, 0x123400000000ull);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.dsdt, DSDT_AT);
	CHECK(info.s5_valid);
	CHECK_NOTE("trying the 32-bit DSDT");

	/* X_DSDT 0: the 32-bit one is used silently. */
	standard_tables();
	w64(mem + FADT_AT + 140, 0);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.dsdt, DSDT_AT);
	CHECK_EQ(info.note_count, 0);

	/* No DSDT at all. */
	standard_tables();
	w64(mem + FADT_AT + 140, 0);
	w32(mem + FADT_AT + 40, 0);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_dsdt);
	CHECK_NOTE("no DSDT address");

	/* The DSDT pointer leads to a table of another kind. */
	standard_tables();
	w32(mem + FADT_AT + 40, SSDT_AT);
	w64(mem + FADT_AT + 140, SSDT_AT);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK(!info.has_dsdt);
	CHECK_NOTE("DSDT at 0x6000: signature 'SSDT'");
}

/* Builds a DSDT holding body and reports what the scan found. */
static bool s5_of(const uint8_t *body, size_t n, uint8_t *a, uint8_t *b)
{
	standard_tables();
	dsdt_make(DSDT_AT, aml_prologue, sizeof(aml_prologue), body, n);
	CHECK_EQ(parse(20), 0);
	CHECK(info.has_dsdt);
	*a = info.s5_slp_typa;
	*b = info.s5_slp_typb;
	return info.s5_valid;
}

static void test_dsdt_s5_encodings(void)
{
	uint8_t a, b;

	CHECK(s5_of(aml_s5_zero_ops, sizeof(aml_s5_zero_ops), &a, &b));
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 0);

	CHECK(s5_of(aml_s5_byte_prefix, sizeof(aml_s5_byte_prefix), &a, &b));
	CHECK_EQ(a, 7);
	CHECK_EQ(b, 7);

	/* OneOp and ZeroOp mixed, two elements. */
	static const uint8_t one_zero[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x00 };
	CHECK(s5_of(one_zero, sizeof(one_zero), &a, &b));
	CHECK_EQ(a, 1);
	CHECK_EQ(b, 0);

	/* A two-byte PkgLength (0x4a 0x00 = 10) and a WordPrefix constant. */
	static const uint8_t long_pkglen[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x4a, 0x00, 0x04,
					       0x0a, 0x05, 0x0b, 0x06, 0x00, 0x00, 0x00 };
	CHECK(s5_of(long_pkglen, sizeof(long_pkglen), &a, &b));
	CHECK_EQ(a, 5);
	CHECK_EQ(b, 6);

	/* A single DWord element: SLP_TYPa in bits 7:0, SLP_TYPb in bits 15:8. */
	static const uint8_t single[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x01,
					  0x0c, 0x03, 0x04, 0x00, 0x00 };
	CHECK(s5_of(single, sizeof(single), &a, &b));
	CHECK_EQ(a, 3);
	CHECK_EQ(b, 4);

	/* A first _S5_ the scan cannot decode (a Method), then the real Name. */
	static const uint8_t method_then_name[] = { 0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xa4, 0x00,
		0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x02, 0x0a, 0x03, 0x00 };
	CHECK(s5_of(method_then_name, sizeof(method_then_name), &a, &b));
	CHECK_EQ(a, 2);
	CHECK_EQ(b, 3);
}

static void test_dsdt_s5_rejected(void)
{
	uint8_t a, b;

	/* No _S5 at all: the prologue's _S3/_S4 and the Method mention do not count. */
	CHECK(!s5_of(NULL, 0, &a, &b));
	CHECK_NOTE("no \\_S5 package");

	/* Package cut off by the end of the table. */
	static const uint8_t cut[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a };
	CHECK(!s5_of(cut, sizeof(cut), &a, &b));

	/* PkgLength larger than what is left. */
	static const uint8_t pkg_past_end[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x3f, 0x04,
						0x00, 0x00 };
	CHECK(!s5_of(pkg_past_end, sizeof(pkg_past_end), &a, &b));

	/* Elements outside the package's own length. */
	static const uint8_t pkg_too_short[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x04, 0x0a,
						 0x05, 0x0a, 0x05 };
	CHECK(!s5_of(pkg_too_short, sizeof(pkg_too_short), &a, &b));

	/* An element that is not an integer constant (a name reference). */
	static const uint8_t not_int[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 'S', 'L',
					   'P', 'A', 0x00 };
	CHECK(!s5_of(not_int, sizeof(not_int), &a, &b));

	/* A value too large for the 3-bit SLP_TYP field. */
	static const uint8_t too_big[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x08,
					   0x0a, 0x00 };
	CHECK(!s5_of(too_big, sizeof(too_big), &a, &b));

	/* Zero elements; "_S5_" as the last bytes of the table. */
	static const uint8_t empty[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00 };
	CHECK(!s5_of(empty, sizeof(empty), &a, &b));
	static const uint8_t at_end[] = { 0x08, '_', 'S', '5', '_' };
	CHECK(!s5_of(at_end, sizeof(at_end), &a, &b));
}

static void test_notes_overflow(void)
{
	reset_mem();
	uint32_t entries[40];
	for (unsigned i = 0; i < 40; i++)
		entries[i] = 0;
	rsdt_make(RSDT_AT, entries, 40);
	rsdp_v1(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.note_count, ACPI_MAX_NOTES);
	CHECK_EQ(info.notes_dropped, 40 - ACPI_MAX_NOTES);
	CHECK_EQ(info.table_count, 40);
	for (unsigned i = 0; i < ACPI_MAX_NOTES; i++)
		CHECK(strlen(info.notes[i]) < ACPI_NOTE_LEN);
}

/* Tables dumped from Bochs and QEMU, with their DSDT pointers moved to this fake memory. */
static void test_real_firmware_tables(void)
{
	reset_mem();
	memcpy(mem + MADT_AT, bochs_madt_4cpus, sizeof(bochs_madt_4cpus));
	memcpy(mem + FADT_AT, bochs_fadt, sizeof(bochs_fadt));
	CHECK_EQ(r32(mem + FADT_AT + 40), 0x0fff0100);
	w32(mem + FADT_AT + 40, DSDT_AT);
	table_fix(FADT_AT);
	dsdt_make(DSDT_AT, aml_prologue, sizeof(aml_prologue), aml_s5_zero_ops,
		  sizeof(aml_s5_zero_ops));
	uint32_t entries[] = { FADT_AT, MADT_AT };
	rsdt_make(RSDT_AT, entries, 2);
	rsdp_v1(RSDT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_EQ(info.cpus_usable, 4);
	CHECK_EQ(info.cpus[3].apic_id, 3);
	CHECK_EQ(info.ioapic_count, 1);
	CHECK_EQ(info.ioapics[0].id, 4);
	CHECK_EQ(info.ioapics[0].address, 0xfec00000);
	CHECK_EQ(info.irq_override_count, 1);
	CHECK_EQ(info.irq_overrides[0].gsi, 2);
	CHECK_EQ(info.fadt_revision, 1);
	CHECK_EQ(info.pm1a_cnt, 0xb004);
	CHECK_EQ(info.pm_timer, 0xb008);
	CHECK(!info.pm_timer_32bit);
	CHECK_EQ(info.smi_cmd, 0xb2);
	CHECK_EQ(info.acpi_enable, 0xf1);
	CHECK(!info.reset_supported);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_slp_typa, 0);

	memcpy(mem + FADT_AT, qemu_q35_fadt, sizeof(qemu_q35_fadt));
	CHECK_EQ(r32(mem + FADT_AT + 140), 0x07fe0040);
	w32(mem + FADT_AT + 40, DSDT_AT);
	w32(mem + FADT_AT + 140, DSDT_AT);
	table_fix(FADT_AT);
	CHECK_EQ(parse(20), 0);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.fadt_revision, 3);
	CHECK_EQ(info.pm1a_cnt, 0x604);
	CHECK_EQ(info.pm_timer, 0x608);
	CHECK(info.reset_supported);
	CHECK_EQ(info.reset_reg.space_id, ACPI_GAS_IO);
	CHECK_EQ(info.reset_reg.address, 0xcf9);
	CHECK_EQ(info.reset_value, 0x0f);
	CHECK_EQ(info.dsdt, DSDT_AT);
	CHECK(info.s5_valid);
}

/* Fuzzing: nothing may crash, whatever the bytes. */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static const uint64_t fuzz_tables[] = { RSDT_AT, XSDT_AT, FADT_AT, MADT_AT, DSDT_AT, SSDT_AT };

static void check_invariants(int rc)
{
	CHECK(rc == 0 || rc == -E_TRUNC || rc == -E_INVAL || rc == -E_NOENT);
	CHECK(info.cpu_count <= ACPI_MAX_CPUS);
	CHECK(info.cpus_usable <= info.cpu_count);
	CHECK(info.ioapic_count <= ACPI_MAX_IOAPICS);
	CHECK(info.irq_override_count <= ACPI_MAX_IRQ_OVERRIDES);
	CHECK(info.note_count <= ACPI_MAX_NOTES);
	for (unsigned i = 0; i < info.note_count; i++)
		CHECK(memchr(info.notes[i], 0, ACPI_NOTE_LEN) != NULL);
	for (unsigned i = 0; i < ACPI_MAX_TABLES; i++)
		CHECK(info.tables[i][4] == 0);
	CHECK(info.oem_id[6] == 0);
	if (info.s5_valid)
		CHECK(info.s5_slp_typa <= 7 && info.s5_slp_typb <= 7);
	if (info.s5_valid)
		CHECK(info.has_dsdt);
	for (unsigned i = 0; i < info.cpu_count; i++)
		for (unsigned j = i + 1; j < info.cpu_count; j++)
			CHECK(info.cpus[i].apic_id != info.cpus[j].apic_id);
}

/* Valid tables, then random byte, length and pointer damage; checksums re-fixed half the time
 * so that the damage reaches the table parsers. */
static void test_fuzz_mutations(void)
{
	struct madt m;

	for (unsigned iter = 0; iter < 100000; iter++) {
		reset_mem();
		fake.size = 0x9000 + (rnd() % 0x9000);
		madt_begin(&m, MADT_AT, 0xfee00000, 1);
		unsigned n = rnd() % 24;
		for (unsigned i = 0; i < n; i++) {
			switch (rnd() % 4) {
			case 0: madt_lapic(&m, (uint8_t)rnd(), (uint8_t)rnd(), rnd() % 4); break;
			case 1: madt_x2apic(&m, rnd(), rnd() % 64, rnd() % 4); break;
			case 2: madt_ioapic(&m, (uint8_t)rnd(), rnd(), rnd()); break;
			default: madt_irq_override(&m, (uint8_t)rnd(), rnd(), (uint16_t)rnd()); break;
			}
		}
		madt_end(&m);
		fadt_make(FADT_AT, rnd() % 2 ? FADT_LEN : 116, 1, DSDT_AT);
		if (rnd() % 2)
			dsdt_make(DSDT_AT, aml_prologue, sizeof(aml_prologue), aml_s5_byte_prefix,
				  sizeof(aml_s5_byte_prefix));
		else
			dsdt_make(DSDT_AT, aml_s5_zero_ops, sizeof(aml_s5_zero_ops), NULL, 0);
		table_header(SSDT_AT, "SSDT", 36 + rnd() % 64, 1);
		uint32_t r_entries[] = { FADT_AT, MADT_AT, SSDT_AT };
		uint64_t x_entries[] = { MADT_AT, FADT_AT, SSDT_AT };
		rsdt_make(RSDT_AT, r_entries, 3);
		xsdt_make(XSDT_AT, x_entries, 3);
		if (rnd() % 2)
			rsdp_v2(RSDT_AT, XSDT_AT);
		else
			rsdp_v1(RSDT_AT);

		unsigned damage = 1 + rnd() % 8;
		for (unsigned d = 0; d < damage; d++) {
			uint64_t t = fuzz_tables[rnd() % ARRAY_SIZE(fuzz_tables)];
			uint32_t len = r32(mem + t + 4);
			switch (rnd() % 6) {
			case 0: /* a random byte anywhere in the table */
				if (len && t + len <= MEM_SIZE)
					mem[t + rnd() % len] = (uint8_t)rnd();
				break;
			case 1: /* a random length */
				w32(mem + t + 4, rnd() % 3 ? rnd() % 0x2000 : rnd());
				break;
			case 2: /* a random small bit flip in the body */
				if (len > 36 && t + len <= MEM_SIZE)
					mem[t + 36 + rnd() % (len - 36)] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 3: /* an RSDP byte */
				rsdp[rnd() % sizeof(rsdp)] = (uint8_t)rnd();
				break;
			case 4: /* the MADT entry lengths */
				if (len > 45 && t == MADT_AT && len < 0x1000)
					mem[t + 44 + 1 + rnd() % (len - 45)] = (uint8_t)(rnd() % 20);
				break;
			default: /* a pointer in the root tables */
				w32(mem + RSDT_AT + 36 + 4 * (rnd() % 3), rnd() % 0x12000);
				break;
			}
			if (rnd() % 2) {
				uint32_t l = r32(mem + t + 4);
				if (l >= 10 && t + l <= MEM_SIZE)
					table_fix(t);
			}
		}
		if (rnd() % 2) {
			rsdp[8] = 0;
			rsdp[8] = (uint8_t)(0 - sum8(rsdp, 20));
		}
		int rc = parse(rnd() % 8 ? 36 : rnd() % 37);
		check_invariants(rc);
		if (test_failed_checks)
			break;
	}
}

/* Memory full of random bytes with a few planted signatures: nothing may crash. */
static void test_fuzz_random_memory(void)
{
	static const char *const sigs[] = { "RSDT", "XSDT", "APIC", "FACP", "DSDT" };

	for (unsigned iter = 0; iter < 10000; iter++) {
		reset_mem();
		fake.size = 0x4000 + rnd() % 0x8000;
		for (size_t i = 0; i < fake.size; i += 4)
			w32(mem + i, rnd());
		for (unsigned k = 0; k < 64; k++) {
			uint32_t at = rnd() % (uint32_t)(fake.size - 64);
			memcpy(mem + at, sigs[rnd() % ARRAY_SIZE(sigs)], 4);
			w32(mem + at + 4, 36 + rnd() % 200);
			if (rnd() % 2)
				table_fix(at);
		}
		if (rnd() % 2)
			rsdp_v2(rnd() % (uint32_t)fake.size, rnd() % (uint32_t)fake.size);
		else
			rsdp_v1(rnd() % (uint32_t)fake.size);
		check_invariants(parse(36));
		if (test_failed_checks)
			break;
	}
}

int main(void)
{
	RUN_TEST(test_rsdp_v1_rsdt);
	RUN_TEST(test_madt_four_cpus_one_disabled);
	RUN_TEST(test_rsdp_v2_xsdt_preferred);
	RUN_TEST(test_rsdp_v2_fallbacks);
	RUN_TEST(test_rsdp_errors);
	RUN_TEST(test_rsdt_pointing_nowhere);
	RUN_TEST(test_root_entries_bad);
	RUN_TEST(test_bad_checksums_skip_table);
	RUN_TEST(test_second_table_used_when_first_bad);
	RUN_TEST(test_lengths_bounded);
	RUN_TEST(test_madt_truncated_entries);
	RUN_TEST(test_madt_x2apic_and_override);
	RUN_TEST(test_madt_many_cpus);
	RUN_TEST(test_needs_x2apic);
	RUN_TEST(test_fadt_fields);
	RUN_TEST(test_fadt_short_revisions);
	RUN_TEST(test_dsdt_selection);
	RUN_TEST(test_dsdt_s5_encodings);
	RUN_TEST(test_dsdt_s5_rejected);
	RUN_TEST(test_notes_overflow);
	RUN_TEST(test_real_firmware_tables);
	RUN_TEST(test_fuzz_mutations);
	RUN_TEST(test_fuzz_random_memory);
	return test_any_failed;
}
