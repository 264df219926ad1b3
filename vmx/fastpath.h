/* The VM-exit fast path: the frequent exits handled from the exit stub and resumed at once,
 * without the run loop (vmx/fastpath.c). Its per-vCPU state lives in struct vcpu_context. */
#ifndef CLOISON_FASTPATH_H
#define CLOISON_FASTPATH_H

#include <stdint.h>

struct vcpu;

/* Fast exits between two looks at the TSC (struct vcpu fast_budget): a slice runs over by at
 * most this many exits' handling */
#define FAST_BUDGET 64

/* Blocking by STI and by MOV SS in the guest interruptibility state, SDM Vol. 3C 24.4.2 */
#define INTERRUPTIBILITY_STI_MOVSS 3

/* Called by vmx/vmexit.S, which first answers a remembered CPUID leaf itself (no call). Then,
 * for VMCALL, a leaf handler, with the guest's RAX, RCX, RDX, RBX and RDI stored in vcpu->regs
 * and every other register still the guest's: it calls nothing and keeps every register but
 * RAX; it answers HC_NOP. When that declines, or for another reason, vmx_exit_fast with the
 * exit reason the stub read, RSI and R8-R11 stored too: the other frequent exits. Each returns
 * 1 when the exit was handled and the guest is to be resumed, 0 when the run loop takes over
 * (vmx_handle_exit then runs the full path, or returns the action decided here). */
__attribute__((no_caller_saved_registers)) int vmx_exit_vmcall_leaf(struct vcpu *vcpu);
int vmx_exit_fast(struct vcpu *vcpu, uint32_t full_reason);
/* The preemption timer's exit, with every guest register stored: returns the vCPU to enter
 * now, the next one of this CPU when the exit path switched (guest_switch_on_timer), or NULL
 * when the run loop takes over. */
struct vcpu *vmx_exit_timer(struct vcpu *vcpu);

#endif
