/* eptpast: writes one byte just past the end of its RAM; the hypervisor should stop it. */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	guest_boot("eptpast", magic);
	idt_init(0xee);
	if (!(mbi->flags & MB_INFO_MEMORY)) {
		printf("eptpast: no memory information\n");
		guest_exit(2);
	}
	uint32_t ram_end = (mbi->mem_upper + 1024) * 1024;
	printf("eptpast: RAM ends at 0x%08x\n", ram_end);
	printf("eptpast: writing at 0x%08x\n", ram_end);
	uart_flush();
	*(volatile uint8_t *)ram_end = 0xa5;
	printf("eptpast: SURVIVED\n");
	guest_exit(1);
}
