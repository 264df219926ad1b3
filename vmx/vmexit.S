/* Guest entry and the VM-exit stub: swap the guest's general-purpose registers with the host's.
 * The stub answers a remembered CPUID leaf itself, saves only what the fast path
 * (vmx/fastpath.c) needs and resumes from there; the other exits save every register and
 * return to the run loop. */
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
.Lenter:	/* RDI and (%rsp): the vCPU; its VMCS current */
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
	xchgq %rdi, (%rsp) /* RDI: the vCPU; the guest's RDI on the stack, stored next */
	popq VCPU_RDI(%rdi)
	pushq %rdi
	movq %rbx, VCPU_RBX(%rdi)
	movl $VMCS_FIELD_EXIT_REASON, %ebx
	vmread %rbx, %rbx
	cmpl $EXIT_REASON_CPUID, %ebx
	je .Lcpuid
.Lsave_rax_rcx_rdx:
	movq %rax, VCPU_RAX(%rdi)
	movq %rcx, VCPU_RCX(%rdi)
	movq %rdx, VCPU_RDX(%rdi)
	/* VMCALL first tries a leaf handler that keeps every register but RAX */
	cmpl $EXIT_REASON_VMCALL, %ebx
	jne .Lsecond_level
	call vmx_exit_vmcall_leaf
	testl %eax, %eax
	jnz .Lresume_leaf
.Lsecond_level:
	movq %rsi, VCPU_RSI(%rdi)
	movl %ebx, %esi /* the exit reason, vmx_exit_fast's second argument */
	movq %r8, VCPU_R8(%rdi)
	movq %r9, VCPU_R9(%rdi)
	movq %r10, VCPU_R10(%rdi)
	movq %r11, VCPU_R11(%rdi)
	cmpl $EXIT_REASON_PREEMPTION_TIMER, %ebx
	je .Lfull_exit
	call vmx_exit_fast /* keeps RBX, RBP, R12-R15 */
	movq (%rsp), %rdi
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
	jmp .Lresume_failed

/* CPUID with a leaf the vCPU asked before: its cache's answer (kernel/cpuid_cache.h), RIP past
 * the instruction, counted, with no call. A guest with a platform has interrupts to check before
 * the entry: vmx_exit_fast. RBX is stored, so free; RAX, RCX, RDX are free once the leaf hits. */
.Lcpuid:
	movq VCPU_GUEST(%rdi), %rbx
	cmpq $0, GUEST_VM(%rbx)
	jne .Lcpuid_miss
	/* Every FAST_BUDGET-th fast exit goes through C, which looks at the TSC (fast_resume) */
	decb VCPU_FAST_BUDGET(%rdi)
	jz .Lcpuid_miss
	/* The slot's offset: cpuid_cache_slot(leaf, subleaf) << CPUID_CACHE_ENTRY_SHIFT */
	movl %eax, %ebx
	shrl $28, %ebx
	xorl %eax, %ebx
	xorl %ecx, %ebx
	andl $(CPUID_CACHE_SLOTS - 1), %ebx
	shll $CPUID_CACHE_ENTRY_SHIFT, %ebx
	cmpl %eax, VCPU_CPUID_LEAF(%rdi, %rbx)
	jne .Lcpuid_miss
	cmpl %ecx, VCPU_CPUID_SUBLEAF(%rdi, %rbx)
	jne .Lcpuid_miss
	movl $VMCS_FIELD_EXIT_INSTRUCTION_LENGTH, %eax
	vmread %rax, %rax
	movl $VMCS_FIELD_GUEST_RIP, %edx
	vmread %rdx, %rcx
	addq %rax, %rcx
	vmwrite %rcx, %rdx
	/* Emulated: skipping the instruction ends STI/MOV-SS blocking, SDM Vol. 3C 26.4.1.2 */
	movl $VMCS_FIELD_GUEST_INTERRUPTIBILITY, %edx
	vmread %rdx, %rax
	testb $INTERRUPTIBILITY_STI_MOVSS, %al
	jnz .Lcpuid_unblock
.Lcpuid_count:
	incq VCPU_EXITS_TOTAL(%rdi)
	incq VCPU_EXITS_CPUID(%rdi)
	movl $EXIT_REASON_CPUID, VCPU_LAST_EXIT_REASON(%rdi)
	movq $0, VCPU_LAST_EXIT_QUALIFICATION(%rdi) /* cleared for CPUID, SDM Vol. 3C 28.2.1 */
	/* 32-bit loads: CPUID clears bits 63:32 of all four, SDM Vol. 2A CPUID */
	movl VCPU_CPUID_EAX(%rdi, %rbx), %eax
	movl VCPU_CPUID_ECX(%rdi, %rbx), %ecx
	movl VCPU_CPUID_EDX(%rdi, %rbx), %edx
	movl VCPU_CPUID_EBX(%rdi, %rbx), %ebx
	movq VCPU_RDI(%rdi), %rdi
	vmresume
	jmp .Lresume_failed
.Lcpuid_unblock:
	andq $~INTERRUPTIBILITY_STI_MOVSS, %rax
	vmwrite %rax, %rdx
	jmp .Lcpuid_count
.Lcpuid_miss:
	movl $EXIT_REASON_CPUID, %ebx
	jmp .Lsave_rax_rcx_rdx

/* The preemption timer, every register stored: vmx_exit_timer may have switched to another
 * vCPU of this CPU (its VMCS now current), which is entered as vmx_enter would; else (RAX 0)
 * vmx_enter returns 0 to the run loop. */
.Ltimer:
	call vmx_exit_timer
	testq %rax, %rax
	jz .Lreturn_to_host
	movq %rax, (%rsp)
	movq %rax, %rdi
	jmp .Lenter

/* VMRESUME failed: the guest's registers are kept for the dump, vmx_enter returns 1 */
.Lresume_failed:
	xchgq %rdi, (%rsp)
	popq VCPU_RDI(%rdi)
	pushq %rdi
	call .Lsave_all
	movl $1, %eax
	jmp .Lreturn_to_host
/* The rest of the registers; RBX: the exit reason (vmx_exit_fast keeps it) */
.Lfull_exit:
	movq %rbp, VCPU_RBP(%rdi)
	movq %r12, VCPU_R12(%rdi)
	movq %r13, VCPU_R13(%rdi)
	movq %r14, VCPU_R14(%rdi)
	movq %r15, VCPU_R15(%rdi)
	movb $1, VCPU_LAUNCHED(%rdi)
	cmpl $EXIT_REASON_PREEMPTION_TIMER, %ebx
	je .Ltimer
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

/* Every guest register but RDI into the vCPU at RDI (after a failed VMRESUME). */
.Lsave_all:
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
	ret
