/* CPU exceptions in the hypervisor: the IDT and the report printed before a CPU halts. */
#ifndef CLOISON_TRAP_H
#define CLOISON_TRAP_H

#define TRAP_IST_CRITICAL 1 /* IST slot for NMI, #DF and #MC */
/* kernel/trap_entry.S: 4-byte stubs, TRAP_STUB_GROUP of them in each TRAP_STUB_GROUP_BYTES */
#define TRAP_STUB_GROUP 29
#define TRAP_STUB_GROUP_BYTES 128

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Saved by kernel/trap_entry.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_init(void);
/* An interrupt for the host, taken in the IDT or acknowledged on a VM exit. */
void host_interrupt(unsigned vector);
/* Called on the console CPU at every tick of its timer (set by the shell). */
void trap_load_idt(void);
void trap_handle(struct trap_frame *frame);
const char *trap_name(uint64_t vector);

#endif /* __ASSEMBLY__ */
#endif
