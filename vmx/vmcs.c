/* VMCS set-up for one vCPU: controls from the computed policy, host state of this CPU, and the
 * guest state of a Multiboot start (32-bit protected mode, paging off, flat segments). */
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"
#include "vmx/exit.h"
#include "kernel/mm.h"
#include "kernel/mb1.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/x86.h"

extern char vmx_exit_stub[];

/* Segment access rights in the VMCS format, SDM Vol. 3C 24.4.1 */
#define AR_CODE32 0xc09b     /* present, DPL 0, code exec/read accessed, D=1, G=1 */
#define AR_DATA32 0xc093     /* present, DPL 0, data read/write accessed, D=1, G=1 */
#define AR_TSS32_BUSY 0x008b /* present, 32-bit busy TSS */
#define AR_UNUSABLE 0x10000

/* Bits the guest may not own: CR0.NE is fixed to 1 under VMX; CR4.VMXE is ours; SMXE, PKE and
 * CET belong to features CPUID hides; OSXSAVE is checked against what XSAVE switching covers. */
#define GUEST_CR0_HOST_OWNED (CR0_NE)
#define GUEST_CR4_HOST_OWNED (CR4_VMXE | CR4_SMXE | CR4_PKE | CR4_CET | CR4_OSXSAVE)

int vmcs_load_failed(void)
{
	vmx_report_instruction_error("VMPTRLD");
	return -E_INVAL;
}

unsigned vmx_preemption_shift;

void vmcs_free(struct vcpu *vcpu)
{
	struct per_cpu *cpu = this_cpu();

	if (!vcpu->vmcs_phys)
		return;
	vmclear(vcpu->vmcs_phys);
	if (cpu->current == vcpu)
		cpu->current = NULL;
	page_free_phys(vcpu->vmcs_phys);
	vcpu->vmcs_phys = 0;
	vcpu->launched = false;
}

static void vmcs_setup_controls(struct vcpu *vcpu)
{
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, vmx_ctls.pin);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, vmx_ctls.cpu);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, vmx_ctls.cpu2);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, vmx_ctls.exit);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, vmx_ctls.entry);
	/* Machine checks are the host's to see, SDM Vol. 3C 25.2 */
	vmcs_write(VMCS_EXCEPTION_BITMAP, 1u << VECTOR_MC);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO, 0);
	vmcs_write(VMCS_IO_BITMAP_A, exit_policy.io_bitmap_a);
	vmcs_write(VMCS_IO_BITMAP_B, exit_policy.io_bitmap_b);
	vmcs_write(VMCS_MSR_BITMAP, exit_policy.msr_bitmap);
	vmcs_write(VMCS_EPT_POINTER, vcpu->guest->eptp);
	if (vmx_ctls.has_vpid)
		vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, vcpu->vpid);
	vmcs_write(VMCS_TSC_OFFSET, 0);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, GUEST_CR0_HOST_OWNED);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, GUEST_CR4_HOST_OWNED);
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_ET);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
}

static void vmcs_setup_host(void)
{
	struct per_cpu *cpu = this_cpu();
	struct descriptor_table_ptr gdtr, idtr;

	sgdt(&gdtr);
	sidt(&idtr);
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SELECTOR, GDT_CODE64);
	vmcs_write(VMCS_HOST_SS_SELECTOR, GDT_DATA);
	vmcs_write(VMCS_HOST_DS_SELECTOR, GDT_DATA);
	vmcs_write(VMCS_HOST_ES_SELECTOR, GDT_DATA);
	vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_TR_SELECTOR, GDT_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, (uint64_t)cpu);
	vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)&cpu->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmx_ctls.has_pat)
		vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
	/* VMCS_HOST_RSP is written by vmx_enter on every entry. */
}

static void vmcs_set_segment(enum vmcs_field selector, uint16_t sel, uint32_t ar)
{
	/* Selector, limit, access rights and base fields keep the same order per register. */
	unsigned idx = (selector - VMCS_GUEST_ES_SELECTOR) / 2;

	vmcs_write(selector, sel);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * idx), 0xffffffff);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * idx), ar);
	vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * idx), 0);
}

/* The machine state a Multiboot loader hands over, Multiboot spec 3.2. */
static void vmcs_setup_guest(struct vcpu *vcpu, uint32_t entry, uint32_t mbi_gpa)
{
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&vmx_caps, CR0_PE | CR0_ET, true));
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&vmx_caps, 0));
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_write(VMCS_GUEST_RIP, entry);
	vmcs_write(VMCS_GUEST_RSP, MB1_INFO_BASE - 16); /* undefined by the spec; below the info block */

	vmcs_set_segment(VMCS_GUEST_CS_SELECTOR, 0x08, AR_CODE32);
	vmcs_set_segment(VMCS_GUEST_SS_SELECTOR, 0x10, AR_DATA32);
	vmcs_set_segment(VMCS_GUEST_DS_SELECTOR, 0x10, AR_DATA32);
	vmcs_set_segment(VMCS_GUEST_ES_SELECTOR, 0x10, AR_DATA32);
	vmcs_set_segment(VMCS_GUEST_FS_SELECTOR, 0x10, AR_DATA32);
	vmcs_set_segment(VMCS_GUEST_GS_SELECTOR, 0x10, AR_DATA32);
	vmcs_write(VMCS_GUEST_TR_SELECTOR, 0);
	vmcs_write(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_TSS32_BUSY);
	vmcs_write(VMCS_GUEST_TR_BASE, 0);
	vmcs_write(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmcs_write(VMCS_GUEST_LDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_LDTR_ACCESS_RIGHTS, AR_UNUSABLE);
	vmcs_write(VMCS_GUEST_LDTR_BASE, 0);
	/* The spec leaves GDTR and IDTR undefined; an empty IDT makes any early fault a triple fault. */
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);

	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	if (vmx_ctls.has_pat)
		vmcs_write(VMCS_GUEST_IA32_PAT, 0x0007040600070406ull); /* the power-on PAT */
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
	vmcs_write(VMCS_LINK_POINTER, ~0ull);

	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->regs.gpr[GPR_RAX] = MB1_BOOTLOADER_MAGIC;
	vcpu->regs.gpr[GPR_RBX] = mbi_gpa;
}

/* The 64-bit boot protocol's machine state, boot.rst: long mode, paging with the loader's
 * identity map, __BOOT_CS/__BOOT_DS flat segments, interrupts off, RSI = the zero page. */
int vmcs_setup_linux(struct vcpu *vcpu, const struct linux_entry *e)
{
	struct per_cpu *cpu = this_cpu();
	enum vmcs_field data[] = { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_ES_SELECTOR,
				   VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
				   VMCS_GUEST_GS_SELECTOR };

	cpu->vmcs_errors = 0;
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&vmx_caps, e->cr0, true));
	vmcs_write(VMCS_CR0_READ_SHADOW, e->cr0);
	vmcs_write(VMCS_GUEST_CR3, e->cr3);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&vmx_caps, e->cr4));
	vmcs_write(VMCS_CR4_READ_SHADOW, e->cr4);
	vmcs_write(VMCS_GUEST_IA32_EFER, e->efer);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, vmx_ctls.entry | ENTRY_IA32E_MODE_GUEST);
	vmcs_set_segment(VMCS_GUEST_CS_SELECTOR, e->cs, e->cs_ar);
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
		vmcs_set_segment(data[i], e->ds, e->ds_ar);
	/* IA-32e mode needs a 64-bit busy TSS, SDM Vol. 3C 26.3.1.2 */
	vmcs_write(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_TSS32_BUSY);
	vmcs_write(VMCS_GUEST_GDTR_BASE, e->gdt_base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, e->gdt_limit);
	vmcs_write(VMCS_GUEST_RFLAGS, e->rflags | 0x2);
	vmcs_write(VMCS_GUEST_RIP, e->rip);
	vmcs_write(VMCS_GUEST_RSP, e->zero_page);
	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->regs.gpr[GPR_RSI] = e->rsi;
	return cpu->vmcs_errors ? -E_INVAL : 0;
}

/* An application processor after INIT and a SIPI, SDM Vol. 3A 9.1.1 Table 9-1 and 9.4.4: real
 * mode at CS = vector << 8 (base vector << 12), IP 0, caches as reset leaves them; unrestricted
 * guest runs it as it is, SDM Vol. 3C 26.3.1.2. */
int vmcs_setup_sipi(struct vcpu *vcpu, uint8_t vector)
{
	struct per_cpu *cpu = this_cpu();
	enum vmcs_field data[] = { VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_ES_SELECTOR,
				   VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_FS_SELECTOR,
				   VMCS_GUEST_GS_SELECTOR };
	struct cpuid_regs r;

	cpu->vmcs_errors = 0;
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_CD | CR0_NW | CR0_ET);
	vmcs_write(VMCS_GUEST_CR0, vmx_fix_cr0(&vmx_caps, CR0_CD | CR0_NW | CR0_ET, true));
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_CR4, vmx_fix_cr4(&vmx_caps, 0));
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, vmx_ctls.entry);
	vmcs_write(VMCS_GUEST_CS_SELECTOR, (uint64_t)vector << 8);
	vmcs_write(VMCS_GUEST_CS_BASE, (uint64_t)vector << 12);
	vmcs_write(VMCS_GUEST_CS_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_CS_ACCESS_RIGHTS, 0x9b);
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++) {
		unsigned idx = (data[i] - VMCS_GUEST_ES_SELECTOR) / 2;

		vmcs_write(data[i], 0);
		vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * idx), 0xffff);
		vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_ACCESS_RIGHTS + 2 * idx), 0x93);
		vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * idx), 0);
	}
	vmcs_write(VMCS_GUEST_TR_SELECTOR, 0);
	vmcs_write(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_TR_ACCESS_RIGHTS, AR_TSS32_BUSY);
	vmcs_write(VMCS_GUEST_TR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_write(VMCS_GUEST_RIP, 0);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_STATE, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO, 0);
	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	cpuid(1, 0, &r);
	vcpu->regs.gpr[GPR_RDX] = r.eax; /* the processor signature, as after INIT */
	return cpu->vmcs_errors ? -E_INVAL : 0;
}

int vmcs_setup(struct vcpu *vcpu, uint32_t entry, uint32_t mbi_gpa)
{
	struct per_cpu *cpu = this_cpu();

	if (!vcpu->vmcs_phys) {
		vcpu->vmcs_phys = page_alloc_phys();
		if (!vcpu->vmcs_phys)
			return -E_NOMEM;
	}
	*(uint32_t *)vcpu->vmcs_phys = vmx_basic_revision(vmx_caps.basic);
	if (!vmclear(vcpu->vmcs_phys)) {
		vmx_report_instruction_error("VMCLEAR");
		return -E_INVAL;
	}
	vcpu->launched = false;
	cpu->current = NULL;
	if (vmcs_load(vcpu) < 0)
		return -E_INVAL;
	cpu->vmcs_errors = 0;
	vmcs_setup_controls(vcpu);
	vmcs_setup_host();
	vmcs_setup_guest(vcpu, entry, mbi_gpa);
	return cpu->vmcs_errors ? -E_INVAL : 0;
}
