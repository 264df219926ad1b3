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

static inline void interrupt_window(bool on)
{
	vmcs_cpu_controls(CPU_INTERRUPT_WINDOW_EXITING, on);
}

/* Brings the guest's platform up to now and kicks the other vCPUs it gave something to.
 * The UART is outside the platform (the console CPU feeds it): its line follows its model.
 * @pre g->vm_lock held */
static void platform_update(struct vcpu *vcpu, uint64_t now)
{
	struct guest *g = vcpu->guest;
	uint32_t kicks;
	bool level;

	spin_lock(&g->uart_lock);
	level = vuart_irq(&g->uart);
	spin_unlock(&g->uart_lock);
	vmachine_set_isa_irq(g->vm, VPLAT_COM1_IRQ, level);
	vmachine_update(g->vm, now);
	kicks = vmachine_take_kicks(g->vm) & ~(1u << vcpu->index);
	if (kicks)
		guest_kick_vcpus(g, kicks, vcpu);
}

#define INTR_TYPE_NMI (2u << 8)
#define INTR_BLOCKING_NMI 8u /* interruptibility state bit 3 */

void vcpu_deliver_interrupts(struct vcpu *vcpu)
{
	struct guest *g = vcpu->guest;
	uint32_t queued = (uint32_t)vmcs_read(VMCS_VM_ENTRY_INTERRUPTION_INFO);
	uint64_t now, event;
	int vector;

	if (!g->vm)
		return;
	spin_lock(&g->vm_lock);
	now = rdtsc();
	platform_update(vcpu, now);
	/* A timer the guest has just programmed may be due before the preemption timer fires */
	event = vmachine_next_event(g->vm, vcpu->index);
	if (event < vcpu->timer_due && vmx_ctls.has_preemption_timer)
		vmx_arm_preemption_timer(vcpu, now, event);
	/* An NMI from another vCPU goes first, unless NMIs are blocked, SDM Vol. 3C 26.6.1.2 */
	if (!(queued & INTR_INFO_VALID) &&
	    !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & (INTR_BLOCKING_NMI | INTR_BLOCKING_STI_MOVSS)) &&
	    vmachine_take_nmi(g->vm, vcpu->index)) {
		spin_unlock(&g->vm_lock);
		vmcs_write(VMCS_VM_ENTRY_INTERRUPTION_INFO, 2u | INTR_TYPE_NMI | INTR_INFO_VALID);
		return;
	}
	vector = vmachine_pending_vector(g->vm, vcpu->index);
	if (vector < 0) {
		spin_unlock(&g->vm_lock);
		interrupt_window(false);
		return;
	}
	/* Another event goes in first (a re-injected or a new exception): wait for the window. */
	if (!(queued & INTR_INFO_VALID) && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	    !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_STATE) & INTR_BLOCKING_STI_MOVSS)) {
		vector = vmachine_ack(g->vm, vcpu->index, vector, rdtsc());
		spin_unlock(&g->vm_lock);
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
	spin_unlock(&g->vm_lock);
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
	/* A read of the timers' state: a racing update only moves it, never to garbage */
	return vcpu->guest->vm ? vmachine_next_event(vcpu->guest->vm, vcpu->index) : UINT64_MAX;
}

bool vcpu_interrupt_ready(struct vcpu *vcpu, uint64_t now)
{
	struct guest *g = vcpu->guest;
	bool ready;

	if (!g->vm)
		return false;
	spin_lock(&g->vm_lock);
	platform_update(vcpu, now);
	ready = vmachine_pending_vector(g->vm, vcpu->index) >= 0 || g->vm->lapic[vcpu->index].nmi_pending;
	spin_unlock(&g->vm_lock);
	return ready;
}
