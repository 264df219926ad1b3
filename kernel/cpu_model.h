/* The virtual CPU a guest sees: the CPUID answers Cloison passes, hides or synthesises, and the
 * XCR0 values it accepts. Pure: the CPUID and XSETBV exits feed it the host's answers. */
#ifndef CLOISON_CPU_MODEL_H
#define CLOISON_CPU_MODEL_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/x86.h"

/* XSAVE state components, SDM Vol. 1 13.1 */
#define XSTATE_X87 (1ull << 0)
#define XSTATE_SSE (1ull << 1)
#define XSTATE_AVX (1ull << 2)
#define XSTATE_BNDREGS (1ull << 3)
#define XSTATE_BNDCSR (1ull << 4)
#define XSTATE_OPMASK (1ull << 5)
#define XSTATE_ZMM_HI256 (1ull << 6)
#define XSTATE_HI16_ZMM (1ull << 7)
#define XSTATE_PKRU (1ull << 9)
#define XSTATE_TILECFG (1ull << 17)
#define XSTATE_TILEDATA (1ull << 18)
#define XSTATE_AVX512 (XSTATE_OPMASK | XSTATE_ZMM_HI256 | XSTATE_HI16_ZMM)
/* The user state components a guest may enable: their registers are switched with XSAVE.
 * MPX, PKRU and AMX are not offered (their features are hidden in CPUID). */
#define XSTATE_GUEST_COMPONENTS (XSTATE_X87 | XSTATE_SSE | XSTATE_AVX | XSTATE_AVX512)

/* CPUID leaf 1 feature bits, SDM Vol. 2A Table 3-10 and 3-11 */
#define CPUID_1_ECX_DTES64 (1u << 2)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_DS_CPL (1u << 4)
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_SMX (1u << 6)
#define CPUID_1_ECX_EST (1u << 7)
#define CPUID_1_ECX_TM2 (1u << 8)
#define CPUID_1_ECX_SDBG (1u << 11)
#define CPUID_1_ECX_XTPR (1u << 14)
#define CPUID_1_ECX_PDCM (1u << 15)
#define CPUID_1_ECX_DCA (1u << 18)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_AVX (1u << 28)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_MCE (1u << 7)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_1_EDX_MCA (1u << 14)
#define CPUID_1_EDX_PSN (1u << 18)
#define CPUID_1_EDX_DS (1u << 21)
#define CPUID_1_EDX_ACPI (1u << 22)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_1_EDX_TM (1u << 29)
#define CPUID_1_EDX_PBE (1u << 31)

/* The core crystal clock leaf 0x15 reports; the virtual LAPIC timer counts at this rate. */
#define CPU_MODEL_CRYSTAL_HZ 25000000u

/* The highest basic leaf a guest is told about: 0x15/0x16 carry the TSC frequency. */
#define CPU_MODEL_MAX_BASIC_LEAF 0x16u
#define CPU_MODEL_MAX_EXTENDED_LEAF 0x80000008u

/* What the answers depend on besides the host's CPUID. */
struct cpu_model_ctx {
	uint32_t host_max_basic; /* the host's CPUID.0:EAX */
	uint64_t guest_cr4;     /* OSXSAVE in leaf 1 follows the guest's own CR4 */
	uint64_t xcr0_allowed;  /* cpu_model_xcr0_allowed() of the host; 0 without XSAVE */
	uint32_t xsave_size;    /* bytes of the standard-form area for every allowed component */
	uint32_t apic_id;       /* this vCPU's initial APIC ID */
	uint32_t vcpu_count;    /* logical processors in the guest, at least 1 */
	uint64_t tsc_hz;        /* the TSC frequency, 0 when unknown: leaves 0x15/0x16 then say so */
	uint32_t crystal_hz;    /* the core crystal clock leaf 0x15 names (also the APIC timer's) */
	bool lapic;             /* a virtual local APIC exists */
	bool x2apic;            /* ... and it offers x2APIC mode */
	bool tsc_deadline;      /* ... and its timer offers TSC-deadline mode */
};

/* The XSAVE components a guest may enable on a host that supports `host_supported` (CPUID
 * 0xD.0 EDX:EAX): the guest components the host has, whole groups only. */
uint64_t cpu_model_xcr0_allowed(uint64_t host_supported);
/* XSETBV's rules for XCR0, SDM Vol. 2C XSETBV and Vol. 1 13.3: x87 always on, AVX needs SSE,
 * the AVX-512 trio together and with AVX, MPX and AMX pairs together, nothing outside allowed. */
bool cpu_model_xcr0_valid(uint64_t xcr0, uint64_t allowed);
/* A WRMSR of value to a SYSCALL MSR (STAR, LSTAR, CSTAR, FMASK) or TSC_AUX that the CPU takes:
 * LSTAR and CSTAR canonical, FMASK and TSC_AUX bits 63:32 reserved (SDM Vol. 4 Table 2-2);
 * false means #GP. */
bool cpu_model_syscall_msr_ok(uint32_t msr, uint64_t value);
/* Turns the host's answer r for (leaf, subleaf) into the guest's, in place. */
void cpu_model_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r,
		     const struct cpu_model_ctx *ctx);

#endif
