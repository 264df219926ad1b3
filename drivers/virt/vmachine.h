/* One guest's virtual PC platform: a local APIC per vCPU, the I/O APIC, PIC pair, PIT, RTC and
 * ACPI power-management block, wired as a PC chipset wires them; IPIs between the guest's own
 * vCPUs and their INIT/SIPI start-up. Pure: the exit adapters call it with the access, the vCPU
 * and the time (under the guest's platform lock), the entry path asks which interrupt to deliver. */
#ifndef CLOISON_VMACHINE_H
#define CLOISON_VMACHINE_H

#include <stdint.h>
#include <stdbool.h>
#include "drivers/virt/vplatform.h"
#include "drivers/virt/vlapic.h"
#include "drivers/virt/vioapic.h"
#include "drivers/virt/vpic.h"
#include "drivers/virt/vpit.h"
#include "drivers/virt/vrtc.h"
#include "drivers/virt/vpm.h"

#define VMACHINE_MAX_VCPUS 16

/* What a vCPU's INIT/SIPI state asks of it, SDM Vol. 3A 9.4.4 (MP initialisation). */
enum vmachine_start {
	VMACHINE_START_NONE,
	VMACHINE_START_INIT, /* reset: wait for a SIPI (the wait-for-SIPI activity state) */
	VMACHINE_START_SIPI, /* start in real mode at vector << 12 */
};

struct vmachine {
	unsigned nr_vcpus;
	struct vlapic lapic[VMACHINE_MAX_VCPUS]; /* APIC ID = vCPU index */
	bool wait_sipi[VMACHINE_MAX_VCPUS];      /* after power-on (APs) or an INIT */
	uint32_t kicks;                          /* vCPUs given an interrupt, NMI, INIT or SIPI */
	struct vioapic ioapic;
	struct vpic pic;
	struct vpit pit;
	struct vrtc rtc;
	struct vpm pm;
	bool isa_level[16];     /* the ISA IRQ lines as the devices drive them */
	/* Figures for `info`. */
	uint64_t irqs_injected, timer_irqs, pit_irqs, uart_irqs, extint_irqs, ipis;
	/* LAPIC timer interrupts: ticks from when each was due to its injection */
	uint64_t timer_latency_sum, timer_latency_max;
	uint64_t io_accesses, mmio_accesses;
	/* vmachine_update does nothing before quiet_until unless a register changed (touched):
	 * between events and accesses every device stays as it was. */
	bool touched;
	uint64_t quiet_until;
	bool always_update; /* tests: the full update every time, to compare against */
};

/* Power-on state with nr_vcpus vCPUs (1..VMACHINE_MAX_VCPUS): vCPU 0 runs, the others wait for
 * INIT-SIPI. tsc_hz: the guest's TSC rate; apic_timer_hz: the local APIC timer's input clock (the
 * crystal CPUID 0x15 names); unix_time: wall-clock seconds at TSC `now`. */
void vmachine_init(struct vmachine *m, unsigned nr_vcpus, uint64_t tsc_hz, uint64_t apic_timer_hz,
		   uint64_t unix_time, uint64_t now, uint64_t ram_below_4g, uint64_t ram_above_4g);
/* An I/O port access of size 1, 2 or 4; false when no device of the platform decodes the port
 * (the caller then treats it as unclaimed). *event: what the guest asked of its platform. */
bool vmachine_io(struct vmachine *m, uint16_t port, unsigned size, bool in, uint32_t *value,
		 uint64_t now, enum vplat_event *event);
/* True when gpa lies in a memory-mapped device of the platform (LAPIC or I/O APIC page). */
bool vmachine_mmio_claims(const struct vmachine *m, uint64_t gpa);
/* A 1-8 byte MMIO access by vCPU vcpu (the LAPIC page is each vCPU's own); false when the
 * device does not decode it (reads then give all-ones). */
bool vmachine_mmio(struct vmachine *m, unsigned vcpu, uint64_t gpa, unsigned size, bool write,
		   uint64_t *value, uint64_t now);
/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range: 1 when handled,
 * 0 when the MSR is not the platform's, <0 when the guest must get #GP. */
int vmachine_msr_read(struct vmachine *m, unsigned vcpu, uint32_t msr, uint64_t *value, uint64_t now);
int vmachine_msr_write(struct vmachine *m, unsigned vcpu, uint32_t msr, uint64_t value, uint64_t now);
/* A device outside the platform (the UART) drives ISA line irq. */
void vmachine_set_isa_irq(struct vmachine *m, unsigned irq, bool level);
/* Brings every device up to `now`: timer expiries, PIT edges, I/O APIC messages and IPIs into the
 * LAPICs they name (never outside the guest's own vCPUs), level EOIs back to the I/O APIC, the
 * PIC's INTR into LINT0. vCPUs that were given something are added to m->kicks. */
void vmachine_update(struct vmachine *m, uint64_t now);
/* The vCPUs given an interrupt, NMI, INIT or SIPI since the last call (bit n = vCPU n). */
uint32_t vmachine_take_kicks(struct vmachine *m);
/* The vector to inject into vcpu next, or -1: its LAPIC's highest deliverable one, or the PIC's
 * through LINT0 in virtual-wire (ExtINT) mode (256). */
int vmachine_pending_vector(const struct vmachine *m, unsigned vcpu);
/* The vector was injected: IRR to ISR in the LAPIC (or the PIC's INTA cycle for ExtINT).
 * Returns the vector actually delivered (the PIC may answer a spurious one). */
int vmachine_ack(struct vmachine *m, unsigned vcpu, int vector, uint64_t now);
/* An NMI for vcpu (IPI or LINT1), taken once. */
bool vmachine_take_nmi(struct vmachine *m, unsigned vcpu);
/* INIT and SIPI for vcpu, SDM Vol. 3A 9.4.4: INIT resets its LAPIC and makes it wait; a SIPI
 * starts a waiting vCPU at *vector << 12 (a SIPI to a running vCPU is ignored). */
enum vmachine_start vmachine_take_start(struct vmachine *m, unsigned vcpu, uint8_t *vector);
/* The next TSC tick at which a device raises an interrupt for vcpu, or UINT64_MAX. */
uint64_t vmachine_next_event(const struct vmachine *m, unsigned vcpu);
/* The guest's CR8 is its LAPIC's TPR[7:4], SDM Vol. 3A 10.8.6.1 */
uint8_t vmachine_cr8(const struct vmachine *m, unsigned vcpu);
void vmachine_set_cr8(struct vmachine *m, unsigned vcpu, uint8_t cr8);

#endif
