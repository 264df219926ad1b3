/* struct boot_info: everything Cloison takes from the multiboot2 information, decoded once. */
#ifndef CLOISON_BOOT_INFO_H
#define CLOISON_BOOT_INFO_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define BOOT_MAX_MMAP 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 256
#define BOOT_MODULE_STRING_MAX 128

/* Memory range types, numbered as in the multiboot2 / E820 map. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI_RECLAIMABLE = 3,
	BOOT_MEM_ACPI_NVS = 4,
	BOOT_MEM_BAD = 5,
};

struct boot_mem_range {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum boot_mem_type; unknown types are kept as given and treated as reserved */
};

struct boot_module {
	uint64_t start; /* host-physical, inclusive */
	uint64_t end;   /* host-physical, exclusive */
	char string[BOOT_MODULE_STRING_MAX];
};

struct boot_info {
	uint64_t mbi_start, mbi_end; /* the multiboot2 information block itself */
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[64];

	bool has_basic_meminfo;
	uint32_t mem_lower_kib, mem_upper_kib;

	/* Memory map: from the multiboot2 mmap tag, else converted from the EFI memory map. */
	struct boot_mem_range mmap[BOOT_MAX_MMAP];
	unsigned mmap_count;
	bool mmap_from_efi;
	bool has_efi_mmap;

	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned module_count;
	unsigned modules_dropped; /* modules beyond BOOT_MAX_MODULES */

	/* ACPI RSDP copied out of the old (v1) or new (v2+) tag; the new one wins. */
	bool has_rsdp;
	uint8_t rsdp_revision;
	uint8_t rsdp[36];
	uint32_t rsdp_length;

	bool efi_boot_services_active; /* tag 18: GRUB did not exit boot services */
	uint64_t efi_system_table;     /* tag 12 (EFI64), 0 when absent */
};

/* Multiboot2 information parser. @pre mbi points at avail readable bytes.
 * Returns 0, or a negative error (E_TRUNC, E_INVAL ...) with *where set to the byte offset of the bad tag. */
int mb2_parse(const void *mbi, size_t avail, uint64_t mbi_phys, struct boot_info *out, size_t *where);

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#endif
