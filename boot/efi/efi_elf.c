/* cloison.efi: bounds-checked look at the hypervisor's ELF64 image and its multiboot2 header. */
#include "boot/efi/efi_elf.h"
#include "kernel/lib.h"
#include "kernel/fmt.h"

/* ELF64 layout, System V ABI (gABI) and its x86-64 supplement */
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define MB2_HEADER_MAGIC 0xe85250d6u
#define MB2_ARCH_I386 0
#define LIMIT_4G (1ull << 32)

__attribute__((format(printf, 4, 5))) static int elf_fail(int err, char *why, size_t size,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return err;
}

/* Multiboot2 header, spec 3.1.1-3.1.2: 8-aligned, magic, arch, length, checksum summing to 0. */
static int elf_mb2_header(const uint8_t *f, size_t size, char *why, size_t why_size)
{
	size_t limit = MIN(size, (size_t)EFI_ELF_MB2_SEARCH);

	for (size_t off = 0; off + 16 <= limit; off += 8) {
		uint32_t magic = get_le32(f + off), arch = get_le32(f + off + 4), len = get_le32(f + off + 8);

		if (magic != MB2_HEADER_MAGIC || magic + arch + len + get_le32(f + off + 12) != 0)
			continue;
		if (arch != MB2_ARCH_I386)
			return elf_fail(-E_NOTSUP, why, why_size,
					"its multiboot2 header is for architecture %u, not i386", arch);
		return 0;
	}
	return elf_fail(-E_INVAL, why, why_size,
			"not a multiboot2 kernel: no multiboot2 header in its first 32 KiB");
}

int efi_elf_check(const void *file, size_t size, struct efi_elf_image *out, char *why,
		  size_t why_size)
{
	const uint8_t *f = file;
	uint64_t phoff, entry;
	uint16_t phentsize, phnum;
	bool entry_inside = false;

	memset(out, 0, sizeof(*out));
	if (why_size)
		why[0] = '\0';
	if (size < EHDR_SIZE || memcmp(f, "\177ELF", 4) != 0)
		return elf_fail(-E_INVAL, why, why_size, "not an ELF file (%s)",
				size < EHDR_SIZE ? "shorter than an ELF header" : "no ELF magic");
	if (f[EI_CLASS] != ELFCLASS64 || f[EI_DATA] != ELFDATA2LSB || f[EI_VERSION] != 1)
		return elf_fail(-E_NOTSUP, why, why_size,
				"not a 64-bit little-endian ELF (class %u, data %u)", f[EI_CLASS],
				f[EI_DATA]);
	if (get_le16(f + 16) != ET_EXEC || get_le16(f + 18) != EM_X86_64)
		return elf_fail(-E_NOTSUP, why, why_size,
				"not an x86-64 executable (type %u, machine %u)", get_le16(f + 16),
				get_le16(f + 18));
	entry = get_le64(f + 24);
	phoff = get_le64(f + 32);
	phentsize = get_le16(f + 54);
	phnum = get_le16(f + 56);
	if (phentsize < PHDR_SIZE || phnum == 0 || phoff > size ||
	    (uint64_t)phnum * phentsize > size - phoff)
		return elf_fail(-E_TRUNC, why, why_size,
				"program headers (%u of %u bytes at %lu) lie outside the file", phnum,
				phentsize, (unsigned long)phoff);

	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + (size_t)i * phentsize;
		struct efi_elf_segment s;

		if (get_le32(ph) != PT_LOAD)
			continue;
		s.offset = get_le64(ph + 8);
		s.paddr = get_le64(ph + 24);
		s.filesz = get_le64(ph + 32);
		s.memsz = get_le64(ph + 40);
		if (!s.memsz)
			continue;
		if (s.filesz > s.memsz)
			return elf_fail(-E_INVAL, why, why_size,
					"segment %u has more file bytes (%lu) than memory bytes (%lu)",
					i, (unsigned long)s.filesz, (unsigned long)s.memsz);
		if (s.offset > size || s.filesz > size - s.offset)
			return elf_fail(-E_TRUNC, why, why_size,
					"segment %u (file bytes 0x%lx+0x%lx) lies past the file's end "
					"(%lu bytes): truncated?", i, (unsigned long)s.offset,
					(unsigned long)s.filesz, (unsigned long)size);
		if (s.paddr >= LIMIT_4G || s.memsz > LIMIT_4G - s.paddr)
			return elf_fail(-E_NOTSUP, why, why_size,
					"segment %u (0x%lx+0x%lx) is not below 4 GiB", i,
					(unsigned long)s.paddr, (unsigned long)s.memsz);
		for (unsigned j = 0; j < out->segment_count; j++) {
			const struct efi_elf_segment *t = &out->segments[j];

			if (s.paddr < t->paddr + t->memsz && t->paddr < s.paddr + s.memsz)
				return elf_fail(-E_INVAL, why, why_size,
						"segments overlap at 0x%lx", (unsigned long)s.paddr);
		}
		if (out->segment_count >= EFI_ELF_MAX_SEGMENTS)
			return elf_fail(-E_NOTSUP, why, why_size, "more than %d loadable segments",
					EFI_ELF_MAX_SEGMENTS);
		if (s.paddr <= entry && entry < s.paddr + s.memsz)
			entry_inside = true;
		out->segments[out->segment_count++] = s;
	}
	if (!out->segment_count)
		return elf_fail(-E_INVAL, why, why_size, "no loadable segment");
	if (!entry_inside)
		return elf_fail(-E_INVAL, why, why_size, "entry 0x%lx lies in no loadable segment",
				(unsigned long)entry);
	out->entry = (uint32_t)entry;
	return elf_mb2_header(f, size, why, why_size);
}
