/* Application processors: bring-up through INIT-SIPI-SIPI and the hand-off to their run loops. */
#ifndef CLOISON_SMP_H
#define CLOISON_SMP_H

#include <stdint.h>
#include <stdbool.h>

enum smp_phase {
	SMP_WAIT, /* APs wait for the BSP to finish set-up */
	SMP_RUN,  /* VMX is usable: enter VMX operation and run guests */
	SMP_IDLE, /* no VT-x: stay idle */
};

/* Starts the CPUs with the given APIC IDs (the BSP's own is skipped). Each gets cpu id 1, 2, ...
 * in order; a CPU that does not answer within 200 ms is reported and left out (should it answer
 * later it parks itself), and CPUs beyond MAX_CPUS are reported and left idle. With x2apic (some
 * APIC id above 254) the local APICs run in x2APIC mode. Returns the CPUs running. */
unsigned smp_start(const uint32_t *apic_ids, unsigned count, bool x2apic);
void smp_release(enum smp_phase phase);
void delay_us(uint64_t us);

#endif
