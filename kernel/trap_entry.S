/* Exception and interrupt entry stubs: push a uniform frame (struct trap_frame), call trap_handle. */
	.altmacro
	.text

/* Vectors 0-31, 16 bytes apart; those that push an error code themselves, SDM Vol. 3A 6.15. */
.macro EXCEPTION_STUB vec
	.balign 16
	.if !((\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

/* Vectors 32-255, 8 bytes apart: a byte-sized push (sign-extended from 128 on) and a jump. */
.macro INTERRUPT_STUB vec
	.balign 8
	.if \vec >= 128
	pushq $(\vec - 256)
	.else
	pushq $\vec
	.endif
	jmp interrupt_common
.endm

	.balign 16
	.globl trap_exception_stubs
trap_exception_stubs:
.set vec, 0
.rept 32
	EXCEPTION_STUB %vec
	.set vec, vec + 1
.endr

	.balign 8
	.globl trap_interrupt_stubs
trap_interrupt_stubs:
.rept 224
	INTERRUPT_STUB %vec
	.set vec, vec + 1
.endr

/* An interrupt pushes no error code: move the vector down one slot, a zero where the code would be. */
interrupt_common:
	pushq (%rsp)
	movq $0, 8(%rsp)
	andq $0xff, (%rsp)

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_handle
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq
