/* The hypervisor's IDT and its exception report: vector, name, error code, RIP, CR2, registers. */
#include "kernel/trap.h"
#include "kernel/percpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/x86.h"
#include "kernel/lib.h"
#include "drivers/lapic.h"
#include "kernel/cpu_timer.h"

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
/* kernel/trap_entry.S: vectors 0-31 16 bytes apart, 32-255 8 bytes apart. */
extern const char trap_exception_stubs[], trap_interrupt_stubs[];

static const char *const exception_names[32] = {
	"divide error (#DE)", "debug (#DB)", "NMI", "breakpoint (#BP)", "overflow (#OF)",
	"bound range exceeded (#BR)", "invalid opcode (#UD)", "device not available (#NM)",
	"double fault (#DF)", "coprocessor segment overrun", "invalid TSS (#TS)",
	"segment not present (#NP)", "stack-segment fault (#SS)", "general protection (#GP)",
	"page fault (#PF)", "reserved 15", "x87 floating-point error (#MF)", "alignment check (#AC)",
	"machine check (#MC)", "SIMD floating-point (#XM)", "virtualization exception (#VE)",
	"control protection (#CP)", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "hypervisor injection (#HV)", "VMM communication (#VC)",
	"security exception (#SX)", "reserved 31",
};

const char *trap_name(uint64_t vector)
{
	return vector < 32 ? exception_names[vector] : "external interrupt";
}

void host_interrupt(unsigned vector)
{
	/* The APIC's spurious vector needs no EOI (SDM Vol. 3A 10.9); wake-up IPIs only end a HLT. */
	if (vector == 0xff)
		return;
	lapic_eoi();
	if (vector == VECTOR_TICK)
		cpu_timer_fired();
}

void trap_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t addr = v < 32 ? (uint64_t)&trap_exception_stubs[16 * v]
				       : (uint64_t)&trap_interrupt_stubs[8 * (v - 32)];

		idt[v].offset_low = (uint16_t)addr;
		idt[v].selector = GDT_CODE64;
		idt[v].ist = (v == 2 || v == 8 || v == 18) ? TRAP_IST_CRITICAL : 0;
		idt[v].type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
		idt[v].offset_mid = (uint16_t)(addr >> 16);
		idt[v].offset_high = (uint32_t)(addr >> 32);
		idt[v].reserved = 0;
	}
}

void trap_load_idt(void)
{
	struct descriptor_table_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	lidt(&idtr);
}

void trap_handle(struct trap_frame *f)
{
	if (f->vector >= 32) {
		host_interrupt((unsigned)f->vector);
		return;
	}
	if (f->vector == 2) {
		if (panic_in_progress())
			halt_forever();
		return; /* another CPU's kick (guest_wake_cpu): the run loop looks at its requests */
	}

	log_err("CPU exception %lu: %s, error code 0x%lx", f->vector, trap_name(f->vector),
		f->error_code);
	log_err("  rip %016lx  cs %04lx  rflags %016lx  rsp %016lx  ss %04lx", f->rip, f->cs,
		f->rflags, f->rsp, f->ss);
	log_err("  cr0 %016lx  cr2 %016lx  cr3 %016lx  cr4 %016lx", read_cr0(), read_cr2(),
		read_cr3(), read_cr4());
	log_err("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx", f->rax, f->rbx, f->rcx, f->rdx);
	log_err("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx", f->rsi, f->rdi, f->rbp, f->r8);
	log_err("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx", f->r9, f->r10, f->r11, f->r12);
	log_err("  r13 %016lx  r14 %016lx  r15 %016lx", f->r13, f->r14, f->r15);
	log_err("CPU %u halted", this_cpu_id());
	log_flush_unlocked();
	halt_forever();
}
