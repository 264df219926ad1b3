/* Exception entry stubs for vectors 0-31: push a uniform struct trap_frame, call trap_dispatch. */

	.text
	/* Vectors for which the CPU pushes an error code get none pushed here, SDM Vol. 3A 6.15 */
	.macro trap_stub v
	.balign 16
trap_stub_\v:
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushl $0
	.endif
	pushl $\v
	jmp trap_common
	.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	trap_stub \v
	.endr

trap_common:
	pushal
	cld
	pushl %esp             /* struct trap_frame * */
	call trap_dispatch
	addl $4, %esp
	popal
	addl $8, %esp          /* vector and error code */
	iret

	.section .rodata
	.balign 4
	.globl trap_stubs
trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits
