/* The ACPI tables each guest finds in its RAM: RSDP, XSDT and RSDT, FADT with FACS and DSDT
 * (\_S5), MADT (local APICs, the I/O APIC, ISA overrides, LINT1 NMI), describing vplatform.h. */
#ifndef CLOISON_VACPI_H
#define CLOISON_VACPI_H

#include <stdint.h>
#include <stddef.h>

#define VACPI_MAX_CPUS 64
#define VACPI_DEFAULT_GPA 0xe0000u     /* in the BIOS area Linux scans for the RSDP */
#define VACPI_DEFAULT_SIZE 0x20000u    /* 0xe0000-0xfffff */
#define VACPI_OEM_ID "CLOISN"
#define VACPI_DEFAULT_TABLE_ID "CLOISON"
#define VACPI_XAPIC_MAX_ID 254         /* larger APIC ids get Processor Local x2APIC entries */

struct vacpi_config {
	unsigned cpu_count;          /* 1..VACPI_MAX_CPUS */
	const uint32_t *apic_ids;    /* cpu_count distinct ids; NULL: 0, 1, 2, ... */
	const char *oem_table_id;    /* up to 8 characters, space padded; NULL: "CLOISON" */
};

/* Guest-physical addresses of what vacpi_build wrote, and the bytes used from gpa. */
struct vacpi_layout {
	uint64_t rsdp, facs, dsdt, fadt, madt, xsdt, rsdt;
	size_t size;
};

/* Writes the tables into buf, which the guest sees at guest-physical gpa (16-byte aligned, the
 * whole buffer below 4 GiB); the RSDP comes first, at gpa. Every checksum is set.
 * Errors: -E_INVAL (no CPU, an APIC id of 0xffffffff, bad gpa), -E_FULL (more than
 * VACPI_MAX_CPUS), -E_EXIST (an APIC id twice), -E_RANGE (buf too small, or above 4 GiB).
 * Nothing is written on error. */
int vacpi_build(uint8_t *buf, size_t size, uint64_t gpa, const struct vacpi_config *cfg,
		struct vacpi_layout *out);

/* Bytes vacpi_build needs for cpu_count CPUs of which x2apic_count have ids above 254. */
size_t vacpi_size(unsigned cpu_count, unsigned x2apic_count);

#endif
