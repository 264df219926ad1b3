/* hcall: an unknown hypercall, unemulated ports, an MSR, the CPUID bits, then HC_EXIT 9. */
#include "tests/guests/lib/guest.h"

#define HCALL_UNKNOWN_NR 0x1234u
#define HCALL_EXIT_CODE 9
#define MSR_IA32_APIC_BASE 0x1bu
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t ret;
	uint64_t msr;

	(void)mbi;
	guest_boot("hcall", magic);
	idt_init(0xee);

	if (vmcall_safe(HCALL_UNKNOWN_NR, 1, 2, 3, &ret)) {
		printf("hcall: unknown returned 0x%x\n", ret);
		printf("hcall: unknown hypercall %s\n", ret == HC_ERR_UNKNOWN ? "ok" : "WRONG");
	} else {
		printf("hcall: unknown hypercall raised #UD\n");
	}

	printf("hcall: port 0x80 reads 0x%x\n", inb(0x80));
	printf("hcall: port 0xcfc reads 0x%x\n", inl(0xcfc));

	if (rdmsr_safe(MSR_IA32_APIC_BASE, &msr))
		printf("hcall: rdmsr 0x%x = 0x%08x%08x\n", MSR_IA32_APIC_BASE, (uint32_t)(msr >> 32),
		       (uint32_t)msr);
	else
		printf("hcall: rdmsr 0x%x raised #GP\n", MSR_IA32_APIC_BASE);

	struct cpuid_regs leaf1 = cpuid(1, 0);
	if (!(leaf1.ecx & CPUID_1_ECX_VMX) && (leaf1.ecx & CPUID_1_ECX_HYPERVISOR))
		printf("hcall: cpuid ok\n");
	else
		printf("hcall: cpuid.1:ecx 0x%08x vmx=%u hypervisor=%u\n", leaf1.ecx,
		       (leaf1.ecx >> 5) & 1, leaf1.ecx >> 31);

	printf("hcall: exiting via vmcall with code %d\n", HCALL_EXIT_CODE);
	if (vmcall_safe(HC_EXIT, HCALL_EXIT_CODE, 0, 0, &ret))
		printf("hcall: VMCALL exit returned\n");
	else
		printf("hcall: VMCALL exit raised #UD\n");
	guest_exit(1);
}
