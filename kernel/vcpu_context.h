/* The CPU state VM entry and exit leave alone, switched by Cloison between the guests of a CPU:
 * x87/SSE/AVX (XSAVE) with XCR0, CR2, DR0-DR3 and DR6, and the MSRs the bitmap passes through. */
#ifndef CLOISON_VCPU_CONTEXT_H
#define CLOISON_VCPU_CONTEXT_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/cpuid_cache.h"

#define VCPU_XSAVE_AREA 4096

struct vcpu_context {
	uint8_t xsave[VCPU_XSAVE_AREA] __attribute__((aligned(64))); /* XSAVE or FXSAVE image */
	uint64_t xcr0;
	uint64_t cr2;
	uint64_t dr[4], dr6;
	bool dr_live;         /* DR0-DR3 in use since the guest's first MOV DR: switched */
	uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
	uint64_t syscall_id;  /* names the five values above STAR: equal ids, equal values */
	/* Not switched, only reset with the rest: the exit fast path's per-vCPU state (vmx/fastpath.c) */
	struct cpuid_cache cpuid;  /* answers of the virtual CPU model, per vCPU */
	int fast_action;           /* an exit action the fast path left for the run loop, or -1 */
};

/* What this machine offers guests for XSAVE, found once on the boot CPU. */
struct xstate_config {
	bool enabled;        /* XSAVE present: host CR4.OSXSAVE is set on every CPU */
	bool has_xsaveopt;   /* CPUID.(EAX=0DH,ECX=1):EAX[0] */
	uint64_t guest_mask; /* XCR0 bits a guest may set (kernel/cpu_model.h) */
	uint32_t size;       /* standard-form area size for guest_mask */
	uint32_t host_max_basic; /* CPUID.0:EAX */
};
extern struct xstate_config xstate;

/* Finds the XSAVE components guests get; call on the boot CPU after cpu_init. */
void xstate_init(void);
/* Sets CR4.OSXSAVE on this CPU when the CPU has XSAVE (cpu_init calls it). */
void xstate_cpu_enable(void);
/* The architectural reset state, SDM Vol. 3A 9.1.1 Table 9-1: FCW 0x37f, MXCSR 0x1f80,
 * XCR0 = 1, DR6 0xffff0ff0, all else zero; no CPUID answer remembered; debug registers not
 * in use (the caller makes MOV DR exit again). */
void vcpu_context_reset(struct vcpu_context *c);
/* Saves from's state (unless NULL) from the CPU and loads to's; with from given, the MSRs
 * whose writes exit are written only where the two differ. */
void vcpu_context_switch(struct vcpu_context *from, const struct vcpu_context *to);
/* A guest's WRMSR to STAR, LSTAR, CSTAR, FMASK or TSC_AUX: kept and loaded on this CPU.
 * @pre cpu_model_syscall_msr_ok() */
void vcpu_context_write_msr(struct vcpu_context *c, uint32_t msr, uint64_t value);
/* The guest's first MOV DR since its start: its DR0-DR3 are loaded on this CPU (the context
 * holds them) and switched from now on. Until then they may hold a CPU-mate's values, which the
 * guest cannot read while MOV DR exits. */
void vcpu_context_take_dr(struct vcpu_context *c);
/* A guest's XSETBV: loads its new XCR0 on this CPU. @pre cpu_model_xcr0_valid() */
void vcpu_context_set_xcr0(struct vcpu_context *c, uint64_t xcr0);

#endif
