/* The virtual platform every guest sees: addresses, ports, IRQ routing and the interrupt message
 * that virtual devices hand to virtual local APICs. Shared by the device models (drivers/virt/),
 * the guest ACPI tables that describe them, and the exit adapters that route accesses to them. */
#ifndef CLOISON_VPLATFORM_H
#define CLOISON_VPLATFORM_H

#include <stdint.h>
#include <stdbool.h>

/* Memory-mapped devices (guest-physical). */
#define VPLAT_LAPIC_BASE 0xfee00000ull /* xAPIC page, one per vCPU */
#define VPLAT_IOAPIC_BASE 0xfec00000ull
#define VPLAT_IOAPIC_ID 15
#define VPLAT_IOAPIC_PINS 24

/* ACPI fixed hardware (I/O ports), described by the guest's FADT. */
#define VPLAT_PM1A_EVT_BLK 0x600 /* PM1a status (2 bytes) + enable (2 bytes) */
#define VPLAT_PM1A_CNT_BLK 0x604 /* PM1a control, 2 bytes */
#define VPLAT_PM_TMR_BLK 0x608   /* ACPI PM timer, 4 bytes, 24-bit counter */
#define VPLAT_PM_TMR_HZ 3579545u
#define VPLAT_SCI_IRQ 9
#define VPLAT_S5_SLP_TYP 5       /* the value \_S5 names, written to PM1a_CNT.SLP_TYP */
#define VPLAT_RESET_PORT 0xcf9   /* FADT reset register */
#define VPLAT_RESET_VALUE 0x06

/* Legacy ISA ports. */
#define VPLAT_PIC_MASTER 0x20
#define VPLAT_PIC_SLAVE 0xa0
#define VPLAT_PIC_ELCR 0x4d0     /* 0x4d0-0x4d1 edge/level control */
#define VPLAT_PIT_BASE 0x40      /* 0x40-0x43 */
#define VPLAT_PORT_B 0x61        /* PIT channel 2 gate, speaker, channel 2 output */
#define VPLAT_RTC_INDEX 0x70
#define VPLAT_RTC_DATA 0x71
#define VPLAT_KBC_STATUS 0x64    /* writing 0xfe here resets the machine */
#define VPLAT_COM1_BASE 0x3f8
#define VPLAT_COM1_IRQ 4

/* ISA IRQ n reaches PIC pin n and I/O APIC pin n, except IRQ 0 (the PIT), which reaches I/O APIC
 * pin 2 as on PC chipsets (a MADT interrupt source override says so). */
#define VPLAT_PIT_IRQ 0
#define VPLAT_PIT_GSI 2
#define VPLAT_RTC_IRQ 8

/* LAPIC delivery modes, SDM Vol. 3A 11.6.1 (ICR) and the I/O APIC redirection entry. */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* ICR destination shorthand, SDM Vol. 3A 11.6.1 */
enum apic_shorthand {
	APIC_DEST_NO_SHORTHAND = 0,
	APIC_DEST_SELF = 1,
	APIC_DEST_ALL = 2,
	APIC_DEST_ALL_BUT_SELF = 3,
};

/* One interrupt message on the (virtual) APIC bus: from an I/O APIC redirection entry, an MSI,
 * or a local APIC's ICR. dest is an 8-bit xAPIC or 32-bit x2APIC destination. */
struct apic_msg {
	uint8_t vector;
	uint8_t delivery;  /* enum apic_delivery */
	uint8_t shorthand; /* enum apic_shorthand; always APIC_DEST_NO_SHORTHAND from the I/O APIC */
	bool dest_logical;
	bool level;        /* level-triggered (I/O APIC) or the ICR's level bit (INIT de-assert) */
	bool assert;       /* ICR level: false only for an INIT level de-assert */
	uint32_t dest;
	uint32_t source_apic_id; /* the sender, for ALL_BUT_SELF and SELF; 0 from the I/O APIC */
};

/* What a guest asked of its platform through a device (ACPI PM1 control, reset register, the
 * keyboard controller, a triple fault seen elsewhere). */
enum vplat_event {
	VPLAT_EVENT_NONE,
	VPLAT_EVENT_POWEROFF,
	VPLAT_EVENT_REBOOT,
	VPLAT_EVENT_SLEEP_IGNORED, /* SLP_EN with a sleep type other than S5: not supported, nothing done */
};

/* Device clock ticks in a TSC interval: floor(delta * rate / tsc_hz) without a 128-bit product.
 * @pre tsc_hz != 0 and tsc_hz * rate < 2^64 (any TSC up to 10 GHz with the PIT's or the PM
 * timer's rate). */
static inline uint64_t vplat_tsc_to_ticks(uint64_t tsc_delta, uint64_t tsc_hz, uint64_t rate)
{
	return tsc_delta / tsc_hz * rate + tsc_delta % tsc_hz * rate / tsc_hz;
}

/* The smallest TSC interval holding at least `ticks` device clock ticks (the inverse, rounded up). */
static inline uint64_t vplat_ticks_to_tsc(uint64_t ticks, uint64_t tsc_hz, uint64_t rate)
{
	return ticks / rate * tsc_hz + (ticks % rate * tsc_hz + rate - 1) / rate;
}

#endif
