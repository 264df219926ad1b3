/* Multiboot (v1) header and _start for the test guests. With GUEST_AOUT_KLUDGE the header
 * carries the a.out-kludge load addresses (flag 16); otherwise the loader reads the ELF. */
#include "tests/guests/lib/multiboot.h"

#define GDT_CODE 0x08
#define GDT_DATA 0x10
#define STACK_SIZE 16384

#ifdef GUEST_AOUT_KLUDGE
#define MB_FLAGS (MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO | MB_HEADER_AOUT_KLUDGE)
#else
#define MB_FLAGS (MB_HEADER_PAGE_ALIGN | MB_HEADER_MEMORY_INFO)
#endif

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MB_HEADER_MAGIC + MB_FLAGS)
#ifdef GUEST_AOUT_KLUDGE
	.long mb_header        /* header_addr */
	.long __image_start    /* load_addr: the file is loaded from here ... */
	.long __data_end       /* load_end_addr: ... to here */
	.long __bss_end        /* bss_end_addr: the loader zeroes up to here */
	.long _start           /* entry_addr */
#endif

	.text
	.globl _start
	.type _start, @function
_start:
	/* Multiboot leaves GDTR undefined: load our own flat GDT before anything can fault. */
	cli
	cld
	lgdt gdt_ptr
	ljmp $GDT_CODE, $1f
1:	movl $GDT_DATA, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	movl %ecx, %fs
	movl %ecx, %gs
	movl %ecx, %ss
	movl $stack_top, %esp
	xorl %ebp, %ebp
	pushl $0               /* clear EFLAGS (IF, DF, AC, NT) */
	popfl
	pushl %ebx             /* mbi */
	pushl %eax             /* magic */
	call guest_main
	pushl $0xfe            /* guest_main returned: say so with an exit code of its own */
	call guest_exit
2:	cli
	hlt
	jmp 2b
	.size _start, . - _start

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: code, base 0, limit 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
	.balign 4
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.balign 16
stack_bottom:
	.skip STACK_SIZE
stack_top:
	.globl stack_bottom, stack_top

	.section .note.GNU-stack, "", @progbits
