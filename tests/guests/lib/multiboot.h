/* The Multiboot (v1) header constants and information block, as the guest reads them. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_PAGE_ALIGN (1 << 0)  /* modules on 4 KiB boundaries */
#define MB_HEADER_MEMORY_INFO (1 << 1) /* mem_* and mmap_* wanted */
#define MB_HEADER_AOUT_KLUDGE (1 << 16) /* load addresses come from the header, not the ELF */
#define MB_BOOTLOADER_MAGIC 0x2BADB002

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Information block flags, Multiboot 0.6.96 section 3.3 */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 640 KiB and above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

struct mb_module {
	uint32_t mod_start, mod_end; /* [start, end) guest-physical */
	uint32_t string;
	uint32_t reserved;
};

/* One memory map entry; size counts the bytes after itself, so the next entry is at +size+4. */
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type; /* 1 = available RAM */
};
#endif

#endif
