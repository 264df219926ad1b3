/* The hypervisor's own local APIC (xAPIC MMIO or x2APIC MSRs): IDs, IPIs, EOI. */
#ifndef CLOISON_LAPIC_H
#define CLOISON_LAPIC_H

#include <stdint.h>
#include <stdbool.h>

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define VECTOR_WAKEUP 0xf0 /* IPI that wakes an idle CPU to look for work */
#define VECTOR_TICK 0xef   /* each CPU's host timer (kernel/cpu_timer.c) */

void lapic_init(void);       /* software-enable this CPU's APIC */
uint32_t lapic_id(void);
bool lapic_x2apic_mode(void);
/* CPUID.01H:ECX[21]: the local APIC can run in x2APIC mode. */
bool lapic_x2apic_supported(void);
/* Puts this CPU's local APIC in x2APIC mode; every later lapic_init (the APs) follows. */
void lapic_enable_x2apic(void);
void lapic_eoi(void);
/* INIT, then two start-up IPIs for the page at vector << 12 (SDM Vol. 3A 8.4.4.1). delay_us waits. */
void lapic_start_ap(uint32_t apic_id, uint8_t sipi_vector, void (*delay_us)(uint64_t));
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* An NMI to one CPU: it leaves a guest even one that runs with interrupts off (NMI exiting). */
void lapic_send_nmi(uint32_t apic_id);
void lapic_send_nmi_all_others(void);
/* Periodic timer interrupt on vector every period_us, calibrated against the TSC. */
void lapic_timer_periodic(uint8_t vector, uint64_t period_us, uint64_t tsc_per_ms);
/* CPUID.01H:ECX[24]: the timer has TSC-deadline mode (SDM Vol. 3A 11.5.4.1). */
bool lapic_tsc_deadline_supported(void);
/* One interrupt on vector when the TSC reaches deadline (0: disarmed). @pre supported */
void lapic_timer_deadline(uint8_t vector, uint64_t deadline);

#endif
