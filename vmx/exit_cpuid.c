/* CPUID exits: the host's answer, with VMX hidden, the hypervisor bit set, and Cloison's leaves. */
#include "vmx/exit.h"
#include "kernel/hypercall.h"
#include "kernel/x86.h"

#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_SMX (1u << 6)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)

enum exit_action exit_cpuid(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	uint32_t leaf = (uint32_t)gpr[GPR_RAX], subleaf = (uint32_t)gpr[GPR_RCX];
	struct cpuid_regs r;

	(void)exit;
	if ((leaf & 0xffffff00u) == CPUID_HV_LEAF) {
		/* Hypervisor leaves, as KVM, Xen and Hyper-V place them: "Cloison\0\0\0\0\0". */
		r.eax = leaf == CPUID_HV_LEAF ? CPUID_HV_LEAF : 0;
		r.ebx = leaf == CPUID_HV_LEAF ? 0x696f6c43u : 0; /* "Cloi" */
		r.ecx = leaf == CPUID_HV_LEAF ? 0x006e6f73u : 0; /* "son\0" */
		r.edx = 0;
	} else {
		cpuid(leaf, subleaf, &r);
		switch (leaf) {
		case 1:
			/* No nested VMX, no SMX, no x2APIC/TSC deadline or MONITOR (not virtualised yet). */
			r.ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX | CPUID_1_ECX_X2APIC |
				   CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_MONITOR);
			r.ecx |= CPUID_1_ECX_HYPERVISOR;
			/* One logical processor, initial APIC ID = vCPU 0. */
			r.ebx &= 0x0000ffffu;
			r.ebx |= 1u << 16;
			r.edx &= ~CPUID_1_EDX_HTT;
			break;
		case 5:  /* MONITOR/MWAIT */
		case 6:  /* thermal and power management */
		case 0xa: /* performance monitoring: no virtual PMU */
			r.eax = r.ebx = r.ecx = r.edx = 0;
			break;
		default:
			break;
		}
	}
	gpr[GPR_RAX] = r.eax;
	gpr[GPR_RBX] = r.ebx;
	gpr[GPR_RCX] = r.ecx;
	gpr[GPR_RDX] = r.edx;
	return EXIT_ADVANCE;
}
