/* ACPI table parsing: RSDP -> RSDT/XSDT -> MADT (CPUs, I/O APICs), FADT (PM1, reset, DSDT \_S5). */
#ifndef CLOISON_ACPI_H
#define CLOISON_ACPI_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define ACPI_MAX_CPUS 256 /* MADT processors kept; Cloison runs on MAX_CPUS of them */
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_IRQ_OVERRIDES 16
#define ACPI_MAX_TABLES 32     /* signatures remembered from the root table, for the boot log */
#define ACPI_MAX_NOTES 12
#define ACPI_NOTE_LEN 96
#define ACPI_TABLE_MAX_LEN (1024u * 1024) /* longer tables are refused without being mapped */
#define ACPI_ROOT_MAX_ENTRIES 256         /* root-table entries looked at */

/* Returns a readable pointer to [phys, phys+len), or NULL when that range cannot be read.
 * The parser reads nothing outside what it returned, and only until its next call. */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

/* Generic Address Structure address spaces, ACPI 6.5 5.2.3.2 */
enum acpi_gas_space {
	ACPI_GAS_MEMORY = 0,
	ACPI_GAS_IO = 1,
	ACPI_GAS_PCI_CONFIG = 2,
};

struct acpi_gas {
	uint8_t space_id; /* enum acpi_gas_space */
	uint8_t bit_width, bit_offset, access_size;
	uint64_t address;
};

/* PM1 control register bits, ACPI 6.5 4.8.3.2.1 */
#define ACPI_PM1_SCI_EN (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN (1u << 13)

/* FADT flags, ACPI 6.5 Table 5.10 */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

struct acpi_cpu {
	uint32_t apic_id;  /* local APIC or x2APIC id */
	uint32_t acpi_uid; /* processor UID (8-bit for a type 0 entry) */
	bool enabled;        /* flags bit 0: usable now */
	bool online_capable; /* flags bit 1: may be brought online later (only when !enabled) */
	bool x2apic;         /* described by a Processor Local x2APIC entry (type 9) */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

/* An ISA IRQ routed to another global system interrupt (MADT type 2). */
struct acpi_irq_override {
	uint8_t bus, source;
	uint32_t gsi;
	uint16_t flags; /* polarity bits 1:0, trigger mode bits 3:2 */
};

struct acpi_info {
	/* Root: where the walk went. */
	uint8_t rsdp_revision;
	char oem_id[7];     /* from the RSDP, NUL-terminated, non-printable bytes as '?' */
	bool used_xsdt;     /* XSDT (64-bit entries) walked, else RSDT */
	uint64_t root_table;
	char tables[ACPI_MAX_TABLES][5]; /* signatures the root table lists, in order */
	unsigned table_count;            /* entries in the root table (may exceed ACPI_MAX_TABLES) */

	/* MADT ("APIC"). */
	bool has_madt;
	uint64_t lapic_base; /* 0xfee00000 unless the MADT says otherwise (type 5 overrides) */
	bool pcat_compat;    /* MADT flags bit 0: dual 8259s present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned cpu_count;    /* entries in cpus[] */
	unsigned cpus_usable;  /* of those, enabled or online-capable */
	unsigned cpus_ignored; /* left out: no room, or a duplicate APIC id */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned ioapic_count, ioapics_ignored;
	struct acpi_irq_override irq_overrides[ACPI_MAX_IRQ_OVERRIDES];
	unsigned irq_override_count;

	/* FADT ("FACP"). I/O ports are 0 when absent. */
	bool has_fadt;
	uint8_t fadt_revision;
	uint32_t fadt_flags;
	uint16_t sci_irq;
	uint32_t smi_cmd;                 /* write acpi_enable here to enter ACPI mode (0: none) */
	uint8_t acpi_enable, acpi_disable;
	uint16_t pm1a_cnt, pm1b_cnt;      /* PM1 control blocks (X_ GAS in I/O space preferred) */
	uint16_t pm_timer;                /* PM timer port, 3.579545 MHz */
	bool pm_timer_32bit;              /* TMR_VAL_EXT: 32-bit counter, else 24-bit */
	bool reset_supported;             /* RESET_REG_SUP and the FADT is long enough to hold it */
	struct acpi_gas reset_reg;
	uint8_t reset_value;

	/* DSDT and its \_S5 package: SLP_TYPx values for soft-off. */
	uint64_t dsdt;      /* address used (X_DSDT preferred), 0 when none */
	bool has_dsdt;      /* mapped, signature and checksum good */
	bool s5_valid;
	uint8_t s5_slp_typa, s5_slp_typb;

	/* Problems met on the way, one line each, e.g. "MADT at 0x7fe0100: checksum bad, skipped". */
	char notes[ACPI_MAX_NOTES][ACPI_NOTE_LEN];
	unsigned note_count, notes_dropped;
};

/* Walks the tables from the RSDP bytes (as copied from the multiboot2 tag) and fills *out.
 * Returns 0 when a root table was walked (per-table problems are only noted), or
 * -E_TRUNC (RSDP shorter than 20 bytes), -E_INVAL (bad RSDP signature or checksum),
 * -E_NOENT (no usable RSDT/XSDT). *out is fully initialised either way. */
/* Whether some usable CPU has an APIC id that xAPIC cannot address (above 254; 255 is the
 * broadcast id): then the host must run its local APICs in x2APIC mode (SDM Vol. 3A 10.12). */
bool acpi_needs_x2apic(const struct acpi_info *info);

int acpi_parse(const uint8_t *rsdp, size_t rsdp_len, acpi_map_fn map, void *ctx,
	       struct acpi_info *out);

/* The PM1 control value that enters sleep state slp_typ (S5 = soft-off): SLP_TYP | SLP_EN. */
static inline uint16_t acpi_pm1_sleep_value(uint8_t slp_typ)
{
	return (uint16_t)(((slp_typ & 7u) << ACPI_PM1_SLP_TYP_SHIFT) | ACPI_PM1_SLP_EN);
}

#endif
