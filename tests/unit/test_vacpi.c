/* Host tests for drivers/virt/vacpi.c: the tables are read back with Cloison's own ACPI parser
 * (drivers/acpi.c) and byte by byte: checksums, MADT entries, FADT fields, the \_S5 AML. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "drivers/virt/vacpi.h"
#include "drivers/virt/vplatform.h"
#include "drivers/acpi.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define GPA VACPI_DEFAULT_GPA

static uint8_t area[VACPI_DEFAULT_SIZE];

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The guest's view: guest-physical [GPA, GPA + sizeof(area)) is area[], nothing else exists. */
static const void *area_map(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	if (phys < GPA || phys - GPA > sizeof(area) || len > sizeof(area) - (phys - GPA))
		return NULL;
	return area + (phys - GPA);
}

static const uint8_t *at(uint64_t gpa)
{
	return area + (gpa - GPA);
}

static void check_header(uint64_t gpa, const char *sig, uint8_t revision)
{
	const uint8_t *t = at(gpa);
	uint32_t len = get_le32(t + 4);

	CHECK(memcmp(t, sig, 4) == 0);
	CHECK_EQ(t[8], revision);
	CHECK_EQ(sum(t, len), 0);
	CHECK(memcmp(t + 10, "CLOISN", 6) == 0);
	CHECK(memcmp(t + 16, "CLOISON ", 8) == 0);
	CHECK(gpa % 16 == 0);
}

static void test_parse_back(void)
{
	uint32_t ids[] = { 0, 2, 4, 6 };
	struct vacpi_config cfg = { .cpu_count = 4, .apic_ids = ids };
	struct vacpi_layout lay;
	struct acpi_info info;

	memset(area, 0xee, sizeof(area));
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);
	CHECK_EQ(lay.rsdp, GPA);
	CHECK_EQ(lay.size, vacpi_size(4, 0));
	CHECK(lay.size < 1024);
	CHECK_EQ(area[lay.size], 0xee); /* nothing written past the tables */
	CHECK_EQ(acpi_parse(area, 36, area_map, NULL, &info), 0);
	for (unsigned i = 0; i < info.note_count; i++)
		printf("  note: %s\n", info.notes[i]);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.rsdp_revision, 2);
	CHECK_STR(info.oem_id, "CLOISN");
	CHECK(info.used_xsdt);
	CHECK_EQ(info.root_table, lay.xsdt);
	CHECK_EQ(info.table_count, 2);
	CHECK_STR(info.tables[0], "FACP");
	CHECK_STR(info.tables[1], "APIC");

	CHECK(info.has_madt);
	CHECK_EQ(info.lapic_base, VPLAT_LAPIC_BASE);
	CHECK(info.pcat_compat);
	CHECK_EQ(info.cpu_count, 4);
	CHECK_EQ(info.cpus_usable, 4);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(info.cpus[i].apic_id, ids[i]);
		CHECK_EQ(info.cpus[i].acpi_uid, i);
		CHECK(info.cpus[i].enabled);
		CHECK(!info.cpus[i].x2apic);
	}
	CHECK_EQ(info.ioapic_count, 1);
	CHECK_EQ(info.ioapics[0].id, VPLAT_IOAPIC_ID);
	CHECK_EQ(info.ioapics[0].address, VPLAT_IOAPIC_BASE);
	CHECK_EQ(info.ioapics[0].gsi_base, 0);
	CHECK_EQ(info.irq_override_count, 2);
	CHECK_EQ(info.irq_overrides[0].bus, 0);
	CHECK_EQ(info.irq_overrides[0].source, 0);
	CHECK_EQ(info.irq_overrides[0].gsi, 2);
	CHECK_EQ(info.irq_overrides[0].flags, 0x5); /* active high, edge */
	CHECK_EQ(info.irq_overrides[1].source, 9);
	CHECK_EQ(info.irq_overrides[1].gsi, 9);
	CHECK_EQ(info.irq_overrides[1].flags, 0xd); /* active high, level */

	CHECK(info.has_fadt);
	CHECK_EQ(info.fadt_revision, 6);
	CHECK_EQ(info.sci_irq, VPLAT_SCI_IRQ);
	CHECK_EQ(info.smi_cmd, 0);
	CHECK_EQ(info.pm1a_cnt, VPLAT_PM1A_CNT_BLK);
	CHECK_EQ(info.pm1b_cnt, 0);
	CHECK_EQ(info.pm_timer, VPLAT_PM_TMR_BLK);
	CHECK(!info.pm_timer_32bit);
	CHECK(info.reset_supported);
	CHECK_EQ(info.reset_reg.space_id, ACPI_GAS_IO);
	CHECK_EQ(info.reset_reg.address, VPLAT_RESET_PORT);
	CHECK_EQ(info.reset_reg.bit_width, 8);
	CHECK_EQ(info.reset_value, VPLAT_RESET_VALUE);
	CHECK(!(info.fadt_flags & ACPI_FADT_HW_REDUCED));
	CHECK(info.has_dsdt);
	CHECK_EQ(info.dsdt, lay.dsdt);
	CHECK(info.s5_valid);
	CHECK_EQ(info.s5_slp_typa, VPLAT_S5_SLP_TYP);
	CHECK_EQ(info.s5_slp_typb, VPLAT_S5_SLP_TYP);
}

/* Old parsers follow the RSDT: a revision-0 copy of the RSDP reaches the same tables. */
static void test_rsdt_path(void)
{
	struct vacpi_config cfg = { .cpu_count = 1 };
	struct vacpi_layout lay;
	struct acpi_info info;
	uint8_t rsdp1[20];

	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);
	memcpy(rsdp1, area, 20);
	rsdp1[15] = 0;
	rsdp1[8] = 0;
	rsdp1[8] = (uint8_t)(0x100 - sum(rsdp1, 20));
	CHECK_EQ(acpi_parse(rsdp1, 20, area_map, NULL, &info), 0);
	CHECK(!info.used_xsdt);
	CHECK_EQ(info.root_table, lay.rsdt);
	CHECK(info.has_madt && info.has_fadt && info.s5_valid);
	CHECK_EQ(info.cpu_count, 1);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK_EQ(info.note_count, 0);
}

static void test_bytes(void)
{
	struct vacpi_config cfg = { .cpu_count = 2, .oem_table_id = NULL };
	struct vacpi_layout lay;
	const uint8_t *r = area, *f, *x, *rs, *d, *facs, *m;
	/* Name(_S5_, Package(4){5, 5, 0, 0}); Method(_PIC, 1) {} */
	static const uint8_t aml[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
		0x14, 0x06, '_', 'P', 'I', 'C', 0x01,
	};

	CHECK_EQ(VPLAT_S5_SLP_TYP, 5); /* the bytes above spell 5 */
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);

	/* RSDP: both checksums, revision 2, RSDT and XSDT, length 36 */
	CHECK(memcmp(r, "RSD PTR ", 8) == 0);
	CHECK_EQ(sum(r, 20), 0);
	CHECK_EQ(sum(r, 36), 0);
	CHECK(memcmp(r + 9, "CLOISN", 6) == 0);
	CHECK_EQ(r[15], 2);
	CHECK_EQ(get_le32(r + 16), lay.rsdt);
	CHECK_EQ(get_le32(r + 20), 36);
	CHECK_EQ(get_le64(r + 24), lay.xsdt);

	/* Root tables list FADT, MADT */
	check_header(lay.xsdt, "XSDT", 1);
	x = at(lay.xsdt);
	CHECK_EQ(get_le32(x + 4), 36 + 16);
	CHECK_EQ(get_le64(x + 36), lay.fadt);
	CHECK_EQ(get_le64(x + 44), lay.madt);
	check_header(lay.rsdt, "RSDT", 1);
	rs = at(lay.rsdt);
	CHECK_EQ(get_le32(rs + 4), 36 + 8);
	CHECK_EQ(get_le32(rs + 36), lay.fadt);
	CHECK_EQ(get_le32(rs + 40), lay.madt);

	/* FACS: 64-byte aligned, no checksum, version 2 */
	facs = at(lay.facs);
	CHECK_EQ(lay.facs % 64, 0);
	CHECK(memcmp(facs, "FACS", 4) == 0);
	CHECK_EQ(get_le32(facs + 4), 64);
	CHECK_EQ(facs[32], 2);

	/* DSDT: header plus exactly the AML above */
	check_header(lay.dsdt, "DSDT", 2);
	d = at(lay.dsdt);
	CHECK_EQ(get_le32(d + 4), 36 + sizeof(aml));
	CHECK(memcmp(d + 36, aml, sizeof(aml)) == 0);

	/* FADT, ACPI 6.5 Table 5.9 */
	check_header(lay.fadt, "FACP", 6);
	f = at(lay.fadt);
	CHECK_EQ(get_le32(f + 4), 276);
	CHECK_EQ(get_le32(f + 36), lay.facs);
	CHECK_EQ(get_le32(f + 40), lay.dsdt);
	CHECK_EQ(get_le16(f + 46), 9);
	CHECK_EQ(get_le32(f + 48), 0);
	CHECK_EQ(f[52], 0);
	CHECK_EQ(f[53], 0);
	CHECK_EQ(get_le32(f + 56), VPLAT_PM1A_EVT_BLK);
	CHECK_EQ(get_le32(f + 60), 0);
	CHECK_EQ(get_le32(f + 64), VPLAT_PM1A_CNT_BLK);
	CHECK_EQ(get_le32(f + 68), 0);
	CHECK_EQ(get_le32(f + 72), 0);
	CHECK_EQ(get_le32(f + 76), VPLAT_PM_TMR_BLK);
	CHECK_EQ(get_le32(f + 80), 0); /* no GPE block */
	CHECK_EQ(f[88], 4);
	CHECK_EQ(f[89], 2);
	CHECK_EQ(f[90], 0);
	CHECK_EQ(f[91], 4);
	CHECK_EQ(f[92], 0);
	CHECK(get_le16(f + 96) > 100);
	CHECK(get_le16(f + 98) > 1000);
	CHECK_EQ(get_le16(f + 109), 0x1 | 0x4 | 0x8); /* legacy devices, no VGA, no MSI; no 8042 */
	CHECK_EQ(get_le16(f + 109) & 0x2, 0);
	CHECK_EQ(get_le32(f + 112), 0x435);
	CHECK_EQ(get_le32(f + 112) & (1u << 20), 0); /* not hardware-reduced */
	CHECK_EQ(get_le32(f + 112) & (1u << 8), 0);  /* 24-bit PM timer */
	/* RESET_REG: system I/O, 8 bits, byte access, 0xcf9; value 6 */
	CHECK_EQ(f[116], 1);
	CHECK_EQ(f[117], 8);
	CHECK_EQ(f[118], 0);
	CHECK_EQ(f[119], 1);
	CHECK_EQ(get_le64(f + 120), VPLAT_RESET_PORT);
	CHECK_EQ(f[128], VPLAT_RESET_VALUE);
	CHECK_EQ(f[131], 0);
	CHECK_EQ(get_le64(f + 132), 0); /* X_FIRMWARE_CTRL: FIRMWARE_CTRL is enough below 4 GiB */
	CHECK_EQ(get_le64(f + 140), lay.dsdt);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: I/O GAS matching the 32-bit fields */
	CHECK_EQ(f[148], 1);
	CHECK_EQ(f[149], 32);
	CHECK_EQ(get_le64(f + 152), VPLAT_PM1A_EVT_BLK);
	CHECK_EQ(get_le64(f + 164), 0); /* X_PM1b_EVT_BLK */
	CHECK_EQ(f[172], 1);
	CHECK_EQ(f[173], 16);
	CHECK_EQ(get_le64(f + 176), VPLAT_PM1A_CNT_BLK);
	CHECK_EQ(f[208], 1);
	CHECK_EQ(f[209], 32);
	CHECK_EQ(f[211], 3);
	CHECK_EQ(get_le64(f + 212), VPLAT_PM_TMR_BLK);
	CHECK_EQ(get_le64(f + 224), 0); /* X_GPE0_BLK */
	CHECK(memcmp(f + 268, "Cloison", 8) == 0);

	/* MADT: header fields, then 2 LAPIC, I/O APIC, 2 overrides, LAPIC NMI; nothing else */
	check_header(lay.madt, "APIC", 4);
	m = at(lay.madt);
	CHECK_EQ(get_le32(m + 4), 44 + 2 * 8 + 12 + 2 * 10 + 6);
	CHECK_EQ(get_le32(m + 36), 0xfee00000u);
	CHECK_EQ(get_le32(m + 40), 1);
	{
		static const uint8_t entries[] = {
			0, 8, 0, 0, 1, 0, 0, 0,                         /* CPU uid 0, APIC 0, enabled */
			0, 8, 1, 1, 1, 0, 0, 0,                         /* CPU uid 1, APIC 1 */
			1, 12, 15, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* I/O APIC 15 at 0xfec00000 */
			2, 10, 0, 0, 2, 0, 0, 0, 0x05, 0x00,            /* ISA IRQ 0 -> GSI 2, high, edge */
			2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0x00,            /* ISA IRQ 9 -> GSI 9, high, level */
			4, 6, 0xff, 0x05, 0x00, 1,                      /* NMI on LINT1, all CPUs */
		};
		CHECK(memcmp(m + 44, entries, sizeof(entries)) == 0);
	}
	/* Tables do not overlap and lie inside the reported size */
	CHECK(lay.facs >= GPA + 36);
	CHECK(lay.dsdt >= lay.facs + 64);
	CHECK(lay.fadt >= lay.dsdt + get_le32(d + 4));
	CHECK(lay.madt >= lay.fadt + 276);
	CHECK(lay.xsdt >= lay.madt + get_le32(m + 4));
	CHECK(lay.rsdt >= lay.xsdt + 52);
	CHECK_EQ(lay.size, lay.rsdt + 44 - GPA);
}

/* APIC ids above 254 get x2APIC entries (and an x2APIC NMI entry); table id from cfg. */
static void test_x2apic_and_many(void)
{
	uint32_t ids[VACPI_MAX_CPUS];
	struct vacpi_config cfg = { .cpu_count = 3, .apic_ids = ids, .oem_table_id = "GUEST-A" };
	struct vacpi_layout lay;
	struct acpi_info info;
	const uint8_t *m, *e;

	ids[0] = 0;
	ids[1] = 254;
	ids[2] = 300;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);
	CHECK_EQ(lay.size, vacpi_size(3, 1));
	CHECK(memcmp(at(lay.madt) + 16, "GUEST-A ", 8) == 0);
	CHECK_EQ(acpi_parse(area, 36, area_map, NULL, &info), 0);
	CHECK_EQ(info.note_count, 0);
	CHECK_EQ(info.cpu_count, 3);
	CHECK_EQ(info.cpus[1].apic_id, 254);
	CHECK(!info.cpus[1].x2apic);
	CHECK_EQ(info.cpus[2].apic_id, 300);
	CHECK(info.cpus[2].x2apic);
	CHECK(info.cpus[2].enabled);
	CHECK_EQ(info.cpus[2].acpi_uid, 2);
	m = at(lay.madt);
	CHECK_EQ(get_le32(m + 4), 44 + 2 * 8 + 16 + 12 + 2 * 10 + 6 + 12);
	e = m + get_le32(m + 4) - 12; /* the x2APIC NMI entry is last */
	CHECK_EQ(e[0], 10);
	CHECK_EQ(e[1], 12);
	CHECK_EQ(get_le16(e + 2), 0x5);
	CHECK_EQ(get_le32(e + 4), 0xffffffffu);
	CHECK_EQ(e[8], 1);

	/* The most CPUs allowed: every one in the MADT, checksums hold */
	for (unsigned i = 0; i < VACPI_MAX_CPUS; i++)
		ids[i] = i * 5;
	cfg.cpu_count = VACPI_MAX_CPUS;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);
	m = at(lay.madt);
	CHECK_EQ(sum(m, get_le32(m + 4)), 0);
	for (unsigned i = 0, off = 44; i < VACPI_MAX_CPUS; i++) {
		e = m + off;
		if (ids[i] <= 254) {
			CHECK_EQ(e[0], 0);
			CHECK_EQ(e[2], i);
			CHECK_EQ(e[3], ids[i]);
			CHECK_EQ(get_le32(e + 4), 1);
			off += 8;
		} else {
			CHECK_EQ(e[0], 9);
			CHECK_EQ(get_le32(e + 4), ids[i]);
			CHECK_EQ(get_le32(e + 8), 1);
			CHECK_EQ(get_le32(e + 12), i);
			off += 16;
		}
	}
	CHECK_EQ(acpi_parse(area, 36, area_map, NULL, &info), 0);
	/* The host parser keeps the first ACPI_MAX_CPUS */
	CHECK_EQ(info.cpu_count, MIN(VACPI_MAX_CPUS, ACPI_MAX_CPUS));
	CHECK_EQ(info.cpu_count + info.cpus_ignored, VACPI_MAX_CPUS);
	for (unsigned i = 0; i < info.cpu_count; i++) {
		CHECK_EQ(info.cpus[i].apic_id, ids[i]);
		CHECK_EQ(info.cpus[i].x2apic, ids[i] > 254);
	}
}

static void test_refusals(void)
{
	uint32_t ids[VACPI_MAX_CPUS + 1];
	struct vacpi_config cfg = { .cpu_count = 2 };
	struct vacpi_layout lay;
	size_t need = vacpi_size(2, 0);

	/* Every size short of what is needed: refused, and nothing written (exact heap buffers) */
	for (size_t n = 0; n < need; n++) {
		uint8_t *b = malloc(n ? n : 1);

		memset(b, 0x5a, n);
		CHECK_EQ(vacpi_build(b, n, GPA, &cfg, &lay), -E_RANGE);
		for (size_t i = 0; i < n; i++)
			CHECK_EQ(b[i], 0x5a);
		free(b);
	}
	{
		uint8_t *b = malloc(need);

		CHECK_EQ(vacpi_build(b, need, GPA, &cfg, &lay), 0);
		CHECK_EQ(lay.size, need);
		free(b);
	}
	/* Too many CPUs, none, a repeated id, the broadcast id */
	for (unsigned i = 0; i <= VACPI_MAX_CPUS; i++)
		ids[i] = i;
	cfg.apic_ids = ids;
	cfg.cpu_count = VACPI_MAX_CPUS + 1;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), -E_FULL);
	cfg.apic_ids = NULL;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), -E_FULL);
	cfg.cpu_count = 0;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), -E_INVAL);
	cfg.apic_ids = ids;
	cfg.cpu_count = 3;
	ids[2] = 1;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), -E_EXIST);
	ids[2] = 0xffffffffu;
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), -E_INVAL);
	ids[2] = 2;
	/* Misaligned or above 4 GiB */
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA + 8, &cfg, &lay), -E_INVAL);
	CHECK_EQ(vacpi_build(area, sizeof(area), 0xfffffe00ull, &cfg, &lay), -E_RANGE);
	CHECK_EQ(vacpi_build(area, sizeof(area), 0x100000000ull, &cfg, &lay), -E_RANGE);
	CHECK_EQ(vacpi_build(area, sizeof(area), GPA, &cfg, &lay), 0);
}

int main(void)
{
	RUN_TEST(test_parse_back);
	RUN_TEST(test_rsdt_path);
	RUN_TEST(test_bytes);
	RUN_TEST(test_x2apic_and_many);
	RUN_TEST(test_refusals);
	return test_any_failed;
}
