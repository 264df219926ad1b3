/* Host tests of the VMX control policy against capability MSRs read on real CPUs. */
#include "tests/unit/test.h"
#include "kernel/lib.h"
#include "vmx/vmx_caps.h"

TEST_MAIN_GLOBALS;

#define CR3_EXITING (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING)
#define REQUIRED_CPU \
	(CPU_HLT_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY_CONTROLS | \
	 CPU_RDPMC_EXITING | CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING | CPU_MOV_DR_EXITING)
#define REQUIRED_EXIT \
	(EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG_CONTROLS)
#define WANTED_CPU2                                                                    \
	(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST | CPU2_ENABLE_VPID | CPU2_ENABLE_RDTSCP | \
	 CPU2_ENABLE_INVPCID | CPU2_WBINVD_EXITING)
#define WANTED_CPU (REQUIRED_CPU | CPU_MWAIT_EXITING | CPU_MONITOR_EXITING)

/* Intel Core i7-6700K (Skylake), TRUE controls: VirtualBox CPU database
 * src/VBox/VMM/VMMR3/cpus/Intel_Core_i7_6700K.h (MSRs 480h-491h read by VBoxCpuReport). */
static const struct vmx_caps skylake_true = {
	.basic = 0x00da040000000004ull,
	.pinbased = 0x0000007f00000016ull,   /* TRUE_PINBASED, equal to PINBASED */
	.procbased = 0xfff9fffe04006172ull,  /* TRUE_PROCBASED */
	.procbased2 = 0x001ffcff00000000ull,
	.exit = 0x01ffffff00036dfbull,       /* TRUE_EXIT */
	.entry = 0x0003ffff000011fbull,      /* TRUE_ENTRY */
	.misc = 0x7004c1e7ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x3727ffull,
	.ept_vpid_cap = 0x00000f0106334141ull,
	.true_ctls = true,
};

/* The same i7-6700K through its plain (non-TRUE) MSRs, which force CR3 exiting and the debug
 * controls on: same VirtualBox file, MSRs 482h-484h. */
static const struct vmx_caps skylake_plain = {
	.basic = 0x00da040000000004ull,
	.pinbased = 0x0000007f00000016ull,
	.procbased = 0xfff9fffe0401e172ull,
	.procbased2 = 0x001ffcff00000000ull,
	.exit = 0x01ffffff00036dffull,
	.entry = 0x0003ffff000011ffull,
	.misc = 0x7004c1e7ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x3727ffull,
	.ept_vpid_cap = 0x00000f0106334141ull,
	.true_ctls = false,
};

/* First-generation Core i7 (Nehalem, VMCS revision 0Eh): EPT and VPID but no unrestricted guest.
 * Plain control MSRs from the "core i7 values" comment in Cheat Engine's DBVM
 * (github.com/cheat-engine/cheat-engine, dbvm/vmm/vmxsetup.c, older revision). That dump has no
 * EPT_VPID_CAP; 0xf0106114141 is the value vmxcap decodes for a revision-14 CPU without
 * unrestricted guest (github.com/xybu/cs590-nfv, Suricata experiment notes: walk 4, UC and WB,
 * 2 MiB pages, INVEPT single/all, INVVPID all four kinds, no A/D) and the value VirtualBox
 * records for the Sandy Bridge parts in its CPU database. */
static const struct vmx_caps nehalem = {
	.basic = 0x00da04000000000eull,
	.pinbased = 0x0000007f00000016ull,
	.procbased = 0xfff9fffe0401e172ull,
	.procbased2 = 0x0000007f00000000ull,
	.exit = 0x007fffff00036dffull,
	.entry = 0x0000ffff000011ffull,
	.misc = 0x401c5ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x27ffull,
	.ept_vpid_cap = 0x00000f0106114141ull,
	.true_ctls = false,
};

/* Intel Xeon X5482 (Penryn): secondary controls but no EPT, no EFER load/save, no TRUE MSRs:
 * VirtualBox CPU database src/VBox/VMM/VMMR3/cpus/Intel_Xeon_X5482_3_20GHz.h. It has no
 * IA32_VMX_EPT_VPID_CAP (secondary allowed-1 bits 0 and 6 only), so 0. */
static const struct vmx_caps penryn = {
	.basic = 0x005a08000000000dull,
	.pinbased = 0x0000003f00000016ull,
	.procbased = 0xf7f9fffe0401e172ull,
	.procbased2 = 0x0000004100000000ull,
	.exit = 0x0003ffff00036dffull,
	.entry = 0x00003fff000011ffull,
	.misc = 0x403c0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x27ffull,
	.ept_vpid_cap = 0,
	.true_ctls = false,
};

/* Intel Core 2 X6800 (Merom/Conroe): no secondary controls at all (allowed-1 bit 31 of the
 * primary controls is 0): VirtualBox CPU database cpus/Intel_Core2_X6800_2_93GHz.h. */
static const struct vmx_caps core2 = {
	.basic = 0x001a040000000007ull,
	.pinbased = 0x0000001f00000016ull,
	.procbased = 0x77b9fffe0401e172ull,
	.procbased2 = 0,
	.exit = 0x0003efff00036dffull,
	.entry = 0x00001fff000011ffull,
	.misc = 0x403c0ull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x27ffull,
	.ept_vpid_cap = 0,
	.true_ctls = false,
};

static const char all_missing[] =
	"external-interrupt exiting, NMI exiting, HLT exiting, RDPMC exiting, MOV-DR exiting, "
	"CR8-load/store exiting, I/O bitmaps, MSR bitmaps, secondary processor-based controls, EPT, unrestricted guest, "
	"64-bit host (exit control), save/load IA32_EFER, save/load debug controls";

/* Every allowed-0 bit of cap set, nothing outside allowed-1 (SDM Vol. 3D A.3). */
static void check_field(uint64_t cap, uint32_t value)
{
	CHECK_EQ(value & (uint32_t)cap, (uint32_t)cap);
	CHECK_EQ(value & ~(uint32_t)(cap >> 32), 0);
}

/* What VM entry would check of the computed fields, and what Cloison's policy promises. */
static void check_controls(const struct vmx_caps *caps, const struct vmx_controls *c)
{
	uint32_t forced_cpu = (uint32_t)caps->procbased;

	check_field(caps->pinbased, c->pin);
	check_field(caps->procbased, c->cpu);
	if (c->cpu & CPU_ACTIVATE_SECONDARY_CONTROLS)
		check_field(caps->procbased2, c->cpu2);
	else
		CHECK_EQ(c->cpu2, 0);
	check_field(caps->exit, c->exit);
	check_field(caps->entry, c->entry);

	/* Nothing Cloison does not ask for, unless the CPU forces it. */
	CHECK_EQ(c->cpu & ~WANTED_CPU, forced_cpu & ~WANTED_CPU);
	CHECK_EQ(c->cpu2 & ~WANTED_CPU2, (uint32_t)caps->procbased2 & ~WANTED_CPU2 &
						 ((c->cpu & CPU_ACTIVATE_SECONDARY_CONTROLS) ? ~0u : 0));
	CHECK_EQ(c->entry & ENTRY_IA32E_MODE_GUEST, 0);

	/* VM-entry consistency checks, SDM Vol. 3C 26.2.1 */
	if (c->exit & EXIT_SAVE_PREEMPTION_TIMER)
		CHECK(c->pin & PIN_PREEMPTION_TIMER);
	if (c->cpu2 & CPU2_UNRESTRICTED_GUEST)
		CHECK(c->cpu2 & CPU2_ENABLE_EPT);
	if (c->pin & PIN_VIRTUAL_NMIS)
		CHECK(c->pin & PIN_NMI_EXITING);

	CHECK_EQ(c->has_preemption_timer, (c->pin & PIN_PREEMPTION_TIMER) != 0);
	CHECK_EQ(c->has_vpid, (c->cpu2 & CPU2_ENABLE_VPID) != 0);
	CHECK_EQ(c->has_pat, (c->exit & EXIT_SAVE_PAT) && (c->exit & EXIT_LOAD_PAT) &&
				     (c->entry & ENTRY_LOAD_PAT));
	if (c->has_vpid)
		CHECK((caps->ept_vpid_cap & VPID_CAP_INVVPID) &&
		      (caps->ept_vpid_cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)));
}

/* On success every required control is on. */
static void check_required(const struct vmx_controls *c)
{
	CHECK_EQ(c->pin & (PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING),
		 PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING);
	CHECK_EQ(c->cpu & REQUIRED_CPU, REQUIRED_CPU);
	CHECK_EQ(c->cpu2 & (CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST),
		 CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	CHECK_EQ(c->exit & REQUIRED_EXIT, REQUIRED_EXIT);
	CHECK_EQ(c->entry & (ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS),
		 ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS);
}

/* Computes the controls of caps and checks the verdict and the why text. */
static int compute(const struct vmx_caps *caps, struct vmx_controls *c, const char *expect_why)
{
	char why[320];
	int ret;

	memset(why, 'x', sizeof(why));
	ret = vmx_controls_compute(caps, c, why, sizeof(why));
	CHECK_EQ(ret, expect_why[0] ? -E_NOTSUP : 0);
	CHECK_STR(why, expect_why);
	check_controls(caps, c);
	if (ret == 0)
		check_required(c);
	return ret;
}

static void test_ctl_compute(void)
{
	uint32_t value;

	/* Forced-on bits are kept, required and optional ones added where allowed. */
	CHECK_EQ(vmx_ctl_compute(0x000000ff00000011ull, 0x2, 0x4, &value), 0);
	CHECK_EQ(value, 0x17);
	/* Optional bits the CPU cannot set are dropped silently. */
	CHECK_EQ(vmx_ctl_compute(0x0000000f00000000ull, 0x1, 0x30, &value), 0);
	CHECK_EQ(value, 0x1);
	/* Required bits the CPU cannot set are reported and left out. */
	CHECK_EQ(vmx_ctl_compute(0x0000000f00000000ull, 0x81, 0, &value), 0x80);
	CHECK_EQ(value, 0x1);
	/* Nothing allowed at all. */
	CHECK_EQ(vmx_ctl_compute(0, 0xffffffffu, 0, &value), 0xffffffffu);
	CHECK_EQ(value, 0);
	/* Everything allowed and forced. */
	CHECK_EQ(vmx_ctl_compute(~0ull, 0, 0, &value), 0);
	CHECK_EQ(value, 0xffffffffu);
	/* Bit 31 and bit 63 line up. */
	CHECK_EQ(vmx_ctl_compute(0x8000000000000000ull, 0x80000000u, 0, &value), 0);
	CHECK_EQ(value, 0x80000000u);
}

static void test_skylake_true(void)
{
	struct vmx_controls c;

	CHECK_EQ(compute(&skylake_true, &c, ""), 0);
	CHECK_EQ(c.pin, 0x7f);
	CHECK_EQ(c.cpu, 0xb6986df2u); /* + RDPMC, CR8-load/store, MOV-DR exiting */
	CHECK_EQ(c.cpu2, 0x10ea); /* with WBINVD exiting */
	CHECK_EQ(c.exit, 0x7f6fff); /* with save debug controls */
	CHECK_EQ(c.entry, 0xd1ff); /* with load debug controls */
	CHECK_EQ(c.cpu & CR3_EXITING, 0);
	CHECK_EQ(c.cpu & (CPU_RDTSC_EXITING | CPU_INVLPG_EXITING), 0);
	CHECK(c.cpu & CPU_MOV_DR_EXITING); /* until the guest uses DR0-DR3 */
	CHECK(c.cpu & CPU_MWAIT_EXITING);
	CHECK(c.cpu & CPU_MONITOR_EXITING);
	CHECK(c.pin & PIN_VIRTUAL_NMIS);
	CHECK(c.exit & EXIT_SAVE_PREEMPTION_TIMER);
	CHECK(c.cpu2 & CPU2_ENABLE_RDTSCP);
	CHECK(c.cpu2 & CPU2_ENABLE_INVPCID);
	CHECK(c.has_preemption_timer);
	CHECK(c.has_vpid);
	CHECK(c.has_ept_2m);
	CHECK(c.has_ept_ad);
	CHECK(c.has_pat);
	CHECK_EQ(vmx_basic_revision(skylake_true.basic), 4);
	CHECK_EQ(vmx_basic_region_size(skylake_true.basic), 1024);
	CHECK_EQ(vmx_misc_preemption_rate(skylake_true.misc), 7);
}

static void test_skylake_plain_forces_cr3_exiting(void)
{
	struct vmx_controls c;

	CHECK_EQ(compute(&skylake_plain, &c, ""), 0);
	CHECK_EQ(c.cpu & CR3_EXITING, CR3_EXITING);
	CHECK_EQ(c.cpu, 0xb699edf2u);
	CHECK_EQ(c.exit, 0x7f6fff);
	CHECK_EQ(c.entry, 0xd1ff);
	CHECK(c.exit & EXIT_SAVE_DEBUG_CONTROLS);
	CHECK(c.entry & ENTRY_LOAD_DEBUG_CONTROLS);
	CHECK_EQ(c.cpu2, 0x10ea); /* with WBINVD exiting */
	CHECK(c.has_pat);
}

static void test_nehalem_lacks_unrestricted_guest(void)
{
	struct vmx_controls c;

	CHECK_EQ(compute(&nehalem, &c, "unrestricted guest"), -E_NOTSUP);
	CHECK_EQ(c.cpu2 & CPU2_UNRESTRICTED_GUEST, 0);
	CHECK_EQ(c.cpu2, CPU2_ENABLE_EPT | CPU2_ENABLE_VPID | CPU2_ENABLE_RDTSCP | CPU2_WBINVD_EXITING);
	CHECK_EQ(c.cpu & CR3_EXITING, CR3_EXITING);
	CHECK_EQ(c.exit, 0x7f6fff);
	CHECK_EQ(c.entry, 0xd1ff);
	CHECK(c.has_ept_2m);
	CHECK(!c.has_ept_ad);
	CHECK(c.has_vpid);
	CHECK(c.has_pat);
	CHECK_EQ(vmx_basic_revision(nehalem.basic), 0xe);
	CHECK_EQ(vmx_misc_preemption_rate(nehalem.misc), 5);
}

static void test_penryn_lacks_ept(void)
{
	struct vmx_controls c;

	CHECK_EQ(compute(&penryn, &c, "EPT, unrestricted guest, save/load IA32_EFER"), -E_NOTSUP);
	CHECK(!c.has_preemption_timer);
	CHECK_EQ(c.exit & EXIT_SAVE_PREEMPTION_TIMER, 0);
	CHECK(!c.has_vpid);
	CHECK(!c.has_ept_2m);
	CHECK(!c.has_pat);
	CHECK_EQ(c.cpu2 & ~WANTED_CPU2, 0);
	CHECK_EQ(vmx_basic_revision(penryn.basic), 0xd);
	CHECK_EQ(vmx_basic_region_size(penryn.basic), 0x800);
	CHECK_EQ(vmx_misc_preemption_rate(penryn.misc), 0);
}

static void test_core2_lacks_secondary_controls(void)
{
	struct vmx_controls c;

	CHECK_EQ(compute(&core2, &c,
			 "secondary processor-based controls, EPT, unrestricted guest, "
			 "save/load IA32_EFER"),
		 -E_NOTSUP);
	CHECK_EQ(c.cpu & CPU_ACTIVATE_SECONDARY_CONTROLS, 0);
	CHECK_EQ(c.cpu2, 0);
	CHECK_EQ(c.cpu & CR3_EXITING, CR3_EXITING);
}

static void test_synthetic_no_secondary_ignores_procbased2(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;

	/* A CPU without secondary controls whose procbased2 was (wrongly) filled in anyway. */
	caps.procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY_CONTROLS << 32);
	CHECK_EQ(compute(&caps, &c, "secondary processor-based controls, EPT, unrestricted guest"),
		 -E_NOTSUP);
	CHECK_EQ(c.cpu2, 0);
	CHECK(!c.has_vpid);
	CHECK(!c.has_ept_2m);
	CHECK(!c.has_ept_ad);
}

static void test_vpid_needs_invvpid(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;

	caps.ept_vpid_cap &= ~VPID_CAP_INVVPID;
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_vpid);
	CHECK_EQ(c.cpu2 & CPU2_ENABLE_VPID, 0);

	caps = skylake_true;
	caps.ept_vpid_cap &= ~(VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_vpid);

	caps.ept_vpid_cap |= VPID_CAP_INVVPID_ALL;
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(c.has_vpid);

	caps.ept_vpid_cap &= ~VPID_CAP_INVVPID_ALL;
	caps.ept_vpid_cap |= VPID_CAP_INVVPID_SINGLE;
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(c.has_vpid);

	/* The secondary control itself missing drops VPID quietly as well. */
	caps = skylake_true;
	caps.procbased2 &= ~((uint64_t)CPU2_ENABLE_VPID << 32);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_vpid);
}

static void test_ept_capabilities(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;

	caps.ept_vpid_cap &= ~(EPT_CAP_WALK_4 | EPT_CAP_WB | EPT_CAP_INVEPT);
	CHECK_EQ(compute(&caps, &c, "EPT 4-level walk, EPT write-back memory type, INVEPT"),
		 -E_NOTSUP);

	caps = skylake_true;
	caps.ept_vpid_cap &= ~(EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL);
	CHECK_EQ(compute(&caps, &c, "INVEPT"), -E_NOTSUP);

	caps.ept_vpid_cap |= EPT_CAP_INVEPT_SINGLE;
	CHECK_EQ(compute(&caps, &c, ""), 0);
	caps.ept_vpid_cap &= ~EPT_CAP_INVEPT_SINGLE;
	caps.ept_vpid_cap |= EPT_CAP_INVEPT_ALL;
	CHECK_EQ(compute(&caps, &c, ""), 0);

	caps = skylake_true;
	caps.ept_vpid_cap &= ~(EPT_CAP_2M_PAGES | EPT_CAP_AD);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_ept_2m);
	CHECK(!c.has_ept_ad);

	/* Missing EPT and unrestricted guest together, with everything else there. */
	caps = skylake_true;
	caps.procbased2 &= ~((uint64_t)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST) << 32);
	CHECK_EQ(compute(&caps, &c, "EPT, unrestricted guest"), -E_NOTSUP);
}

static void test_pat_all_or_nothing(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;

	caps.entry &= ~((uint64_t)ENTRY_LOAD_PAT << 32);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_pat);
	CHECK_EQ(c.exit & (EXIT_SAVE_PAT | EXIT_LOAD_PAT), 0);

	caps = skylake_true;
	caps.exit &= ~((uint64_t)EXIT_SAVE_PAT << 32);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_pat);
	CHECK_EQ(c.exit & EXIT_LOAD_PAT, 0);
	CHECK_EQ(c.entry & ENTRY_LOAD_PAT, 0);
}

static void test_preemption_timer_optional(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;

	caps.pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	CHECK_EQ(compute(&caps, &c, ""), 0);
	CHECK(!c.has_preemption_timer);
	CHECK_EQ(c.pin & PIN_PREEMPTION_TIMER, 0);
	/* The CPU allows saving the timer, but without the timer it must stay 0. */
	CHECK_EQ(c.exit & EXIT_SAVE_PREEMPTION_TIMER, 0);
}

static void test_each_required_control_named(void)
{
	static const struct {
		int field; /* 0 pin, 1 cpu, 2 exit, 3 entry */
		uint32_t bit;
		const char *name;
	} cases[] = {
		{ 0, PIN_EXTERNAL_INTERRUPT_EXITING, "external-interrupt exiting" },
		{ 0, PIN_NMI_EXITING, "NMI exiting" },
		{ 1, CPU_HLT_EXITING, "HLT exiting" },
		{ 1, CPU_USE_IO_BITMAPS, "I/O bitmaps" },
		{ 1, CPU_USE_MSR_BITMAPS, "MSR bitmaps" },
		{ 2, EXIT_HOST_ADDRESS_SPACE_SIZE, "64-bit host (exit control)" },
		{ 2, EXIT_SAVE_EFER, "save/load IA32_EFER" },
		{ 2, EXIT_LOAD_EFER, "save/load IA32_EFER" },
		{ 3, ENTRY_LOAD_EFER, "save/load IA32_EFER" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmx_caps caps = skylake_true;
		uint64_t *cap[] = { &caps.pinbased, &caps.procbased, &caps.exit, &caps.entry };
		struct vmx_controls c;

		*cap[cases[i].field] &= ~((uint64_t)cases[i].bit << 32);
		CHECK_EQ(compute(&caps, &c, cases[i].name), -E_NOTSUP);
	}
}

static void test_nothing_supported(void)
{
	struct vmx_caps caps;
	struct vmx_controls c;

	memset(&caps, 0, sizeof(caps));
	CHECK_EQ(compute(&caps, &c, all_missing), -E_NOTSUP);
	CHECK_EQ(c.pin | c.cpu | c.cpu2 | c.exit | c.entry, 0);
	CHECK(!c.has_preemption_timer && !c.has_vpid && !c.has_ept_2m && !c.has_ept_ad && !c.has_pat);
}

static void test_forced_ia32e_mode_refused(void)
{
	struct vmx_caps caps = skylake_true;
	struct vmx_controls c;
	char why[128];

	caps.entry |= ENTRY_IA32E_MODE_GUEST;
	CHECK_EQ(vmx_controls_compute(&caps, &c, why, sizeof(why)), -E_NOTSUP);
	CHECK_STR(why, "32-bit guest entry (IA-32e mode forced)");
}

static void test_why_truncation(void)
{
	size_t len = strlen(all_missing);
	struct vmx_caps caps;
	struct vmx_controls c;
	char buf[512];
	size_t size, i;

	memset(&caps, 0, sizeof(caps));
	for (size = 0; size <= len + 2; size++) {
		size_t kept = size ? MIN(len, size - 1) : 0;

		memset(buf, '#', sizeof(buf));
		CHECK_EQ(vmx_controls_compute(&caps, &c, buf, size), -E_NOTSUP);
		if (size) {
			CHECK(memcmp(buf, all_missing, kept) == 0);
			CHECK_EQ(buf[kept], '\0');
		}
		for (i = size; i < sizeof(buf); i++)
			if (buf[i] != '#')
				break;
		CHECK_EQ(i, sizeof(buf));
	}
	/* No buffer at all. */
	CHECK_EQ(vmx_controls_compute(&caps, &c, NULL, 0), -E_NOTSUP);
	CHECK_EQ(vmx_controls_compute(&skylake_true, &c, NULL, 0), 0);
	/* Success empties the text. */
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(vmx_controls_compute(&skylake_true, &c, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
}

static void test_fix_cr0(void)
{
	const struct vmx_caps *caps = &skylake_true;

	/* PE, NE and PG forced on for a restricted guest. */
	CHECK_EQ(vmx_fix_cr0(caps, 0, false), 0x80000021ull);
	CHECK_EQ(vmx_fix_cr0(caps, 0x11, false), 0x80000031ull);
	/* Unrestricted: only NE forced; a real-mode CR0 stays in real mode. */
	CHECK_EQ(vmx_fix_cr0(caps, 0, true), 0x20ull);
	CHECK_EQ(vmx_fix_cr0(caps, 0x60000010, true), 0x60000030ull);
	CHECK_EQ(vmx_fix_cr0(caps, 0x80000011, true), 0x80000031ull);
	/* Bits above 31 are outside FIXED1. */
	CHECK_EQ(vmx_fix_cr0(caps, 0xffffffff00000000ull, true), 0x20ull);
	/* A FIXED1 clear bit is forced off even when set in the value. */
	{
		struct vmx_caps narrow = *caps;

		narrow.cr0_fixed1 = 0xfffffffbull;
		CHECK_EQ(vmx_fix_cr0(&narrow, 0x4, true), 0x20ull);
	}
}

static void test_fix_cr4(void)
{
	/* VMXE forced on; only bits in FIXED1 survive. */
	CHECK_EQ(vmx_fix_cr4(&skylake_true, 0), 0x2000ull);
	CHECK_EQ(vmx_fix_cr4(&skylake_true, 0x20), 0x2020ull);
	CHECK_EQ(vmx_fix_cr4(&skylake_true, 0xffffffffull), 0x3727ffull);
	/* LA57 (bit 12) and CET (bit 23) are not in Skylake's FIXED1. */
	CHECK_EQ(vmx_fix_cr4(&skylake_true, (1ull << 12) | (1ull << 23) | 0x20), 0x2020ull);
	/* Core 2: no FSGSBASE, PCIDE, OSXSAVE, SMEP (FIXED1 0x27ff). */
	CHECK_EQ(vmx_fix_cr4(&core2, 0x1706a0ull), 0x26a0ull);
}

static void test_basic_and_misc_fields(void)
{
	/* Bit 31 of IA32_VMX_BASIC is always 0 but is not part of the revision. */
	CHECK_EQ(vmx_basic_revision(0x80000004ull), 4);
	CHECK_EQ(vmx_basic_revision(~0ull), 0x7fffffffu);
	CHECK_EQ(vmx_basic_region_size(~0ull), 0x1fffu);
	CHECK_EQ(vmx_basic_region_size(1ull << 45), 0);
	CHECK_EQ(vmx_basic_region_size(core2.basic), 1024);
	CHECK_EQ(vmx_misc_preemption_rate(~0ull), 31);
	CHECK_EQ(vmx_misc_preemption_rate(0x20ull), 0);
}

int main(void)
{
	RUN_TEST(test_ctl_compute);
	RUN_TEST(test_skylake_true);
	RUN_TEST(test_skylake_plain_forces_cr3_exiting);
	RUN_TEST(test_nehalem_lacks_unrestricted_guest);
	RUN_TEST(test_penryn_lacks_ept);
	RUN_TEST(test_core2_lacks_secondary_controls);
	RUN_TEST(test_synthetic_no_secondary_ignores_procbased2);
	RUN_TEST(test_vpid_needs_invvpid);
	RUN_TEST(test_ept_capabilities);
	RUN_TEST(test_pat_all_or_nothing);
	RUN_TEST(test_preemption_timer_optional);
	RUN_TEST(test_each_required_control_named);
	RUN_TEST(test_nothing_supported);
	RUN_TEST(test_forced_ia32e_mode_refused);
	RUN_TEST(test_why_truncation);
	RUN_TEST(test_fix_cr0);
	RUN_TEST(test_fix_cr4);
	RUN_TEST(test_basic_and_misc_fields);
	return test_any_failed;
}
