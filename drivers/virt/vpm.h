/* Virtual ACPI fixed hardware (PM1a event/control, PM timer), the reset register at 0xcf9 and the
 * keyboard controller's reset line: how a guest powers off and reboots its platform. */
#ifndef CLOISON_VPM_H
#define CLOISON_VPM_H

#include <stdint.h>
#include <stdbool.h>
#include "drivers/virt/vplatform.h"

/* PM1 status and enable bits, ACPI 6.5 4.8.3.1 */
#define VPM_TMR_STS 0x0001
#define VPM_GBL_STS 0x0020
#define VPM_PWRBTN_STS 0x0100
#define VPM_SLPBTN_STS 0x0200
#define VPM_RTC_STS 0x0400
#define VPM_WAK_STS 0x8000
#define VPM_TMR_EN 0x0001
#define VPM_GBL_EN 0x0020
#define VPM_PWRBTN_EN 0x0100
#define VPM_SLPBTN_EN 0x0200
#define VPM_RTC_EN 0x0400
/* PM1 control bits, ACPI 6.5 4.8.3.2 */
#define VPM_SCI_EN 0x0001
#define VPM_SLP_TYP_SHIFT 10
#define VPM_SLP_EN 0x2000

struct vpm {
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint8_t reset_control;      /* port 0xcf9 as last written (bits 1 and 3) */
	uint64_t tsc_hz, base_tsc;
	uint64_t timer_flips_seen;  /* bit-23 transitions of the PM timer already flagged in TMR_STS */
	uint64_t sleeps_ignored;    /* SLP_EN with a sleep type other than S5 */
};

/* The PM timer counts from 0 at `base_tsc`. @pre tsc_hz != 0 */
void vpm_init(struct vpm *pm, uint64_t tsc_hz, uint64_t base_tsc);
/* PM1a_EVT (4 bytes), PM1a_CNT (2), PM_TMR (4), the reset register 0xcf9 and the KBC at 0x64. */
bool vpm_handles(uint16_t port);
/* Accesses of 1, 2 or 4 bytes (other sizes act as 1); bytes beyond the device read 0xff. */
uint32_t vpm_read(struct vpm *pm, uint16_t port, unsigned size, uint64_t now);
/* POWEROFF for SLP_EN with SLP_TYP == VPLAT_S5_SLP_TYP; REBOOT for 0xcf9 with RST_CPU (0x06,
 * 0x0e, 0x04) or 0xfe at 0x64; SLEEP_IGNORED for other sleep types (WAK_STS is set at once, as
 * if the guest woke immediately); NONE otherwise. */
enum vplat_event vpm_write(struct vpm *pm, uint16_t port, unsigned size, uint32_t value, uint64_t now);
/* The SCI line (level): an enabled status bit is set. */
bool vpm_sci(struct vpm *pm, uint64_t now);
/* TSC at which TMR_STS will next be set while TMR_EN is on, or UINT64_MAX (also while SCI is up). */
uint64_t vpm_next_event(const struct vpm *pm);
/* The host asks the guest to shut down: PWRBTN_STS, an SCI when PWRBTN_EN is set. */
void vpm_power_button(struct vpm *pm);

#endif
