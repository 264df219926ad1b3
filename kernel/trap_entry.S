/* Exception and interrupt entry stubs: push a uniform frame (struct trap_frame), call trap_handle. */
	.altmacro
	.text

/* Vectors that push an error code themselves, SDM Vol. 3A 6.15. */
.macro TRAP_STUB vec
	.balign 16
trap_stub_\vec:
	.if !((\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ADDR vec
	.quad trap_stub_\vec
.endm

.set vec, 0
.rept 256
	TRAP_STUB %vec
	.set vec, vec + 1
.endr

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

	.section .rodata
	.balign 8
	.globl trap_stub_table
trap_stub_table:
.set vec, 0
.rept 256
	TRAP_ADDR %vec
	.set vec, vec + 1
.endr
