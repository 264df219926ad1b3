/* triple: with an empty IDT, int3 raises #GP, then #DF, then a triple fault. */
#include "tests/guests/lib/guest.h"

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("triple", magic);
	printf("triple: faulting now\n");
	uart_flush(); /* the fault resets a bare machine before the UART drains */
	lidt(0, 0);
	int3();
	printf("triple: SURVIVED\n");
	guest_exit(1);
}
