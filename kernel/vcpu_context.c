/* Switching the CPU state VM entry and exit leave alone, so CPU-mates never see each other's
 * registers and every start begins from the reset values. */
#include "kernel/vcpu_context.h"
#include "kernel/cpu_model.h"
#include "kernel/lib.h"
#include "kernel/x86.h"

struct xstate_config xstate;
/* The last syscall_id handed out; 0 names the reset values, all zero */
static uint64_t syscall_ids;

__attribute__((cold)) void xstate_cpu_enable(void)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	/* XSETBV and XSAVE need CR4.OSXSAVE in the host too, SDM Vol. 1 13.3 */
	if (r.ecx & CPUID_1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

/* Standard-form size of the components in mask: the end of the last one, SDM Vol. 1 13.4.3 */
static uint32_t xstate_size(uint64_t mask)
{
	uint32_t size = 512 + 64; /* legacy region and XSAVE header */
	struct cpuid_regs r;

	for (unsigned i = 2; i < 63; i++) {
		if (!(mask & (1ull << i)))
			continue;
		cpuid(0xd, i, &r);
		size = MAX(size, r.ebx + r.eax);
	}
	return size;
}

__attribute__((cold)) void xstate_init(void)
{
	struct cpuid_regs r;
	uint64_t mask;

	cpuid(0, 0, &r);
	xstate.host_max_basic = r.eax;
	cpuid(1, 0, &r);
	if (!(r.ecx & CPUID_1_ECX_XSAVE) || xstate.host_max_basic < 0xd)
		return;
	cpuid(0xd, 0, &r);
	mask = cpu_model_xcr0_allowed(((uint64_t)r.edx << 32) | r.eax);
	if (xstate_size(mask) > VCPU_XSAVE_AREA)
		mask &= ~XSTATE_AVX512;
	xstate.guest_mask = mask;
	xstate.size = xstate_size(mask);
	cpuid(0xd, 1, &r);
	xstate.has_xsaveopt = r.eax & 1;
	xstate.enabled = true;
}

__attribute__((cold)) void vcpu_context_reset(struct vcpu_context *c)
{
	memset(c, 0, sizeof(*c));
	c->xsave[0] = 0x7f; /* FCW */
	c->xsave[1] = 0x03;
	c->xsave[24] = 0x80; /* MXCSR */
	c->xsave[25] = 0x1f;
	c->xcr0 = XSTATE_X87;
	c->dr6 = 0xffff0ff0ull;
	cpuid_cache_clear(&c->cpuid);
	c->fast_action = -1;
}

/* XSAVE with every guest component enabled, so a component one guest never enabled still
 * comes back in the state the next guest left it (or in its initial state). STAR, LSTAR, CSTAR,
 * FMASK and TSC_AUX need no reading: their writes exit (vcpu_context_write_msr). */
static void context_save(struct vcpu_context *c)
{
	if (xstate.enabled) {
		xsetbv(0, xstate.guest_mask);
		/* The CPU's own lazy saving: only what the guest changed since context_load's XRSTOR
		 * of this area is written (a guest's own XRSTOR meanwhile makes it save all). Lazy
		 * switching with CR0.TS and #NM is not used: it leaks across guests (LazyFP). */
		if (xstate.has_xsaveopt)
			xsaveopt(c->xsave, xstate.guest_mask);
		else
			xsave(c->xsave, xstate.guest_mask);
	} else {
		fxsave(c->xsave);
	}
	c->cr2 = read_cr2();
	/* The CPU sets DR6 bits on a debug exception, with or without MOV DR: always the guest's */
	c->dr6 = read_dr6();
	if (c->dr_live) {
		c->dr[0] = read_dr0();
		c->dr[1] = read_dr1();
		c->dr[2] = read_dr2();
		c->dr[3] = read_dr3();
	}
	c->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
}

static void load_dr0_3(const struct vcpu_context *c)
{
	write_dr0(c->dr[0]);
	write_dr1(c->dr[1]);
	write_dr2(c->dr[2]);
	write_dr3(c->dr[3]);
}

/* Loads an MSR of to unless from (the context the CPU holds) has the same value. */
#define LOAD_MSR_IF_CHANGED(from, to, field, msr)                          \
	do {                                                               \
		if (!(from) || (from)->field != (to)->field)              \
			wrmsr(msr, (to)->field);                           \
	} while (0)

/* XRSTOR initialises every component whose XSTATE_BV bit is clear, SDM Vol. 1 13.8.1: a fresh
 * context leaves no trace of the guest that ran before. @pre from NULL or just saved */
static void context_load(const struct vcpu_context *from, const struct vcpu_context *c)
{
	if (xstate.enabled) {
		if (!from) /* context_save set it otherwise */
			xsetbv(0, xstate.guest_mask);
		xrstor(c->xsave, xstate.guest_mask);
		xsetbv(0, c->xcr0);
	} else {
		fxrstor(c->xsave);
	}
	write_cr2(c->cr2);
	write_dr6(c->dr6);
	if (c->dr_live)
		load_dr0_3(c);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, c->kernel_gs_base);
	if (from && from->syscall_id == c->syscall_id)
		return;
	LOAD_MSR_IF_CHANGED(from, c, star, MSR_IA32_STAR);
	LOAD_MSR_IF_CHANGED(from, c, lstar, MSR_IA32_LSTAR);
	LOAD_MSR_IF_CHANGED(from, c, cstar, MSR_IA32_CSTAR);
	LOAD_MSR_IF_CHANGED(from, c, fmask, MSR_IA32_FMASK);
	LOAD_MSR_IF_CHANGED(from, c, tsc_aux, MSR_IA32_TSC_AUX);
}

void vcpu_context_switch(struct vcpu_context *from, const struct vcpu_context *to)
{
	if (from)
		context_save(from);
	context_load(from, to);
}

void vcpu_context_take_dr(struct vcpu_context *c)
{
	if (c->dr_live)
		return;
	load_dr0_3(c);
	c->dr_live = true;
}

__attribute__((cold)) void vcpu_context_write_msr(struct vcpu_context *c, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_IA32_STAR:
		c->star = value;
		break;
	case MSR_IA32_LSTAR:
		c->lstar = value;
		break;
	case MSR_IA32_CSTAR:
		c->cstar = value;
		break;
	case MSR_IA32_FMASK:
		c->fmask = value;
		break;
	case MSR_IA32_TSC_AUX:
		c->tsc_aux = value;
		break;
	default:
		return;
	}
	/* A name no other context holds: the next switch to or from c compares the values */
	c->syscall_id = __atomic_add_fetch(&syscall_ids, 1, __ATOMIC_RELAXED);
	wrmsr(msr, value);
}

void vcpu_context_set_xcr0(struct vcpu_context *c, uint64_t xcr0)
{
	c->xcr0 = xcr0;
	xsetbv(0, xcr0);
}
