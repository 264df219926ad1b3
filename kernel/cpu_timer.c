/* Each CPU's host timer (kernel/cpu_timer.h). */
#include "kernel/cpu_timer.h"
#include "kernel/percpu.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"

void (*tick_handler)(void);

void cpu_timer_arm(struct per_cpu *cpu)
{
	uint64_t due = cpu->tick_due < cpu->wake_due ? cpu->tick_due : cpu->wake_due;

	if (lapic_tsc_deadline_supported()) {
		lapic_timer_deadline(VECTOR_TICK, due == UINT64_MAX ? 0 : due); /* 0 disarms */
	} else if (due != UINT64_MAX && !cpu->timer_periodic) {
		/* Without TSC-deadline mode, SDM Vol. 3A 11.5.4.1: look every millisecond */
		lapic_timer_periodic(VECTOR_TICK, 1000, tsc_per_ms);
		cpu->timer_periodic = true;
	}
}

void cpu_timer_fired(void)
{
	struct per_cpu *cpu = this_cpu();
	uint64_t now = rdtsc();

	if (cpu->wake_due <= now)
		cpu->wake_due = UINT64_MAX; /* the run loop wakes the vCPU (guest_wake_halted) */
	if (cpu->tick_due <= now && tick_handler)
		tick_handler();
	cpu_timer_arm(cpu);
}
