/* VMX capability MSRs and the pure computation of every VMX control field from them. */
#ifndef CLOISON_VMX_CAPS_H
#define CLOISON_VMX_CAPS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/* Raw capability MSR values; the TRUE_ variants are stored in place of the plain ones
 * when IA32_VMX_BASIC bit 55 says they exist (SDM Vol. 3D A.3-A.5). */
struct vmx_caps {
	uint64_t basic;
	uint64_t pinbased;   /* IA32_VMX_(TRUE_)PINBASED_CTLS */
	uint64_t procbased;  /* IA32_VMX_(TRUE_)PROCBASED_CTLS */
	uint64_t procbased2; /* IA32_VMX_PROCBASED_CTLS2, 0 when secondary controls are not allowed */
	uint64_t exit;       /* IA32_VMX_(TRUE_)EXIT_CTLS */
	uint64_t entry;      /* IA32_VMX_(TRUE_)ENTRY_CTLS */
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid_cap; /* 0 when neither EPT nor VPID can be enabled */
	bool true_ctls;
};

/* Pin-based controls, SDM Vol. 3C 24.6.1 */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
/* Primary processor-based controls, SDM Vol. 3C 24.6.2 */
#define CPU_INTERRUPT_WINDOW_EXITING (1u << 2)
#define CPU_USE_TSC_OFFSETTING (1u << 3)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_INVLPG_EXITING (1u << 9)
#define CPU_MWAIT_EXITING (1u << 10)
#define CPU_RDPMC_EXITING (1u << 11)
#define CPU_RDTSC_EXITING (1u << 12)
#define CPU_CR3_LOAD_EXITING (1u << 15)
#define CPU_CR3_STORE_EXITING (1u << 16)
#define CPU_CR8_LOAD_EXITING (1u << 19)
#define CPU_CR8_STORE_EXITING (1u << 20)
#define CPU_USE_TPR_SHADOW (1u << 21)
#define CPU_NMI_WINDOW_EXITING (1u << 22)
#define CPU_MOV_DR_EXITING (1u << 23)
#define CPU_UNCONDITIONAL_IO_EXITING (1u << 24)
#define CPU_USE_IO_BITMAPS (1u << 25)
#define CPU_MONITOR_TRAP_FLAG (1u << 27)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_MONITOR_EXITING (1u << 29)
#define CPU_PAUSE_EXITING (1u << 30)
#define CPU_ACTIVATE_SECONDARY_CONTROLS (1u << 31)
/* Secondary processor-based controls, SDM Vol. 3C 24.6.2 */
#define CPU2_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define CPU2_ENABLE_EPT (1u << 1)
#define CPU2_DESCRIPTOR_TABLE_EXITING (1u << 2)
#define CPU2_ENABLE_RDTSCP (1u << 3)
#define CPU2_VIRTUALIZE_X2APIC_MODE (1u << 4)
#define CPU2_ENABLE_VPID (1u << 5)
#define CPU2_WBINVD_EXITING (1u << 6)
#define CPU2_UNRESTRICTED_GUEST (1u << 7)
#define CPU2_APIC_REGISTER_VIRTUALIZATION (1u << 8)
#define CPU2_VIRTUAL_INTERRUPT_DELIVERY (1u << 9)
#define CPU2_PAUSE_LOOP_EXITING (1u << 10)
#define CPU2_ENABLE_INVPCID (1u << 12)
#define CPU2_ENABLE_VMFUNC (1u << 13)
#define CPU2_ENABLE_XSAVES (1u << 20)
/* VM-exit controls, SDM Vol. 3C 24.7.1 */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDRESS_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define EXIT_ACK_INTERRUPT_ON_EXIT (1u << 15)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
/* VM-entry controls, SDM Vol. 3C 24.8.1 */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* IA32_VMX_EPT_VPID_CAP bits, SDM Vol. 3D A.10 */
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M_PAGES (1ull << 16)
#define EPT_CAP_1G_PAGES (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL (1ull << 42)

/* The five control fields Cloison runs guests with, plus what was optional and granted. */
struct vmx_controls {
	uint32_t pin, cpu, cpu2, exit, entry;
	bool has_preemption_timer, has_vpid, has_ept_2m, has_ept_ad;
	bool has_pat; /* load/save PAT on entry and exit */
};

/* One control field: value = (required | granted optional | allowed-0 ones) & allowed-1.
 * Allowed-0 settings are cap bits 31:0, allowed-1 settings bits 63:32 (SDM Vol. 3D A.3).
 * Returns the required bits the CPU cannot set (0 on success). */
uint32_t vmx_ctl_compute(uint64_t cap, uint32_t required, uint32_t optional, uint32_t *value);

/* All five fields for Cloison's policy. On failure returns -E_NOTSUP and writes a
 * comma-separated list of the missing features by name ("EPT, unrestricted guest") into why. */
int vmx_controls_compute(const struct vmx_caps *caps, struct vmx_controls *out, char *why,
			 size_t why_size);

/* CR0/CR4 value adjusted to the fixed bits: (value | fixed0) & fixed1, SDM Vol. 3D A.7/A.8.
 * For an unrestricted guest CR0.PE and CR0.PG are exempt from fixed0. */
uint64_t vmx_fix_cr0(const struct vmx_caps *caps, uint64_t cr0, bool unrestricted_guest);
uint64_t vmx_fix_cr4(const struct vmx_caps *caps, uint64_t cr4);

/* VMCS revision identifier (bits 30:0) and region size (bits 44:32) of IA32_VMX_BASIC. */
uint32_t vmx_basic_revision(uint64_t basic);
uint32_t vmx_basic_region_size(uint64_t basic);
/* VMX-preemption timer rate: the timer counts down once every 2^rate TSC ticks (IA32_VMX_MISC 4:0). */
unsigned vmx_misc_preemption_rate(uint64_t misc);

#endif
