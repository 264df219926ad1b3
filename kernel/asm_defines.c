/* Structure offsets that assembly needs, generated at build time into build/asm-defines.h. */
#include <stddef.h>
#include "kernel/guest.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %c0\"" ::"i"(val))
#define GPR_OFFSET(r) (offsetof(struct vcpu, regs) + sizeof(uint64_t) * (r))

void asm_defines(void);
void asm_defines(void)
{
	DEFINE(VCPU_RAX, GPR_OFFSET(GPR_RAX));
	DEFINE(VCPU_RCX, GPR_OFFSET(GPR_RCX));
	DEFINE(VCPU_RDX, GPR_OFFSET(GPR_RDX));
	DEFINE(VCPU_RBX, GPR_OFFSET(GPR_RBX));
	DEFINE(VCPU_RBP, GPR_OFFSET(GPR_RBP));
	DEFINE(VCPU_RSI, GPR_OFFSET(GPR_RSI));
	DEFINE(VCPU_RDI, GPR_OFFSET(GPR_RDI));
	DEFINE(VCPU_R8, GPR_OFFSET(GPR_R8));
	DEFINE(VCPU_R9, GPR_OFFSET(GPR_R9));
	DEFINE(VCPU_R10, GPR_OFFSET(GPR_R10));
	DEFINE(VCPU_R11, GPR_OFFSET(GPR_R11));
	DEFINE(VCPU_R12, GPR_OFFSET(GPR_R12));
	DEFINE(VCPU_R13, GPR_OFFSET(GPR_R13));
	DEFINE(VCPU_R14, GPR_OFFSET(GPR_R14));
	DEFINE(VCPU_R15, GPR_OFFSET(GPR_R15));
	DEFINE(VCPU_LAUNCHED, offsetof(struct vcpu, launched));
	DEFINE(VMCS_FIELD_HOST_RSP, VMCS_HOST_RSP);
	DEFINE(VMCS_FIELD_EXIT_REASON, VMCS_VM_EXIT_REASON);
	DEFINE(EXIT_REASON_CPUID, EXIT_REASON_CPUID);
	DEFINE(EXIT_REASON_VMCALL, EXIT_REASON_VMCALL);
}
