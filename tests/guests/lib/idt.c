/* A minimal 32-bit IDT for vectors 0-31: exception-table fix-ups, per-vector handlers, and a
 * default that reports the exception and stops the guest. */
#include "tests/guests/lib/guest.h"

#define IDT_VECTORS 32
#define GATE_INTERRUPT_32 0x8e /* present, DPL 0, 32-bit interrupt gate, SDM Vol. 3A 6.11 */

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_high;
};

struct extable_entry {
	uint32_t fault_eip, fixup_eip;
};

extern const uint32_t trap_stubs[IDT_VECTORS];             /* trap.S */
extern const struct extable_entry __extable_start[], __extable_end[]; /* guest.ld */

void trap_dispatch(struct trap_frame *frame);

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));
static trap_handler handlers[IDT_VECTORS];
static uint8_t unexpected_exit_code;

static const char *const exception_names[IDT_VECTORS] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23",
	"24", "25", "26", "27", "#HV", "#VC", "#SX", "31",
};

const char *exception_name(unsigned vector)
{
	return vector < IDT_VECTORS ? exception_names[vector] : "?";
}

void idt_init(uint8_t unexpected_code)
{
	uint16_t cs = read_cs();

	unexpected_exit_code = unexpected_code;
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)trap_stubs[v],
			.selector = cs,
			.type_attr = GATE_INTERRUPT_32,
			.offset_high = (uint16_t)(trap_stubs[v] >> 16),
		};
		handlers[v] = 0;
	}
	lidt((uint32_t)idt, sizeof(idt) - 1);
}

void idt_set_handler(unsigned vector, trap_handler handler)
{
	if (vector < IDT_VECTORS)
		handlers[vector] = handler;
}

volatile uint32_t guest_last_fault_vector = ~0u;

void trap_dispatch(struct trap_frame *frame)
{
	for (const struct extable_entry *e = __extable_start; e < __extable_end; e++) {
		if (e->fault_eip == frame->eip) {
			guest_last_fault_vector = frame->vector;
			frame->eip = e->fixup_eip;
			return;
		}
	}
	if (frame->vector < IDT_VECTORS && handlers[frame->vector]) {
		handlers[frame->vector](frame);
		return;
	}
	printf("%s: exception %u (%s) at eip 0x%08x, error 0x%x\n", guest_name, frame->vector,
	       exception_name(frame->vector), frame->eip, frame->error_code);
	guest_exit(unexpected_exit_code);
}
