/* probe: reads (or writes) one byte at a guest-physical address it should not reach — past its
 * RAM, the hypervisor's image, another guest's frames. The hypervisor should stop it there.
 * Command line: NAME [addr=0xADDR] [write] (default: the first byte past its RAM).
 * Surviving prints "probe: SURVIVED ..." and exits 1. */
#include "tests/guests/lib/guest.h"

#define PROBE_WRITE_VALUE 0xa5

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t addr = 0;

	guest_boot("probe", magic);
	idt_init(0xee);
	const char *cmdline = guest_cmdline(mbi);
	bool write = cmdline_flag(cmdline, "write");
	if (mbi->flags & MB_INFO_MEMORY) {
		addr = (mbi->mem_upper + 1024) * 1024;
		printf("probe: RAM ends at 0x%08x\n", addr);
	}
	int have = cmdline_u32(cmdline, "addr", &addr);
	if (have < 0 || (have == 0 && !(mbi->flags & MB_INFO_MEMORY))) {
		printf("probe: need addr=0xADDR (got '%s')\n", cmdline);
		guest_exit(2);
	}
	volatile uint8_t *p = (volatile uint8_t *)addr;
	if (write) {
		printf("probe: writing at 0x%08x\n", addr);
		uart_flush();
		*p = PROBE_WRITE_VALUE;
		printf("probe: SURVIVED write, value now 0x%02x\n", *p);
	} else {
		printf("probe: reading at 0x%08x\n", addr);
		uart_flush();
		uint8_t value = *p;
		printf("probe: SURVIVED value 0x%02x\n", value);
	}
	guest_exit(1);
}
