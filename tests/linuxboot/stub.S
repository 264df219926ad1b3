/* A Multiboot (v1) stub for QEMU that plays Cloison's part: it copies the pieces of a guest
 * prepared by kernel/bzimage.c and drivers/virt/vacpi.c (modules "FILE 0xDEST") to their
 * guest-physical places, then enters the kernel exactly as struct linux_entry says: CR4.PAE,
 * CR3 = the loader's PML4, EFER.LME, CR0.PG|PE, the loader's GDT, CS 0x10, DS 0x18,
 * RSI = zero page, RIP = RIP (given with --defsym). Linked at 200 MiB, out of the way. */
#define MB_MAGIC 0x1badb002
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR0_PG_PE 0x80000001
#define CR4_PAE 0x20
#define ZERO_PAGE 0x7000
#define PML4 0x9000
#define GDT 0x8000

	.code32
	.text
	.globl _start
	.align 4
	/* Multiboot header: no flags, ELF layout, Multiboot 0.6.96 3.1.1 */
	.long MB_MAGIC
	.long 0
	.long -MB_MAGIC
_start:
	cli
	cld
	mov $stack_top, %esp
	mov 20(%ebx), %ecx		/* mods_count */
	mov 24(%ebx), %ebp		/* mods_addr: start, end, string, reserved */
next_module:
	test %ecx, %ecx
	jz enter
	push %ecx
	mov 8(%ebp), %esi
	call parse_dest
	mov 0(%ebp), %esi
	mov 4(%ebp), %ecx
	sub %esi, %ecx
	rep movsb
	pop %ecx
	add $16, %ebp
	dec %ecx
	jmp next_module

/* %edi = the hex digits after the string's last 'x' (the "0xDEST" that ends it) */
parse_dest:
	xor %edi, %edi
1:	lodsb
	test %al, %al
	jz 4f
	cmp $'x', %al
	jne 2f
	xor %edi, %edi
	jmp 1b
2:	cmp $'0', %al
	jb 1b
	cmp $'9', %al
	ja 3f
	sub $'0', %al
	jmp 5f
3:	cmp $'a', %al
	jb 1b
	cmp $'f', %al
	ja 1b
	sub $('a' - 10), %al
5:	shl $4, %edi
	movzbl %al, %eax
	or %eax, %edi
	jmp 1b
4:	ret

enter:
	mov $CR4_PAE, %eax
	mov %eax, %cr4
	mov $PML4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG_PE, %eax
	mov %eax, %cr0
	lgdt gdtr
	ljmp $0x10, $long_mode

	.code64
long_mode:
	mov $0x18, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $ZERO_PAGE, %esi
	mov $RIP, %eax
	jmp *%rax

	.align 8
gdtr:
	.word 31
	.long GDT

	.bss
	.align 16
	.space 4096
stack_top:
