/* The VM-exit fast path. CPUID, VMCALL, port I/O, RDMSR/WRMSR, HLT, interrupt windows and the
 * preemption timer are handled right from the exit stub: only the guest registers these
 * handlers touch were stored, the VMCS fields they need are read, the exit is counted, and the
 * guest is resumed without the run loop unless the handler wants the loop (a yield, the timer,
 * a stop). A timer that ends the slice may switch to the next vCPU right there
 * (guest_switch_on_timer). Every other reason takes the full path (vmx/exit.c). A byte the
 * guest sends to its UART is only queued here; any other exit first hands the queue to the
 * console. */
#include "vmx/fastpath.h"
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/hypercall.h"
#include "kernel/x86.h"

/* The reasons handled here (the timer has its own entry, vmx_exit_timer). None occurs during
 * event delivery, so none has IDT-vectoring information to act on (SDM Vol. 3C 27.2.4): all
 * but the last are caused by an instruction, and an interrupt window comes after any injected
 * event was delivered. */
#define FAST_REASONS ((1ull << EXIT_REASON_CPUID) | (1ull << EXIT_REASON_VMCALL) |          \
		      (1ull << EXIT_REASON_IO_INSTRUCTION) | (1ull << EXIT_REASON_MSR_READ) |   \
		      (1ull << EXIT_REASON_MSR_WRITE) | (1ull << EXIT_REASON_HLT) |             \
		      (1ull << EXIT_REASON_INTERRUPT_WINDOW))
_Static_assert(EXIT_REASON_INTERRUPT_WINDOW < 64, "FAST_REASONS is a 64-bit set");

/* Emulated: skip the instruction; that ends STI/MOV-SS blocking, SDM Vol. 3C 26.4.1.2 */
static inline void fast_advance(uint64_t rip, uint32_t length)
{
	uint64_t blocking;

	vmwrite_unchecked(VMCS_GUEST_RIP, rip + length);
	blocking = vmread_unchecked(VMCS_GUEST_INTERRUPTIBILITY_STATE);
	if (blocking & INTERRUPTIBILITY_STI_MOVSS)
		vmwrite_unchecked(VMCS_GUEST_INTERRUPTIBILITY_STATE, blocking & ~INTERRUPTIBILITY_STI_MOVSS);
}

static inline void fast_count(struct vcpu *vcpu, uint32_t reason, uint64_t qualification)
{
	vcpu->exits_total++;
	vcpu->exits[reason]++;
	vcpu->last_exit_reason = reason;
	vcpu->last_exit_qualification = qualification;
}

/* Hands what the guest's UART queued to the console (guest_uart_drain). */
static inline void fast_drain_uart(struct vcpu *vcpu)
{
	if (__atomic_load_n(&vcpu->guest->uart.tx_queued, __ATOMIC_RELAXED))
		guest_uart_drain(vcpu->guest);
}

/* A byte to or from the guest's 16550, the most frequent port: straight to the model, without
 * exit_io's general decoding (string I/O and wider accesses go there). A transmitted byte only
 * joins the model's queue. @return handled */
static inline bool fast_uart(struct vcpu *vcpu, uint64_t qualification)
{
	struct guest *g = vcpu->guest;
	unsigned reg = (uint16_t)(qualification >> 16) - GUEST_UART_PORT;
	uint64_t *rax = &vcpu->regs.gpr[GPR_RAX];

	/* I/O qualification, SDM Vol. 3C Table 28-5: size - 1 in bits 2:0, string in bit 4 */
	if ((qualification & 0x17) || reg > 7)
		return false;
	spin_lock(&g->uart_lock);
	if (qualification & 8) { /* IN AL, DX keeps the rest of RAX, SDM Vol. 2A IN */
		*rax = (*rax & ~0xffull) | vuart_read(&g->uart, reg);
		if (g->input_count)
			guest_uart_refill(g); /* the read made room for typed bytes waiting */
	} else
		vuart_write(&g->uart, reg, (uint8_t)*rax);
	spin_unlock(&g->uart_lock);
	return true;
}

int vmx_exit_vmcall_leaf(struct vcpu *vcpu)
{
	uint64_t *gpr = vcpu->regs.gpr;

	/* HC_NOP from ring 0 (SS.DPL is the CPL, SDM Vol. 3A 5.5); the rest, and every
	 * FAST_BUDGET-th exit (fast_resume looks at the TSC then): exit_vmcall */
	if (vcpu->guest->vm || (uint32_t)gpr[GPR_RAX] != HC_NOP || --vcpu->fast_budget == 0 ||
	    ((vmread_unchecked(VMCS_GUEST_SS_ACCESS_RIGHTS) >> 5) & 3))
		return 0;
	gpr[GPR_RAX] = 0;
	fast_count(vcpu, EXIT_REASON_VMCALL, 0);
	fast_advance(vmread_unchecked(VMCS_GUEST_RIP),
		     (uint32_t)vmread_unchecked(VMCS_VM_EXIT_INSTRUCTION_LENGTH));
	return 1;
}

/* Resumes the guest: first what its platform has for it now (vmx/inject.c). The run loop takes
 * over for what the console asked meanwhile (its NMI kick may have come while this exit was
 * being handled, where it ends nothing) and, every FAST_BUDGET exits, when the guest has left
 * running or the TSC has passed when its preemption timer was to fire: that timer counts only
 * guest time (SDM Vol. 3C 25.5.1), so a guest that exits all the time would hold its CPU. */
static inline int fast_resume(struct vcpu *vcpu)
{
	struct guest *g = vcpu->guest;

	if (__builtin_expect(g->request != GUEST_REQUEST_NONE, 0)) {
		vcpu->context.fast_action = EXIT_RESUME;
		return 0;
	}
	/* Spent: also when a leaf found it spent and came here with 0 */
	if (__builtin_expect(__builtin_sub_overflow(vcpu->fast_budget, 1, &vcpu->fast_budget), 0)) {
		vcpu->fast_budget = FAST_BUDGET;
		if (g->state != GUEST_RUNNING) {
			vcpu->context.fast_action = EXIT_RESUME;
			return 0;
		}
		if (rdtsc() >= vcpu->timer_due) {
			vcpu->context.fast_action = EXIT_TIMER;
			return 0;
		}
	}
	if (g->vm)
		vcpu_deliver_interrupts(vcpu);
	return 1;
}

/* The listed reasons but the timer, and a port access fast_uart declined. */
static __attribute__((noinline)) int fast_other(struct vcpu *vcpu, uint32_t full_reason,
						uint64_t qualification)
{
	struct vmx_exit exit;
	enum exit_action action;

	/* What the guest does now comes after what it sent: a reset after a panic banner is a
	 * crash, and its lines go before what Cloison says about it */
	fast_drain_uart(vcpu);
	/* An entry failure (bit 31) or a reason not listed: the full path */
	if (full_reason >= 64 || !((FAST_REASONS >> full_reason) & 1))
		return 0;
	exit.full_reason = full_reason;
	exit.reason = full_reason;
	exit.qualification = qualification;
	exit.guest_rip = vmread_unchecked(VMCS_GUEST_RIP);
	exit.instruction_length = (uint32_t)vmread_unchecked(VMCS_VM_EXIT_INSTRUCTION_LENGTH);
	fast_count(vcpu, exit.reason, exit.qualification);

	switch (exit.reason) {
	case EXIT_REASON_CPUID:
		action = exit_cpuid(vcpu, &exit);
		break;
	case EXIT_REASON_VMCALL:
		action = exit_vmcall(vcpu, &exit);
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		action = exit_io(vcpu, &exit);
		break;
	case EXIT_REASON_MSR_READ:
		action = exit_msr_read(vcpu, &exit);
		break;
	case EXIT_REASON_MSR_WRITE:
		action = exit_msr_write(vcpu, &exit);
		break;
	case EXIT_REASON_HLT:
		action = exit_hlt(vcpu, &exit);
		break;
	default:
		/* An interrupt window: it follows any event the entry injected (SDM Vol. 3C 26.6.5),
		 * so no delivery was interrupted */
		action = exit_interrupt_window(vcpu, &exit);
		break;
	}
	if (action == EXIT_ADVANCE) {
		fast_advance(exit.guest_rip, exit.instruction_length);
	} else if (action != EXIT_RESUME) {
		vcpu->context.fast_action = (int)action; /* a yield, the timer, a stop: the loop's */
		return 0;
	}
	return fast_resume(vcpu);
}

/* A byte to or from the guest's UART, or any other port: exit_io */
static __attribute__((noinline)) int fast_io(struct vcpu *vcpu)
{
	uint64_t qualification = vmread_unchecked(VMCS_EXIT_QUALIFICATION);

	if (!fast_uart(vcpu, qualification))
		return fast_other(vcpu, EXIT_REASON_IO_INSTRUCTION, qualification);
	fast_count(vcpu, EXIT_REASON_IO_INSTRUCTION, qualification);
	fast_advance(vmread_unchecked(VMCS_GUEST_RIP),
		     (uint32_t)vmread_unchecked(VMCS_VM_EXIT_INSTRUCTION_LENGTH));
	return fast_resume(vcpu);
}

int vmx_exit_fast(struct vcpu *vcpu, uint32_t full_reason)
{
	if (full_reason == EXIT_REASON_IO_INSTRUCTION)
		return fast_io(vcpu);
	/* The other reasons clear the qualification, SDM Vol. 3C 28.2.1 */
	return fast_other(vcpu, full_reason, 0);
}

/* The timer, with nothing read: it comes between instructions, after any event the entry
 * injected was delivered (SDM Vol. 3C 26.6.4), so no delivery was interrupted. What the
 * guest's UART queued waits for the console tick. */
struct vcpu *vmx_exit_timer(struct vcpu *vcpu)
{
	struct vcpu *next;

	fast_count(vcpu, EXIT_REASON_PREEMPTION_TIMER, 0);
	next = guest_switch_on_timer(vcpu);
	if (!next)
		vcpu->context.fast_action = EXIT_TIMER;
	return next;
}
