/* Switching the CPU state VM entry and exit leave alone, so CPU-mates never see each other's
 * registers and every start begins from the reset values. */
#include "kernel/vcpu_context.h"
#include "kernel/cpu_model.h"
#include "kernel/lib.h"
#include "kernel/x86.h"

struct xstate_config xstate;

void xstate_cpu_enable(void)
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

void xstate_init(void)
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
	xstate.enabled = true;
}

void vcpu_context_reset(struct vcpu_context *c)
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
 * comes back in the state the next guest left it (or in its initial state). */
static void context_save(struct vcpu_context *c)
{
	if (xstate.enabled) {
		xsetbv(0, xstate.guest_mask);
		xsave(c->xsave, xstate.guest_mask);
	} else {
		fxsave(c->xsave);
	}
	c->cr2 = read_cr2();
	c->dr[0] = read_dr0();
	c->dr[1] = read_dr1();
	c->dr[2] = read_dr2();
	c->dr[3] = read_dr3();
	c->dr6 = read_dr6();
	c->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	c->star = rdmsr(MSR_IA32_STAR);
	c->lstar = rdmsr(MSR_IA32_LSTAR);
	c->cstar = rdmsr(MSR_IA32_CSTAR);
	c->fmask = rdmsr(MSR_IA32_FMASK);
	c->tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
}

/* XRSTOR initialises every component whose XSTATE_BV bit is clear, SDM Vol. 1 13.8.1: a fresh
 * context leaves no trace of the guest that ran before. */
static void context_load(const struct vcpu_context *c)
{
	if (xstate.enabled) {
		xsetbv(0, xstate.guest_mask);
		xrstor(c->xsave, xstate.guest_mask);
		xsetbv(0, c->xcr0);
	} else {
		fxrstor(c->xsave);
	}
	write_cr2(c->cr2);
	write_dr0(c->dr[0]);
	write_dr1(c->dr[1]);
	write_dr2(c->dr[2]);
	write_dr3(c->dr[3]);
	write_dr6(c->dr6);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, c->kernel_gs_base);
	wrmsr(MSR_IA32_STAR, c->star);
	wrmsr(MSR_IA32_LSTAR, c->lstar);
	wrmsr(MSR_IA32_CSTAR, c->cstar);
	wrmsr(MSR_IA32_FMASK, c->fmask);
	wrmsr(MSR_IA32_TSC_AUX, c->tsc_aux);
}

void vcpu_context_switch(struct vcpu_context *from, const struct vcpu_context *to)
{
	if (from)
		context_save(from);
	context_load(to);
}

void vcpu_context_set_xcr0(struct vcpu_context *c, uint64_t xcr0)
{
	c->xcr0 = xcr0;
	xsetbv(0, xcr0);
}
