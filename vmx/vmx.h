/* VMX operation: detection, VMXON per CPU, VMCS access, and entering a guest. */
#ifndef CLOISON_VMX_H
#define CLOISON_VMX_H

#include <stdint.h>
#include <stddef.h>
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_insn.h"
#include "kernel/guest.h"
#include "kernel/percpu.h"

extern struct vmx_caps vmx_caps;
extern struct vmx_controls vmx_ctls;

/* Checks CPUID, IA32_FEATURE_CONTROL (enables and locks it when unlocked) and the capability
 * MSRs. Returns 0, or -E_NOTSUP with a one-line explanation of what is missing in why. */
int vmx_detect(char *why, size_t why_size);
/* CR0/CR4 fixed bits, CR4.VMXE, VMXON on this CPU. */
int vmx_cpu_enable(struct per_cpu *cpu);

/* Counts and reports a failed VMREAD/VMWRITE (kept out of line: it never happens on a good path). */
__attribute__((cold)) void vmcs_access_failed(enum vmcs_field field, uint64_t value, bool write);

static inline uint64_t vmcs_read(enum vmcs_field field)
{
	uint64_t value = 0;

	if (__builtin_expect(!vmread_checked(field, &value), 0))
		vmcs_access_failed(field, 0, false);
	return value;
}

static inline void vmcs_write(enum vmcs_field field, uint64_t value)
{
	if (__builtin_expect(!vmwrite_checked(field, value), 0))
		vmcs_access_failed(field, value, true);
}

/* Sets (on) or clears bits of the current VMCS's primary processor-based controls, with a
 * VMWRITE only when they change: interrupt-window exiting, MOV-DR exiting. vmx/exit.c */
void vmcs_cpu_controls(uint32_t bits, bool on);

/* Builds the VMCS of a vCPU for a 32-bit protected-mode Multiboot start at entry. */
int vmcs_setup(struct vcpu *vcpu, uint32_t entry, uint32_t mbi_gpa);
/* Drops this CPU's cached translations of a guest (EPT and VPID-tagged), so nothing of a
 * previous run of it survives on this CPU. */
void vmx_flush_guest_tlb(uint64_t eptp, uint16_t vpid);
struct linux_entry;
/* After vmcs_setup: the 64-bit Linux boot protocol's entry state instead of Multiboot's. */
int vmcs_setup_linux(struct vcpu *vcpu, const struct linux_entry *e);
/* An application processor's state after INIT and SIPI: real mode at vector << 12. */
int vmcs_setup_sipi(struct vcpu *vcpu, uint8_t vector);
/* Reports a failed VMPTRLD; returns -E_INVAL. */
int vmcs_load_failed(void);
/* Makes vcpu's VMCS current on this CPU: VMPTRLD only when it is not already. */
static inline int vmcs_load(struct vcpu *vcpu)
{
	struct per_cpu *cpu = this_cpu();

	if (cpu->current == vcpu)
		return 0;
	if (!vmptrld(&vcpu->vmcs_phys))
		return vmcs_load_failed();
	cpu->current = vcpu;
	return 0;
}
/* The VMX-preemption timer counts down once every 2^shift TSC ticks, SDM Vol. 3C 25.5.1 */
extern unsigned vmx_preemption_shift;

/* Arms the current VMCS's VMX-preemption timer (32 bits wide) to fire at TSC due, at once
 * when that has passed, and notes due in vcpu->timer_due (later than the timer when the 32 bits
 * cut it short: only the fast path's budget check reads it, and slices are far shorter).
 * @pre vmx_ctls.has_preemption_timer, vcpu's VMCS current */
static inline void vmx_arm_preemption_timer(struct vcpu *vcpu, uint64_t now, uint64_t due)
{
	uint64_t value = due > now ? (due - now) >> vmx_preemption_shift : 0;

	if (value > 0xffffffffu)
		value = 0xffffffffu;
	vmwrite_unchecked(VMCS_VMX_PREEMPTION_TIMER_VALUE, value);
	vcpu->timer_due = due;
}
/* Releases a vCPU's VMCS (VMCLEAR) and frees it. */
void vmcs_free(struct vcpu *vcpu);

/* Enters the guest (VMLAUNCH the first time, VMRESUME after). Returns 0 after a VM exit,
 * 1 when the VM instruction itself failed (see VMCS_VM_INSTRUCTION_ERROR). vmx/vmexit.S. */
int vmx_enter(struct vcpu *vcpu);
/* Prints a failed VM instruction's error number and name. */
void vmx_report_instruction_error(const char *what);

#endif
