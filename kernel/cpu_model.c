/* The virtual CPU a guest sees: CPUID filtered to what Cloison virtualises, the topology of the
 * guest's own vCPUs, the TSC frequency, and XCR0's rules. No hardware access. */
#include "kernel/cpu_model.h"
#include "kernel/x86.h"
#include "kernel/hypercall.h"

/* Leaf 1: features whose MSRs or instructions Cloison does not back (thermal, debug store,
 * performance capabilities, machine check, SMX/VMX, MONITOR, DCA), SDM Vol. 2A Table 3-10/3-11. */
#define LEAF1_ECX_HIDDEN (CPUID_1_ECX_DTES64 | CPUID_1_ECX_MONITOR | CPUID_1_ECX_DS_CPL | \
			  CPUID_1_ECX_VMX | CPUID_1_ECX_SMX | CPUID_1_ECX_EST | CPUID_1_ECX_TM2 | \
			  CPUID_1_ECX_SDBG | CPUID_1_ECX_XTPR | CPUID_1_ECX_PDCM | CPUID_1_ECX_DCA)
#define LEAF1_EDX_HIDDEN (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA | CPUID_1_EDX_PSN | CPUID_1_EDX_DS | \
			  CPUID_1_EDX_ACPI | CPUID_1_EDX_TM | CPUID_1_EDX_PBE)

/* Leaf 7.0 EBX: TSC_ADJUST(1), SGX(2), RDT monitoring(12), MPX(14), RDT allocation(15),
 * Processor Trace(25): MSR-backed features a guest does not get. */
#define LEAF7_EBX_HIDDEN ((1u << 1) | (1u << 2) | (1u << 12) | (1u << 14) | (1u << 15) | (1u << 25))
/* AVX2(5) needs AVX; the AVX-512 family needs the AVX-512 state. */
#define LEAF7_EBX_AVX2 (1u << 5)
#define LEAF7_EBX_AVX512 ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | \
			  (1u << 28) | (1u << 30) | (1u << 31))
/* Leaf 7.0 ECX: PKU(3), OSPKE(4), WAITPKG(5), CET shadow stack(7), TME(13), SGX launch
 * control(30), PKS(31). */
#define LEAF7_ECX_HIDDEN ((1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 13) | \
			  (1u << 30) | (1u << 31))
#define LEAF7_ECX_AVX512 ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
/* Leaf 7.0 EDX: UINTR(5), hybrid(15), PCONFIG(18), arch LBR(19), CET IBT(20), AMX(22,24,25),
 * and the speculation-control MSRs SPEC_CTRL/PRED_CMD(26), STIBP(27), FLUSH_CMD(28),
 * ARCH_CAPABILITIES(29), CORE_CAPABILITIES(30), SSBD(31). */
#define LEAF7_EDX_HIDDEN ((1u << 5) | (1u << 15) | (1u << 18) | (1u << 19) | (1u << 20) | \
			  (1u << 22) | (1u << 24) | (1u << 25) | (1u << 26) | (1u << 27) | \
			  (1u << 28) | (1u << 29) | (1u << 30) | (1u << 31))
#define LEAF7_EDX_AVX512 ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23))
/* Leaf 7.1 EAX: AVX-VNNI(4) and AVX512_BF16(5) are plain instructions; the rest is not offered. */
#define LEAF7_1_EAX_KEPT ((1u << 4) | (1u << 5))

/* Leaf 0xD.1 EAX: XSAVEOPT(0), XSAVEC(1), XGETBV with ECX=1(2); not XSAVES(3) or XFD(4), whose
 * supervisor state and MSRs are not virtualised. */
#define LEAF_D_1_EAX_KEPT 0x7u

/* Leaf 0x80000007 EDX: only the invariant TSC(8); the rest is power management. */
#define LEAF_80000007_EDX_KEPT (1u << 8)

uint64_t cpu_model_xcr0_allowed(uint64_t host_supported)
{
	uint64_t allowed = host_supported & XSTATE_GUEST_COMPONENTS;

	if (!(allowed & XSTATE_X87) || !(allowed & XSTATE_SSE))
		return allowed & XSTATE_X87;
	if (!(allowed & XSTATE_AVX) || (allowed & XSTATE_AVX512) != XSTATE_AVX512)
		allowed &= ~XSTATE_AVX512;
	return allowed;
}

bool cpu_model_xcr0_valid(uint64_t xcr0, uint64_t allowed)
{
	if (!(xcr0 & XSTATE_X87) || (xcr0 & ~allowed))
		return false;
	if ((xcr0 & XSTATE_AVX) && !(xcr0 & XSTATE_SSE))
		return false;
	if ((xcr0 & XSTATE_AVX512) &&
	    ((xcr0 & XSTATE_AVX512) != XSTATE_AVX512 || !(xcr0 & XSTATE_AVX)))
		return false;
	if (!(xcr0 & XSTATE_BNDREGS) != !(xcr0 & XSTATE_BNDCSR))
		return false;
	if (!(xcr0 & XSTATE_TILECFG) != !(xcr0 & XSTATE_TILEDATA))
		return false;
	return true;
}

static void cpuid_zero(struct cpuid_regs *r)
{
	r->eax = r->ebx = r->ecx = r->edx = 0;
}

/* Bits needed to number n items: the shift of the next topology level, SDM Vol. 3A 9.9.1 */
static uint32_t id_bits(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void cpuid_leaf1(struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	r->ecx &= ~LEAF1_ECX_HIDDEN;
	if (!ctx->x2apic)
		r->ecx &= ~CPUID_1_ECX_X2APIC;
	if (!ctx->tsc_deadline)
		r->ecx &= ~CPUID_1_ECX_TSC_DEADLINE;
	if (!(ctx->xcr0_allowed & XSTATE_X87))
		r->ecx &= ~(CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE);
	if (!(ctx->xcr0_allowed & XSTATE_AVX))
		r->ecx &= ~CPUID_1_ECX_AVX;
	/* OSXSAVE mirrors the guest's CR4.OSXSAVE, not the host's, SDM Vol. 2A CPUID */
	r->ecx &= ~CPUID_1_ECX_OSXSAVE;
	if ((r->ecx & CPUID_1_ECX_XSAVE) && (ctx->guest_cr4 & CR4_OSXSAVE))
		r->ecx |= CPUID_1_ECX_OSXSAVE;
	r->ecx |= CPUID_1_ECX_HYPERVISOR;

	r->edx &= ~LEAF1_EDX_HIDDEN;
	if (!ctx->lapic)
		r->edx &= ~CPUID_1_EDX_APIC;
	r->edx &= ~CPUID_1_EDX_HTT;
	if (ctx->vcpu_count > 1)
		r->edx |= CPUID_1_EDX_HTT;
	/* EBX: brand index and CLFLUSH size kept; logical processors and the initial APIC ID ours */
	r->ebx = (r->ebx & 0xffffu) | ((ctx->vcpu_count & 0xffu) << 16) | (ctx->apic_id << 24);
}

static void cpuid_leaf7(uint32_t subleaf, struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	if (subleaf == 0) {
		r->eax = r->eax >= 1 ? 1 : 0;
		r->ebx &= ~LEAF7_EBX_HIDDEN;
		r->ecx &= ~LEAF7_ECX_HIDDEN;
		r->edx &= ~LEAF7_EDX_HIDDEN;
		if (!(ctx->xcr0_allowed & XSTATE_AVX))
			r->ebx &= ~LEAF7_EBX_AVX2;
		if ((ctx->xcr0_allowed & XSTATE_AVX512) != XSTATE_AVX512) {
			r->ebx &= ~LEAF7_EBX_AVX512;
			r->ecx &= ~LEAF7_ECX_AVX512;
			r->edx &= ~LEAF7_EDX_AVX512;
		}
	} else if (subleaf == 1) {
		r->eax &= LEAF7_1_EAX_KEPT;
		if (!(ctx->xcr0_allowed & XSTATE_AVX))
			r->eax = 0;
		r->ebx = r->ecx = r->edx = 0;
	} else {
		cpuid_zero(r);
	}
}

static void cpuid_leaf_d(uint32_t subleaf, struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	if (!ctx->xcr0_allowed) {
		cpuid_zero(r);
		return;
	}
	if (subleaf == 0) {
		/* EBX (the size for the current XCR0) is the host's: the guest's XCR0 is loaded. */
		r->eax = (uint32_t)ctx->xcr0_allowed;
		r->edx = (uint32_t)(ctx->xcr0_allowed >> 32);
		r->ecx = ctx->xsave_size;
	} else if (subleaf == 1) {
		/* EBX (the compacted size for XCR0 | IA32_XSS) is the host's: XSAVEC uses it, and
		 * IA32_XSS stays 0 since no supervisor state is offered (ECX:EDX). */
		r->eax &= LEAF_D_1_EAX_KEPT;
		r->ecx = r->edx = 0;
	} else if (subleaf >= 64 || !(ctx->xcr0_allowed & (1ull << subleaf))) {
		cpuid_zero(r);
	}
}

/* Extended topology, SDM Vol. 2A CPUID leaf 0BH: one thread per core, the guest's vCPUs as
 * the cores of one package. */
static void cpuid_leaf_b(uint32_t subleaf, struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	r->edx = ctx->apic_id;
	if (subleaf == 0) {
		r->eax = 0;
		r->ebx = 1;
		r->ecx = 0 | (1u << 8); /* level 0: SMT */
	} else if (subleaf == 1) {
		r->eax = id_bits(ctx->vcpu_count);
		r->ebx = ctx->vcpu_count;
		r->ecx = 1 | (2u << 8); /* level 1: core */
	} else {
		r->eax = r->ebx = 0;
		r->ecx = subleaf & 0xffu; /* invalid level */
	}
}

/* Deterministic cache parameters, SDM Vol. 2A CPUID leaf 04H: the host's caches, shared as
 * the guest's topology says (L1/L2 per core, L3 by the whole guest). */
static void cpuid_leaf4(struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	uint32_t level = (r->eax >> 5) & 7;
	uint32_t sharing = level >= 3 ? ctx->vcpu_count - 1 : 0;

	if ((r->eax & 0x1f) == 0) {
		cpuid_zero(r); /* no more caches */
		return;
	}
	r->eax &= 0x3fffu;
	r->eax |= (sharing & 0xfffu) << 14;
	r->eax |= ((ctx->vcpu_count - 1) & 0x3fu) << 26;
}

/* TSC and core crystal clock, SDM Vol. 2A CPUID leaves 15H/16H: TSC = crystal * EBX / EAX. */
static void cpuid_tsc_leaves(uint32_t leaf, struct cpuid_regs *r, const struct cpu_model_ctx *ctx)
{
	cpuid_zero(r);
	if (!ctx->tsc_hz || !ctx->crystal_hz)
		return;
	if (leaf == 0x15) {
		/* The ratio in kHz keeps the product exact: TSC kHz = crystal kHz * EBX / EAX. */
		r->eax = ctx->crystal_hz / 1000u;
		r->ebx = (uint32_t)(ctx->tsc_hz / 1000u);
		r->ecx = ctx->crystal_hz;
	} else {
		r->eax = (uint32_t)(ctx->tsc_hz / 1000000u);
		r->ebx = r->eax;
		r->ecx = ctx->crystal_hz / 1000000u;
	}
}

void cpu_model_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
		     const struct cpu_model_ctx *ctx)
{
	if ((leaf & 0xffffff00u) == CPUID_HV_LEAF) {
		/* Hypervisor leaves, as KVM, Xen and Hyper-V place them: "Cloison\0\0\0\0\0". */
		bool base = leaf == CPUID_HV_LEAF;

		r->eax = base ? CPUID_HV_LEAF : 0;
		r->ebx = base ? 0x696f6c43u : 0; /* "Cloi" */
		r->ecx = base ? 0x006e6f73u : 0; /* "son\0" */
		r->edx = 0;
		return;
	}
	if (leaf >= 0x80000000u) {
		if (leaf > CPU_MODEL_MAX_EXTENDED_LEAF) {
			cpuid_zero(r);
			return;
		}
		if (leaf == 0x80000000u && r->eax > CPU_MODEL_MAX_EXTENDED_LEAF)
			r->eax = CPU_MODEL_MAX_EXTENDED_LEAF;
		if (leaf == 0x80000005u)
			cpuid_zero(r); /* reserved on Intel */
		if (leaf == 0x80000007u) {
			r->eax = r->ebx = r->ecx = 0;
			r->edx &= LEAF_80000007_EDX_KEPT;
		}
		return;
	}
	if (leaf >= 0x40000000u || leaf > CPU_MODEL_MAX_BASIC_LEAF) {
		cpuid_zero(r); /* ranges Cloison does not describe */
		return;
	}
	/* Past the host's own last leaf the CPU repeats that leaf; Cloison's leaves stand alone. */
	if (leaf > ctx->host_max_basic && leaf != 0xb && leaf != 0x15 && leaf != 0x16) {
		cpuid_zero(r);
		return;
	}
	switch (leaf) {
	case 0:
		r->eax = CPU_MODEL_MAX_BASIC_LEAF;
		break;
	case 1:
		cpuid_leaf1(r, ctx);
		break;
	case 4:
		cpuid_leaf4(r, ctx);
		break;
	case 7:
		cpuid_leaf7(subleaf, r, ctx);
		break;
	case 0xb:
		cpuid_leaf_b(subleaf, r, ctx);
		break;
	case 0xd:
		cpuid_leaf_d(subleaf, r, ctx);
		break;
	case 0x15:
	case 0x16:
		cpuid_tsc_leaves(leaf, r, ctx);
		break;
	case 2:
		break; /* cache and TLB descriptors */
	default:
		/* 3 serial number, 5 MONITOR, 6 power, 8 and 0xc reserved, 9 DCA, 0xa PMU, 0xe-0x14
		 * RDT, SGX, Processor Trace: none of them is virtualised. */
		cpuid_zero(r);
		break;
	}
}

bool cpu_model_syscall_msr_ok(uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_IA32_LSTAR:
	case MSR_IA32_CSTAR:
		/* 48-bit linear addresses: bits 63:47 all equal, SDM Vol. 1 3.3.7.1 */
		return (uint64_t)((int64_t)(value << 16) >> 16) == value;
	case MSR_IA32_FMASK:
	case MSR_IA32_TSC_AUX:
		return !(value >> 32);
	case MSR_IA32_STAR:
		return true;
	default:
		return false;
	}
}
