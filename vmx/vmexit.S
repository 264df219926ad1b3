/* Guest entry and the VM-exit stub: swap the guest's general-purpose registers with the host's.
 * The stub saves only what the fast path (vmx/fastpath.c) needs and resumes from there; the
 * other exits save every register and return to the run loop. */
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

/* HOST_RIP: RSP is the value vmx_enter wrote (16-byte aligned), with the vCPU pointer on top. */
	.globl vmx_exit_stub
vmx_exit_stub:
	pushq %rax
	movq 8(%rsp), %rax
	movq %rdi, VCPU_RDI(%rax)
	movq %rax, %rdi
	popq VCPU_RAX(%rdi)
	movq %rcx, VCPU_RCX(%rdi)
	movq %rdx, VCPU_RDX(%rdi)
	movq %rbx, VCPU_RBX(%rdi)
	/* CPUID and VMCALL first try a leaf handler that keeps every register but RAX */
	movl $VMCS_FIELD_EXIT_REASON, %eax
	vmread %rax, %rax
	cmpl $EXIT_REASON_CPUID, %eax
	je .Lcpuid_leaf
	cmpl $EXIT_REASON_VMCALL, %eax
	jne .Lsecond_level
	call vmx_exit_vmcall_leaf
	jmp .Lleaf_done
.Lcpuid_leaf:
	call vmx_exit_cpuid_leaf
.Lleaf_done:
	testl %eax, %eax
	jnz .Lresume_leaf
.Lsecond_level:
	movq %rsi, VCPU_RSI(%rdi)
	movq %r8, VCPU_R8(%rdi)
	movq %r9, VCPU_R9(%rdi)
	movq %r10, VCPU_R10(%rdi)
	movq %r11, VCPU_R11(%rdi)
	pushq %rdi
	pushq %rdi /* keeps RSP 16-byte aligned for the call */
	call vmx_exit_fast /* keeps RBX, RBP, R12-R15 */
	popq %rdi
	popq %rdi
	testl %eax, %eax
	jz .Lfull_exit
	movq VCPU_RSI(%rdi), %rsi
	movq VCPU_R8(%rdi), %r8
	movq VCPU_R9(%rdi), %r9
	movq VCPU_R10(%rdi), %r10
	movq VCPU_R11(%rdi), %r11
.Lresume_leaf:
	movq VCPU_RAX(%rdi), %rax
	movq VCPU_RCX(%rdi), %rcx
	movq VCPU_RDX(%rdi), %rdx
	movq VCPU_RBX(%rdi), %rbx
	movq VCPU_RDI(%rdi), %rdi
	vmresume
	/* VMRESUME failed: the guest's registers are kept for the dump, vmx_enter returns 1 */
	movq (%rsp), %rdi
	call .Lsave_all
	movl $1, %eax
	jmp .Lreturn_to_host
.Lfull_exit:
	movq %rbp, VCPU_RBP(%rdi)
	movq %r12, VCPU_R12(%rdi)
	movq %r13, VCPU_R13(%rdi)
	movq %r14, VCPU_R14(%rdi)
	movq %r15, VCPU_R15(%rdi)
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

/* The registers the stub had not stored, into the vCPU at RDI (after a failed VMRESUME). */
.Lsave_all:
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
	ret
