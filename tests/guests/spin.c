/* spin: a tight loop with interrupts off, reporting every 2^24 iterations (scheduler tests). */
#include "tests/guests/lib/guest.h"

#define SPIN_REPORT_MASK ((1u << 24) - 1)

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("spin", magic);
	idt_init(0xee);
	cli();
	printf("spin: spinning\n");
	for (uint32_t count = 1;; count++) {
		compiler_barrier(); /* keep every iteration */
		if ((count & SPIN_REPORT_MASK) == 0)
			printf("spin: count %u\n", count >> 24);
	}
}
