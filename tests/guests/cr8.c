/* cr8: a hostile guest that goes to 64-bit mode to read and write CR8 (the task priority
 * register), then comes back to 32-bit protected mode and keeps printing. Before isolation a
 * CR8 write set the physical local APIC's TPR: CR8 = 15 masked every host interrupt, the console
 * tick stopped and nothing was seen again. Also checks that EFER.LME cannot change while paging
 * is on (#GP, SDM Vol. 3A 9.8.5).
 * Prints "cr8: before 0x0, after writing 0xf reads 0xf" then "cr8: tick N" lines and exits 0. */
#include "tests/guests/lib/guest.h"

#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define TICKS 20u

/* 32-bit paging: 4 MiB pages for the first 64 MiB. */
static uint32_t pd32[1024] __attribute__((aligned(4096)));

/* Written by the 64-bit code. */
uint32_t cr8_before, cr8_after;

/* long_mode_visit(): far-jumps to 64-bit code that reads CR8, writes 15, reads it again, and
 * far-returns to 32-bit compatibility mode. @pre IA-32e mode active (paging on, LME set) */
void long_mode_visit(void);
__asm__(".text\n"
	".globl long_mode_visit\n"
	"long_mode_visit:\n"
	"	pushl %ebx\n"
	"	ljmp $0x18, $1f\n"
	".code64\n"
	"1:	mov %cr8, %rax\n"
	"	movl %eax, cr8_before(%rip)\n"
	"	mov $15, %eax\n"
	"	mov %rax, %cr8\n"
	"	mov %cr8, %rbx\n"
	"	movl %ebx, cr8_after(%rip)\n"
	"	pushq $0x08\n"
	"	leaq 2f(%rip), %rax\n"
	"	pushq %rax\n"
	"	lretq\n"
	".code32\n"
	"2:	popl %ebx\n"
	"	ret\n");

static void enter_and_leave_long_mode(void)
{
	uint64_t efer = long_mode_enter();

	long_mode_visit();
	long_mode_leave(efer);

	/* 32-bit paging on: setting LME now must give #GP (through this 32-bit IDT). */
	for (unsigned i = 0; i < 16; i++)
		pd32[i] = (i << 22) | 0x83;
	write_cr4_safe(read_cr4() | CR4_PSE);
	write_cr3((uint32_t)pd32);
	write_cr0(read_cr0() | CR0_PG);
	if (wrmsr_safe(MSR_EFER, efer | EFER_LME))
		printf("cr8: EFER.LME set with paging on was ACCEPTED\n");
	else
		printf("cr8: EFER.LME change with paging on refused (vector %u)\n",
		       guest_last_fault_vector);
	write_cr0(read_cr0() & ~CR0_PG);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("cr8", magic);
	idt_init(0xee);
	enter_and_leave_long_mode();
	printf("cr8: before 0x%x, after writing 0xf reads 0x%x\n", cr8_before, cr8_after);
	for (unsigned i = 1; i <= TICKS; i++) {
		busy_wait(200000);
		printf("cr8: tick %u\n", i);
	}
	guest_exit(0);
}
