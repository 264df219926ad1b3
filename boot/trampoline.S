/* Application-processor start-up code: copied to TRAMPOLINE_BASE below 1 MiB, entered in real
 * mode by the start-up IPI, it switches to long mode on the hypervisor's page tables and calls
 * ap_main. An AP that is not the one the parameters name, or that finds them taken (it answered
 * after the BSP gave up on it), parks in HLT with interrupts off and touches nothing. */
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
	/* This CPU's APIC id: CPUID.0BH:EDX when leaf 0BH exists (SDM Vol. 3A 8.9.4), else
	 * CPUID.01H:EBX[31:24] */
	xorl %eax, %eax
	cpuid
	cmpl $0xb, %eax
	jb 1f
	movl $0xb, %eax
	xorl %ecx, %ecx
	cpuid
	testw %bx, %bx
	jz 1f
	movl %edx, %esi
	jmp 2f
1:	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %esi
2:	cmpl TRAMP(tramp_apic_id), %esi
	jne tramp_park
	/* Take the parameters: XCHG with memory is atomic (SDM Vol. 2D XCHG) */
	movl $1, %eax
	xchgl %eax, TRAMP(tramp_claimed)
	testl %eax, %eax
	jnz tramp_park
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

	.code16
tramp_park:
	cli
	hlt
	jmp tramp_park

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
tramp_apic_id:
	.long 0
tramp_claimed:
	.long 1
trampoline_end:
