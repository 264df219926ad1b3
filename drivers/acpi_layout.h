/* The ACPI tables' byte layout, ACPI 6.5 chapter 5 and 20.2: read by the host's parser
 * (drivers/acpi.c) and written for guests (drivers/virt/vacpi.c), so both use one copy. */
#ifndef CLOISON_ACPI_LAYOUT_H
#define CLOISON_ACPI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_HEADER_LEN 36 /* system description table header, ACPI 6.5 5.2.6 */
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define RSDP_V1_LEN 20 /* the part the first checksum covers, ACPI 6.5 5.2.5.3 */
#define RSDP_V2_LEN 36 /* ACPI 2.0+ */
#define GAS_LEN 12     /* generic address structure, ACPI 6.5 5.2.3.2 */

/* RSDP field offsets, ACPI 6.5 Table 5.3 */
enum acpi_rsdp_offset {
	RSDP_CHECKSUM = 8,
	RSDP_OEM_ID = 9,
	RSDP_REVISION = 15,
	RSDP_RSDT = 16,
	RSDP_LENGTH = 20,
	RSDP_XSDT = 24,
	RSDP_EXT_CHECKSUM = 32,
};

/* FADT field offsets, ACPI 6.5 Table 5.9 */
enum acpi_fadt_offset {
	FADT_FIRMWARE_CTRL = 36,
	FADT_DSDT = 40,
	FADT_PM_PROFILE = 45,
	FADT_SCI_INT = 46,
	FADT_SMI_CMD = 48,
	FADT_ACPI_ENABLE = 52,
	FADT_ACPI_DISABLE = 53,
	FADT_PM1A_EVT_BLK = 56,
	FADT_PM1A_CNT_BLK = 64,
	FADT_PM1B_CNT_BLK = 68,
	FADT_PM_TMR_BLK = 76,
	FADT_PM1_EVT_LEN = 88,
	FADT_PM1_CNT_LEN = 89,
	FADT_PM_TMR_LEN = 91,
	FADT_P_LVL2_LAT = 96,
	FADT_P_LVL3_LAT = 98,
	FADT_CENTURY = 108,
	FADT_IAPC_BOOT_ARCH = 109,
	FADT_FLAGS = 112,
	FADT_RESET_REG = 116,
	FADT_RESET_VALUE = 128,
	FADT_MINOR_VERSION = 131,
	FADT_X_DSDT = 140,
	FADT_X_PM1A_EVT_BLK = 148,
	FADT_X_PM1A_CNT_BLK = 172,
	FADT_X_PM1B_CNT_BLK = 184,
	FADT_X_PM_TMR_BLK = 208,
	FADT_HYPERVISOR_ID = 268,
};

/* MADT layout and interrupt controller structure types, ACPI 6.5 5.2.12 */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)
enum acpi_madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_ISO = 2, /* interrupt source override */
	MADT_LAPIC_NMI = 4,
	MADT_LAPIC_OVERRIDE = 5,
	MADT_X2APIC = 9,
	MADT_X2APIC_NMI = 10,
};
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_X2APIC_LEN 16
#define MADT_X2APIC_NMI_LEN 12

/* AML encodings, ACPI 6.5 20.2 */
enum acpi_aml_op {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_PACKAGE_OP = 0x12,
	AML_METHOD_OP = 0x14,
	AML_ROOT_CHAR = 0x5c,
};

/* The byte sum of a table: 0 for a valid one, ACPI 6.5 5.2.5.3 and 5.2.6 */
static inline uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

#endif
