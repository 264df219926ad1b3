/* Multiboot (v1) guest images: header and ELF32 parsing, loading, and the boot information
 * block Cloison hands a guest exactly as GRUB's `multiboot` command would. Pure logic. */
#ifndef CLOISON_MB1_H
#define CLOISON_MB1_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_SEARCH_LIMIT 8192
#define MB1_MAX_SEGMENTS 8

struct mb1_segment {
	uint32_t file_offset; /* where the bytes start in the image */
	uint32_t file_size;
	uint32_t load_addr;   /* guest-physical */
	uint32_t mem_size;    /* >= file_size; the rest is zeroed */
};

struct mb1_image {
	uint32_t header_offset;
	uint32_t header_flags;
	bool aout_kludge; /* header flag 16: addresses come from the header, not the ELF */
	uint32_t entry; /* guest-physical: ELF e_entry via p_vaddr->p_paddr, as GRUB */
	uint32_t load_start, load_end; /* lowest and highest (exclusive) guest-physical byte loaded or zeroed */
	struct mb1_segment segments[MB1_MAX_SEGMENTS];
	unsigned segment_count;
	char why[64]; /* a reason naming a flag or segment number, built here */
};

/* Finds and checks the header (in the first 8 KiB, 4-byte aligned, checksum), then takes the
 * load layout from the a.out-kludge fields or the ELF32 program headers (PT_LOAD).
 * Errors: -E_NOENT no header, -E_INVAL bad checksum/ELF/fields, -E_NOTSUP required flag we do
 * not honour, -E_TRUNC image shorter than a field or segment says. *why gets a short reason: a
 * static string, or out->why (valid while out is). */
int mb1_parse(const void *image, size_t len, struct mb1_image *out, const char **why);

/* Copies the segments into guest RAM (ram is guest-physical 0), zeroing the bss parts.
 * Checks every segment before writing any: -E_RANGE when a byte would fall outside
 * [0, ram_size); -E_INVAL when a segment does not match the image (im from another image).
 * Any address in RAM will do (a kernel linked at 0x8000 too): mb1_boot_setup then puts the
 * information block where the image is not. */
int mb1_load(const struct mb1_image *im, const void *image, size_t len, uint8_t *ram, uint64_t ram_size);

struct mb1_module {
	const void *data;
	size_t size;
	const char *string;
};

struct mb1_boot_params {
	uint64_t ram_size;       /* guest RAM, guest-physical [0, ram_size) */
	const char *cmdline;     /* the guest's command line */
	const char *loader_name; /* "Cloison" */
	const struct mb1_module *modules;
	unsigned module_count;
	uint32_t modules_start;  /* first guest-physical byte free for modules (page aligned by the
				  * callee); @pre at or above the image's load_end */
	const struct mb1_image *image; /* the loaded image, whose segments the information block
					* keeps clear of; NULL: nothing to keep clear of */
};

/* The information block's first choice, where GRUB-era guests are used to finding it; it goes
 * elsewhere when the image or a module is there (see mb1_boot_setup). */
#define MB1_INFO_BASE 0x8000u
/* The block with its strings, module list and memory map takes at most this many bytes. */
#define MB1_INFO_MAX (0x9f000u - MB1_INFO_BASE)
#define MB1_LOW_SEARCH_START 0x1000u /* the first page (real-mode IVT, BDA) is never used */
#define MB1_LOW_MEM_END 0x9fc00u

/* Copies the modules page-aligned from modules_start upward (a module that would reach the
 * EBDA and ROM hole at MB1_LOW_MEM_END..1 MiB goes to 1 MiB instead), then writes the multiboot
 * information block: flags, mem_lower/mem_upper, cmdline, modules (with their strings), memory
 * map (0..0x9fc00 usable, 0x9fc00..1 MiB reserved, 1 MiB..ram_size usable), boot loader name.
 * The block goes in the first gap that neither the image nor a module uses: from MB1_INFO_BASE
 * up through low memory, then from MB1_LOW_SEARCH_START, then after the last module. Returns 0
 * and the block's guest-physical address in *mbi_gpa, -E_RANGE when something does not fit. */
int mb1_boot_setup(uint8_t *ram, const struct mb1_boot_params *p, uint32_t *mbi_gpa);

#endif
