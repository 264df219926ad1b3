/* Small exit handlers: HLT, VMCALL, control-register moves, VMX instructions, interrupts, timer. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/hypercall.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/trap.h"
#include "kernel/x86.h"
#include "drivers/timer.h"
#include "kernel/vcpu_context.h"
#include "drivers/virt/vmachine.h"

enum exit_action exit_hlt(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	struct guest *g = vcpu->guest;
	bool interrupts_on = vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF;

	vmcs_write(VMCS_GUEST_RIP, exit->guest_rip + exit->instruction_length);
	if (g->vm && !interrupts_on && g->nr_vcpus > 1) {
		/* One vCPU of several halts for good (only an NMI, INIT or SIPI would wake it): it
		 * alone leaves its CPU; the others go on. */
		vcpu->wake_tsc = UINT64_MAX;
		vcpu_set_block(vcpu, VCPU_HLT);
		return EXIT_YIELD;
	}
	if (g->vm && interrupts_on) {
		/* HLT ends at the next interrupt, SDM Vol. 2A HLT: now, or when its platform's next
		 * event is due; meanwhile the CPU-mates run (or the CPU sleeps). */
		if (vcpu_interrupt_ready(vcpu, rdtsc()))
			return EXIT_RESUME;
		vcpu->wake_tsc = vcpu_next_event(vcpu);
		vcpu_set_block(vcpu, VCPU_HLT);
		return EXIT_YIELD;
	}
	guest_set_state(g, GUEST_HALTED);
	/* Nothing can interrupt a guest yet: with or without IF it sleeps until stopped. */
	log_info("guest %s halted (HLT with interrupts %s at rip 0x%lx)", g->name,
		 interrupts_on ? "on, no interrupt source" : "off", exit->guest_rip);
	guest_check_all_idle();
	return EXIT_YIELD;
}

/* RDPMC: no virtual PMU (CPUID leaf 0xA is empty), so the counters every guest shares stay
 * out of reach: #GP as on a CPU whose counters do not exist, SDM Vol. 2B RDPMC. */
__attribute__((cold)) enum exit_action exit_rdpmc(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)vcpu;
	(void)exit;
	vcpu_inject_exception(VECTOR_GP, true, 0);
	return EXIT_RESUME;
}

/* MOV to or from a debug register, the first since the guest's start: its DR0-DR3 become live
 * on this CPU (vcpu_context_take_dr) and MOV DR stops exiting; the instruction runs again,
 * natively, with its own checks (CPL, DR4/DR5 with CR4.DE). Until now the guest could not
 * read DR0-DR3, and its DR7, which only MOV DR writes, armed none of them. */
__attribute__((cold)) enum exit_action exit_mov_dr(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)exit;
	vcpu_context_take_dr(&vcpu->context);
	vmcs_cpu_controls(CPU_MOV_DR_EXITING, false);
	return EXIT_RESUME;
}

/* A machine check is the host's: the guest it interrupted is stopped, never handed the #MC
 * (SDM Vol. 3C 26.8 for checks during entry, 25.2 with the exception bitmap). */
__attribute__((cold)) enum exit_action exit_machine_check(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	vcpu_dump(vcpu);
	guest_stop(vcpu->guest, "machine check while it ran (rip 0x%lx): stopped, state not trusted",
		   exit->guest_rip);
	return EXIT_STOPPED;
}

enum exit_action exit_vmcall(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	unsigned cpl = (vmcs_read(VMCS_GUEST_SS_ACCESS_RIGHTS) >> 5) & 3;

	(void)exit;
	if (cpl != 0) {
		/* Only the guest kernel may call the hypervisor; user code gets #UD as on bare metal. */
		vcpu_inject_exception(VECTOR_UD, false, 0);
		return EXIT_RESUME;
	}
	switch ((uint32_t)gpr[GPR_RAX]) {
	case HC_EXIT:
		guest_exit(vcpu->guest, (int)(uint32_t)gpr[GPR_RBX], "hypercall");
		return EXIT_STOPPED;
	case HC_NOP:
		gpr[GPR_RAX] = 0;
		return EXIT_ADVANCE;
	case HC_BOOT_TSC:
		gpr[GPR_RAX] = (uint32_t)boot_tsc;
		gpr[GPR_RDX] = boot_tsc >> 32;
		return EXIT_ADVANCE;
	case HC_GUEST_START_TSC:
		gpr[GPR_RAX] = (uint32_t)vcpu->guest->start_tsc;
		gpr[GPR_RDX] = vcpu->guest->start_tsc >> 32;
		return EXIT_ADVANCE;
	default:
		gpr[GPR_RAX] = HC_ERR_UNKNOWN;
		return EXIT_ADVANCE;
	}
}

static uint64_t guest_gpr_read(struct vcpu *vcpu, unsigned reg)
{
	return reg == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : vcpu->regs.gpr[reg];
}

static void guest_gpr_write(struct vcpu *vcpu, unsigned reg, uint64_t value)
{
	if (reg == GPR_RSP)
		vmcs_write(VMCS_GUEST_RSP, value);
	else
		vcpu->regs.gpr[reg] = value;
}

/* With EPT and PAE paging, VM entry takes the PDPTEs from the VMCS, SDM Vol. 3C 26.3.2.4:
 * reload them whenever the hypervisor itself changes CR0, CR3 or CR4. */
__attribute__((cold)) static void vcpu_load_pdptes(struct vcpu *vcpu)
{
	struct guest *g = vcpu->guest;
	uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0), cr4 = vmcs_read(VMCS_GUEST_CR4);
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint64_t table = vmcs_read(VMCS_GUEST_CR3) & 0xffffffe0ull;

	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t gpa = table + 8 * i, pdpte = 0, hpa;

		if (guest_gpa_to_hpa(g, gpa, 8, &hpa))
			pdpte = *(uint64_t *)hpa;
		vmcs_write((enum vmcs_field)(VMCS_GUEST_PDPTE0 + 2 * i), pdpte);
	}
}

__attribute__((cold)) static enum exit_action cr0_write(struct vcpu *vcpu, uint64_t value)
{
	uint64_t old = vmcs_read(VMCS_CR0_READ_SHADOW);
	uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	uint32_t entry = (uint32_t)vmcs_read(VMCS_VM_ENTRY_CONTROLS);

	if ((value & CR0_PG) && !(value & CR0_PE)) {
		vcpu_inject_exception(VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	/* Paging switched by our VMWRITE: enter or leave IA-32e mode as the CPU would, SDM Vol. 3A 9.8.5 */
	if ((efer & EFER_LME) && !(old & CR0_PG) && (value & CR0_PG)) {
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE_GUEST;
	} else if ((old & CR0_PG) && !(value & CR0_PG)) {
		efer &= ~EFER_LMA;
		entry &= ~ENTRY_IA32E_MODE_GUEST;
	}
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry);
	vmcs_write(VMCS_CR0_READ_SHADOW, value);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&vmx_caps, value, true));
	vcpu_load_pdptes(vcpu);
	return EXIT_ADVANCE;
}

__attribute__((cold)) static enum exit_action cr4_write(struct vcpu *vcpu, uint64_t value)
{
	/* CPUID hides VMX, SMX, PKU and CET, and XSAVE where the CPU lacks it: setting their CR4
	 * bits faults as on a CPU without them (SDM Vol. 3A 2.5), so PKRU and the CET state are
	 * never live in a guest. */
	uint64_t refused = CR4_VMXE | CR4_SMXE | CR4_PKE | CR4_CET | (xstate.enabled ? 0 : CR4_OSXSAVE);

	if (value & refused) {
		vcpu_inject_exception(VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	vmcs_write(VMCS_CR4_READ_SHADOW, value);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&vmx_caps, value));
	vcpu_load_pdptes(vcpu);
	return EXIT_ADVANCE;
}

/* Control-register-access exit qualification, SDM Vol. 3C 28.2.1 Table 28-3 */
__attribute__((cold)) enum exit_action exit_cr_access(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	unsigned cr = exit->qualification & 0xf;
	unsigned type = (exit->qualification >> 4) & 3;
	unsigned reg = (exit->qualification >> 8) & 0xf;

	if (type == 0 && cr == 0)
		return cr0_write(vcpu, guest_gpr_read(vcpu, reg));
	if (type == 0 && cr == 4)
		return cr4_write(vcpu, guest_gpr_read(vcpu, reg));
	if (type == 0 && cr == 3) {
		vmcs_write(VMCS_GUEST_CR3, guest_gpr_read(vcpu, reg));
		vcpu_load_pdptes(vcpu);
		return EXIT_ADVANCE;
	}
	if (type == 1 && cr == 3) {
		guest_gpr_write(vcpu, reg, vmcs_read(VMCS_GUEST_CR3));
		return EXIT_ADVANCE;
	}
	/* CR8 is the task priority (SDM Vol. 3A 10.8.6.1): the guest's own, kept in its vCPU, so
	 * the host's local APIC TPR is never the guest's to set or to read. */
	if (type == 0 && cr == 8) {
		uint64_t value = guest_gpr_read(vcpu, reg);

		if (value & ~0xfull) {
			vcpu_inject_exception(VECTOR_GP, true, 0); /* reserved bits, SDM Vol. 2B MOV CR */
			return EXIT_RESUME;
		}
		vcpu->cr8 = (uint8_t)value;
		if (vcpu->guest->vm) {
			spin_lock(&vcpu->guest->vm_lock);
			vmachine_set_cr8(vcpu->guest->vm, vcpu->index, vcpu->cr8);
			spin_unlock(&vcpu->guest->vm_lock);
		}
		return EXIT_ADVANCE;
	}
	if (type == 1 && cr == 8) {
		if (vcpu->guest->vm)
			vcpu->cr8 = vmachine_cr8(vcpu->guest->vm, vcpu->index);
		guest_gpr_write(vcpu, reg, vcpu->cr8);
		return EXIT_ADVANCE;
	}
	vcpu_dump(vcpu);
	guest_stop(vcpu->guest, "unsupported control-register access (CR%u, access type %u), rip 0x%lx",
		   cr, type, exit->guest_rip);
	return EXIT_STOPPED;
}

/* VMX instructions in a guest: CPUID says there is no VMX, so they are undefined opcodes. */
__attribute__((cold)) enum exit_action exit_vmx_instruction(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)exit;
	(void)vcpu;
	vcpu_inject_exception(VECTOR_UD, false, 0);
	return EXIT_RESUME;
}

/* The interrupt is still pending in the local APIC (no acknowledge-on-exit): open a one-
 * instruction window so the host's own IDT handler takes it, as on bare metal. */
enum exit_action exit_external_interrupt(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)exit;
	irq_window();
	return vcpu->guest->state == GUEST_RUNNING ? EXIT_RESUME : EXIT_YIELD;
}

enum exit_action exit_preemption_timer(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)vcpu;
	(void)exit;
	return EXIT_TIMER;
}

/* Exception or NMI exit, SDM Vol. 3C 25.9.2: the bitmap holds only #MC, so NMIs and machine
 * checks come here. */
__attribute__((cold)) enum exit_action exit_exception_nmi(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_VM_EXIT_INTERRUPTION_INFO);

	if (((info >> 8) & 7) == 2) {
		if (panic_in_progress())
			halt_forever(); /* the panicking CPU stops the others with NMIs */
		/* A kick from another CPU (guest_wake_cpu): NMIs stay blocked until an IRET, which
		 * the host's handler ends with; then the run loop looks at what the kick was for. */
		nmi_unblock();
		return EXIT_RESUME;
	}
	if ((info & 0xff) == VECTOR_MC)
		return exit_machine_check(vcpu, exit);
	vcpu_dump(vcpu);
	guest_stop(vcpu->guest, "unexpected exception exit: vector %u, rip 0x%lx", info & 0xff,
		   exit->guest_rip);
	return EXIT_STOPPED;
}
