/* CPU exceptions in the hypervisor: the IDT and the report printed before a CPU halts. */
#ifndef CLOISON_TRAP_H
#define CLOISON_TRAP_H

#include <stdint.h>

#define TRAP_IST_CRITICAL 1 /* IST slot for NMI, #DF and #MC */

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

#endif
