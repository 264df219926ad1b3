/* features: believes CPUID, as a normal kernel does, and touches the MSRs and instructions behind
 * every feature bit it is shown. A bit Cloison advertises but does not back (an MSR that then
 * gives #GP) would kill a real kernel. Prints "features: F advertised but ..." for each such bit
 * and "features: N advertised features, all backed" (exit 0) or "features: N unbacked" (exit 1). */
#include "tests/guests/lib/guest.h"

#define CR4_PAE (1u << 5)
#define CR4_FSGSBASE (1u << 16)
#define CR4_OSXSAVE (1u << 18)
#define CR4_PKE (1u << 22)
#define CR4_VMXE (1u << 13)
#define CR4_SMXE (1u << 14)

enum probe_kind { READ_MSR, WRITE_MSR, SET_CR4, XSAVE_ON, RDTSCP_INSN, RDPMC_INSN, MONITOR_INSN };

/* A feature: CPUID leaf/subleaf, register (0 EAX .. 3 EDX), bit, and what backs it. */
struct feature {
	const char *name;
	uint32_t leaf, subleaf;
	uint8_t reg, bit;
	enum probe_kind kind;
	uint32_t msr;      /* or the CR4 bit for SET_CR4 */
	uint64_t value;    /* for WRITE_MSR */
};

static const struct feature features[] = {
	{ "TSC", 1, 0, 3, 4, READ_MSR, 0x10, 0 },
	{ "MCE", 1, 0, 3, 7, READ_MSR, 0x17a, 0 },        /* IA32_MCG_STATUS */
	{ "APIC", 1, 0, 3, 9, READ_MSR, 0x1b, 0 },
	{ "SEP", 1, 0, 3, 11, READ_MSR, 0x174, 0 },
	{ "MTRR", 1, 0, 3, 12, READ_MSR, 0xfe, 0 },
	{ "MTRR def type", 1, 0, 3, 12, READ_MSR, 0x2ff, 0 },
	{ "MCA", 1, 0, 3, 14, READ_MSR, 0x179, 0 },       /* IA32_MCG_CAP */
	{ "PAT", 1, 0, 3, 16, READ_MSR, 0x277, 0 },
	{ "DS", 1, 0, 3, 21, READ_MSR, 0x600, 0 },        /* IA32_DS_AREA */
	{ "ACPI thermal", 1, 0, 3, 22, READ_MSR, 0x19c, 0 },
	{ "TM", 1, 0, 3, 29, READ_MSR, 0x19c, 0 },
	{ "DTES64", 1, 0, 2, 2, READ_MSR, 0x600, 0 },
	{ "MONITOR", 1, 0, 2, 3, MONITOR_INSN, 0, 0 },
	{ "DS-CPL", 1, 0, 2, 4, READ_MSR, 0x600, 0 },
	{ "VMX", 1, 0, 2, 5, SET_CR4, CR4_VMXE, 0 },
	{ "SMX", 1, 0, 2, 6, SET_CR4, CR4_SMXE, 0 },
	{ "EST", 1, 0, 2, 7, READ_MSR, 0x198, 0 },        /* IA32_PERF_STATUS */
	{ "TM2", 1, 0, 2, 8, READ_MSR, 0x19d, 0 },
	{ "SDBG", 1, 0, 2, 11, READ_MSR, 0xc80, 0 },
	{ "PDCM", 1, 0, 2, 15, READ_MSR, 0x345, 0 },      /* IA32_PERF_CAPABILITIES */
	{ "x2APIC", 1, 0, 2, 21, READ_MSR, 0x1b, 0 },
	{ "TSC deadline", 1, 0, 2, 24, READ_MSR, 0x6e0, 0 },
	{ "XSAVE", 1, 0, 2, 26, XSAVE_ON, 0, 0 },
	{ "FSGSBASE", 7, 0, 1, 0, SET_CR4, CR4_FSGSBASE, 0 },
	{ "TSC_ADJUST", 7, 0, 1, 1, READ_MSR, 0x3b, 0 },
	{ "RDT monitoring", 7, 0, 1, 12, READ_MSR, 0xc8f, 0 },
	{ "MPX", 7, 0, 1, 14, READ_MSR, 0xd90, 0 },
	{ "RDT allocation", 7, 0, 1, 15, READ_MSR, 0xc8f, 0 },
	{ "Processor Trace", 7, 0, 1, 25, READ_MSR, 0x570, 0 },
	{ "PKU", 7, 0, 2, 3, SET_CR4, CR4_PKE, 0 },
	{ "WAITPKG", 7, 0, 2, 5, READ_MSR, 0xe1, 0 },
	{ "TME", 7, 0, 2, 13, READ_MSR, 0x981, 0 },
	{ "SPEC_CTRL", 7, 0, 3, 26, READ_MSR, 0x48, 0 },
	{ "IBPB", 7, 0, 3, 26, WRITE_MSR, 0x49, 1 },
	{ "STIBP", 7, 0, 3, 27, READ_MSR, 0x48, 0 },
	{ "L1D_FLUSH", 7, 0, 3, 28, WRITE_MSR, 0x10b, 1 },
	{ "ARCH_CAPABILITIES", 7, 0, 3, 29, READ_MSR, 0x10a, 0 },
	{ "CORE_CAPABILITIES", 7, 0, 3, 30, READ_MSR, 0xcf, 0 },
	{ "SSBD", 7, 0, 3, 31, READ_MSR, 0x48, 0 },
	{ "thermal sensor", 6, 0, 0, 0, READ_MSR, 0x19c, 0 },
	{ "HWP", 6, 0, 0, 7, READ_MSR, 0x770, 0 },
	{ "SYSCALL", 0x80000001u, 0, 3, 11, READ_MSR, 0xc0000081u, 0 },
	{ "RDTSCP", 0x80000001u, 0, 3, 27, RDTSCP_INSN, 0, 0 },
	{ "TSC_AUX", 0x80000001u, 0, 3, 27, READ_MSR, 0xc0000103u, 0 },
	{ "long mode", 0x80000001u, 0, 3, 29, READ_MSR, 0xc0000080u, 0 },
};

static bool rdtscp_safe(void)
{
	uint32_t ok = 1;
	__asm__ volatile(GUEST_SAFE_INSN("rdtscp") : [ok] "+r"(ok) : : "eax", "ecx", "edx", "memory");
	return ok != 0;
}

static bool monitor_mwait_safe(void)
{
	static volatile uint32_t line;
	uint32_t ok = 1;
	/* MONITOR then MWAIT with a store pending: returns at once on hardware. */
	__asm__ volatile(GUEST_SAFE_INSN("monitor") : [ok] "+r"(ok) : "a"(&line), "c"(0), "d"(0)
			 : "memory");
	return ok != 0;
}

static bool advertised(const struct feature *f)
{
	struct cpuid_regs max = cpuid(f->leaf & 0x80000000u, 0), r;
	uint32_t regs[4];

	if (f->leaf > max.eax)
		return false;
	r = cpuid(f->leaf, f->subleaf);
	regs[0] = r.eax;
	regs[1] = r.ebx;
	regs[2] = r.ecx;
	regs[3] = r.edx;
	return (regs[f->reg] >> f->bit) & 1;
}

/* Returns NULL when the feature is backed, or what failed. */
static const char *probe(const struct feature *f)
{
	uint64_t v;
	uint32_t cr4 = read_cr4();

	switch (f->kind) {
	case READ_MSR:
		return rdmsr_safe(f->msr, &v) ? NULL : "RDMSR gave #GP";
	case WRITE_MSR:
		return wrmsr_safe(f->msr, f->value) ? NULL : "WRMSR gave #GP";
	case SET_CR4:
		if (!write_cr4_safe(cr4 | f->msr))
			return "setting its CR4 bit gave #GP";
		write_cr4_safe(cr4);
		return NULL;
	case XSAVE_ON:
		if (!write_cr4_safe(cr4 | CR4_OSXSAVE))
			return "CR4.OSXSAVE gave #GP";
		if (!xsetbv_safe(0, 1))
			return "XSETBV gave a fault";
		return NULL;
	case RDTSCP_INSN:
		return rdtscp_safe() ? NULL : "RDTSCP faulted";
	case RDPMC_INSN:
		return rdpmc_safe(0, &v) ? NULL : "RDPMC faulted";
	case MONITOR_INSN:
		return monitor_mwait_safe() ? NULL : "MONITOR faulted";
	}
	return "unknown probe";
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	unsigned shown = 0, unbacked = 0;
	struct cpuid_regs pmu;

	(void)mbi;
	guest_boot("features", magic);
	idt_init(0xee);
	for (unsigned i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct feature *f = &features[i];
		const char *why;

		if (!advertised(f))
			continue;
		shown++;
		why = probe(f);
		if (why) {
			printf("features: %s advertised but %s (MSR/bit 0x%x)\n", f->name, why, f->msr);
			unbacked++;
		}
	}
	/* A PMU of version 1 or later promises RDPMC and IA32_PMC0. */
	pmu = cpuid(0, 0).eax >= 0xa ? cpuid(0xa, 0) : (struct cpuid_regs){ 0, 0, 0, 0 };
	if (pmu.eax & 0xff) {
		uint64_t v;

		shown++;
		if (!rdpmc_safe(0, &v) || !rdmsr_safe(0xc1, &v)) {
			printf("features: PMU version %u advertised but RDPMC/IA32_PMC0 fault\n",
			       pmu.eax & 0xff);
			unbacked++;
		}
	}
	if (unbacked) {
		printf("features: %u of %u advertised features unbacked\n", unbacked, shown);
		guest_exit(1);
	}
	printf("features: %u advertised features, all backed\n", shown);
	guest_exit(0);
}
