/* Cloison's VMX control policy computed from the capability MSRs, with no hardware access. */
#include "vmx/vmx_caps.h"
#include "kernel/lib.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)

/* Index of each field in the missing-feature table below; EPT stands for IA32_VMX_EPT_VPID_CAP. */
enum vmx_field { VMX_PIN, VMX_CPU, VMX_CPU2, VMX_EXIT, VMX_ENTRY, VMX_EPT, VMX_FIELDS };

/* A feature Cloison cannot run without, by the bits whose absence means it is missing. */
struct vmx_required_feature {
	uint32_t bits[VMX_FIELDS];
	const char *name;
};

static const struct vmx_required_feature vmx_required_features[] = {
	{ { [VMX_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING }, "external-interrupt exiting" },
	{ { [VMX_PIN] = PIN_NMI_EXITING }, "NMI exiting" },
	{ { [VMX_CPU] = CPU_HLT_EXITING }, "HLT exiting" },
	{ { [VMX_CPU] = CPU_RDPMC_EXITING }, "RDPMC exiting" },
	{ { [VMX_CPU] = CPU_MOV_DR_EXITING }, "MOV-DR exiting" },
	{ { [VMX_CPU] = CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING }, "CR8-load/store exiting" },
	{ { [VMX_CPU] = CPU_USE_IO_BITMAPS }, "I/O bitmaps" },
	{ { [VMX_CPU] = CPU_USE_MSR_BITMAPS }, "MSR bitmaps" },
	{ { [VMX_CPU] = CPU_ACTIVATE_SECONDARY_CONTROLS }, "secondary processor-based controls" },
	{ { [VMX_CPU2] = CPU2_ENABLE_EPT }, "EPT" },
	{ { [VMX_CPU2] = CPU2_UNRESTRICTED_GUEST }, "unrestricted guest" },
	{ { [VMX_EXIT] = EXIT_HOST_ADDRESS_SPACE_SIZE }, "64-bit host (exit control)" },
	{ { [VMX_EXIT] = EXIT_SAVE_EFER | EXIT_LOAD_EFER, [VMX_ENTRY] = ENTRY_LOAD_EFER },
	  "save/load IA32_EFER" },
	{ { [VMX_ENTRY] = ENTRY_IA32E_MODE_GUEST }, "32-bit guest entry (IA-32e mode forced)" },
	{ { [VMX_EXIT] = EXIT_SAVE_DEBUG_CONTROLS, [VMX_ENTRY] = ENTRY_LOAD_DEBUG_CONTROLS },
	  "save/load debug controls" },
	{ { [VMX_EPT] = (uint32_t)EPT_CAP_WALK_4 }, "EPT 4-level walk" },
	{ { [VMX_EPT] = (uint32_t)EPT_CAP_WB }, "EPT write-back memory type" },
	{ { [VMX_EPT] = (uint32_t)EPT_CAP_INVEPT }, "INVEPT" },
};

/* The why buffer: appends stop at size-1 characters and the text stays NUL-terminated. */
struct vmx_why {
	char *buf;
	size_t size;
	size_t len;
};

static void vmx_why_put(struct vmx_why *why, const char *s)
{
	for (; *s; s++) {
		if (why->len + 1 >= why->size)
			return;
		why->buf[why->len++] = *s;
		why->buf[why->len] = '\0';
	}
}

uint32_t vmx_ctl_compute(uint64_t cap, uint32_t required, uint32_t optional, uint32_t *value)
{
	uint32_t must_be_one = (uint32_t)cap;
	uint32_t may_be_one = (uint32_t)(cap >> 32);

	/* Allowed-0 settings in bits 31:0, allowed-1 settings in bits 63:32, SDM Vol. 3D A.3.1 */
	*value = (required | optional | must_be_one) & may_be_one;
	return required & ~may_be_one;
}

/* Which of the EPT capabilities Cloison needs are absent, as VMX_EPT bits of the table above. */
static uint32_t vmx_ept_missing(uint64_t cap)
{
	uint32_t missing = 0;

	/* Cloison builds 4-level tables in WB memory and flushes with INVEPT, SDM Vol. 3D A.10 */
	if (!(cap & EPT_CAP_WALK_4))
		missing |= (uint32_t)EPT_CAP_WALK_4;
	if (!(cap & EPT_CAP_WB))
		missing |= (uint32_t)EPT_CAP_WB;
	if (!(cap & EPT_CAP_INVEPT) || !(cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		missing |= (uint32_t)EPT_CAP_INVEPT;
	return missing;
}

int vmx_controls_compute(const struct vmx_caps *caps, struct vmx_controls *out, char *why,
			 size_t why_size)
{
	struct vmx_why text = { .buf = why, .size = why_size, .len = 0 };
	uint32_t missing[VMX_FIELDS] = { 0 };
	uint32_t optional, exit_may_be_one, entry_may_be_one;
	uint64_t procbased2 = 0;
	bool vpid_usable, pat_usable, any = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (why_size)
		why[0] = '\0';

	/* Virtual NMIs only go with NMI exiting, SDM Vol. 3C 26.2.1.1 */
	optional = PIN_PREEMPTION_TIMER;
	if ((caps->pinbased >> 32) & PIN_NMI_EXITING)
		optional |= PIN_VIRTUAL_NMIS;
	missing[VMX_PIN] = vmx_ctl_compute(caps->pinbased,
					   PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING, optional,
					   &out->pin);
	out->has_preemption_timer = out->pin & PIN_PREEMPTION_TIMER;

	/* The guest's CR8 and the performance counters are physical state the host keeps: CR8 is the
	 * local APIC's TPR (SDM Vol. 3A 10.8.6.1), RDPMC reads counters every guest shares. MOV DR
	 * exits until the guest first uses a debug register (exit_mov_dr): DR0-DR3 are switched
	 * only for guests that use them. */
	missing[VMX_CPU] = vmx_ctl_compute(caps->procbased,
					   CPU_HLT_EXITING | CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS |
						   CPU_ACTIVATE_SECONDARY_CONTROLS | CPU_RDPMC_EXITING |
						   CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING |
						   CPU_MOV_DR_EXITING,
					   CPU_MWAIT_EXITING | CPU_MONITOR_EXITING, &out->cpu);

	/* Secondary controls are all 0 unless the primary control activates them, SDM Vol. 3C 24.6.2 */
	if (out->cpu & CPU_ACTIVATE_SECONDARY_CONTROLS)
		procbased2 = caps->procbased2;
	/* Enable VPID only when INVVPID can flush a VPID's translations, SDM Vol. 3C 28.3.3.3 */
	vpid_usable = (caps->ept_vpid_cap & VPID_CAP_INVVPID) &&
		      (caps->ept_vpid_cap & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
	/* WBINVD would flush caches the neighbours share; where it can exit it becomes a no-op. */
	optional = CPU2_ENABLE_RDTSCP | CPU2_ENABLE_INVPCID | CPU2_WBINVD_EXITING |
		   (vpid_usable ? CPU2_ENABLE_VPID : 0);
	missing[VMX_CPU2] = vmx_ctl_compute(procbased2, CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST,
					    optional, &out->cpu2);
	out->has_vpid = out->cpu2 & CPU2_ENABLE_VPID;
	if (out->cpu2 & CPU2_ENABLE_EPT) {
		missing[VMX_EPT] = vmx_ept_missing(caps->ept_vpid_cap);
		out->has_ept_2m = caps->ept_vpid_cap & EPT_CAP_2M_PAGES;
		out->has_ept_ad = caps->ept_vpid_cap & EPT_CAP_AD;
	}

	/* PAT is switched on both transitions or not at all, so the guest's value survives exits */
	exit_may_be_one = (uint32_t)(caps->exit >> 32);
	entry_may_be_one = (uint32_t)(caps->entry >> 32);
	pat_usable = (exit_may_be_one & (EXIT_SAVE_PAT | EXIT_LOAD_PAT)) ==
			     (EXIT_SAVE_PAT | EXIT_LOAD_PAT) &&
		     (entry_may_be_one & ENTRY_LOAD_PAT);

	optional = pat_usable ? EXIT_SAVE_PAT | EXIT_LOAD_PAT : 0;
	/* Saving the timer needs the timer itself, SDM Vol. 3C 26.2.1.2 */
	if (out->has_preemption_timer)
		optional |= EXIT_SAVE_PREEMPTION_TIMER;
	/* DR7 and IA32_DEBUGCTL are guest state switched by VM entry and exit, SDM Vol. 3C 27.3.1 */
	missing[VMX_EXIT] = vmx_ctl_compute(caps->exit,
					    EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_EFER |
						    EXIT_LOAD_EFER | EXIT_SAVE_DEBUG_CONTROLS,
					    optional, &out->exit);

	missing[VMX_ENTRY] = vmx_ctl_compute(caps->entry, ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CONTROLS,
					     pat_usable ? ENTRY_LOAD_PAT : 0, &out->entry);
	/* Guests start in 32-bit protected mode, so IA-32e mode guest must stay 0, SDM Vol. 3C 24.8.1 */
	missing[VMX_ENTRY] |= out->entry & ENTRY_IA32E_MODE_GUEST;

	out->has_pat = (out->exit & EXIT_SAVE_PAT) && (out->exit & EXIT_LOAD_PAT) &&
		       (out->entry & ENTRY_LOAD_PAT);

	for (i = 0; i < ARRAY_SIZE(vmx_required_features); i++) {
		const struct vmx_required_feature *feature = &vmx_required_features[i];
		bool absent = false;
		int field;

		for (field = 0; field < VMX_FIELDS; field++)
			absent |= (missing[field] & feature->bits[field]) != 0;
		if (!absent)
			continue;
		if (any)
			vmx_why_put(&text, ", ");
		vmx_why_put(&text, feature->name);
		any = true;
	}
	return any ? -E_NOTSUP : 0;
}

uint64_t vmx_fix_cr0(const struct vmx_caps *caps, uint64_t cr0, bool unrestricted_guest)
{
	uint64_t fixed0 = caps->cr0_fixed0;

	/* Unrestricted guests may clear PE and PG whatever CR0_FIXED0 says, SDM Vol. 3C 26.3.1.1 */
	if (unrestricted_guest)
		fixed0 &= ~(CR0_PE | CR0_PG);
	return (cr0 | fixed0) & caps->cr0_fixed1;
}

uint64_t vmx_fix_cr4(const struct vmx_caps *caps, uint64_t cr4)
{
	/* Bits set in FIXED0 must be 1, bits clear in FIXED1 must be 0, SDM Vol. 3D A.8 */
	return (cr4 | caps->cr4_fixed0) & caps->cr4_fixed1;
}

uint32_t vmx_basic_revision(uint64_t basic)
{
	/* VMCS revision identifier in bits 30:0, SDM Vol. 3D A.1 */
	return (uint32_t)(basic & 0x7fffffffu);
}

uint32_t vmx_basic_region_size(uint64_t basic)
{
	/* VMXON and VMCS region size in bytes in bits 44:32, SDM Vol. 3D A.1 */
	return (uint32_t)((basic >> 32) & 0x1fffu);
}

unsigned vmx_misc_preemption_rate(uint64_t misc)
{
	/* The timer ticks when TSC bit X changes, X in IA32_VMX_MISC bits 4:0, SDM Vol. 3D A.6 */
	return (unsigned)(misc & 0x1fu);
}
