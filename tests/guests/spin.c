/* spin: a tight loop with interrupts off, reporting every 2^24 iterations (scheduler tests).
 * With mark=ADDR it spins silently with ESP and EBX both ADDR instead, checking at every turn
 * that ESP is still EBX: only the VMCS of another guest, resumed with this guest's registers,
 * would change it. `info` shows the mark as esp (tests/boot_tests_shell.py shell-regs). */
#include "tests/guests/lib/guest.h"

#define SPIN_REPORT_MASK ((1u << 24) - 1)

static uint32_t kept_esp, seen_esp;

__attribute__((noreturn)) static void spin_marked(uint32_t mark)
{
	printf("spin: spinning, esp 0x%x\n", mark);
	__asm__ volatile("mov %%esp, %0\n\t"
			 "mov %2, %%esp\n"
			 "1:\tcmp %2, %%esp\n\t"
			 "je 1b\n\t"
			 "mov %%esp, %1\n\t"
			 "mov %0, %%esp"
			 : "=m"(kept_esp), "=m"(seen_esp)
			 : "b"(mark)
			 : "memory");
	printf("spin: esp changed to 0x%x under mark 0x%x\n", seen_esp, mark);
	guest_exit(13);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t mark;

	guest_boot("spin", magic);
	idt_init(0xee);
	cli();
	if (cmdline_u32(guest_cmdline(mbi), "mark", &mark) == 1)
		spin_marked(mark);
	printf("spin: spinning\n");
	for (uint32_t count = 1;; count++) {
		compiler_barrier(); /* keep every iteration */
		if ((count & SPIN_REPORT_MASK) == 0)
			printf("spin: count %u\n", count >> 24);
	}
}
