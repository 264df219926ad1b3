/* Guest entry and the VM-exit stub: swap the guest's general-purpose registers with the host's. */
#include "asm-defines.h"

	.text
/* int vmx_enter(struct vcpu *vcpu): 0 after a VM exit, 1 when VMLAUNCH/VMRESUME failed. */
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi /* the vCPU, found again at (%rsp) after the exit */
	movq $VMCS_FIELD_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lentry_failed
	cmpb $0, VCPU_LAUNCHED(%rdi)
	movq VCPU_RAX(%rdi), %rax
	movq VCPU_RCX(%rdi), %rcx
	movq VCPU_RDX(%rdi), %rdx
	movq VCPU_RBX(%rdi), %rbx
	movq VCPU_RBP(%rdi), %rbp
	movq VCPU_RSI(%rdi), %rsi
	movq VCPU_R8(%rdi), %r8
	movq VCPU_R9(%rdi), %r9
	movq VCPU_R10(%rdi), %r10
	movq VCPU_R11(%rdi), %r11
	movq VCPU_R12(%rdi), %r12
	movq VCPU_R13(%rdi), %r13
	movq VCPU_R14(%rdi), %r14
	movq VCPU_R15(%rdi), %r15
	movq VCPU_RDI(%rdi), %rdi
	jne 1f
	vmlaunch
	jmp .Lentry_failed
1:	vmresume
.Lentry_failed:
	movl $1, %eax
	jmp .Lreturn_to_host

/* HOST_RIP: RSP is the value vmx_enter wrote, with the vCPU pointer on top. */
	.globl vmx_exit_stub
vmx_exit_stub:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, VCPU_RAX(%rdi)
	movq %rcx, VCPU_RCX(%rdi)
	movq %rdx, VCPU_RDX(%rdi)
	movq %rbx, VCPU_RBX(%rdi)
	movq %rbp, VCPU_RBP(%rdi)
	movq %rsi, VCPU_RSI(%rdi)
	movq %r8, VCPU_R8(%rdi)
	movq %r9, VCPU_R9(%rdi)
	movq %r10, VCPU_R10(%rdi)
	movq %r11, VCPU_R11(%rdi)
	movq %r12, VCPU_R12(%rdi)
	movq %r13, VCPU_R13(%rdi)
	movq %r14, VCPU_R14(%rdi)
	movq %r15, VCPU_R15(%rdi)
	popq VCPU_RDI(%rdi)
	movb $1, VCPU_LAUNCHED(%rdi)
	xorl %eax, %eax
.Lreturn_to_host:
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
