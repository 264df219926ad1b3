/* Human names for exit reasons (SDM Vol. 3D Appendix C) and VM-instruction errors (Vol. 3C 31.4). */
#include <stddef.h>
#include "vmx/vmcs.h"
#include "kernel/lib.h"

/* Each list is one block of text (a struct of char arrays, one per name) and a table of 16-bit
 * offsets into it, a quarter of the size of a table of pointers; offset 0 means no name. */
#define EXIT_REASON_NAMES(X) \
	X(EXCEPTION_NMI, "exception or NMI") \
	X(EXTERNAL_INTERRUPT, "external interrupt") \
	X(TRIPLE_FAULT, "triple fault") \
	X(INIT_SIGNAL, "INIT signal") \
	X(SIPI, "start-up IPI") \
	X(IO_SMI, "I/O SMI") \
	X(OTHER_SMI, "other SMI") \
	X(INTERRUPT_WINDOW, "interrupt window") \
	X(NMI_WINDOW, "NMI window") \
	X(TASK_SWITCH, "task switch") \
	X(CPUID, "CPUID") \
	X(GETSEC, "GETSEC") \
	X(HLT, "HLT") \
	X(INVD, "INVD") \
	X(INVLPG, "INVLPG") \
	X(RDPMC, "RDPMC") \
	X(RDTSC, "RDTSC") \
	X(RSM, "RSM") \
	X(VMCALL, "VMCALL") \
	X(VMCLEAR, "VMCLEAR") \
	X(VMLAUNCH, "VMLAUNCH") \
	X(VMPTRLD, "VMPTRLD") \
	X(VMPTRST, "VMPTRST") \
	X(VMREAD, "VMREAD") \
	X(VMRESUME, "VMRESUME") \
	X(VMWRITE, "VMWRITE") \
	X(VMXOFF, "VMXOFF") \
	X(VMXON, "VMXON") \
	X(CR_ACCESS, "control-register access") \
	X(DR_ACCESS, "debug-register access") \
	X(IO_INSTRUCTION, "I/O instruction") \
	X(MSR_READ, "RDMSR") \
	X(MSR_WRITE, "WRMSR") \
	X(INVALID_GUEST_STATE, "invalid guest state") \
	X(MSR_LOADING, "MSR loading") \
	X(MWAIT, "MWAIT") \
	X(MONITOR_TRAP_FLAG, "monitor trap flag") \
	X(MONITOR, "MONITOR") \
	X(PAUSE, "PAUSE") \
	X(MCE_DURING_ENTRY, "machine check during VM entry") \
	X(TPR_BELOW_THRESHOLD, "TPR below threshold") \
	X(APIC_ACCESS, "APIC access") \
	X(VIRTUALIZED_EOI, "virtualized EOI") \
	X(GDTR_IDTR, "GDTR/IDTR access") \
	X(LDTR_TR, "LDTR/TR access") \
	X(EPT_VIOLATION, "EPT violation") \
	X(EPT_MISCONFIG, "EPT misconfiguration") \
	X(INVEPT, "INVEPT") \
	X(RDTSCP, "RDTSCP") \
	X(PREEMPTION_TIMER, "VMX-preemption timer expired") \
	X(INVVPID, "INVVPID") \
	X(WBINVD, "WBINVD") \
	X(XSETBV, "XSETBV") \
	X(APIC_WRITE, "APIC write") \
	X(RDRAND, "RDRAND") \
	X(INVPCID, "INVPCID") \
	X(VMFUNC, "VMFUNC") \
	X(ENCLS, "ENCLS") \
	X(RDSEED, "RDSEED") \
	X(PML_FULL, "page-modification log full") \
	X(XSAVES, "XSAVES") \
	X(XRSTORS, "XRSTORS")

#define ERROR_NAMES(X) \
	X(1, "VMCALL executed in VMX root operation") \
	X(2, "VMCLEAR with invalid physical address") \
	X(3, "VMCLEAR with VMXON pointer") \
	X(4, "VMLAUNCH with non-clear VMCS") \
	X(5, "VMRESUME with non-launched VMCS") \
	X(6, "VMRESUME after VMXOFF") \
	X(7, "VM entry with invalid control field(s)") \
	X(8, "VM entry with invalid host-state field(s)") \
	X(9, "VMPTRLD with invalid physical address") \
	X(10, "VMPTRLD with VMXON pointer") \
	X(11, "VMPTRLD with incorrect VMCS revision identifier") \
	X(12, "VMREAD/VMWRITE from/to unsupported VMCS component") \
	X(13, "VMWRITE to read-only VMCS component") \
	X(15, "VMXON executed in VMX root operation") \
	X(16, "VM entry with invalid executive-VMCS pointer") \
	X(17, "VM entry with non-launched executive VMCS") \
	X(18, "VM entry with executive-VMCS pointer not VMXON pointer") \
	X(19, "VMCALL with non-clear VMCS") \
	X(20, "VMCALL with invalid VM-exit control fields") \
	X(22, "VMCALL with incorrect MSEG revision identifier") \
	X(23, "VMXOFF under dual-monitor treatment of SMIs and SMM") \
	X(24, "VMCALL with invalid SMM-monitor features") \
	X(25, "VM entry with invalid VM-execution control fields in executive VMCS") \
	X(26, "VM entry with events blocked by MOV SS") \
	X(28, "invalid operand to INVEPT/INVVPID")

#define NAME_FIELD(id, text) char name_##id[sizeof(text)];
#define NAME_TEXT(id, text) text,

static const struct exit_reason_text {
	char none;
	EXIT_REASON_NAMES(NAME_FIELD)
} exit_reason_text = { 0, EXIT_REASON_NAMES(NAME_TEXT) };

#define EXIT_REASON_OFFSET(id, text) [EXIT_REASON_##id] = offsetof(struct exit_reason_text, name_##id),
static const uint16_t exit_reason_offsets[] = { EXIT_REASON_NAMES(EXIT_REASON_OFFSET) };

static const struct error_text {
	char none;
	ERROR_NAMES(NAME_FIELD)
} error_text = { 0, ERROR_NAMES(NAME_TEXT) };

#define ERROR_OFFSET(number, text) [number] = offsetof(struct error_text, name_##number),
static const uint16_t error_offsets[] = { ERROR_NAMES(ERROR_OFFSET) };

_Static_assert(sizeof(struct exit_reason_text) <= UINT16_MAX && sizeof(struct error_text) <= UINT16_MAX,
	       "offsets fit in 16 bits");

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	if (basic_reason < ARRAY_SIZE(exit_reason_offsets) && exit_reason_offsets[basic_reason])
		return (const char *)&exit_reason_text + exit_reason_offsets[basic_reason];
	return "unknown exit reason";
}

const char *vmx_instruction_error_name(uint32_t error)
{
	if (error < ARRAY_SIZE(error_offsets) && error_offsets[error])
		return (const char *)&error_text + error_offsets[error];
	return "unknown VM-instruction error";
}
