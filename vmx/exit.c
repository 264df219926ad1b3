/* The VM-exit dispatcher: one table indexed by basic exit reason, faults that stop the guest,
 * and the state dump printed whenever a guest is stopped for something it did. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/x86.h"
#include "drivers/virt/vmachine.h"
#include "vmx/fastpath.h"

static enum exit_action exit_triple_fault(struct vcpu *vcpu, const struct vmx_exit *exit);
static enum exit_action exit_ept_violation(struct vcpu *vcpu, const struct vmx_exit *exit);
static enum exit_action exit_ept_misconfig(struct vcpu *vcpu, const struct vmx_exit *exit);

static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[EXIT_REASON_TRIPLE_FAULT] = exit_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = exit_ignore,
	[EXIT_REASON_CPUID] = exit_cpuid,
	[EXIT_REASON_HLT] = exit_hlt,
	[EXIT_REASON_INVD] = exit_advance,
	[EXIT_REASON_VMCALL] = exit_vmcall,
	[EXIT_REASON_VMCLEAR] = exit_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = exit_vmx_instruction,
	[EXIT_REASON_VMPTRST] = exit_vmx_instruction,
	[EXIT_REASON_VMREAD] = exit_vmx_instruction,
	[EXIT_REASON_VMRESUME] = exit_vmx_instruction,
	[EXIT_REASON_VMWRITE] = exit_vmx_instruction,
	[EXIT_REASON_VMXOFF] = exit_vmx_instruction,
	[EXIT_REASON_VMXON] = exit_vmx_instruction,
	[EXIT_REASON_INVEPT] = exit_vmx_instruction,
	[EXIT_REASON_INVVPID] = exit_vmx_instruction,
	[EXIT_REASON_VMFUNC] = exit_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = exit_io,
	[EXIT_REASON_MSR_READ] = exit_msr_read,
	[EXIT_REASON_MSR_WRITE] = exit_msr_write,
	[EXIT_REASON_MWAIT] = exit_advance,
	[EXIT_REASON_MONITOR] = exit_advance,
	[EXIT_REASON_EPT_VIOLATION] = exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = exit_ept_misconfig,
	[EXIT_REASON_PREEMPTION_TIMER] = exit_preemption_timer,
	[EXIT_REASON_WBINVD] = exit_advance, /* caches are shared: a guest's flush is a no-op */
	[EXIT_REASON_XSETBV] = exit_xsetbv,
	[EXIT_REASON_INTERRUPT_WINDOW] = exit_interrupt_window,
	[EXIT_REASON_RDPMC] = exit_rdpmc,
	[EXIT_REASON_DR_ACCESS] = exit_mov_dr,
	[EXIT_REASON_MCE_DURING_ENTRY] = exit_machine_check,
};

void vcpu_inject_exception(unsigned vector, bool has_error_code, uint32_t error_code)
{
	uint32_t info;

	/* A real-mode guest takes no error code: VM entry refuses one with CR0.PE = 0 under
	 * unrestricted guest, SDM Vol. 3C 26.2.1.3 (real-address mode pushes none either). */
	if (!(vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
		has_error_code = false;
	/* Interruption information: vector, type 3 (hardware exception), error-code flag, valid. */
	info = vector | (3u << 8) | (1u << 31) | (has_error_code ? 1u << 11 : 0);

	if (has_error_code)
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO, info);
}

void vmcs_cpu_controls(uint32_t bits, bool on)
{
	uint64_t ctl = vmcs_read(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t want = on ? ctl | bits : ctl & ~(uint64_t)bits;

	if (want != ctl)
		vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, want);
}

__attribute__((cold)) void vcpu_dump(struct vcpu *vcpu)
{
	const uint64_t *r = vcpu->regs.gpr;

	log_info("  rip %08lx  rsp %08lx  rflags %08lx  cr0 %08lx  cr3 %08lx  cr4 %08lx  cr8 %x",
		 vmcs_read(VMCS_GUEST_RIP), vmcs_read(VMCS_GUEST_RSP), vmcs_read(VMCS_GUEST_RFLAGS),
		 vcpu_guest_cr0(), vmcs_read(VMCS_GUEST_CR3), vcpu_guest_cr4(), vcpu->cr8);
	log_info("  eax %08lx  ebx %08lx  ecx %08lx  edx %08lx  esi %08lx  edi %08lx  ebp %08lx",
		 r[GPR_RAX], r[GPR_RBX], r[GPR_RCX], r[GPR_RDX], r[GPR_RSI], r[GPR_RDI], r[GPR_RBP]);
	log_info("  cs %04lx  ds %04lx  ss %04lx  efer %lx  exits %lu",
		 vmcs_read(VMCS_GUEST_CS_SELECTOR), vmcs_read(VMCS_GUEST_DS_SELECTOR),
		 vmcs_read(VMCS_GUEST_SS_SELECTOR), vmcs_read(VMCS_GUEST_IA32_EFER), vcpu->exits_total);
}

__attribute__((cold)) static enum exit_action exit_triple_fault(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	guest_crash(vcpu->guest, "triple fault at rip 0x%lx (the guest could not deliver an exception)",
		    exit->guest_rip);
	return EXIT_STOPPED;
}

/* EPT-violation exit qualification, SDM Vol. 3C 28.2.1 Table 28-7 */
static enum exit_action exit_ept_violation(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t q = exit->qualification;
	uint64_t gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	const char *access = q & 2 ? "write" : q & 4 ? "instruction fetch" : "read";
	bool present = (q & (7u << 3)) != 0;
	uint64_t hpa;

	if (vcpu->guest->vm && vmachine_mmio_claims(vcpu->guest->vm, gpa))
		return exit_mmio(vcpu, exit, gpa);

	guest_crash(vcpu->guest, "EPT violation: %s at guest-physical 0x%lx (%s), rip 0x%lx", access,
		   gpa, present ? "not permitted" : !guest_gpa_to_hpa(vcpu->guest, gpa, 1, &hpa) ?
		   "outside the guest's RAM" : "not mapped", exit->guest_rip);
	return EXIT_STOPPED;
}

__attribute__((cold)) static enum exit_action exit_ept_misconfig(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	guest_stop(vcpu->guest, "EPT misconfiguration at guest-physical 0x%lx, rip 0x%lx",
		   vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), exit->guest_rip);
	return EXIT_STOPPED;
}

enum exit_action exit_ignore(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)vcpu;
	(void)exit;
	return EXIT_RESUME;
}

enum exit_action exit_advance(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)vcpu;
	(void)exit;
	return EXIT_ADVANCE;
}

enum exit_action vmx_handle_exit_full(struct vcpu *vcpu)
{
	struct vmx_exit exit;
	exit_handler_fn handler = NULL;
	enum exit_action action;

	exit.full_reason = (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON);
	exit.reason = exit.full_reason & 0xffff;
	exit.qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
	exit.guest_rip = vmcs_read(VMCS_GUEST_RIP);
	exit.instruction_length = (uint32_t)vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LENGTH);

	vcpu->exits_total++;
	vcpu->last_exit_reason = exit.full_reason;
	vcpu->last_exit_qualification = exit.qualification;
	if (exit.reason < EXIT_REASON_MAX) {
		vcpu->exits[exit.reason]++;
		handler = exit_handlers[exit.reason];
	}
	vcpu_reinject_vectoring();
	if (exit.full_reason & EXIT_REASON_ENTRY_FAILURE) {
		/* SDM Vol. 3C 27.8: the guest state or MSR loading was refused. */
		vcpu_dump(vcpu);
		guest_stop(vcpu->guest, "VM entry failed: %s (exit reason %u), qualification 0x%lx",
			   vmx_exit_reason_name(exit.reason), exit.reason, exit.qualification);
		return EXIT_STOPPED;
	}
	if (!handler) {
		vcpu_dump(vcpu);
		guest_crash(vcpu->guest, "unhandled VM exit: %s (reason %u), qualification 0x%lx, rip 0x%lx",
			   vmx_exit_reason_name(exit.reason), exit.reason, exit.qualification,
			   exit.guest_rip);
		return EXIT_STOPPED;
	}
	action = handler(vcpu, &exit);
	if (action == EXIT_ADVANCE) {
		vmcs_write(VMCS_GUEST_RIP, exit.guest_rip + exit.instruction_length);
		/* Emulating the instruction ends STI/MOV-SS blocking, SDM Vol. 3C 26.4.1.2 */
		if (vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & 3)
			vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE,
				   vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & ~3ull);
	}
	return action;
}
