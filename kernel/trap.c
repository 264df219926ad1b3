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
extern const char trap_stubs[]; /* kernel/trap_entry.S */

/* Exception names by vector (SDM Vol. 3A 6.3.1), one after the other: a fault looks one up. */
static const char exception_names[] =
	"divide error (#DE)\0debug (#DB)\0NMI\0breakpoint (#BP)\0overflow (#OF)\0"
	"bound range exceeded (#BR)\0invalid opcode (#UD)\0device not available (#NM)\0"
	"double fault (#DF)\0coprocessor segment overrun\0invalid TSS (#TS)\0"
	"segment not present (#NP)\0stack-segment fault (#SS)\0general protection (#GP)\0"
	"page fault (#PF)\0reserved 15\0x87 floating-point error (#MF)\0alignment check (#AC)\0"
	"machine check (#MC)\0SIMD floating-point (#XM)\0virtualization exception (#VE)\0"
	"control protection (#CP)\0reserved 22\0reserved 23\0reserved 24\0reserved 25\0"
	"reserved 26\0reserved 27\0hypervisor injection (#HV)\0VMM communication (#VC)\0"
	"security exception (#SX)\0reserved 31";

const char *trap_name(uint64_t vector)
{
	const char *name = exception_names;

	if (vector >= 32)
		return "external interrupt";
	while (vector--)
		name += strlen(name) + 1;
	return name;
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
		uint64_t addr = (uint64_t)&trap_stubs[v / TRAP_STUB_GROUP * TRAP_STUB_GROUP_BYTES +
						      v % TRAP_STUB_GROUP * 4];

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
