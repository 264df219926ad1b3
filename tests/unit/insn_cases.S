/* MMIO instruction encodings for tests/unit/test_insn.c: assembled by gas, described by objdump
 * (tests/unit/gen_insn_cases.py), so the expected lengths and operands come from binutils. */

	.section .text.c64, "ax"
	.code64
	/* MOV r/m, r and r, r/m (88-8B) with every register width and number */
	mov %al, (%rax)
	mov %cl, (%rax)
	mov %dl, (%rax)
	mov %bl, (%rax)
	mov %ah, (%rax)
	mov %ch, (%rax)
	mov %dh, (%rax)
	mov %bh, (%rax)
	mov %spl, (%rax)
	mov %bpl, (%rax)
	mov %sil, (%rax)
	mov %dil, (%rax)
	mov %r8b, (%rax)
	mov %r15b, (%rax)
	mov (%rbx), %ah
	mov (%rbx), %bh
	mov (%rbx), %dil
	mov (%rbx), %r11b
	mov %ax, (%rax)
	mov %r9w, (%rax)
	mov (%rax), %si
	mov (%rax), %r14w
	mov %eax, (%rbx)
	mov %ecx, (%rbx)
	mov %edx, (%rbx)
	mov %ebx, (%rbx)
	mov %esp, (%rbx)
	mov %ebp, (%rbx)
	mov %esi, (%rbx)
	mov %edi, (%rbx)
	mov %r8d, (%rbx)
	mov %r12d, (%rbx)
	mov %r15d, (%rbx)
	mov (%rbx), %eax
	mov (%rbx), %r10d
	mov %rax, (%rbx)
	mov %rsp, (%rbx)
	mov %r13, (%rbx)
	mov (%rbx), %rdx
	mov (%rbx), %r15
	/* every addressing form: SIB, no base, disp8/disp32, RIP-relative, r12/r13 specials */
	mov %eax, (%rsp)
	mov %eax, (%rbp)
	mov %eax, (%r12)
	mov %eax, (%r13)
	mov %eax, 0x7f(%rax)
	mov %eax, -0x80(%rax)
	mov %eax, 0x12345678(%rax)
	mov %eax, 0x10(%rsp)
	mov %eax, 0x1000(%rsp)
	mov %eax, (%rax,%rcx,1)
	mov %eax, (%rax,%rcx,8)
	mov %eax, 0x10(%r8,%r9,4)
	mov %eax, 0x10000(%r13,%r14,2)
	mov %eax, 0x0(,%rcx,4)
	mov %eax, 0x0(,%r9,8)
	mov %eax, 0xfee000b0
	mov %eax, 0x100(%rip)
	mov 0x100(%rip), %r9
	mov %eax, 0x10(%eax)
	mov %eax, (%r8d,%r9d,2)
	mov %eax, 0x100(%eip)
	addr32 mov %eax, 0xfec00000
	/* segment overrides */
	mov %eax, %fs:0x10
	mov %gs:0x28, %rax
	mov %eax, %gs:(%rdx)
	mov %cs:(%rax), %ebx
	/* MOV r/m, imm (C6/C7 /0) */
	movb $0x12, (%rax)
	movb $0xff, 0x10(%r11)
	movw $0x1234, (%rax)
	movw $0xffff, 0x300(%rip)
	movl $0x12345678, (%rax)
	movl $0x80000000, 0x20(%rsp)
	movl $0, 0x7ee000b0
	movq $0x7fffffff, (%rax)
	movq $-128, 0x300(%rip)
	movq $-1, (%r12,%r13,8)
	/* MOV with moffs (A0-A3): 64-bit moffs, or 32-bit with 67 */
	movabs 0x1122334455667788, %al
	movabs 0xfee00020, %eax
	movabs 0xfee00020, %ax
	movabs 0xfee00020, %rax
	movabs %al, 0xfec00000
	movabs %eax, 0xfec00010
	movabs %rax, 0x8877665544332211
	addr32 mov 0x11223344, %eax
	addr32 mov %al, 0x11223344
	.byte 0x64, 0xa1, 0x10, 0, 0, 0, 0, 0, 0, 0	/* mov %fs:moffs64, %eax */
	/* MOVZX / MOVSX (0F B6, B7, BE, BF) */
	movzbl (%rax), %eax
	movzbw (%rax), %ax
	movzbq (%rax), %r8
	movzwl (%r12), %eax
	movzwq 0x10(%rax), %rdx
	movsbl (%rax), %ecx
	movsbw (%rax), %di
	movsbq -1(%r13,%r14,8), %r15
	movswl (%rax), %ebx
	movswq 0x300(%rip), %rsi
	movzbl %fs:0x10(%rax), %r10d
	/* XCHG (86, 87), locked or not */
	xchg %eax, (%rbx)
	lock xchg %eax, (%rbx)
	xchg %al, (%rbx)
	xchg %bh, (%rbx)
	xchg %sil, (%rbx)
	xchg %r9w, (%rbx)
	xchg %r11, 0xb0(%rdi)
	xchg (%rbx), %ecx
	/* prefix combinations */
	data16 mov %eax, (%rax)
	.byte 0x66, 0x67, 0x89, 0x00	/* mov %ax, (%eax) */
	.byte 0x67, 0x66, 0x41, 0x89, 0x00	/* mov %ax, (%r8d) */
	.byte 0x2e, 0x3e, 0x26, 0x36, 0x89, 0x00	/* ignored segment overrides */
	.byte 0x66, 0x48, 0x89, 0x00	/* REX.W beats 66 */
	.byte 0x66, 0x48, 0xc7, 0x00, 0x01, 0x02, 0x03, 0x84	/* REX.W beats 66: imm32 */
	.byte 0x40, 0x88, 0x20	/* mov %spl: empty REX */
	.byte 0x4f, 0x89, 0x04, 0x24	/* REX.WRXB with SIB */
	.byte 0xf0, 0x66, 0x87, 0x03	/* lock data16 xchg */
	.byte 0x65, 0x67, 0x66, 0x48, 0x0f, 0xbf, 0x84, 0x81, 1, 2, 3, 4	/* four prefixes before movswq */
	/* not MMIO forms this decoder supports */
	movups (%rax), %xmm0
	movnti %eax, (%rax)
	add %eax, (%rax)
	or %eax, (%rax)
	and %eax, (%rax)
	test %eax, (%rax)
	cmpl $0, (%rax)
	cmpxchg %ecx, (%rax)
	rep movsb
	movsl
	stosl
	movdqa (%rax), %xmm1
	mov %es, (%rax)
	mov %cr0, %rax
	movsxd (%rax), %rax
	incl (%rax)
	/* no memory operand at all */
	mov %eax, %ebx
	mov %bl, %ah
	movabs $0x1122334455667788, %rax
	movzbl %al, %eax

	.section .text.c32, "ax"
	.code32
	mov %eax, (%ebx)
	mov %dh, 0x12345678
	mov %ax, (%esp)
	mov (%ebp), %bl
	mov 0x10(%esp,%ecx,4), %edi
	mov %eax, 0x0(,%eax,8)
	movw $0x1234, 8(%ebp)
	movl $0xfee00000, 0x300(%eax)
	movb $0x80, (%eax)
	mov 0xfee00020, %eax
	mov 0xfee00020, %ax
	mov %al, 0xfec00000
	addr16 mov 0x1234, %eax
	mov %eax, (%bx,%si)
	mov %eax, 0x1234
	addr16 mov %eax, 0x1234
	movzbl (%eax), %ecx
	movzwl 0x4(%edx), %esi
	movsbw (%eax), %ax
	movswl (%eax), %esp
	xchg %eax, (%ebx)
	lock xchgb %ch, 0x10(%ebx)
	mov %eax, %fs:(%eax)
	mov %ss:(%ebp), %edx
	.byte 0x66, 0x67, 0x89, 0x00	/* mov %ax, (%bx,%si) */
	.byte 0x66, 0xc7, 0x00, 0x34, 0x12	/* movw $0x1234, (%eax) */
	.byte 0x48	/* dec %eax: REX does not exist here */
	.byte 0x89, 0x00
	movups (%eax), %xmm0
	rep stosl
	mov %eax, %ebx

	.section .text.c16, "ax"
	.code16
	mov %ax, (%bx,%si)
	mov %al, (%bx,%di)
	mov %ax, (%bp,%si)
	mov %ax, (%bp,%di)
	mov %ax, (%si)
	mov %ax, (%di)
	mov %ax, (%bp)
	mov %ax, (%bx)
	mov %ax, 0x1234
	mov %ax, 0x12(%bx,%si)
	mov %ax, 0x1234(%bx,%si)
	mov %ch, -2(%bp)
	mov %eax, (%bx)
	mov (%si), %edx
	mov 0x1234, %al
	mov 0x1234, %ax
	mov 0x1234, %eax
	mov %ax, 0x1234
	addr32 mov 0x12345678, %ax
	addr32 mov %eax, (%eax,%ebx,4)
	addr32 mov %ax, 0x10(%esp)
	movl $0x12345678, (%bp)
	movw $0x1234, 0x10(%bx)
	movb $0x12, (%di)
	movzbw (%bx), %ax
	movzbl (%bx), %eax
	movswl 2(%si), %ecx
	xchg %ax, (%bx)
	lock xchg %eax, 0x10(%bp,%di)
	mov %ax, %es:(%di)
	mov %eax, %ebx
	movups (%bx), %xmm0
