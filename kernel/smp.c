/* AP bring-up: copy the trampoline below 1 MiB, send INIT-SIPI-SIPI, wait for each AP to report. */
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "kernel/guest.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/x86.h"
#include "boot/trampoline.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"
#include "vmx/vmx.h"

#define AP_STACK_SIZE (16 * KiB)
#define AP_ANSWER_TIMEOUT_US 200000

static volatile unsigned ap_online;
static volatile enum smp_phase smp_phase = SMP_WAIT;

void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_per_ms / 1000;

	while (rdtsc() < end)
		cpu_relax();
}

void smp_release(enum smp_phase phase)
{
	__atomic_store_n(&smp_phase, phase, __ATOMIC_RELEASE);
}

__attribute__((noreturn)) static void ap_main(struct per_cpu *cpu)
{
	cpu_init(cpu, cpu->id);
	lapic_init();
	__atomic_store_n(&ap_online, cpu->id, __ATOMIC_RELEASE);
	while (__atomic_load_n(&smp_phase, __ATOMIC_ACQUIRE) == SMP_WAIT)
		cpu_relax();
	if (smp_phase == SMP_RUN) {
		if (vmx_cpu_enable(cpu) == 0)
			guest_run_cpu();
		else
			log_err("vmx: cannot enter VMX operation; this CPU stays idle");
	}
	halt_forever();
}

static bool smp_start_one(unsigned id, uint32_t apic_id)
{
	struct tramp_params *params = (struct tramp_params *)(TRAMPOLINE_BASE +
							     (tramp_params - trampoline_start));
	struct per_cpu *cpu = (struct per_cpu *)phys_alloc_zeroed(sizeof(struct per_cpu), PAGE_SIZE);
	uint64_t stack = phys_alloc_zeroed(AP_STACK_SIZE, PAGE_SIZE);
	uint64_t waited = 0;

	if (!cpu || !stack) {
		log_err("smp: no memory for cpu%u (APIC id %u)", id, apic_id);
		return false;
	}
	cpu->id = id;
	cpu->apic_id = apic_id;
	params->cr3 = read_cr3();
	params->stack = stack + AP_STACK_SIZE;
	params->cpu = (uint64_t)cpu;
	params->entry = (uint64_t)ap_main;
	__atomic_store_n(&ap_online, 0, __ATOMIC_RELEASE);
	lapic_start_ap(apic_id, TRAMPOLINE_BASE >> 12, delay_us);
	while (__atomic_load_n(&ap_online, __ATOMIC_ACQUIRE) != id && waited < AP_ANSWER_TIMEOUT_US) {
		delay_us(100);
		waited += 100;
	}
	if (ap_online != id) {
		log_err("smp: cpu%u (APIC id %u) did not answer INIT-SIPI-SIPI within %u ms; going on without it",
			id, apic_id, AP_ANSWER_TIMEOUT_US / 1000);
		phys_free((uint64_t)cpu, sizeof(*cpu));
		phys_free(stack, AP_STACK_SIZE);
		return false;
	}
	log_info("smp: cpu%u (APIC id %u) is up", id, apic_id);
	return true;
}

unsigned smp_start(const uint32_t *apic_ids, unsigned count)
{
	uint32_t bsp = lapic_id();
	unsigned started = 1;

	this_cpu()->apic_id = bsp;
	memcpy((void *)TRAMPOLINE_BASE, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	for (unsigned i = 0; i < count && started < MAX_CPUS; i++) {
		if (apic_ids[i] == bsp)
			continue;
		if (smp_start_one(started, apic_ids[i]))
			started++;
	}
	return started;
}
