/* Host tests of the virtual CPU model: CPUID filtering, topology, TSC leaves and XCR0 rules. */
#include "tests/unit/test.h"
#include "kernel/cpu_model.h"
#include "kernel/x86.h"
#include "kernel/hypercall.h"

TEST_MAIN_GLOBALS;

#define AVX512_ALLOWED (XSTATE_X87 | XSTATE_SSE | XSTATE_AVX | XSTATE_AVX512)

static struct cpu_model_ctx ctx_default(void)
{
	struct cpu_model_ctx c = {
		.host_max_basic = 0x16,
		.guest_cr4 = 0,
		.xcr0_allowed = AVX512_ALLOWED,
		.xsave_size = 2688,
		.apic_id = 0,
		.vcpu_count = 1,
		.tsc_hz = 3500000000ull,
		.crystal_hz = 25000000,
	};
	return c;
}

/* The host's answer with every bit set: whatever survives is what the model lets through. */
static struct cpuid_regs ask(uint32_t leaf, uint32_t subleaf, const struct cpu_model_ctx *c)
{
	struct cpuid_regs r = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };

	cpu_model_cpuid(leaf, subleaf, &r, c);
	return r;
}

static void test_leaf1_hides_unbacked_features(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r = ask(1, 0, &c);

	/* Each of these names MSRs or instructions Cloison refuses: advertising them kills a guest. */
	CHECK_EQ(r.ecx & CPUID_1_ECX_PDCM, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_VMX, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_SMX, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_DTES64, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_DS_CPL, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_EST, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_TM2, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_SDBG, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_MONITOR, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_X2APIC, 0);
	CHECK_EQ(r.ecx & CPUID_1_ECX_TSC_DEADLINE, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_MCE, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_MCA, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_DS, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_ACPI, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_TM, 0);
	CHECK_EQ(r.edx & CPUID_1_EDX_APIC, 0); /* no virtual LAPIC in this context */
	CHECK_EQ(r.edx & CPUID_1_EDX_HTT, 0);
	CHECK(r.ecx & CPUID_1_ECX_HYPERVISOR);
	CHECK(r.ecx & CPUID_1_ECX_XSAVE);
	CHECK(r.ecx & CPUID_1_ECX_AVX);
	/* Plain features pass: SSE3 (ECX 0), FPU (EDX 0), TSC (EDX 4), MSR (EDX 5), PAT (EDX 16). */
	CHECK(r.ecx & 1);
	CHECK_EQ(r.edx & 0x10031, 0x10031);
}

static void test_leaf1_osxsave_follows_guest_cr4(void)
{
	struct cpu_model_ctx c = ctx_default();

	CHECK_EQ(ask(1, 0, &c).ecx & CPUID_1_ECX_OSXSAVE, 0);
	c.guest_cr4 = CR4_OSXSAVE;
	CHECK(ask(1, 0, &c).ecx & CPUID_1_ECX_OSXSAVE);
	/* A host's OSXSAVE never shows through when the guest has not set it. */
	c.guest_cr4 = 0;
	c.xcr0_allowed = 0;
	CHECK_EQ(ask(1, 0, &c).ecx & (CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_XSAVE | CPUID_1_ECX_AVX), 0);
}

static void test_leaf1_topology_and_apic_features(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r;

	c.apic_id = 3;
	c.vcpu_count = 4;
	c.lapic = c.x2apic = c.tsc_deadline = true;
	r = ask(1, 0, &c);
	CHECK_EQ(r.ebx >> 24, 3);
	CHECK_EQ((r.ebx >> 16) & 0xff, 4);
	CHECK_EQ(r.ebx & 0xffff, 0xffff);
	CHECK(r.edx & CPUID_1_EDX_HTT);
	CHECK(r.edx & CPUID_1_EDX_APIC);
	CHECK(r.ecx & CPUID_1_ECX_X2APIC);
	CHECK(r.ecx & CPUID_1_ECX_TSC_DEADLINE);
}

static void test_leaf7(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r = ask(7, 0, &c);

	CHECK_EQ(r.eax, 1);
	CHECK_EQ(r.ebx & (1u << 1), 0);  /* TSC_ADJUST */
	CHECK_EQ(r.ebx & (1u << 2), 0);  /* SGX */
	CHECK_EQ(r.ebx & (1u << 14), 0); /* MPX */
	CHECK_EQ(r.ebx & (1u << 25), 0); /* Processor Trace */
	CHECK_EQ(r.ecx & (1u << 3), 0);  /* PKU */
	CHECK_EQ(r.ecx & (1u << 5), 0);  /* WAITPKG */
	CHECK_EQ(r.edx & (0x3fu << 26), 0); /* speculation-control MSRs */
	CHECK(r.ebx & (1u << 5));        /* AVX2 */
	CHECK(r.ebx & (1u << 16));       /* AVX512F with the AVX-512 state allowed */
	CHECK(r.ebx & (1u << 0));        /* FSGSBASE passes */
	c.xcr0_allowed = XSTATE_X87 | XSTATE_SSE | XSTATE_AVX;
	r = ask(7, 0, &c);
	CHECK_EQ(r.ebx & (1u << 16), 0);
	CHECK(r.ebx & (1u << 5));
	c.xcr0_allowed = XSTATE_X87 | XSTATE_SSE;
	CHECK_EQ(ask(7, 0, &c).ebx & (1u << 5), 0);
	r = ask(7, 1, &c);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	r = ask(7, 2, &c);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_leaf_d(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r = ask(0xd, 0, &c);

	CHECK_EQ(r.eax, (uint32_t)AVX512_ALLOWED);
	CHECK_EQ(r.edx, 0);
	CHECK_EQ(r.ecx, 2688);
	CHECK_EQ(r.ebx, 0xffffffffu); /* the host's size for the loaded (guest's) XCR0 */
	r = ask(0xd, 1, &c);
	CHECK_EQ(r.eax, 0x7); /* no XSAVES, no XFD */
	CHECK_EQ(r.ebx, 0xffffffffu); /* XSAVEC's compacted size: the host's, for the guest's XCR0 */
	CHECK_EQ(r.ecx | r.edx, 0);   /* no supervisor state (IA32_XSS) */
	CHECK_EQ(ask(0xd, 2, &c).eax, 0xffffffffu);  /* AVX component described */
	CHECK_EQ(ask(0xd, 9, &c).eax, 0);            /* PKRU not offered */
	CHECK_EQ(ask(0xd, 3, &c).eax, 0);            /* MPX not offered */
	CHECK_EQ(ask(0xd, 63, &c).eax, 0);
	CHECK_EQ(ask(0xd, 200, &c).eax, 0);
	c.xcr0_allowed = 0;
	r = ask(0xd, 0, &c);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
}

static void test_topology_leaves(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r;

	r = ask(0xb, 0, &c);
	CHECK_EQ(r.eax, 0);
	CHECK_EQ(r.ebx, 1);
	CHECK_EQ(r.ecx, 0x100);
	CHECK_EQ(r.edx, 0);
	r = ask(0xb, 1, &c);
	CHECK_EQ(r.eax, 0);
	CHECK_EQ(r.ebx, 1);
	CHECK_EQ(r.ecx, 0x201);
	c.vcpu_count = 3;
	c.apic_id = 2;
	r = ask(0xb, 1, &c);
	CHECK_EQ(r.eax, 2);
	CHECK_EQ(r.ebx, 3);
	CHECK_EQ(r.edx, 2);
	r = ask(0xb, 2, &c);
	CHECK_EQ(r.eax | r.ebx, 0);
	CHECK_EQ(r.ecx, 2);
	/* Leaf 4: L1 (level 1) per core, L3 shared by the guest's vCPUs; host counts hidden. */
	r.eax = 0xfc004121u; /* data cache, level 1, 63 cores, 2 threads sharing on the host */
	r.ebx = r.ecx = r.edx = 0;
	cpu_model_cpuid(4, 0, &r, &c);
	CHECK_EQ(r.eax, 0x08000121u);
	r.eax = 0xfc0fc163u; /* unified, level 3 */
	cpu_model_cpuid(4, 3, &r, &c);
	CHECK_EQ(r.eax, 0x08008163u);
	r.eax = 0xfc000000u; /* type 0: no more caches */
	cpu_model_cpuid(4, 4, &r, &c);
	CHECK_EQ(r.eax, 0);
}

static void test_tsc_leaves(void)
{
	struct cpu_model_ctx c = ctx_default();
	struct cpuid_regs r = ask(0x15, 0, &c);

	CHECK_EQ(r.eax, 25000);
	CHECK_EQ(r.ebx, 3500000);
	CHECK_EQ(r.ecx, 25000000);
	CHECK_EQ((uint64_t)r.ecx * r.ebx / r.eax, c.tsc_hz);
	/* A TSC that is no multiple of the crystal stays exact to the kHz (Linux's unit). */
	struct cpu_model_ctx odd = c;
	odd.tsc_hz = 98765432000ull / 1000;
	r = ask(0x15, 0, &odd);
	CHECK_EQ((uint64_t)(r.ecx / 1000) * r.ebx / r.eax, odd.tsc_hz / 1000);
	r = ask(0x16, 0, &c);
	CHECK_EQ(r.eax, 3500);
	CHECK_EQ(r.ecx, 25);
	c.tsc_hz = 0;
	r = ask(0x15, 0, &c);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* Synthesised even when the host stops earlier; other leaves past its last are zero. */
	c = ctx_default();
	c.host_max_basic = 0xd;
	CHECK_EQ(ask(0x15, 0, &c).ecx, 25000000);
	CHECK_EQ(ask(0x14, 0, &c).eax, 0);
	CHECK_EQ(ask(0, 0, &c).eax, CPU_MODEL_MAX_BASIC_LEAF);
}

static void test_hidden_leaves(void)
{
	struct cpu_model_ctx c = ctx_default();
	static const uint32_t zero_leaves[] = { 3, 5, 6, 8, 9, 0xa, 0xc, 0xe, 0xf, 0x10, 0x12, 0x14,
						0x17, 0x1f, 0x20000000u, 0x80000005u, 0x80000009u };
	struct cpuid_regs r;

	for (size_t i = 0; i < sizeof(zero_leaves) / sizeof(zero_leaves[0]); i++) {
		r = ask(zero_leaves[i], 0, &c);
		CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
	r = ask(0x80000000u, 0, &c);
	CHECK_EQ(r.eax, CPU_MODEL_MAX_EXTENDED_LEAF);
	r = ask(0x80000007u, 0, &c);
	CHECK_EQ(r.edx, 1u << 8);
	CHECK_EQ(r.eax | r.ebx | r.ecx, 0);
	r = ask(CPUID_HV_LEAF, 0, &c);
	CHECK_EQ(r.ebx, 0x696f6c43u);
	CHECK_EQ(r.eax, CPUID_HV_LEAF);
	r = ask(CPUID_HV_LEAF + 1, 0, &c);
	CHECK_EQ(r.eax | r.ebx | r.ecx | r.edx, 0);
	/* Brand string and address sizes pass. */
	CHECK_EQ(ask(0x80000002u, 0, &c).eax, 0xffffffffu);
	CHECK_EQ(ask(0x80000008u, 0, &c).eax, 0xffffffffu);
}

static void test_xcr0_allowed(void)
{
	CHECK_EQ(cpu_model_xcr0_allowed(0x2ff), AVX512_ALLOWED); /* MPX and PKRU dropped */
	CHECK_EQ(cpu_model_xcr0_allowed(0x7), 0x7);
	CHECK_EQ(cpu_model_xcr0_allowed(0x3), 0x3);
	CHECK_EQ(cpu_model_xcr0_allowed(0x67), 0x7);  /* an incomplete AVX-512 set is not offered */
	CHECK_EQ(cpu_model_xcr0_allowed(0xe3), 0x3);  /* AVX-512 without AVX is not offered */
	CHECK_EQ(cpu_model_xcr0_allowed(0x60007), 0x7); /* AMX not offered */
	CHECK_EQ(cpu_model_xcr0_allowed(0), 0);
}

static void test_xcr0_valid(void)
{
	uint64_t all = AVX512_ALLOWED;

	CHECK(cpu_model_xcr0_valid(0x1, all));
	CHECK(cpu_model_xcr0_valid(0x3, all));
	CHECK(cpu_model_xcr0_valid(0x7, all));
	CHECK(cpu_model_xcr0_valid(0xe7, all));
	CHECK(!cpu_model_xcr0_valid(0x0, all));   /* x87 must stay on */
	CHECK(!cpu_model_xcr0_valid(0x2, all));
	CHECK(!cpu_model_xcr0_valid(0x5, all));   /* AVX without SSE */
	CHECK(!cpu_model_xcr0_valid(0x27, all));  /* part of the AVX-512 trio */
	CHECK(!cpu_model_xcr0_valid(0xe3, all));  /* AVX-512 without AVX */
	CHECK(!cpu_model_xcr0_valid(0x207, all)); /* PKRU not allowed */
	CHECK(cpu_model_xcr0_valid(0x1b, 0x1f)); /* the MPX pair together is fine ... */
	CHECK(!cpu_model_xcr0_valid(0x0b, 0x1f)); /* ... but not half of it */
	CHECK(!cpu_model_xcr0_valid(0x20003, 0x60003));
	CHECK(cpu_model_xcr0_valid(0x60003, 0x60003));
	CHECK(!cpu_model_xcr0_valid(1ull << 63, ~0ull));
	CHECK(!cpu_model_xcr0_valid(0x7, 0x3));
}

/* The SYSCALL MSRs' writes exit (their values live in the vCPU context): what the CPU refuses */
static void test_syscall_msr_values(void)
{
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_LSTAR, 0xffffffff81000000ull));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_LSTAR, 0x00007fffffffffffull));
	CHECK(!cpu_model_syscall_msr_ok(MSR_IA32_LSTAR, 0x0000800000000000ull));
	CHECK(!cpu_model_syscall_msr_ok(MSR_IA32_CSTAR, 0x8000000000000000ull));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_CSTAR, 0));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_STAR, 0x0023001000000000ull));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_STAR, ~0ull));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_FMASK, 0x47700));
	CHECK(!cpu_model_syscall_msr_ok(MSR_IA32_FMASK, 1ull << 32));
	CHECK(cpu_model_syscall_msr_ok(MSR_IA32_TSC_AUX, 0xffffffffull));
	CHECK(!cpu_model_syscall_msr_ok(MSR_IA32_TSC_AUX, 1ull << 40));
	CHECK(!cpu_model_syscall_msr_ok(MSR_IA32_KERNEL_GS_BASE, 0));
}

int main(void)
{
	RUN_TEST(test_leaf1_hides_unbacked_features);
	RUN_TEST(test_leaf1_osxsave_follows_guest_cr4);
	RUN_TEST(test_leaf1_topology_and_apic_features);
	RUN_TEST(test_leaf7);
	RUN_TEST(test_leaf_d);
	RUN_TEST(test_topology_leaves);
	RUN_TEST(test_tsc_leaves);
	RUN_TEST(test_hidden_leaves);
	RUN_TEST(test_xcr0_allowed);
	RUN_TEST(test_xcr0_valid);
	RUN_TEST(test_syscall_msr_values);
	return test_any_failed;
}
