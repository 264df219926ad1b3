/* Exception and interrupt entry stubs: push a uniform frame (struct trap_frame), call trap_handle. */
#include "kernel/trap.h"
	.altmacro
	.text

/* One 4-byte stub per vector: a byte-sized push of the vector (sign-extended from 128 on) and a
 * short jump to the end of its group, where two jumps lead on. A group holds as many stubs as a
 * short jump reaches past (TRAP_STUB_GROUP, 29) in TRAP_STUB_GROUP_BYTES (128), so vector v's
 * stub is at trap_stubs + v / 29 * 128 + v % 29 * 4. Exceptions that push an error code
 * themselves (SDM Vol. 3A 6.15) go to trap_common; the others, and all interrupts, to
 * no_error_code. */

.macro TRAP_STUB vec, plain, coded
	.if \vec >= 128
	pushq $(\vec - 256)
	.else
	pushq $\vec
	.endif
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.byte 0xeb, \coded - . - 1
	.else
	.byte 0xeb, \plain - . - 1
	.endif
.endm

.macro TRAP_GROUP_STUBS first
	.balign TRAP_STUB_GROUP_BYTES
.set vec, \first
.rept TRAP_STUB_GROUP
	.if vec < 256
	TRAP_STUB %vec, 1f, 2f
	.else
	.skip 4, 0xcc
	.endif
	.set vec, vec + 1
.endr
1:	jmp no_error_code
2:	jmp trap_common
.endm

	.balign TRAP_STUB_GROUP_BYTES
	.globl trap_stubs
trap_stubs:
.set group, 0
.rept (256 + TRAP_STUB_GROUP - 1) / TRAP_STUB_GROUP
	TRAP_GROUP_STUBS %(group * TRAP_STUB_GROUP)
	.set group, group + 1
.endr

/* Move the vector down one slot and put a zero where the error code would be. */
no_error_code:
	pushq (%rsp)
	movq $0, 8(%rsp)
trap_common:
	andq $0xff, (%rsp)
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
