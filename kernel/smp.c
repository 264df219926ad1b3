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

enum ap_start {
	AP_UP,        /* it reported: the cpu id is taken */
	AP_ABSENT,    /* it never took its parameters, and now cannot: blocks freed, id free */
	AP_SILENT,    /* it took them but never reported: blocks and id stay reserved */
};

static enum ap_start smp_start_one(unsigned id, uint32_t apic_id)
{
	struct tramp_params *params = (struct tramp_params *)(TRAMPOLINE_BASE +
							     (tramp_params - trampoline_start));
	struct per_cpu *cpu = (struct per_cpu *)phys_alloc_zeroed(sizeof(struct per_cpu), PAGE_SIZE);
	uint64_t stack = phys_alloc_zeroed(AP_STACK_SIZE, PAGE_SIZE);
	uint64_t waited = 0;

	if (!cpu || !stack) {
		log_err("smp: no memory for cpu%u (APIC id %u)", id, apic_id);
		if (cpu)
			phys_free((uint64_t)cpu, sizeof(*cpu));
		if (stack)
			phys_free(stack, AP_STACK_SIZE);
		return AP_ABSENT;
	}
	cpu->id = id;
	cpu->apic_id = apic_id;
	/* The trampoline loads CR3 with 32 bits: mm_init keeps the tables below 4 GiB */
	params->cr3 = read_cr3();
	params->stack = stack + AP_STACK_SIZE;
	params->cpu = (uint64_t)cpu;
	params->entry = (uint64_t)ap_main;
	params->apic_id = apic_id;
	__atomic_store_n(&ap_online, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&params->claimed, 0, __ATOMIC_RELEASE);
	lapic_start_ap(apic_id, TRAMPOLINE_BASE >> 12, delay_us);
	while (__atomic_load_n(&ap_online, __ATOMIC_ACQUIRE) != id && waited < AP_ANSWER_TIMEOUT_US) {
		delay_us(100);
		waited += 100;
	}
	if (__atomic_load_n(&ap_online, __ATOMIC_ACQUIRE) == id) {
		log_info("smp: cpu%u (APIC id %u) is up", id, apic_id);
		return AP_UP;
	}
	/* Take the parameters back: once they are taken, an AP that answers late parks itself in the
	 * trampoline, so nothing can run on these blocks any more */
	if (__atomic_exchange_n(&params->claimed, 1, __ATOMIC_ACQ_REL) == 0) {
		log_err("smp: cpu%u (APIC id %u) did not answer INIT-SIPI-SIPI within %u ms; going on without it",
			id, apic_id, AP_ANSWER_TIMEOUT_US / 1000);
		phys_free((uint64_t)cpu, sizeof(*cpu));
		phys_free(stack, AP_STACK_SIZE);
		return AP_ABSENT;
	}
	/* It took them just now and runs the trampoline: a few microseconds more */
	for (waited = 0; __atomic_load_n(&ap_online, __ATOMIC_ACQUIRE) != id &&
			 waited < AP_ANSWER_TIMEOUT_US; waited += 100)
		delay_us(100);
	if (__atomic_load_n(&ap_online, __ATOMIC_ACQUIRE) == id) {
		log_info("smp: cpu%u (APIC id %u) is up (late)", id, apic_id);
		return AP_UP;
	}
	log_err("smp: cpu%u (APIC id %u) started but never reported; its id and memory stay reserved",
		id, apic_id);
	return AP_SILENT;
}

unsigned smp_start(const uint32_t *apic_ids, unsigned count, bool x2apic)
{
	uint32_t bsp;
	unsigned started = 1, next_id = 1, left_out = 0;

	if (x2apic && !lapic_x2apic_mode()) {
		if (lapic_x2apic_supported()) {
			lapic_enable_x2apic();
			log_info("smp: APIC ids above 254: local APICs in x2APIC mode");
		} else {
			log_err("smp: APIC ids above 254 but no x2APIC: those CPUs are left out");
			x2apic = false;
		}
	}
	bsp = lapic_id();
	this_cpu()->apic_id = bsp;
	memcpy((void *)TRAMPOLINE_BASE, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	for (unsigned i = 0; i < count; i++) {
		if (apic_ids[i] == bsp)
			continue;
		if (apic_ids[i] > 254 && !lapic_x2apic_mode())
			continue;
		if (next_id >= MAX_CPUS) {
			if (!left_out++)
				log_warn("smp: CPUs from APIC id %u on are left out: Cloison runs on at most %d CPUs (MAX_CPUS)",
					 apic_ids[i], MAX_CPUS);
			continue;
		}
		switch (smp_start_one(next_id, apic_ids[i])) {
		case AP_UP:
			started++;
			next_id++;
			break;
		case AP_SILENT:
			next_id++;
			break;
		case AP_ABSENT:
			break;
		}
	}
	if (left_out)
		log_warn("smp: %u CPU%s beyond the first %d left idle", left_out, left_out == 1 ? "" : "s",
			 MAX_CPUS);
	return started;
}
