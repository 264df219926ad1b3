/* cloison.efi's hand-off: from 64-bit UEFI (identity-mapped, boot services exited) to Cloison's
 * multiboot2 entry in 32-bit protected mode with paging off, EAX = magic, EBX = the information,
 * as the Multiboot2 spec 3.3 (i386 machine state) says. Position-independent: the loader copies
 * efi_handoff_start..efi_handoff_end below 4 GiB and calls it there as
 * void handoff(uint64_t entry (RDI), uint64_t mbi (RSI)), both below 4 GiB. */

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define MSR_IA32_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR4_PCIDE (1 << 17)
#define CR4_CET (1 << 23)
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10

	.text
	.globl efi_handoff_start, efi_handoff_end
	.code64
efi_handoff_start:
	cli
	/* CR0.PG cannot be cleared while CR4.PCIDE is set, SDM Vol. 3A 4.10.1; CET is UEFI's business */
	movq %cr4, %rax
	andq $~(CR4_PCIDE | CR4_CET), %rax
	movq %rax, %cr4
	leaq handoff_gdt(%rip), %rax
	movq %rax, handoff_gdt_ptr + 2(%rip)
	lgdt handoff_gdt_ptr(%rip)
	/* Far return into the 32-bit code segment: compatibility mode, SDM Vol. 3A 10.8.5.4 step 1 */
	leaq handoff_compat(%rip), %rax
	pushq $SEL_CODE32
	pushq %rax
	lretq

	.code32
handoff_compat:
	movl $SEL_DATA32, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	/* Paging off leaves IA-32e mode (this page is identity-mapped), then LME off: 10.8.5.4 */
	movl %cr0, %eax
	andl $0x7fffffff, %eax /* CR0.PG off */
	movl %eax, %cr0
	movl $MSR_IA32_EFER, %ecx
	rdmsr
	andl $~EFER_LME, %eax
	wrmsr
	movl %esi, %ebx
	movl $MB2_BOOTLOADER_MAGIC, %eax
	jmp *%edi

	.balign 8
handoff_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code, base 0, limit 4 GiB */
	.quad 0x00cf92000000ffff /* 0x10: data, base 0, limit 4 GiB */
handoff_gdt_ptr:
	.short handoff_gdt_ptr - handoff_gdt - 1
	.quad 0 /* the GDT's address in the copy, filled in above */
efi_handoff_end:

	.section .note.GNU-stack, "", @progbits
