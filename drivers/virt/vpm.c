/* Virtual ACPI PM1a blocks and PM timer, the 0xcf9 reset register and the KBC reset pulse. */
#include "drivers/virt/vpm.h"
#include "kernel/lib.h"

#define EN_DEFINED (VPM_TMR_EN | VPM_GBL_EN | VPM_PWRBTN_EN | VPM_SLPBTN_EN | VPM_RTC_EN)
#define CNT_WRITABLE 0x1c06 /* BM_RLD, GBL_RLS, SLP_TYP; SCI_EN is fixed, SLP_EN is write-only */
#define PM_TIMER_BITS 24

#define RESET_SYS_RST 0x02
#define RESET_RST_CPU 0x04
#define RESET_FULL_RST 0x08

/* KBC status: system flag (POST passed) and keyboard not inhibited; both buffers empty */
#define KBC_STATUS 0x14
#define KBC_PULSE_RESET 0xfe

void vpm_init(struct vpm *pm, uint64_t tsc_hz, uint64_t base_tsc)
{
	memset(pm, 0, sizeof(*pm));
	pm->tsc_hz = tsc_hz;
	pm->base_tsc = base_tsc;
}

bool vpm_handles(uint16_t port)
{
	return (port >= VPLAT_PM1A_EVT_BLK && port < VPLAT_PM1A_EVT_BLK + 4) ||
	       (port >= VPLAT_PM1A_CNT_BLK && port < VPLAT_PM1A_CNT_BLK + 2) ||
	       (port >= VPLAT_PM_TMR_BLK && port < VPLAT_PM_TMR_BLK + 4) || port == VPLAT_RESET_PORT ||
	       port == VPLAT_KBC_STATUS;
}

static uint64_t pm_ticks(const struct vpm *pm, uint64_t now)
{
	return now > pm->base_tsc ? vplat_tsc_to_ticks(now - pm->base_tsc, pm->tsc_hz, VPLAT_PM_TMR_HZ) : 0;
}

/* TMR_STS is set each time bit 23 of the timer changes, ACPI 6.5 4.8.3.3 */
static void pm_update(struct vpm *pm, uint64_t now)
{
	uint64_t flips = pm_ticks(pm, now) >> (PM_TIMER_BITS - 1);

	if (flips > pm->timer_flips_seen) {
		pm->pm1_sts |= VPM_TMR_STS;
		pm->timer_flips_seen = flips;
	}
}

static uint8_t pm_read_byte(struct vpm *pm, uint16_t port, uint64_t now)
{
	unsigned shift;

	if (port >= VPLAT_PM1A_EVT_BLK && port < VPLAT_PM1A_EVT_BLK + 2) {
		shift = 8u * (port - VPLAT_PM1A_EVT_BLK);
		return (uint8_t)(pm->pm1_sts >> shift);
	}
	if (port >= VPLAT_PM1A_EVT_BLK + 2 && port < VPLAT_PM1A_EVT_BLK + 4) {
		shift = 8u * (port - VPLAT_PM1A_EVT_BLK - 2);
		return (uint8_t)(pm->pm1_en >> shift);
	}
	if (port >= VPLAT_PM1A_CNT_BLK && port < VPLAT_PM1A_CNT_BLK + 2) {
		/* SCI_EN reads 1: ACPI mode is always on, the FADT has no SMI command port */
		shift = 8u * (port - VPLAT_PM1A_CNT_BLK);
		return (uint8_t)((pm->pm1_cnt | VPM_SCI_EN) >> shift);
	}
	if (port >= VPLAT_PM_TMR_BLK && port < VPLAT_PM_TMR_BLK + 4) {
		/* A 24-bit counter: bits 31:24 read zero (FADT TMR_VAL_EXT clear) */
		uint32_t timer = (uint32_t)(pm_ticks(pm, now) & ((1u << PM_TIMER_BITS) - 1));

		return (uint8_t)(timer >> (8u * (port - VPLAT_PM_TMR_BLK)));
	}
	if (port == VPLAT_RESET_PORT)
		return pm->reset_control;
	if (port == VPLAT_KBC_STATUS)
		return KBC_STATUS;
	return 0xff;
}

static unsigned pm_size(unsigned size)
{
	return size == 2 || size == 4 ? size : 1;
}

uint32_t vpm_read(struct vpm *pm, uint16_t port, unsigned size, uint64_t now)
{
	uint32_t value = 0;

	pm_update(pm, now);
	size = pm_size(size);
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)pm_read_byte(pm, (uint16_t)(port + i), now) << (8 * i);
	return value;
}

/* SLP_EN: S5 powers off; the other states are not supported, so the guest "wakes" at once */
static enum vplat_event pm_sleep(struct vpm *pm)
{
	if (((pm->pm1_cnt >> VPM_SLP_TYP_SHIFT) & 7) == VPLAT_S5_SLP_TYP)
		return VPLAT_EVENT_POWEROFF;
	pm->sleeps_ignored++;
	pm->pm1_sts |= VPM_WAK_STS;
	return VPLAT_EVENT_SLEEP_IGNORED;
}

static enum vplat_event pm_write_byte(struct vpm *pm, uint16_t port, uint8_t value, bool *sleep)
{
	unsigned shift;

	if (port >= VPLAT_PM1A_EVT_BLK && port < VPLAT_PM1A_EVT_BLK + 2) {
		/* Status bits are cleared by writing 1, ACPI 6.5 4.8.3.1 */
		shift = 8u * (port - VPLAT_PM1A_EVT_BLK);
		pm->pm1_sts &= (uint16_t)~((unsigned)value << shift);
	} else if (port >= VPLAT_PM1A_EVT_BLK + 2 && port < VPLAT_PM1A_EVT_BLK + 4) {
		shift = 8u * (port - VPLAT_PM1A_EVT_BLK - 2);
		pm->pm1_en = (uint16_t)((pm->pm1_en & ~(0xffu << shift)) | (((unsigned)value << shift) & EN_DEFINED));
	} else if (port >= VPLAT_PM1A_CNT_BLK && port < VPLAT_PM1A_CNT_BLK + 2) {
		unsigned v;

		shift = 8u * (port - VPLAT_PM1A_CNT_BLK);
		v = (unsigned)value << shift;
		pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & ~(0xffu << shift)) | (v & CNT_WRITABLE));
		if (v & VPM_SLP_EN)
			*sleep = true;
	} else if (port == VPLAT_RESET_PORT) {
		pm->reset_control = value & (RESET_SYS_RST | RESET_FULL_RST);
		/* RST_CPU starts the reset; SYS_RST alone only selects its kind (PIIX4 / ICH RST_CNT) */
		if (value & RESET_RST_CPU)
			return VPLAT_EVENT_REBOOT;
	} else if (port == VPLAT_KBC_STATUS) {
		/* Pulse output port bit 0 (the CPU reset line): 0xfe, 8042 "pulse output" commands */
		if (value == KBC_PULSE_RESET)
			return VPLAT_EVENT_REBOOT;
	}
	/* The PM timer and unknown ports ignore writes */
	return VPLAT_EVENT_NONE;
}

enum vplat_event vpm_write(struct vpm *pm, uint16_t port, unsigned size, uint32_t value, uint64_t now)
{
	enum vplat_event event = VPLAT_EVENT_NONE;
	bool sleep = false;

	pm_update(pm, now);
	size = pm_size(size);
	for (unsigned i = 0; i < size; i++) {
		enum vplat_event e = pm_write_byte(pm, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)), &sleep);

		if (e != VPLAT_EVENT_NONE)
			event = e;
	}
	/* Sleep acts once every byte of the control register is in */
	if (sleep && event == VPLAT_EVENT_NONE)
		event = pm_sleep(pm);
	return event;
}

bool vpm_sci(struct vpm *pm, uint64_t now)
{
	pm_update(pm, now);
	return (pm->pm1_sts & pm->pm1_en & EN_DEFINED) != 0;
}

uint64_t vpm_next_event(const struct vpm *pm)
{
	uint64_t tick;

	if ((pm->pm1_sts & pm->pm1_en & EN_DEFINED) || !(pm->pm1_en & VPM_TMR_EN))
		return UINT64_MAX;
	tick = (pm->timer_flips_seen + 1) << (PM_TIMER_BITS - 1);
	return pm->base_tsc + vplat_ticks_to_tsc(tick, pm->tsc_hz, VPLAT_PM_TMR_HZ);
}

void vpm_power_button(struct vpm *pm)
{
	pm->pm1_sts |= VPM_PWRBTN_STS;
}
