/* cloison.efi: checks the hypervisor image (ELF64 with a multiboot2 header) before loading it. */
#ifndef CLOISON_EFI_ELF_H
#define CLOISON_EFI_ELF_H

#include <stdint.h>
#include <stddef.h>

#define EFI_ELF_MAX_SEGMENTS 8
#define EFI_ELF_MB2_SEARCH 32768 /* the multiboot2 header lies in the first 32 KiB, spec 3.1.1 */

struct efi_elf_segment {
	uint64_t paddr;  /* where it is loaded (identity: physical) */
	uint64_t memsz;  /* bytes in memory; the part past filesz is zeroed */
	uint64_t filesz; /* bytes from the file */
	uint64_t offset; /* in the file */
};

struct efi_elf_image {
	uint32_t entry; /* 32-bit protected-mode entry, as GRUB enters a multiboot2 kernel */
	unsigned segment_count;
	struct efi_elf_segment segments[EFI_ELF_MAX_SEGMENTS];
};

/* Checks a 64-bit x86 ELF executable with a multiboot2 header: bounds of every header and PT_LOAD
 * segment, segments below 4 GiB and apart, the entry inside one of them.
 * Returns 0, or -E_INVAL / -E_TRUNC / -E_NOTSUP with one sentence in why. */
int efi_elf_check(const void *file, size_t size, struct efi_elf_image *out, char *why,
		  size_t why_size);

#endif
