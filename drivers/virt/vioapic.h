/* Virtual I/O APIC (82093AA-style, version 0x20): register model, pin inputs, message queue. */
#ifndef CLOISON_VIOAPIC_H
#define CLOISON_VIOAPIC_H

#include <stdint.h>
#include <stdbool.h>
#include "drivers/virt/vplatform.h"

/* MMIO offsets from VPLAT_IOAPIC_BASE, 82093AA data sheet 3.0 (EOI register: version 0x20 and later). */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10
#define VIOAPIC_EOI 0x40

/* Indirect registers selected through IOREGSEL. */
#define VIOAPIC_REG_ID 0x00
#define VIOAPIC_REG_VER 0x01
#define VIOAPIC_REG_ARB 0x02
#define VIOAPIC_REG_REDTBL 0x10 /* entry n: low half 0x10 + 2n, high half 0x11 + 2n */

#define VIOAPIC_VERSION 0x20

/* Redirection entry bits, 82093AA 3.2.4. */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_DELMODE_SHIFT 8
#define VIOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_DELIVS (1ull << 12)
#define VIOAPIC_RTE_POLARITY_LOW (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

#define VIOAPIC_QUEUE 32

struct vioapic {
	uint8_t id;
	uint8_t ioregsel;
	uint64_t redir[VPLAT_IOAPIC_PINS];
	uint32_t asserted; /* bit n: input n is asserted now (logical level, polarity already applied) */
	struct apic_msg queue[VIOAPIC_QUEUE];
	unsigned queue_head, queue_count;
	uint64_t delivered, dropped; /* messages queued; messages lost because the queue was full */
};

/* Reset state: ID VPLAT_IOAPIC_ID, every pin masked, edge, no input asserted. */
void vioapic_init(struct vioapic *io);
uint32_t vioapic_read(struct vioapic *io, uint32_t offset);
void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value);
/* Drives input `pin` (0..VPLAT_IOAPIC_PINS-1; others are ignored). `level` is the logical
 * assertion: the device model, not the pin polarity, decides what asserted means. */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);
/* End of interrupt for `vector` (local APIC EOI of a level vector, or the EOI register). */
void vioapic_eoi(struct vioapic *io, uint8_t vector);
/* Removes the oldest queued interrupt message; false when none is waiting. */
bool vioapic_take_msg(struct vioapic *io, struct apic_msg *out);
/* The 64-bit redirection entry of `pin`, for the integrator (ExtINT routing, diagnostics). */
uint64_t vioapic_redir(const struct vioapic *io, unsigned pin);

#endif
