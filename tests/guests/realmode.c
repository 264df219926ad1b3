/* realmode: an exception injected into a real-mode guest (SDM Vol. 3C 26.2.1.3: no error code
 * with CR0.PE = 0 under unrestricted guest). Its second vCPU (platform = pc, two CPUs) starts
 * by INIT-SIPI in real mode at a stub that points IVT vector 13 at a handler and reads an MSR
 * Cloison refuses: the #GP must arrive through the real-mode IVT (before the fix, VM entry
 * failed and the guest was stopped). Prints "realmode: AP took #GP in real mode and went on"
 * and exits 0, or what went wrong and exits 1. */
#include "tests/guests/lib/guest.h"

#define LAPIC 0xfee00000u
#define SIPI_PAGE 0x9000u /* vector 0x09: CS = 0x900, IP = 0 */
#define MARK_GP 0x9800u   /* the #GP handler writes 0x5a here */
#define MARK_DONE 0x9801u /* the AP writes 0x77 here after the RDMSR */

/* The AP's real-mode code, copied to SIPI_PAGE; offsets are from its first byte. */
extern const uint8_t ap_blob[], ap_blob_end[];
__asm__(".section .rodata\n"
	".globl ap_blob, ap_blob_end\n"
	"ap_blob:\n"
	".code16\n"
	"	cli\n"
	"	xorw %ax, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %ss\n"
	"	movw $0x7000, %sp\n"
	"	movw $(gp_handler - ap_blob), 0x34\n" /* IVT[13] offset */
	"	movw $0x900, 0x36\n"                  /* IVT[13] segment */
	"	movl $0xc0de0001, %ecx\n"              /* an MSR nobody has */
	"	rdmsr\n"
	"	movb $0x77, 0x9801\n"
	"1:	hlt\n"
	"	jmp 1b\n"
	"gp_handler:\n"
	"	movb $0x5a, 0x9800\n"
	"	pushw %bp\n"
	"	movw %sp, %bp\n"
	"	addw $2, 2(%bp)\n"                     /* return past the 2-byte RDMSR */
	"	popw %bp\n"
	"	iret\n"
	".code32\n"
	"ap_blob_end:\n"
	".text\n");

static void lapic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(LAPIC + reg) = value;
}

static void ipi(uint8_t dest, uint32_t low)
{
	lapic_write(0x310, (uint32_t)dest << 24);
	lapic_write(0x300, low);
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	volatile uint8_t *gp = (volatile uint8_t *)MARK_GP, *done = (volatile uint8_t *)MARK_DONE;

	(void)mbi;
	guest_boot("realmode", magic);
	idt_init(0xee);
	memcpy((void *)SIPI_PAGE, ap_blob, (size_t)(ap_blob_end - ap_blob));
	*gp = 0;
	*done = 0;
	lapic_write(0xf0, 0x1ff);
	ipi(1, 0x4500);          /* INIT */
	busy_wait(10000);
	ipi(1, 0x4600 | 0x09);   /* SIPI: CS:IP = 0x900:0 */
	for (unsigned i = 0; i < 2000 && *done != 0x77; i++)
		busy_wait(10000);
	if (*gp == 0x5a && *done == 0x77) {
		printf("realmode: AP took #GP in real mode and went on\n");
		guest_exit(0);
	}
	printf("realmode: AP gp mark 0x%x, done mark 0x%x\n", *gp, *done);
	guest_exit(1);
}
