/* Interrupt delivery to guests with a virtual platform, SDM Vol. 3C 26.6 (event injection) and
 * 25.3 (interrupt-window exiting): before each VM entry the platform is brought up to date and its
 * highest interrupt is injected when the guest can take it, or an interrupt window is requested. */
#include "vmx/exit.h"
#include "vmx/vmx.h"
#include "kernel/x86.h"
#include "drivers/virt/vmachine.h"

#define INTR_INFO_VALID (1u << 31)
#define INTR_TYPE_EXTERNAL (0u << 8)
#define INTR_BLOCKING_STI_MOVSS 3u /* interruptibility state bits 0 and 1 */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1

static void interrupt_window(bool on)
{
	uint64_t ctl = vmcs_read(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t want = on ? ctl | CPU_INTERRUPT_WINDOW_EXITING : ctl & ~(uint64_t)CPU_INTERRUPT_WINDOW_EXITING;

	if (want != ctl)
		vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, want);
}

/* The UART is outside the platform (the console CPU feeds it): its line follows its model. */
static void sync_uart_line(struct guest *g)
{
	bool level;

	spin_lock(&g->uart_lock);
	level = vuart_irq(&g->uart);
	spin_unlock(&g->uart_lock);
	vmachine_set_isa_irq(g->vm, VPLAT_COM1_IRQ, level);
}

void vcpu_deliver_interrupts(struct vcpu *vcpu)
{
	struct guest *g = vcpu->guest;
	uint32_t queued = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTERRUPTION_INFO);
	int vector;

	if (!g->vm)
		return;
	sync_uart_line(g);
	vmachine_update(g->vm, rdtsc());
	vector = vmachine_pending_vector(g->vm, vcpu->index);
	if (vector < 0) {
		interrupt_window(false);
		return;
	}
	/* Another event goes in first (a re-injected or a new exception): wait for the window. */
	if (!(queued & INTR_INFO_VALID) && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	    !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & INTR_BLOCKING_STI_MOVSS)) {
		vector = vmachine_ack(g->vm, vcpu->index, vector);
		if (vector >= 0) {
			vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO,
				   (uint32_t)vector | INTR_TYPE_EXTERNAL | INTR_INFO_VALID);
			/* An interrupt ends HLT, SDM Vol. 3C 26.6.2 */
			if (vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
				vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
		}
		interrupt_window(false);
		return;
	}
	interrupt_window(true);
}

/* An event whose delivery the exit interrupted is delivered again on entry, SDM Vol. 3C 27.2.4 */
void vcpu_reinject_vectoring(void)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
	unsigned type = (info >> 8) & 7;

	if (!(info & INTR_INFO_VALID))
		return;
	if (info & (1u << 11))
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE));
	/* Software interrupts and exceptions need their instruction length, SDM Vol. 3C 26.2.1.3 */
	if (type == 4 || type == 5 || type == 6)
		vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LENGTH,
			   vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LENGTH));
	vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO, info & ~(1u << 12));
}

enum exit_action exit_interrupt_window(struct vcpu *vcpu, const struct vmx_exit *exit)
{
	(void)vcpu;
	(void)exit;
	interrupt_window(false); /* the entry path injects, or asks again */
	return EXIT_RESUME;
}

uint64_t vcpu_next_event(const struct vcpu *vcpu)
{
	return vcpu->guest->vm ? vmachine_next_event(vcpu->guest->vm, vcpu->index) : UINT64_MAX;
}

bool vcpu_interrupt_ready(struct vcpu *vcpu, uint64_t now)
{
	struct guest *g = vcpu->guest;

	if (!g->vm)
		return false;
	sync_uart_line(g);
	vmachine_update(g->vm, now);
	return vmachine_pending_vector(g->vm, vcpu->index) >= 0;
}
