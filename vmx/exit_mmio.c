/* Memory-mapped devices: the LAPIC and I/O APIC pages are left out of a guest's EPT, so each
 * access is an EPT violation; the instruction is fetched through the guest's page tables,
 * decoded, and carried out against the guest's virtual platform (drivers/virt/vmachine.c). */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/insn.h"
#include "kernel/pagewalk.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/x86.h"
#include "drivers/virt/vmachine.h"

#define INSN_MAX 15

static int guest_read_gpa(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	const struct guest *g = opaque;

	uint64_t hpa;

	if (!guest_gpa_to_hpa(g, gpa, len, &hpa))
		return -1;
	memcpy(buf, (const void *)hpa, len);
	return 0;
}

/* The code size CS selects, SDM Vol. 3A 3.4.5: L for 64-bit, else D/B. */
static enum insn_mode guest_code_mode(void)
{
	uint32_t ar = (uint32_t)vmcs_read(VMCS_GUEST_CS_ACCESS_RIGHTS);

	if ((vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (ar & (1u << 13)))
		return INSN_MODE_64;
	return ar & (1u << 14) ? INSN_MODE_32 : INSN_MODE_16;
}

/* The instruction bytes at the guest's CS:RIP (up to 15, fewer at the end of its memory). */
static size_t guest_fetch(struct vcpu *vcpu, uint64_t rip, uint8_t *bytes)
{
	struct pagewalk_ctx ctx = {
		.cr0 = vmcs_read(VMCS_GUEST_CR0),
		.cr3 = vmcs_read(VMCS_GUEST_CR3),
		.cr4 = vmcs_read(VMCS_GUEST_CR4),
		.efer = vmcs_read(VMCS_GUEST_IA32_EFER),
		.read_gpa = guest_read_gpa,
		.opaque = vcpu->guest,
	};
	uint64_t linear = vmcs_read(VMCS_GUEST_CS_BASE) + rip, fault;
	size_t done = 0;

	if (guest_code_mode() == INSN_MODE_64)
		linear = rip;
	pagewalk_read(&ctx, linear, PAGEWALK_FETCH, bytes, INSN_MAX, &done, &fault);
	return done;
}

enum exit_action exit_mmio(struct vcpu *vcpu, const struct vmx_exit *exit, uint64_t gpa)
{
	struct guest *g = vcpu->guest;
	uint64_t *gpr = vcpu->regs.gpr, regs[16], value = 0;
	uint8_t bytes[INSN_MAX];
	struct mmio_insn insn;
	size_t n = guest_fetch(vcpu, exit->guest_rip, bytes);
	int err = insn_decode_mmio(bytes, n, guest_code_mode(), &insn);

	if (err < 0) {
		vcpu_dump(vcpu);
		guest_crash(g, "unsupported MMIO instruction %02x %02x %02x at rip 0x%lx for guest-physical "
			   "0x%lx (%s)", n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0,
			   exit->guest_rip, gpa, err_name(err));
		return EXIT_STOPPED;
	}
	memcpy(regs, gpr, sizeof(regs));
	regs[GPR_RSP] = vmcs_read(VMCS_GUEST_RSP);
	if (insn.write)
		value = insn_store_value(&insn, regs);
	spin_lock(&g->vm_lock);
	if (insn.read && insn.write) {
		/* XCHG: the device's old value comes back into the register. */
		uint64_t old = 0;

		if (!vmachine_mmio(g->vm, vcpu->index, gpa, insn.size, false, &old, rdtsc()))
			old = ~0ull;
		vmachine_mmio(g->vm, vcpu->index, gpa, insn.size, true, &value, rdtsc());
		value = old;
	} else if (insn.write) {
		vmachine_mmio(g->vm, vcpu->index, gpa, insn.size, true, &value, rdtsc());
	} else if (!vmachine_mmio(g->vm, vcpu->index, gpa, insn.size, false, &value, rdtsc())) {
		value = ~0ull; /* undecoded: reads as a floating bus */
	}
	spin_unlock(&g->vm_lock);
	if (insn.read) {
		uint64_t updated = insn_apply_load(&insn, regs[insn.reg], value);

		if (insn.reg == GPR_RSP)
			vmcs_write(VMCS_GUEST_RSP, updated);
		else
			gpr[insn.reg] = updated;
	}
	vmcs_write(VMCS_GUEST_RIP, exit->guest_rip + insn.length);
	return EXIT_RESUME;
}
