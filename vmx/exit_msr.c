/* RDMSR/WRMSR: the MSR bitmap lets harmless MSRs through; the rest land here and are emulated
 * or refused with #GP, as a CPU without that MSR would. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/x86.h"
#include "kernel/lib.h"
#include "drivers/virt/vmachine.h"
#include "kernel/cpu_model.h"
#include "kernel/vcpu_context.h"

#define MSR_IA32_PLATFORM_ID 0x17
#define MSR_IA32_DEBUGCTL 0x1d9
#define DEBUGCTL_BTF (1ull << 1) /* single-step on branches; LBR, BTS and the rest are not offered */
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define REFUSED_MSR_REPORTS 4 /* per guest, then only counted */

struct exit_policy exit_policy;

/* MSRs the guest may read and write directly: their values are guest state that VM entry and
 * exit switch (SYSENTER, FS/GS base, PAT with the PAT controls) or that the host never uses
 * (KERNEL_GS_BASE, which SWAPGS changes, is switched with the vCPU context). */
static const uint32_t passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
};
/* Read directly, written through exit_msr_write: a guest sets them once, so the vCPU context
 * always holds their values and a guest switch writes only those that differ. */
static const uint32_t write_exiting_msrs[] = {
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK, MSR_IA32_TSC_AUX,
};

/* MSR bitmap layout, SDM Vol. 3C 24.6.9: read-low, read-high, write-low, write-high, 1 KiB each. */
__attribute__((cold)) static void msr_bitmap_allow(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	unsigned base = msr >= 0xc0000000u ? 1024 : 0;
	uint32_t bit = msr & 0x1fff;

	if (read)
		bitmap[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	if (write)
		bitmap[2048 + base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

__attribute__((cold)) int exit_policy_init(void)
{
	uint8_t *msr_bitmap;

	exit_policy.io_bitmap_a = page_alloc_phys();
	exit_policy.io_bitmap_b = page_alloc_phys();
	exit_policy.msr_bitmap = page_alloc_phys();
	if (!exit_policy.io_bitmap_a || !exit_policy.io_bitmap_b || !exit_policy.msr_bitmap)
		return -E_NOMEM;
	memset((void *)exit_policy.io_bitmap_a, 0xff, PAGE_SIZE);
	memset((void *)exit_policy.io_bitmap_b, 0xff, PAGE_SIZE);
	msr_bitmap = (uint8_t *)exit_policy.msr_bitmap;
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msr_bitmap_allow(msr_bitmap, passthrough_msrs[i], true, true);
	for (unsigned i = 0; i < ARRAY_SIZE(write_exiting_msrs); i++)
		msr_bitmap_allow(msr_bitmap, write_exiting_msrs[i], true, false);
	msr_bitmap_allow(msr_bitmap, MSR_IA32_TSC, true, false);
	if (vmx_ctls.has_pat)
		msr_bitmap_allow(msr_bitmap, MSR_IA32_PAT, true, true);
	return 0;
}

__attribute__((cold)) static void msr_refuse(struct vcpu *vcpu, const char *what, uint32_t msr)
{
	struct guest *g = vcpu->guest;

	if (g->refused_msrs++ < REFUSED_MSR_REPORTS)
		log_info("guest %s: %s of MSR 0x%x refused with #GP", g->name, what, msr);
	vcpu_inject_exception(VECTOR_GP, true, 0);
}

enum exit_action exit_msr_read(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	uint32_t msr = (uint32_t)gpr[GPR_RCX];
	uint64_t value;

	(void)exit;
	if (vcpu->guest->vm) {
		int handled;

		spin_lock(&vcpu->guest->vm_lock);
		handled = vmachine_msr_read(vcpu->guest->vm, vcpu->index, msr, &value, rdtsc());
		spin_unlock(&vcpu->guest->vm_lock);

		if (handled < 0) {
			msr_refuse(vcpu, "read", msr);
			return EXIT_RESUME;
		}
		if (handled > 0)
			goto done;
	}
	switch (msr) {
	case MSR_IA32_EFER:
		value = vmcs_read(VMCS_GUEST_IA32_EFER);
		break;
	case MSR_IA32_APIC_BASE:
		value = 0xfee00000ull | (1ull << 8); /* BSP, APIC not enabled: no virtual APIC yet */
		break;
	case MSR_IA32_FEATURE_CONTROL:
		value = FEATURE_CONTROL_LOCKED; /* locked with VMX off: no nested VT-x */
		break;
	case MSR_IA32_MISC_ENABLE:
		value = 1; /* fast strings */
		break;
	case MSR_IA32_MTRRCAP:
		value = 0; /* no fixed or variable MTRRs to program */
		break;
	case MSR_IA32_MTRR_DEF_TYPE:
		value = (1ull << 11) | 6; /* MTRRs on, default write-back */
		break;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_BIOS_SIGN_ID:
		value = 0;
		break;
	case MSR_IA32_DEBUGCTL: /* switched by VM exit and entry (save/load debug controls) */
		value = vmcs_read(VMCS_GUEST_IA32_DEBUGCTL);
		break;
	default:
		msr_refuse(vcpu, "read", msr);
		return EXIT_RESUME;
	}
done:
	gpr[GPR_RAX] = (uint32_t)value;
	gpr[GPR_RDX] = value >> 32;
	return EXIT_ADVANCE;
}

enum exit_action exit_msr_write(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	uint64_t *gpr = vcpu->regs.gpr;
	uint32_t msr = (uint32_t)gpr[GPR_RCX];
	uint64_t value = (gpr[GPR_RDX] << 32) | (uint32_t)gpr[GPR_RAX];

	(void)exit;
	if (vcpu->guest->vm) {
		int handled;

		spin_lock(&vcpu->guest->vm_lock);
		handled = vmachine_msr_write(vcpu->guest->vm, vcpu->index, msr, value, rdtsc());
		spin_unlock(&vcpu->guest->vm_lock);

		if (handled < 0) {
			msr_refuse(vcpu, "write", msr);
			return EXIT_RESUME;
		}
		if (handled > 0)
			return EXIT_ADVANCE;
	}
	switch (msr) {
	case MSR_IA32_EFER: {
		/* LMA is the CPU's to set; the guest writes SCE, LME, NXE. SDM Vol. 3A 2.2.1 */
		uint64_t old = vmcs_read(VMCS_GUEST_IA32_EFER), lma = old & EFER_LMA;

		if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) {
			msr_refuse(vcpu, "write of reserved bits", msr);
			return EXIT_RESUME;
		}
		/* LME may change only while paging is off, SDM Vol. 3A 9.8.5 and Vol. 4 IA32_EFER */
		if (((value ^ old) & EFER_LME) && (vcpu_guest_cr0() & CR0_PG)) {
			msr_refuse(vcpu, "LME change with paging on", msr);
			return EXIT_RESUME;
		}
		vmcs_write(VMCS_GUEST_IA32_EFER, (value & ~EFER_LMA) | lma);
		break;
	}
	case MSR_IA32_DEBUGCTL:
		if (value & ~DEBUGCTL_BTF) {
			msr_refuse(vcpu, "write of unsupported DEBUGCTL bits", msr);
			return EXIT_RESUME;
		}
		vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, value);
		break;
	case MSR_IA32_STAR:
	case MSR_IA32_LSTAR:
	case MSR_IA32_CSTAR:
	case MSR_IA32_FMASK:
	case MSR_IA32_TSC_AUX:
		/* Checked before the host's WRMSR, which would fault on what the guest's may not */
		if (!cpu_model_syscall_msr_ok(msr, value)) {
			msr_refuse(vcpu, "write of a reserved or non-canonical value", msr);
			return EXIT_RESUME;
		}
		vcpu_context_write_msr(&vcpu->context, msr, value);
		break;
	case MSR_IA32_TSC: /* no TSC offsetting: the guest's TSC stays the host's */
	case MSR_IA32_APIC_BASE:
	case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_MTRR_DEF_TYPE:
	case MSR_IA32_BIOS_SIGN_ID:
		break; /* accepted and ignored */
	default:
		msr_refuse(vcpu, "write", msr);
		return EXIT_RESUME;
	}
	return EXIT_ADVANCE;
}
