/* cloison.efi: the UEFI memory map as a multiboot2 map, and the multiboot2 information block that
 * GRUB would build, so Cloison has one entry path (pure: no firmware calls). */
#ifndef CLOISON_EFI_MB2_H
#define CLOISON_EFI_MB2_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define EFI_MB2_LOADER_NAME "cloison.efi"
#define EFI_MB2_DESC_MIN 40 /* sizeof(EFI_MEMORY_DESCRIPTOR), UEFI spec 7.2 GetMemoryMap() */
#define EFI_MB2_RSDP_V1_SIZE 20
#define EFI_MB2_RSDP_V2_MAX 36

/* One entry of the multiboot2 memory-map tag, Multiboot2 spec 3.6.8 (the e820 layout). */
struct efi_mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum boot_mem_type */
	uint32_t reserved;
};
_Static_assert(sizeof(struct efi_mb2_mmap_entry) == 24, "multiboot2 mmap entry is 24 bytes");

/* The multiboot2 / e820 type of a UEFI descriptor (type and attributes). */
uint32_t efi_mmap_type(uint32_t efi_type, uint64_t attribute);

/* Converts a UEFI memory map (map_size bytes of desc_size-byte descriptors; desc_size may exceed
 * the struct) into sorted, non-overlapping ranges, adjacent ones of one type merged. Where
 * descriptors overlap the stricter type wins (bad > reserved > NVS > ACPI > usable). Descriptors
 * with no pages or whose end passes 2^64 are left out and counted in *ignored.
 * Returns 0, -E_INVAL (desc_size too small) or -E_FULL (more than cap ranges). */
int efi_mmap_convert(const void *map, size_t map_size, size_t desc_size,
		     struct efi_mb2_mmap_entry *out, size_t cap, size_t *count, unsigned *ignored);

struct efi_mb2_module {
	uint32_t start, end; /* physical, end exclusive */
	const char *string;
};

struct efi_mb2_input {
	const char *cmdline;
	const char *loader_name;
	const struct efi_mb2_module *modules;
	unsigned module_count;
	const void *efi_mmap; /* the final UEFI memory map */
	size_t efi_mmap_size, desc_size;
	uint32_t desc_version;
	const void *rsdp_v1; /* 20 bytes, or NULL */
	const void *rsdp_v2; /* rsdp_v2_length bytes (at most 36), or NULL */
	uint32_t rsdp_v2_length;
	uint64_t efi_system_table; /* 0: no EFI64 tag */
};

/* Bytes efi_mb2_build needs at most when the memory map is at most map_cap bytes. */
size_t efi_mb2_size_bound(const struct efi_mb2_input *in, size_t map_cap);

/* Builds the multiboot2 information block in buf (8-byte aligned; cap bytes): command line,
 * loader name, modules, basic memory info, memory map, EFI64 system table, ACPI RSDP old/new,
 * EFI memory map (descriptors repacked to a multiple of 8 bytes), end tag.
 * Returns 0 with *len set, -E_INVAL for bad input, -E_FULL when cap is too small. */
int efi_mb2_build(const struct efi_mb2_input *in, void *buf, size_t cap, size_t *len);

#endif
