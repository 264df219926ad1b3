/* Application-processor start-up code: copied to TRAMPOLINE_BASE below 1 MiB, entered in real
 * mode by the start-up IPI, it switches to long mode on the boot page tables and calls ap_main. */
#include "boot/trampoline.h"

#define TRAMP(sym) (TRAMPOLINE_BASE + (sym) - trampoline_start)

	.section .rodata
	.balign 16
	.globl trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMP(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $TRAMP(tramp_protected)

	.code32
tramp_protected:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax /* PAE */
	movl %eax, %cr4
	movl TRAMP(tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx /* IA32_EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | (1 << 5)), %eax /* PG, WP, NE */
	andl $~((1 << 30) | (1 << 29)), %eax
	movl %eax, %cr0
	ljmpl $0x18, $TRAMP(tramp_long)

	.code64
tramp_long:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq TRAMP(tramp_stack), %rsp
	movq TRAMP(tramp_cpu), %rdi
	movq TRAMP(tramp_entry), %rax
	xorl %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
	.quad 0x00af9a000000ffff /* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short tramp_gdt_ptr - tramp_gdt - 1
	.long TRAMP(tramp_gdt)

	.balign 8
	.globl tramp_params
tramp_params:
tramp_cr3:
	.quad 0
tramp_stack:
	.quad 0
tramp_cpu:
	.quad 0
tramp_entry:
	.quad 0
trampoline_end:
