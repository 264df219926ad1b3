/* Guest ACPI tables built from vplatform.h: what Linux needs to find its CPUs, interrupt
 * controllers, PM timer, SCI, reset register and soft-off, on a PC with no 8042 and no VGA. */
#include "drivers/virt/vacpi.h"
#include "drivers/virt/vplatform.h"
#include "drivers/acpi_layout.h"
#include "kernel/lib.h"

#define FACS_LEN 64        /* ACPI 6.5 5.2.10 */
#define FACS_ALIGN 64      /* FACS must be 64-byte aligned, ACPI 6.5 5.2.10 */
#define FADT_LEN 276       /* FADT revision 6, ACPI 6.5 Table 5.9 */
#define TABLE_ALIGN 16
#define CREATOR_ID "CLSN"
#define OEM_REVISION 1
#define CREATOR_REVISION 1

/* Table revisions of ACPI 6.0 (FADT 6.0, MADT 4), DSDT 2 for 64-bit AML integers */
#define FADT_REVISION 6
#define FADT_MINOR 0
#define MADT_REVISION 4
#define DSDT_REVISION 2
#define ROOT_REVISION 1
#define FACS_VERSION 2

/* FADT flags, ACPI 6.5 Table 5.10: WBINVD works, C1 (HLT) on all CPUs, no fixed power or
 * sleep button, a 24-bit PM timer (TMR_VAL_EXT clear), the reset register */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_PWR_BUTTON (1u << 4)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define VACPI_FADT_FLAGS (FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | \
			  FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP)

/* IA-PC boot architecture flags, ACPI 6.5 Table 5.11: ISA devices (PIC, PIT, RTC, COM1) exist;
 * no 8042 (only its reset port is emulated), no VGA, no MSI (no PCI devices) */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED (1u << 3)
#define VACPI_IAPC_BOOT_ARCH (IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED)

/* C2 and C3 latencies above 100 and 1000 us mean "not supported", ACPI 6.5 Table 5.9 */
#define P_LVL2_NONE 101
#define P_LVL3_NONE 1001

/* Generic Address Structure, ACPI 6.5 5.2.3.2 */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

#define PM1_EVT_LEN 4 /* status + enable, 2 bytes each */
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4

/* The guests' MADT, ACPI 6.5 5.2.12: its overrides, NMI wiring and interrupt flags */
#define MADT_ISO_COUNT 2
#define MADT_ALL_CPUS_8 0xff        /* processor UID meaning every CPU, type 4 */
#define MADT_ALL_CPUS_32 0xffffffffu /* the same for type 10 */
#define LINT1 1
/* MPS INTI flags, ACPI 6.5 Table 5.26: polarity bits 1:0, trigger mode bits 3:2 */
#define INTI_ACTIVE_HIGH 0x1
#define INTI_EDGE (0x1 << 2)
#define INTI_LEVEL (0x3 << 2)
#define ISA_BUS 0

#define AML_MAX 32

/* A one-byte AML integer: ZeroOp, OneOp or BytePrefix value, ACPI 6.5 20.2.3 */
static size_t aml_byte_const(uint8_t *p, uint8_t value)
{
	if (value <= 1) {
		p[0] = value ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	p[0] = AML_BYTE_PREFIX;
	p[1] = value;
	return 2;
}

/* The DSDT's AML: Name(_S5_, Package(4){SLP_TYP, SLP_TYP, 0, 0}) and an empty Method(_PIC, 1) */
static size_t vacpi_dsdt_aml(uint8_t *aml)
{
	size_t n = 0, pkg_len_at, pkg_start;

	aml[n++] = AML_NAME_OP;            /* DefName := NameOp NameString DataRefObject */
	memcpy(aml + n, "_S5_", 4);        /* NameSeg, in the root scope */
	n += 4;
	aml[n++] = AML_PACKAGE_OP;         /* DefPackage := PackageOp PkgLength NumElements ... */
	pkg_start = n;
	pkg_len_at = n++;                  /* PkgLength, one byte (< 64), patched below */
	aml[n++] = 4;                      /* NumElements */
	n += aml_byte_const(aml + n, VPLAT_S5_SLP_TYP); /* SLP_TYPa for PM1a_CNT */
	n += aml_byte_const(aml + n, VPLAT_S5_SLP_TYP); /* SLP_TYPb (no PM1b: ignored) */
	aml[n++] = AML_ZERO_OP;            /* reserved */
	aml[n++] = AML_ZERO_OP;            /* reserved */
	aml[pkg_len_at] = (uint8_t)(n - pkg_start); /* counts itself to the package's end, 20.2.4 */

	/* Linux calls \_PIC(1) when it switches to the I/O APIC; the routing is fixed, so no-op */
	aml[n++] = AML_METHOD_OP;          /* DefMethod := MethodOp PkgLength NameString MethodFlags TermList */
	aml[n++] = 1 + 4 + 1;              /* PkgLength: itself, the name, the flags, no body */
	memcpy(aml + n, "_PIC", 4);
	n += 4;
	aml[n++] = 0x01;                   /* MethodFlags: one argument, not serialized, sync level 0 */
	return n;
}

static void vacpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t revision,
			 const char *table_id)
{
	size_t id_len = strnlen(table_id, 8);

	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = revision;
	t[HDR_CHECKSUM] = 0; /* set by vacpi_seal */
	memcpy(t + 10, VACPI_OEM_ID, 6);
	memset(t + 16, ' ', 8);
	memcpy(t + 16, table_id, id_len);
	put_le32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le32(t + 32, CREATOR_REVISION);
}

/* The whole table sums to zero, ACPI 6.5 5.2.6 */
static void vacpi_seal(uint8_t *t, uint32_t len)
{
	t[HDR_CHECKSUM] = (uint8_t)(0x100 - acpi_sum(t, len));
}

static void vacpi_gas(uint8_t *p, uint8_t width, uint8_t access, uint64_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = width;
	p[2] = 0;
	p[3] = access;
	put_le64(p + 4, port);
}

static size_t vacpi_madt_len(unsigned cpu_count, unsigned x2apic_count)
{
	return MADT_ENTRIES + (size_t)(cpu_count - x2apic_count) * MADT_LAPIC_LEN +
	       (size_t)x2apic_count * MADT_X2APIC_LEN + MADT_IOAPIC_LEN +
	       MADT_ISO_COUNT * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN +
	       (x2apic_count ? MADT_X2APIC_NMI_LEN : 0);
}

/* Offsets of each table from gpa, in the order they are laid out */
struct vacpi_offsets {
	size_t facs, dsdt, dsdt_len, fadt, madt, madt_len, xsdt, rsdt, end;
};

static struct vacpi_offsets vacpi_plan(unsigned cpu_count, unsigned x2apic_count, size_t aml_len)
{
	struct vacpi_offsets o;

	o.facs = ALIGN_UP((size_t)RSDP_V2_LEN, (size_t)FACS_ALIGN);
	o.dsdt = o.facs + FACS_LEN;
	o.dsdt_len = ACPI_HEADER_LEN + aml_len;
	o.fadt = ALIGN_UP(o.dsdt + o.dsdt_len, (size_t)TABLE_ALIGN);
	o.madt = ALIGN_UP(o.fadt + FADT_LEN, (size_t)TABLE_ALIGN);
	o.madt_len = vacpi_madt_len(cpu_count, x2apic_count);
	o.xsdt = ALIGN_UP(o.madt + o.madt_len, (size_t)TABLE_ALIGN);
	o.rsdt = ALIGN_UP(o.xsdt + ACPI_HEADER_LEN + 2 * 8, (size_t)TABLE_ALIGN);
	o.end = o.rsdt + ACPI_HEADER_LEN + 2 * 4;
	return o;
}

size_t vacpi_size(unsigned cpu_count, unsigned x2apic_count)
{
	uint8_t aml[AML_MAX];

	return vacpi_plan(cpu_count, x2apic_count, vacpi_dsdt_aml(aml)).end;
}

static void vacpi_build_facs(uint8_t *f)
{
	memcpy(f, "FACS", 4);
	put_le32(f + 4, FACS_LEN);
	f[32] = FACS_VERSION; /* hardware signature, waking vectors, global lock, flags all 0 */
}

static void vacpi_build_fadt(uint8_t *f, uint64_t facs, uint64_t dsdt, const char *table_id)
{
	vacpi_header(f, "FACP", FADT_LEN, FADT_REVISION, table_id);
	put_le32(f + FADT_FIRMWARE_CTRL, (uint32_t)facs);
	put_le32(f + FADT_DSDT, (uint32_t)dsdt);
	f[FADT_PM_PROFILE] = 0; /* unspecified */
	put_le16(f + FADT_SCI_INT, VPLAT_SCI_IRQ);
	put_le32(f + FADT_SMI_CMD, 0); /* no SMI command port: the platform is always in ACPI mode */
	put_le32(f + FADT_PM1A_EVT_BLK, VPLAT_PM1A_EVT_BLK);
	put_le32(f + FADT_PM1A_CNT_BLK, VPLAT_PM1A_CNT_BLK);
	put_le32(f + FADT_PM_TMR_BLK, VPLAT_PM_TMR_BLK);
	f[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	f[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	f[FADT_PM_TMR_LEN] = PM_TMR_LEN;
	put_le16(f + FADT_P_LVL2_LAT, P_LVL2_NONE);
	put_le16(f + FADT_P_LVL3_LAT, P_LVL3_NONE);
	f[FADT_CENTURY] = 0; /* no RTC century register: Linux infers the century */
	put_le16(f + FADT_IAPC_BOOT_ARCH, VACPI_IAPC_BOOT_ARCH);
	put_le32(f + FADT_FLAGS, VACPI_FADT_FLAGS);
	vacpi_gas(f + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, VPLAT_RESET_PORT);
	f[FADT_RESET_VALUE] = VPLAT_RESET_VALUE;
	f[FADT_MINOR_VERSION] = FADT_MINOR;
	/* X_FIRMWARE_CTRL stays 0: the FACS is below 4 GiB, and ACPICA would install it twice */
	put_le64(f + FADT_X_DSDT, dsdt);
	vacpi_gas(f + FADT_X_PM1A_EVT_BLK, PM1_EVT_LEN * 8, GAS_ACCESS_WORD, VPLAT_PM1A_EVT_BLK);
	vacpi_gas(f + FADT_X_PM1A_CNT_BLK, PM1_CNT_LEN * 8, GAS_ACCESS_WORD, VPLAT_PM1A_CNT_BLK);
	vacpi_gas(f + FADT_X_PM_TMR_BLK, PM_TMR_LEN * 8, GAS_ACCESS_DWORD, VPLAT_PM_TMR_BLK);
	memcpy(f + FADT_HYPERVISOR_ID, "Cloison", 8);
	vacpi_seal(f, FADT_LEN);
}

static size_t vacpi_madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = MADT_ISO_LEN;
	e[2] = ISA_BUS;
	e[3] = irq;
	put_le32(e + 4, gsi);
	put_le16(e + 8, flags);
	return MADT_ISO_LEN;
}

static void vacpi_build_madt(uint8_t *m, size_t len, const struct vacpi_config *cfg,
			     const uint32_t *ids, bool any_x2apic, const char *table_id)
{
	size_t n = MADT_ENTRIES;

	vacpi_header(m, "APIC", (uint32_t)len, MADT_REVISION, table_id);
	put_le32(m + MADT_LAPIC_ADDR, (uint32_t)VPLAT_LAPIC_BASE);
	put_le32(m + MADT_FLAGS, MADT_PCAT_COMPAT); /* the PIC pair exists, ACPI 6.5 Table 5.20 */
	/* One entry per vCPU, in order: Linux numbers CPUs as it meets them, the first is the BSP */
	for (unsigned i = 0; i < cfg->cpu_count; i++) {
		uint8_t *e = m + n;

		if (ids[i] <= VACPI_XAPIC_MAX_ID) { /* Processor Local APIC, 5.2.12.2 */
			e[0] = MADT_LAPIC;
			e[1] = MADT_LAPIC_LEN;
			e[2] = (uint8_t)i;
			e[3] = (uint8_t)ids[i];
			put_le32(e + 4, MADT_CPU_ENABLED);
			n += MADT_LAPIC_LEN;
		} else { /* Processor Local x2APIC, 5.2.12.12 */
			e[0] = MADT_X2APIC;
			e[1] = MADT_X2APIC_LEN;
			put_le16(e + 2, 0);
			put_le32(e + 4, ids[i]);
			put_le32(e + 8, MADT_CPU_ENABLED);
			put_le32(e + 12, i);
			n += MADT_X2APIC_LEN;
		}
	}
	/* I/O APIC, 5.2.12.3 */
	m[n] = MADT_IOAPIC;
	m[n + 1] = MADT_IOAPIC_LEN;
	m[n + 2] = VPLAT_IOAPIC_ID;
	m[n + 3] = 0;
	put_le32(m + n + 4, (uint32_t)VPLAT_IOAPIC_BASE);
	put_le32(m + n + 8, 0); /* GSI base */
	n += MADT_IOAPIC_LEN;
	/* The PIT on pin 2; the SCI level-triggered, active high as ACPI wants, 5.2.12.5 */
	n += vacpi_madt_iso(m + n, VPLAT_PIT_IRQ, VPLAT_PIT_GSI, INTI_ACTIVE_HIGH | INTI_EDGE);
	n += vacpi_madt_iso(m + n, VPLAT_SCI_IRQ, VPLAT_SCI_IRQ, INTI_ACTIVE_HIGH | INTI_LEVEL);
	/* LINT1 is NMI on every processor, as on PCs, 5.2.12.7 (and 5.2.12.13 for x2APIC ids) */
	m[n] = MADT_LAPIC_NMI;
	m[n + 1] = MADT_LAPIC_NMI_LEN;
	m[n + 2] = MADT_ALL_CPUS_8;
	put_le16(m + n + 3, INTI_ACTIVE_HIGH | INTI_EDGE);
	m[n + 5] = LINT1;
	n += MADT_LAPIC_NMI_LEN;
	if (any_x2apic) {
		m[n] = MADT_X2APIC_NMI;
		m[n + 1] = MADT_X2APIC_NMI_LEN;
		put_le16(m + n + 2, INTI_ACTIVE_HIGH | INTI_EDGE);
		put_le32(m + n + 4, MADT_ALL_CPUS_32);
		m[n + 8] = LINT1;
		memset(m + n + 9, 0, 3);
		n += MADT_X2APIC_NMI_LEN;
	}
	vacpi_seal(m, (uint32_t)len);
}

static void vacpi_build_rsdp(uint8_t *r, uint64_t rsdt, uint64_t xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, VACPI_OEM_ID, 6);
	r[RSDP_REVISION] = 2; /* ACPI 2.0+: Length, XsdtAddress and the extended checksum follow */
	put_le32(r + 16, (uint32_t)rsdt);
	put_le32(r + RSDP_LENGTH, RSDP_V2_LEN);
	put_le64(r + 24, xsdt);
	memset(r + 33, 0, 3);
	r[RSDP_CHECKSUM] = (uint8_t)(0x100 - acpi_sum(r, RSDP_V1_LEN));
	r[RSDP_EXT_CHECKSUM] = 0;
	r[RSDP_EXT_CHECKSUM] = (uint8_t)(0x100 - acpi_sum(r, RSDP_V2_LEN));
}

static int vacpi_check(const struct vacpi_config *cfg, const uint32_t *ids, unsigned *x2apic_count)
{
	if (cfg->cpu_count == 0)
		return -E_INVAL;
	if (cfg->cpu_count > VACPI_MAX_CPUS)
		return -E_FULL;
	*x2apic_count = 0;
	for (unsigned i = 0; i < cfg->cpu_count; i++) {
		if (ids[i] == 0xffffffffu) /* the x2APIC broadcast id */
			return -E_INVAL;
		for (unsigned j = 0; j < i; j++)
			if (ids[j] == ids[i])
				return -E_EXIST;
		if (ids[i] > VACPI_XAPIC_MAX_ID)
			(*x2apic_count)++;
	}
	return 0;
}

int vacpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct vacpi_config *cfg,
		struct vacpi_layout *out)
{
	uint32_t default_ids[VACPI_MAX_CPUS];
	const char *table_id = cfg->oem_table_id ? cfg->oem_table_id : VACPI_DEFAULT_TABLE_ID;
	const uint32_t *ids = cfg->apic_ids;
	uint8_t aml[AML_MAX];
	struct vacpi_offsets o;
	unsigned x2apic_count = 0;
	size_t aml_len;
	int err;

	memset(out, 0, sizeof(*out));
	if (!ids && cfg->cpu_count <= VACPI_MAX_CPUS) {
		for (unsigned i = 0; i < cfg->cpu_count; i++)
			default_ids[i] = i;
		ids = default_ids;
	}
	err = vacpi_check(cfg, ids, &x2apic_count);
	if (err)
		return err;
	/* The RSDP scan looks at 16-byte boundaries; the RSDT holds 32-bit addresses */
	if (!buf || !IS_ALIGNED(gpa, (uint64_t)TABLE_ALIGN))
		return -E_INVAL;
	aml_len = vacpi_dsdt_aml(aml);
	o = vacpi_plan(cfg->cpu_count, x2apic_count, aml_len);
	if (size < o.end)
		return -E_RANGE;
	if (gpa > UINT32_MAX || o.end > UINT32_MAX - gpa)
		return -E_RANGE;

	out->rsdp = gpa;
	out->facs = gpa + o.facs;
	out->dsdt = gpa + o.dsdt;
	out->fadt = gpa + o.fadt;
	out->madt = gpa + o.madt;
	out->xsdt = gpa + o.xsdt;
	out->rsdt = gpa + o.rsdt;
	out->size = o.end;

	memset(buf, 0, o.end);
	vacpi_build_facs(buf + o.facs);
	vacpi_header(buf + o.dsdt, "DSDT", (uint32_t)o.dsdt_len, DSDT_REVISION, table_id);
	memcpy(buf + o.dsdt + ACPI_HEADER_LEN, aml, aml_len);
	vacpi_seal(buf + o.dsdt, (uint32_t)o.dsdt_len);
	vacpi_build_fadt(buf + o.fadt, out->facs, out->dsdt, table_id);
	vacpi_build_madt(buf + o.madt, o.madt_len, cfg, ids, x2apic_count != 0, table_id);

	/* Root tables list the FADT first, then the MADT, ACPI 6.5 5.2.7 and 5.2.8 */
	vacpi_header(buf + o.xsdt, "XSDT", ACPI_HEADER_LEN + 2 * 8, ROOT_REVISION, table_id);
	put_le64(buf + o.xsdt + ACPI_HEADER_LEN, out->fadt);
	put_le64(buf + o.xsdt + ACPI_HEADER_LEN + 8, out->madt);
	vacpi_seal(buf + o.xsdt, ACPI_HEADER_LEN + 2 * 8);
	vacpi_header(buf + o.rsdt, "RSDT", ACPI_HEADER_LEN + 2 * 4, ROOT_REVISION, table_id);
	put_le32(buf + o.rsdt + ACPI_HEADER_LEN, (uint32_t)out->fadt);
	put_le32(buf + o.rsdt + ACPI_HEADER_LEN + 4, (uint32_t)out->madt);
	vacpi_seal(buf + o.rsdt, ACPI_HEADER_LEN + 2 * 4);
	vacpi_build_rsdp(buf, out->rsdt, out->xsdt);
	return 0;
}
