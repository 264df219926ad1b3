/* CPUID and XSETBV exits: the host's answer turned into the guest's by the virtual CPU model
 * (kernel/cpu_model.c), and XCR0 loads checked against what Cloison switches. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/cpu_model.h"
#include "kernel/x86.h"
#include "drivers/timer.h"

/* The guest's CR4 (and CR0 below) as it reads it: its own bits from the VMCS, Cloison's from the
 * read shadow (SDM Vol. 3C 25.6.6); reads of the current VMCS's fields, which cannot fail. */
uint64_t vcpu_guest_cr4(void)
{
	uint64_t mask = vmread_unchecked(VMCS_CR4_GUEST_HOST_MASK);

	return (vmread_unchecked(VMCS_GUEST_CR4) & ~mask) |
	       (vmread_unchecked(VMCS_CR4_READ_SHADOW) & mask);
}

uint64_t vcpu_guest_cr0(void)
{
	uint64_t mask = vmread_unchecked(VMCS_CR0_GUEST_HOST_MASK);

	return (vmread_unchecked(VMCS_GUEST_CR0) & ~mask) |
	       (vmread_unchecked(VMCS_CR0_READ_SHADOW) & mask);
}

enum exit_action exit_cpuid(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	uint32_t leaf = (uint32_t)gpr[GPR_RAX], subleaf = (uint32_t)gpr[GPR_RCX];
	struct cpu_model_ctx ctx = {
		.host_max_basic = xstate.host_max_basic,
		.guest_cr4 = vcpu_guest_cr4(),
		.xcr0_allowed = xstate.enabled ? xstate.guest_mask : 0,
		.xsave_size = xstate.size,
		.apic_id = vcpu->index,
		.vcpu_count = vcpu->guest->nr_vcpus,
		.tsc_hz = tsc_per_ms * 1000,
		.crystal_hz = CPU_MODEL_CRYSTAL_HZ,
		/* A guest with a virtual platform has a local APIC with a TSC-deadline timer. */
		.lapic = vcpu->guest->vm != NULL,
		.tsc_deadline = vcpu->guest->vm != NULL,
	};
	struct cpuid_regs r;

	(void)exit;
	cpuid(leaf, subleaf, &r);
	cpu_model_cpuid(leaf, subleaf, &r, &ctx);
	/* The fast path answers this leaf from now on when it cannot change during the run */
	cpuid_cache_fill(&vcpu->context.cpuid, leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
	gpr[GPR_RAX] = r.eax;
	gpr[GPR_RBX] = r.ebx;
	gpr[GPR_RCX] = r.ecx;
	gpr[GPR_RDX] = r.edx;
	return EXIT_ADVANCE;
}

/* XSETBV, SDM Vol. 2C: CPL 0 and ECX = 0 only, and only XCR0 values the CPU model allows, or
 * #GP(0); the new XCR0 is part of the guest's switched context. */
__attribute__((cold)) enum exit_action exit_xsetbv(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	uint64_t value = (gpr[GPR_RDX] << 32) | (uint32_t)gpr[GPR_RAX];
	unsigned cpl = (vmcs_read(VMCS_GUEST_SS_ACCESS_RIGHTS) >> 5) & 3;

	(void)exit;
	if (!xstate.enabled || !(vcpu_guest_cr4() & CR4_OSXSAVE)) {
		vcpu_inject_exception(VECTOR_UD, false, 0);
		return EXIT_RESUME;
	}
	if (cpl != 0 || (uint32_t)gpr[GPR_RCX] != 0 ||
	    !cpu_model_xcr0_valid(value, xstate.guest_mask)) {
		vcpu_inject_exception(VECTOR_GP, true, 0);
		return EXIT_RESUME;
	}
	vcpu_context_set_xcr0(&vcpu->context, value);
	return EXIT_ADVANCE;
}
