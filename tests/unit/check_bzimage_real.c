/* Not a unit test: parses and loads real kernels (make linux-guests) with kernel/bzimage.c and
 * checks what only a real image can show: startup_64 (cld; cli) at the entry RIP.
 * usage: check_bzimage_real VMLINUZ... [--initrd FILE]; exit status 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include "kernel/bzimage.h"
#include "kernel/lib.h"

#define RAM_SIZE (256ull * 1024 * 1024)

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
	struct linux_e820_entry acpi = { 0xe0000, 0x20000, LINUX_E820_ACPI };
	struct linux_boot_params p = {
		.cmdline = "console=ttyS0 cloison.test=poweroff", .initrd = initrd,
		.initrd_size = initrd_len, .e820_extra = &acpi, .e820_extra_count = 1,
		.acpi_rsdp = 0xe0000,
	};
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
	memset(ram, 0, RAM_SIZE);
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
	printf("ok %s\n", path);
	free(img);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *initrd = NULL, *ram = malloc(RAM_SIZE);
	size_t initrd_len = 0;
	int failed = 0, kernels = 0;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--initrd") == 0) {
			initrd = read_file(argv[i + 1], &initrd_len);
			if (!initrd) {
				printf("FAIL %s: cannot read\n", argv[i + 1]);
				return 1;
			}
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--initrd") == 0) {
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
	free(ram);
	free(initrd);
	return failed;
}
