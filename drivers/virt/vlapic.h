/* Virtual local APIC register model (xAPIC MMIO, x2APIC MSRs, timer, IPIs); pure logic, no hardware.
 * Every time-dependent call takes `now`, the TSC tick count at the call; nothing else keeps time. */
#ifndef CLOISON_VLAPIC_H
#define CLOISON_VLAPIC_H

#include <stdint.h>
#include <stdbool.h>
#include "drivers/virt/vplatform.h"

/* xAPIC register offsets in the 4 KiB page; x2APIC MSR = 0x800 + offset / 16. SDM Vol. 3A 11.4.1 */
enum {
	VLAPIC_REG_ID = 0x020,
	VLAPIC_REG_VERSION = 0x030,
	VLAPIC_REG_TPR = 0x080,
	VLAPIC_REG_APR = 0x090,
	VLAPIC_REG_PPR = 0x0a0,
	VLAPIC_REG_EOI = 0x0b0,
	VLAPIC_REG_LDR = 0x0d0,
	VLAPIC_REG_DFR = 0x0e0,
	VLAPIC_REG_SVR = 0x0f0,
	VLAPIC_REG_ISR = 0x100, /* 8 registers, 0x100-0x170 */
	VLAPIC_REG_TMR = 0x180, /* 0x180-0x1f0 */
	VLAPIC_REG_IRR = 0x200, /* 0x200-0x270 */
	VLAPIC_REG_ESR = 0x280,
	VLAPIC_REG_ICR_LOW = 0x300,
	VLAPIC_REG_ICR_HIGH = 0x310,
	VLAPIC_REG_LVT_TIMER = 0x320,
	VLAPIC_REG_LVT_THERMAL = 0x330,
	VLAPIC_REG_LVT_PERF = 0x340,
	VLAPIC_REG_LVT_LINT0 = 0x350,
	VLAPIC_REG_LVT_LINT1 = 0x360,
	VLAPIC_REG_LVT_ERROR = 0x370,
	VLAPIC_REG_TIMER_INITIAL = 0x380,
	VLAPIC_REG_TIMER_CURRENT = 0x390,
	VLAPIC_REG_TIMER_DIVIDE = 0x3e0,
	VLAPIC_REG_SELF_IPI = 0x3f0, /* x2APIC only (MSR 0x83f) */
};

#define VLAPIC_MSR_FIRST 0x800
#define VLAPIC_MSR_LAST 0x8ff

/* IA32_APIC_BASE bits, SDM Vol. 3A 11.4.4 and 11.12.1 */
#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define VLAPIC_BASE_EN (1ull << 11)
#define VLAPIC_BASE_ADDR_MASK 0xfffffffffffff000ull

/* Local vector table bits, SDM Vol. 3A 11.5.1 */
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_TIMER_PERIODIC (1u << 17)
#define VLAPIC_LVT_TIMER_TSC_DEADLINE (2u << 17)
#define VLAPIC_SVR_ENABLE (1u << 8)

/* ESR bits, SDM Vol. 3A 11.5.3 */
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

/* Version 0x14 (integrated APIC), max LVT entry 5 = six LVTs (timer, thermal, perf, LINT0, LINT1,
 * error; no CMCI), bit 24 clear: EOI-broadcast suppression is not offered. SDM Vol. 3A 11.4.8 */
#define VLAPIC_VERSION 0x00050014u

#define VLAPIC_IPI_QUEUE 8

enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_LVT_COUNT,
};

struct vlapic {
	/* Identity and mode. */
	uint32_t apic_id;      /* x2APIC ID; the xAPIC ID is its low 8 bits */
	uint64_t apic_base;    /* IA32_APIC_BASE */
	bool x2apic_supported; /* set by init; clear it if the guest's CPUID hides x2APIC */
	uint8_t maxphyaddr;    /* bits above it in IA32_APIC_BASE are reserved (#GP); default 39 */

	/* Registers, SDM Vol. 3A 11.4.1 Table 11-1. */
	uint32_t tpr, ppr, ldr, dfr, svr;
	uint32_t isr[8], tmr[8], irr[8]; /* 256-bit, laid out as the registers are */
	uint32_t esr;                    /* what the guest reads */
	uint32_t esr_pending;            /* errors seen since the last ESR write */
	uint32_t icr_low, icr_high;      /* icr_high: 8-bit dest in 31:24 (xAPIC) or 32-bit (x2APIC) */
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t timer_initial, timer_divide_reg;
	uint64_t tsc_deadline;

	/* Timer: one count every 2^timer_divide_shift ticks of timer_hz; derived from `now`. */
	uint64_t tsc_hz, timer_hz;
	unsigned timer_divide_shift;
	bool timer_armed;          /* one-shot or periodic counting */
	uint64_t timer_start;      /* TSC tick at which the count was timer_start_count */
	uint32_t timer_start_count;
	uint64_t timer_periods;    /* expiries already handled since timer_start */
	uint64_t timer_fired;      /* timer interrupts raised in IRR (statistics) */
	uint64_t timer_due;        /* the TSC tick at which the last raised timer interrupt was due */

	/* What the vCPU must act on; the integrator reads and clears these. */
	bool nmi_pending, init_pending, sipi_pending, extint_pending;
	uint8_t sipi_vector;
	bool lint_asserted[2];

	uint32_t eoi_level[8];     /* level-triggered vectors EOIed, not yet taken */

	struct apic_msg ipi[VLAPIC_IPI_QUEUE]; /* outgoing IPIs, oldest first */
	unsigned ipi_head, ipi_count;
	uint64_t ipi_dropped;
};

/* Power-up state, SDM Vol. 3A 11.4.7.1. tsc_hz: the guest's TSC rate; timer_hz: the APIC timer's
 * input clock before the divider. @pre tsc_hz, timer_hz non-zero */
void vlapic_init(struct vlapic *v, uint32_t apic_id, bool bsp, uint64_t tsc_hz, uint64_t timer_hz);
/* INIT: everything as at power-up except the ID and IA32_APIC_BASE, SDM Vol. 3A 11.4.7.3. Clears
 * the NMI/INIT/ExtINT requests, leaves sipi_pending (the SIPI follows the INIT). */
void vlapic_init_signal(struct vlapic *v);

/* xAPIC page access, offset 0..0xff0, 32-bit aligned. Reads of reserved or unaligned offsets give 0,
 * writes to them and to read-only registers are ignored. Nothing happens outside xAPIC mode. */
uint32_t vlapic_mmio_read(struct vlapic *v, uint32_t offset, uint64_t now);
void vlapic_mmio_write(struct vlapic *v, uint32_t offset, uint32_t value, uint64_t now);

/* x2APIC MSRs 0x800-0x8ff; return <0 where the CPU raises #GP, SDM Vol. 3A 11.12.1. */
int vlapic_msr_read(struct vlapic *v, uint32_t msr, uint64_t *value, uint64_t now);
int vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now);

/* IA32_APIC_BASE; <0 means #GP (illegal mode transition or reserved bit). Disabling the APIC resets
 * its registers. The base address may move: vlapic_mmio_base() says where the page now is. */
int vlapic_set_base(struct vlapic *v, uint64_t value);
uint64_t vlapic_get_base(const struct vlapic *v);
uint64_t vlapic_mmio_base(const struct vlapic *v);
bool vlapic_enabled(const struct vlapic *v);   /* IA32_APIC_BASE.EN */
bool vlapic_x2apic(const struct vlapic *v);    /* x2APIC mode */

/* IA32_TSC_DEADLINE: reads 0 and ignores writes outside TSC-deadline mode; writing 0 disarms. */
uint64_t vlapic_read_tsc_deadline(const struct vlapic *v);
void vlapic_write_tsc_deadline(struct vlapic *v, uint64_t value, uint64_t now);

/* Raise the timer interrupt if due (one per call at most; missed periods coalesce). */
void vlapic_tick(struct vlapic *v, uint64_t now);
/* Absolute TSC tick of the next timer interrupt, or UINT64_MAX (none, or the LVT timer is masked). */
uint64_t vlapic_next_event(const struct vlapic *v);

/* A message already routed to this APIC (see vlapic_match_msg). */
void vlapic_accept(struct vlapic *v, const struct apic_msg *m);
/* LINT0/LINT1 input asserted or not (active level, polarity already applied). With the APIC
 * disabled in IA32_APIC_BASE, LINT0 is INTR (extint_pending) and LINT1 is NMI. */
void vlapic_set_lint(struct vlapic *v, unsigned lint, bool asserted);

/* Destination matching, SDM Vol. 3A 11.6.2: physical (incl. broadcast), logical flat/cluster
 * (xAPIC, per DFR) or x2APIC cluster. A disabled APIC matches nothing. */
bool vlapic_match_dest(const struct vlapic *v, uint32_t dest, bool logical);
/* The same with the shorthand of an IPI (SELF, ALL, ALL_BUT_SELF against m->source_apic_id). */
bool vlapic_match_msg(const struct vlapic *v, const struct apic_msg *m);

/* Highest IRR vector whose priority class is above the PPR's, or -1. SDM Vol. 3A 11.8.3.1 */
int vlapic_pending_vector(const struct vlapic *v);
/* The vCPU took `vector`: IRR -> ISR, PPR updated. Call when injecting it. */
void vlapic_ack(struct vlapic *v, uint8_t vector);
/* A level-triggered vector the guest EOIed (for the I/O APIC's remote IRR), each once; or -1. */
int vlapic_take_eoi_level(struct vlapic *v);
uint32_t vlapic_get_ppr(const struct vlapic *v);

/* TPR, bits 7:0 (CR8 is TPR[7:4]: set_tpr(cr8 << 4), get_tpr() >> 4). SDM Vol. 3A 11.8.6 */
void vlapic_set_tpr(struct vlapic *v, uint32_t tpr);
uint32_t vlapic_get_tpr(const struct vlapic *v);

/* Oldest outgoing IPI (ICR or x2APIC ICR write), false if none. SELF IPIs never appear here: they
 * are delivered at once. ALL includes the sender: route it to this APIC too. */
bool vlapic_take_ipi(struct vlapic *v, struct apic_msg *out);

#endif
