/* Linux x86 boot protocol (Documentation/arch/x86/boot.rst): bzImage parsing and the 64-bit
 * boot: zero page, e820 map, command line, initrd, identity page tables and GDT. Pure logic. */
#ifndef CLOISON_BZIMAGE_H
#define CLOISON_BZIMAGE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Guest-physical layout of what bzimage_load writes below the EBDA line (all under 0x9fc00,
 * clear of the ACPI tables at 0xe0000-0xfffff):
 *   0x07000 zero page (struct boot_params, 4 KiB)
 *   0x08000 boot GDT: null, null, __BOOT_CS 0x10 (64-bit code), __BOOT_DS 0x18 (data)
 *   0x09000 PML4, 0x0a000 PDPT, 0x0b000.. one page directory per GiB mapped (up to 16)
 *   0x20000 command line (up to 64 KiB, and no longer than the kernel's cmdline_size)
 * The kernel goes at pref_address or the lowest kernel_alignment boundary from 16 MiB (else
 * 1 MiB) with init_size room; the initrd as high as allowed below RAM's end. */
#define BZ_ZERO_PAGE 0x7000u
#define BZ_GDT 0x8000u
#define BZ_PML4 0x9000u
#define BZ_PDPT 0xa000u
#define BZ_PD 0xb000u
#define BZ_MAX_IDENTITY_GIB 16u
#define BZ_CMDLINE 0x20000u
#define BZ_CMDLINE_MAX 0x10000u /* bytes, terminating NUL included */
#define BZ_LOW_END 0x9fc00u     /* end of usable low memory: the EBDA line */
#define BZ_HIGH_RAM_BASE 0x100000000ull /* where RAM beyond ram_below_4g appears */

/* Boot segments and the 64-bit entry, boot.rst "64-bit Boot Protocol" */
#define BZ_BOOT_CS 0x10
#define BZ_BOOT_DS 0x18
#define BZ_GDT_ENTRIES 4
#define BZ_ENTRY_64_OFFSET 0x200 /* startup_64 is 512 bytes into the protected-mode kernel */

/* Setup header bits, boot.rst "Details of Header Fields" */
#define BZ_LOADED_HIGH 0x01
#define BZ_KEEP_SEGMENTS 0x40
#define BZ_CAN_USE_HEAP 0x80
#define BZ_XLF_KERNEL_64 0x0001
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BZ_MIN_VERSION 0x020c /* 2.12: xloadflags, 64-bit entry */
#define BZ_VERSION_RSDP 0x020e /* 2.14: boot_params.acpi_rsdp_addr */

/* e820 entry types, ACPI 6.5 Table 15.1 (the BIOS INT 15h E820 address range types) */
enum linux_e820_type {
	LINUX_E820_RAM = 1,
	LINUX_E820_RESERVED = 2,
	LINUX_E820_ACPI = 3,
	LINUX_E820_NVS = 4,
};

struct linux_e820_entry {
	uint64_t addr, size;
	uint32_t type; /* enum linux_e820_type */
};
#define BZ_MAX_EXTRA_E820 8
#define BZ_E820_MAX 128 /* the zero page's table, E820_MAX_ENTRIES_ZEROPAGE */

/* What bzimage_parse learnt from the setup header. */
struct bzimage_info {
	uint16_t version;        /* boot protocol, 0x020f = 2.15 */
	uint8_t setup_sects;     /* 512-byte setup sectors after the boot sector (0 read as 4) */
	uint32_t kernel_offset;  /* (setup_sects + 1) * 512: where the protected-mode kernel starts */
	uint32_t kernel_size;    /* syssize * 16: its length */
	uint32_t header_end;     /* 0x202 + byte at 0x201: end of the setup header to copy */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint64_t pref_address;
	uint32_t kernel_alignment;
	uint8_t min_alignment;   /* log2 */
	uint32_t init_size;      /* bytes the kernel needs from its load address while it starts */
	uint32_t cmdline_size;   /* longest command line, NUL excluded */
	uint32_t initrd_addr_max; /* highest byte the initrd may occupy (unless ABOVE_4G) */
};

/* Recognises a bzImage by boot_flag 0xAA55 at 0x1fe and "HdrS" at 0x202 and checks that it is
 * a relocatable, 64-bit capable kernel of protocol >= 2.12 whose header and kernel lie inside
 * the image. Errors: -E_TRUNC (a field or the kernel lies past the end), -E_INVAL (bad magic or
 * field), -E_NOTSUP (protocol too old, not 64-bit capable, not relocatable). *why says which. */
int bzimage_parse(const void *image, size_t size, struct bzimage_info *out, const char **why);

struct linux_boot_params {
	const char *cmdline;                       /* NULL: empty */
	const void *initrd;                        /* NULL with initrd_size 0: none */
	size_t initrd_size;
	const struct linux_e820_entry *e820_extra; /* ranges to carve out of the map, e.g. the ACPI tables */
	unsigned e820_extra_count;                 /* at most BZ_MAX_EXTRA_E820 */
	uint64_t acpi_rsdp;                        /* guest-physical RSDP, 0: let Linux scan for it */
	uint64_t ram_below_4g; /* 0: RAM is one range from 0; else RAM past it is at BZ_HIGH_RAM_BASE */
};

/* The vCPU state for the 64-bit entry; access rights in the VMCS format, SDM Vol. 3C 24.4.1. */
struct linux_entry {
	uint64_t rip, rsi, rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds;        /* ds also for es, ss, fs, gs */
	uint32_t cs_ar, ds_ar;
	/* Where things went (guest-physical), for logs and checks. */
	uint64_t kernel_addr, kernel_end; /* kernel_end = kernel_addr + max(kernel, init_size) */
	uint64_t initrd_addr, initrd_size;
	uint64_t cmdline_addr, zero_page, identity_mapped; /* bytes mapped 1:1 from 0 */
	unsigned e820_entries;
	char why_buf[160];      /* *why may point here when a message carries numbers */
};

/* Writes the kernel, initrd, command line, zero page, page tables and GDT into guest RAM (ram is
 * guest-physical 0, ram_size bytes) and the entry state into *out. Everything is checked before
 * anything is written. Errors: -E_RANGE (does not fit: *why says what was needed and what RAM
 * has; command line longer than the kernel allows; an e820_extra range outside RAM or over the
 * loader's low area), -E_INVAL (image or parameters inconsistent). */
int bzimage_load(const struct bzimage_info *bi, const void *image, size_t size, uint8_t *ram,
		 uint64_t ram_size, const struct linux_boot_params *p, struct linux_entry *out,
		 const char **why);

/* Zero-page offsets, Documentation/arch/x86/zero-page.rst; the setup header keeps its file offsets */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_HDR 0x1f1
#define BP_E820_TABLE 0x2d0
#define BP_E820_ENTRY_SIZE 20
#define BP_HDR_MAX_END 0x290 /* the setup header cannot run past boot_params._pad7 */

/* Setup header offsets (in the image and in the zero page), boot.rst "The Real-Mode Kernel Header" */
#define BZ_HDR_SETUP_SECTS 0x1f1
#define BZ_HDR_SYSSIZE 0x1f4
#define BZ_HDR_BOOT_FLAG 0x1fe
#define BZ_HDR_JUMP 0x200
#define BZ_HDR_MAGIC 0x202
#define BZ_HDR_VERSION 0x206
#define BZ_HDR_TYPE_OF_LOADER 0x210
#define BZ_HDR_LOADFLAGS 0x211
#define BZ_HDR_CODE32_START 0x214
#define BZ_HDR_RAMDISK_IMAGE 0x218
#define BZ_HDR_RAMDISK_SIZE 0x21c
#define BZ_HDR_HEAP_END_PTR 0x224
#define BZ_HDR_CMD_LINE_PTR 0x228
#define BZ_HDR_INITRD_ADDR_MAX 0x22c
#define BZ_HDR_KERNEL_ALIGNMENT 0x230
#define BZ_HDR_RELOCATABLE 0x234
#define BZ_HDR_MIN_ALIGNMENT 0x235
#define BZ_HDR_XLOADFLAGS 0x236
#define BZ_HDR_CMDLINE_SIZE 0x238
#define BZ_HDR_PREF_ADDRESS 0x258
#define BZ_HDR_INIT_SIZE 0x260
#define BZ_HDR_MIN_END 0x264 /* through init_size: what protocol 2.12 defines and we read */

#endif
