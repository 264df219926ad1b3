/* Multiboot2 header and the 32-bit entry GRUB jumps to: checks for long mode, builds an
 * identity map of the first 4 GiB with 2 MiB pages, enters 64-bit mode and calls kmain. */

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define COM1 0x3f8
#define BOOT_STACK_SIZE 16384

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Information request: memory map, modules, ACPI (multiboot2 spec 3.1.4); all optional for GRUB. */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, boot_magic
	movl %ebx, boot_mbi
	rdtsc
	movl %eax, boot_tsc
	movl %edx, boot_tsc + 4

	/* Long mode present? CPUID 0x80000001 EDX bit 29 (SDM Vol. 2A CPUID). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $0x3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	movl $boot_pd, %edi
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax /* present, writable, 2 MiB page */
	movl %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl %cr4, %eax
	orl $(1 << 5), %eax /* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx /* IA32_EFER.LME */
	rdmsr
	orl $(1 << 8), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | (1 << 5) | 1), %eax /* PG, WP, NE, PE */
	andl $~((1 << 30) | (1 << 29)), %eax /* caches on: CD, NW clear */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_entry

no_long_mode:
	movl $no_long_mode_msg, %esi
3:	lodsb
	testb %al, %al
	jz 5f
	movb %al, %bl
	movw $(COM1 + 5), %dx
4:	inb %dx, %al
	testb $0x20, %al
	jz 4b
	movb %bl, %al
	movw $COM1, %dx
	outb %al, %dx
	jmp 3b
5:	hlt
	jmp 5b

	.code64
long_mode_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic, %edi
	movl boot_mbi, %esi
	call kmain
6:	cli
	hlt
	jmp 6b

	.section .rodata
no_long_mode_msg:
	.asciz "cloison: this CPU has no 64-bit long mode; Cloison needs an x86-64 CPU with VT-x\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .data
	.globl boot_magic, boot_mbi, boot_tsc
	.balign 8
boot_tsc:
	.quad 0
boot_magic:
	.long 0
boot_mbi:
	.long 0

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096 * 4
	.globl boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
