/* The console's copies of guest registers (vcpu->saved): taken out of the VMCS on the CPU that
 * holds it, only when the console asks (`info`) or a guest crashes, so that no exit or switch
 * pays for them. The console's CPU copies its own vCPUs at once; another CPU copies its vCPUs at
 * its next exit, which guest_wait's NMI brings at once. */
#include "kernel/guest.h"
#include "kernel/percpu.h"
#include "vmx/vmx.h"
#include "vmx/exit.h"

void vcpu_save_state(struct vcpu *v)
{
	/* Reads of the current VMCS's guest-state fields, which cannot fail */
	v->saved.rip = vmread_unchecked(VMCS_GUEST_RIP);
	v->saved.rsp = vmread_unchecked(VMCS_GUEST_RSP);
	v->saved.rflags = vmread_unchecked(VMCS_GUEST_RFLAGS);
	v->saved.cr0 = vcpu_guest_cr0();
	v->saved.cr3 = vmread_unchecked(VMCS_GUEST_CR3);
	v->saved.cr4 = vcpu_guest_cr4();
	v->saved.efer = vmread_unchecked(VMCS_GUEST_IA32_EFER);
	v->saved.valid = true;
}

/* Running or paused: its vCPUs' VMCSs hold its state (a stopped guest's are torn down) */
static bool guest_in_vmcs(const struct guest *g)
{
	return g->state == GUEST_RUNNING || g->state == GUEST_PAUSED;
}

void cpu_take_copies(struct per_cpu *cpu)
{
	struct guest *g = __atomic_load_n(&cpu->copy_guest, __ATOMIC_ACQUIRE);
	struct vcpu *was = cpu->current;

	if (!g)
		return;
	/* Launched here and not torn down: a vCPU off its CPU still has its VMCS here, loaded
	 * for the reads */
	for (unsigned k = 0; k < g->nr_vcpus; k++) {
		struct vcpu *v = g->vcpus[k];

		if (v->cpu == cpu->id && v->launched && v->vmcs_ready && guest_in_vmcs(g) &&
		    vmcs_load(v) == 0)
			vcpu_save_state(v);
	}
	/* The run loop or exit handler under the console tick goes on with its own VMCS */
	if (was && cpu->current != was)
		(void)vmcs_load(was);
	/* Done, unless the console has asked for another guest meanwhile (after a timeout) */
	__atomic_compare_exchange_n(&cpu->copy_guest, &g, NULL, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

static bool guest_copies_done(struct guest *g)
{
	for (unsigned k = 0; k < g->nr_vcpus; k++)
		if (__atomic_load_n(&cpu_table[g->vcpus[k]->cpu]->copy_guest, __ATOMIC_ACQUIRE) == g)
			return false;
	return true;
}

bool guest_sync_regs(struct guest *g, uint64_t timeout_us)
{
	/* A crash kept for inspection was copied when it happened; a stopped guest has no VMCS */
	if (g->preserved || !guest_in_vmcs(g))
		return true;
	for (unsigned k = 0; k < g->nr_vcpus; k++)
		__atomic_store_n(&cpu_table[g->vcpus[k]->cpu]->copy_guest, g, __ATOMIC_SEQ_CST);
	cpu_take_copies(this_cpu()); /* the console's own CPU: at once */
	return guest_copies_done(g) || guest_wait(g, guest_copies_done, timeout_us);
}
