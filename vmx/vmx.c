/* Pure VMX operations: detection, capability MSRs, VMXON, VMREAD/VMWRITE wrappers. */
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"
#include "kernel/x86.h"

struct vmx_caps vmx_caps;
struct vmx_controls vmx_ctls;

#define CPUID_1_ECX_VMX (1u << 5)
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

static void vmx_read_caps(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->true_ctls = (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
	c->pinbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	vmx_preemption_shift = vmx_misc_preemption_rate(c->misc);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* The secondary-controls MSR exists only when the primary controls may activate it, SDM Vol. 3D A.3.3 */
	c->procbased2 = (c->procbased >> 32) & CPU_ACTIVATE_SECONDARY_CONTROLS ?
				rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	c->ept_vpid_cap = (c->procbased2 >> 32) & (CPU2_ENABLE_EPT | CPU2_ENABLE_VPID) ?
				  rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
}

int vmx_detect(char *why, size_t why_size)
{
	struct cpuid_regs r;
	uint64_t feature_control;
	char missing[160];

	cpuid(0, 0, &r);
	if (!(r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e)) {
		fmt_snprintf(why, why_size,
			     "not an Intel CPU (CPUID vendor %.4s%.4s%.4s): Cloison needs Intel VT-x",
			     (char *)&r.ebx, (char *)&r.edx, (char *)&r.ecx);
		return -E_NOTSUP;
	}
	cpuid(1, 0, &r);
	if (!(r.ecx & CPUID_1_ECX_VMX)) {
		fmt_snprintf(why, why_size,
			     "CPUID.1:ECX.VMX[bit 5] is 0: this CPU (or the emulator or hypervisor below) offers no VT-x");
		return -E_NOTSUP;
	}
	/* SDM Vol. 3C 23.7: VMXON needs IA32_FEATURE_CONTROL locked with VMX-outside-SMX enabled. */
	feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(feature_control & FEATURE_CONTROL_LOCKED)) {
		feature_control |= FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, feature_control);
		log_info("vmx: IA32_FEATURE_CONTROL was unlocked; enabled VMX and locked it");
	} else if (!(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		fmt_snprintf(why, why_size,
			     "VT-x is disabled by the firmware (IA32_FEATURE_CONTROL = 0x%lx, locked, VMX outside SMX off): enable Intel Virtualization Technology in the BIOS/UEFI setup",
			     feature_control);
		return -E_NOTSUP;
	}
	vmx_read_caps(&vmx_caps);
	if (vmx_controls_compute(&vmx_caps, &vmx_ctls, missing, sizeof(missing)) < 0) {
		fmt_snprintf(why, why_size, "VT-x lacks features Cloison requires: %s", missing);
		return -E_NOTSUP;
	}
	return 0;
}

int vmx_cpu_enable(struct per_cpu *cpu)
{
	uint32_t *region;

	if (!cpu->vmxon_phys) {
		cpu->vmxon_phys = page_alloc_phys();
		if (!cpu->vmxon_phys)
			return -E_NOMEM;
	}
	region = (uint32_t *)cpu->vmxon_phys;
	region[0] = vmx_basic_revision(vmx_caps.basic);

	/* CR0 and CR4 must honour the fixed bits in VMX operation, SDM Vol. 3C 23.8 */
	write_cr0(vmx_fix_cr0(&vmx_caps, read_cr0(), false));
	write_cr4(vmx_fix_cr4(&vmx_caps, read_cr4() | CR4_VMXE));
	if (!vmxon(cpu->vmxon_phys)) {
		log_err("vmx: VMXON failed on cpu%u", cpu->id);
		return -E_NOTSUP;
	}
	cpu->vmx_on = true;
	if (vmx_caps.ept_vpid_cap & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	return 0;
}

void vmx_flush_guest_tlb(uint64_t eptp, uint16_t vpid)
{
	/* Single context where the CPU has it, else everything, SDM Vol. 3C 28.3.3.1 */
	if (vmx_caps.ept_vpid_cap & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, eptp);
	else if (vmx_caps.ept_vpid_cap & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	if (!vpid)
		return;
	if (vmx_caps.ept_vpid_cap & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vpid);
	else if (vmx_caps.ept_vpid_cap & VPID_CAP_INVVPID_ALL)
		invvpid(INVVPID_ALL_CONTEXT, 0);
}

void vmcs_access_failed(enum vmcs_field field, uint64_t value, bool write)
{
	this_cpu()->vmcs_errors++;
	if (write)
		log_err("vmx: VMWRITE of field 0x%04x = 0x%lx failed", field, value);
	else
		log_err("vmx: VMREAD of field 0x%04x failed", field);
}

void vmx_report_instruction_error(const char *what)
{
	uint64_t error = 0;

	/* Without a current VMCS (VMfailInvalid) the error field cannot be read. */
	if (!vmread_checked(VMCS_VM_INSTRUCTION_ERROR, &error)) {
		log_err("vmx: %s failed without a current VMCS (VMfailInvalid)", what);
		return;
	}
	log_err("vmx: %s failed: VM-instruction error %lu (%s)", what, error,
		vmx_instruction_error_name((uint32_t)error));
}
