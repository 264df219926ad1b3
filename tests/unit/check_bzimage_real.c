/* Not a unit test: parses and loads real kernels (make linux-guests) with kernel/bzimage.c and
 * checks what only a real image can show: startup_64 (cld; cli) at the entry RIP.
 * With --dump DIR (one kernel) it also writes the loaded guest's pieces and the ACPI tables of
 * drivers/virt/vacpi.c for tests/linuxboot/qemu-boot.sh, which boots them natively in QEMU.
 * usage: check_bzimage_real VMLINUZ... [--initrd FILE] [--cmdline S] [--dump DIR]
 * exit status 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "kernel/bzimage.h"
#include "drivers/virt/vacpi.h"
#include "kernel/lib.h"

#define RAM_SIZE (512ull * 1024 * 1024)
/* QEMU's SeaBIOS leaves 0xe0000-0xfffff read-only, so the dump puts the tables in low RAM */
#define DUMP_ACPI_GPA 0x90000u

static const char *dump_dir;
static const char *cmdline = "console=ttyS0 cloison.test=poweroff";

static int write_piece(FILE *args, const char *name, const uint8_t *ram, uint64_t gpa, uint64_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dump_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(ram + gpa, 1, len, f) != len) {
		printf("FAIL cannot write %s\n", path);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	fprintf(args, "%s%s 0x%llx", ftell(args) ? "," : "", path, (unsigned long long)gpa);
	return 0;
}

/* Pieces as multiboot modules "FILE DEST", and the entry RIP for the stub */
static int dump(const uint8_t *ram, const struct linux_entry *e, const struct bzimage_info *bi,
		const struct vacpi_layout *lay)
{
	char path[512];
	FILE *args;
	int err = 0;

	snprintf(path, sizeof(path), "%s/modules", dump_dir);
	args = fopen(path, "w");
	if (!args)
		return 1;
	err |= write_piece(args, "low.bin", ram, BZ_ZERO_PAGE, BZ_CMDLINE + BZ_CMDLINE_MAX - BZ_ZERO_PAGE);
	err |= write_piece(args, "acpi.bin", ram, lay->rsdp, lay->size);
	err |= write_piece(args, "kernel.bin", ram, e->kernel_addr, bi->kernel_size);
	if (e->initrd_size)
		err |= write_piece(args, "initrd.bin", ram, e->initrd_addr, e->initrd_size);
	fclose(args);
	snprintf(path, sizeof(path), "%s/rip", dump_dir);
	args = fopen(path, "w");
	fprintf(args, "0x%llx\n", (unsigned long long)e->rip);
	fclose(args);
	return err;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (n < 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int check_one(const char *path, const uint8_t *initrd, size_t initrd_len, uint8_t *ram)
{
	uint64_t acpi_gpa = dump_dir ? DUMP_ACPI_GPA : VACPI_DEFAULT_GPA;
	struct linux_e820_entry acpi = { acpi_gpa, dump_dir ? 0x1000 : VACPI_DEFAULT_SIZE,
					 LINUX_E820_ACPI };
	struct linux_boot_params p = {
		.cmdline = cmdline, .initrd = initrd, .initrd_size = initrd_len,
		.e820_extra = &acpi, .e820_extra_count = 1, .acpi_rsdp = acpi_gpa,
	};
	struct vacpi_config acpi_cfg = { .cpu_count = 1 };
	struct vacpi_layout lay;
	struct bzimage_info bi;
	struct linux_entry e;
	const char *why;
	size_t len;
	uint8_t *img = read_file(path, &len);
	int err;

	if (!img) {
		printf("FAIL %s: cannot read\n", path);
		return 1;
	}
	err = bzimage_parse(img, len, &bi, &why);
	if (err) {
		printf("FAIL %s: parse: %s (%s)\n", path, why, err_name(err));
		free(img);
		return 1;
	}
	printf("%s: protocol %u.%02u, setup %u sectors, kernel %u bytes at offset %u, init_size %u,\n"
	       "  pref_address 0x%llx, alignment 0x%x, xloadflags 0x%x, cmdline_size %u, initrd_addr_max 0x%x\n",
	       path, bi.version >> 8, bi.version & 0xff, bi.setup_sects, bi.kernel_size,
	       bi.kernel_offset, bi.init_size, (unsigned long long)bi.pref_address,
	       bi.kernel_alignment, bi.xloadflags, bi.cmdline_size, bi.initrd_addr_max);
	memset(ram, 0, BZ_CMDLINE + BZ_CMDLINE_MAX);
	err = vacpi_build(ram + acpi_gpa, acpi.size, acpi_gpa, &acpi_cfg, &lay);
	if (err) {
		printf("FAIL ACPI tables: %s\n", err_name(err));
		free(img);
		return 1;
	}
	err = bzimage_load(&bi, img, len, ram, RAM_SIZE, &p, &e, &why);
	if (err) {
		printf("FAIL %s: load: %s (%s)\n", path, why, err_name(err));
		free(img);
		return 1;
	}
	printf("  loaded at 0x%llx-0x%llx, entry 0x%llx, initrd 0x%llx+%llu, %u e820 entries\n",
	       (unsigned long long)e.kernel_addr, (unsigned long long)e.kernel_end,
	       (unsigned long long)e.rip, (unsigned long long)e.initrd_addr,
	       (unsigned long long)e.initrd_size, e.e820_entries);
	/* arch/x86/boot/compressed/head_64.S: startup_64 begins with cld; cli */
	if (ram[e.rip] != 0xfc || ram[e.rip + 1] != 0xfa) {
		printf("FAIL %s: no cld; cli at the 64-bit entry (%02x %02x)\n", path, ram[e.rip],
		       ram[e.rip + 1]);
		free(img);
		return 1;
	}
	if (dump_dir && dump(ram, &e, &bi, &lay)) {
		free(img);
		return 1;
	}
	printf("ok %s\n", path);
	free(img);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *initrd = NULL, *ram;
	size_t initrd_len = 0;
	int failed = 0, kernels = 0;

	/* Zero pages on demand: only what the loader writes is touched */
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		return 1;
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--dump") == 0)
			dump_dir = argv[i + 1];
		if (strcmp(argv[i], "--cmdline") == 0)
			cmdline = argv[i + 1];
		if (strcmp(argv[i], "--initrd") == 0) {
			initrd = read_file(argv[i + 1], &initrd_len);
			if (!initrd) {
				printf("FAIL %s: cannot read\n", argv[i + 1]);
				return 1;
			}
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--initrd") == 0 || strcmp(argv[i], "--dump") == 0 ||
		    strcmp(argv[i], "--cmdline") == 0) {
			i++;
			continue;
		}
		failed |= check_one(argv[i], initrd, initrd_len, ram);
		kernels++;
	}
	if (kernels == 0) {
		fprintf(stderr, "usage: %s VMLINUZ... [--initrd FILE]\n", argv[0]);
		return 2;
	}
	munmap(ram, RAM_SIZE);
	free(initrd);
	return failed;
}
