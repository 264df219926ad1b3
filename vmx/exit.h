/* VM-exit handling: the decoded exit, the per-reason handler table and helpers handlers share. */
#ifndef CLOISON_EXIT_H
#define CLOISON_EXIT_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/guest.h"

/* What a handler wants to happen next. */
enum exit_action {
	EXIT_RESUME,   /* re-enter at the same RIP (a fault was injected, or nothing to skip) */
	EXIT_ADVANCE,  /* the instruction was emulated: skip it, then re-enter */
	EXIT_YIELD,    /* give the CPU to the next guest (guest halted) */
	EXIT_TIMER,    /* the VMX-preemption timer fired: the scheduler decides */
	EXIT_STOPPED,  /* the handler stopped the guest */
};

/* Read from the VMCS once, before any handler runs. */
struct vmx_exit {
	uint32_t reason; /* basic exit reason, bits 15:0 */
	uint32_t full_reason;
	uint64_t qualification;
	uint64_t guest_rip;
	uint32_t instruction_length;
};

typedef enum exit_action (*exit_handler_fn)(struct vcpu *vcpu, const struct vmx_exit *exit);

/* The bitmaps every guest starts with (SDM Vol. 3C 24.6.4 and 24.6.9). */
struct exit_policy {
	uint64_t io_bitmap_a, io_bitmap_b; /* all ports exit */
	uint64_t msr_bitmap;               /* harmless MSRs pass through, the rest exit */
};
extern struct exit_policy exit_policy;

int exit_policy_init(void);
/* Decodes the exit, counts it, runs its handler. */
enum exit_action vmx_handle_exit_full(struct vcpu *vcpu);

/* What follows a VM exit: what the fast path decided already (vmx/fastpath.c: handled and
 * counted there, a yield, the timer), else the full path. */
static inline enum exit_action vmx_handle_exit(struct vcpu *vcpu)
{
	int action = vcpu->context.fast_action;

	if (action < 0)
		return vmx_handle_exit_full(vcpu);
	vcpu->context.fast_action = -1;
	return (enum exit_action)action;
}

/* Interrupts of the guest's virtual platform (vmx/inject.c): injects the highest one the guest
 * can take now, or asks for an interrupt window. Called before every VM entry. */
void vcpu_deliver_interrupts(struct vcpu *vcpu);
/* Re-queues an event the exit interrupted (IDT-vectoring information). */
void vcpu_reinject_vectoring(void);
/* The TSC tick of the guest platform's next interrupt, UINT64_MAX when none is due. */
uint64_t vcpu_next_event(const struct vcpu *vcpu);
/* Whether the platform has an interrupt for the vCPU (it may be masked by RFLAGS.IF). */
bool vcpu_interrupt_ready(struct vcpu *vcpu, uint64_t now);
/* Injects a hardware exception on the next entry, SDM Vol. 3C 24.8.3. */
void vcpu_inject_exception(unsigned vector, bool has_error_code, uint32_t error_code);
/* The guest's CR0 and CR4 as it reads them: guest-owned bits from the VMCS, the others from the
 * read shadows (SDM Vol. 3C 25.3). @pre its VMCS is current */
uint64_t vcpu_guest_cr0(void);
uint64_t vcpu_guest_cr4(void);
/* Prints the guest's registers and segment state. */
void vcpu_dump(struct vcpu *vcpu);

#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_MC 18

enum exit_action exit_cpuid(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_interrupt_window(struct vcpu *vcpu, const struct vmx_exit *exit);
/* An access to a memory-mapped device of the guest's platform at gpa (an EPT violation). */
enum exit_action exit_mmio(struct vcpu *vcpu, const struct vmx_exit *exit, uint64_t gpa);
enum exit_action exit_xsetbv(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_rdpmc(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_mov_dr(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_machine_check(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_io(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_msr_read(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_msr_write(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_hlt(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_vmcall(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_cr_access(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_vmx_instruction(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_external_interrupt(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_preemption_timer(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_exception_nmi(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_ignore(struct vcpu *vcpu, const struct vmx_exit *exit);
enum exit_action exit_advance(struct vcpu *vcpu, const struct vmx_exit *exit);

#endif
