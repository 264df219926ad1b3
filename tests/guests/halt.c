/* halt: HLT with interrupts off — nothing can wake it, so the hypervisor must decide. */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("halt", magic);
	idt_init(0xee);
	printf("halt: halting with interrupts off\n");
	uart_flush();
	cli();
	hlt();
	printf("halt: resumed after hlt\n");
	for (;;)
		hlt();
}
