/* demo: prints what the loader handed it, then exits with 42 — or, with "forever" on its
 * command line, prints a heartbeat for ever. */
#include "tests/guests/lib/guest.h"

#define DEMO_EXIT_CODE 42
#define DEMO_COUNT 3
#define DEMO_TICK_SPIN (1u << 22)
#define DEMO_MODULE_PEEK 16

static void print_modules(const struct mb_info *mbi)
{
	const struct mb_module *mods = (const struct mb_module *)mbi->mods_addr;

	printf("demo: modules: %u\n", mbi->mods_count);
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		const struct mb_module *m = &mods[i];
		const uint8_t *data = (const uint8_t *)m->mod_start;
		uint32_t size = m->mod_end - m->mod_start;

		printf("demo: module %u: '%s' at 0x%08x, %u bytes, first bytes:", i,
		       m->string ? (const char *)m->string : "", m->mod_start, size);
		for (uint32_t j = 0; j < size && j < DEMO_MODULE_PEEK; j++)
			printf(" %02x", data[j]);
		printf(" |");
		for (uint32_t j = 0; j < size && j < DEMO_MODULE_PEEK; j++)
			uart_putc(data[j] >= 0x20 && data[j] < 0x7f ? (char)data[j] : '.');
		printf("|\n");
	}
}

static void print_mmap(const struct mb_info *mbi)
{
	uint32_t at = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;

	while (at < end) {
		const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)at;
		printf("demo: mmap 0x%08x%08x + 0x%08x%08x type %u\n", (uint32_t)(e->addr >> 32),
		       (uint32_t)e->addr, (uint32_t)(e->len >> 32), (uint32_t)e->len, e->type);
		at += e->size + 4;
	}
}

static void print_hypervisor(void)
{
	struct cpuid_regs leaf1 = cpuid(1, 0);
	bool present = leaf1.ecx & (1u << 31);

	printf("demo: cpuid hypervisor bit: %s\n", present ? "present" : "absent");
	if (!present)
		return;
	struct cpuid_regs hv = cpuid(CPUID_HV_LEAF, 0);
	char sig[13];
	memcpy(&sig[0], &hv.ebx, 4);
	memcpy(&sig[4], &hv.ecx, 4);
	memcpy(&sig[8], &hv.edx, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] >= 0x7f))
			sig[i] = '?';
	printf("demo: hypervisor signature: '%s' (max leaf 0x%x)\n", sig, hv.eax);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	const char *cmdline = "";

	guest_boot("demo", magic);
	idt_init(0xee);
	printf("Hello from Cloison guest\n");
	printf("demo: multiboot info at %p, flags 0x%x\n", (const void *)mbi, mbi->flags);
	if (mbi->flags & MB_INFO_CMDLINE)
		cmdline = (const char *)mbi->cmdline;
	printf("demo: command line: '%s'\n", cmdline);
	if (mbi->flags & MB_INFO_MEMORY) {
		printf("demo: mem_lower %u KiB, mem_upper %u KiB\n", mbi->mem_lower, mbi->mem_upper);
		printf("demo: RAM size %u KiB (%u MiB)\n", mbi->mem_upper + 1024,
		       (mbi->mem_upper + 1024) / 1024);
	} else {
		printf("demo: no memory information\n");
	}
	if (mbi->flags & MB_INFO_MMAP)
		print_mmap(mbi);
	if (mbi->flags & MB_INFO_MODS)
		print_modules(mbi);
	else
		printf("demo: modules: 0\n");
	printf("demo: boot loader: '%s'\n", (mbi->flags & MB_INFO_LOADER_NAME) ?
	       (const char *)mbi->boot_loader_name : "(none)");
	print_hypervisor();

	if (str_contains(cmdline, "forever")) {
		printf("demo: running forever\n");
		for (uint32_t tick = 1;; tick++) {
			busy_wait(DEMO_TICK_SPIN);
			printf("demo: tick %u\n", tick);
		}
	}

	for (int i = 1; i <= DEMO_COUNT; i++)
		printf("demo: count %d\n", i);
	printf("demo: exiting with code %d\n", DEMO_EXIT_CODE);
	guest_exit(DEMO_EXIT_CODE);
}
