/* Virtual MC146818 RTC and CMOS at ports 0x70/0x71: the guest's wall clock, flags and IRQ 8. */
#ifndef CLOISON_VRTC_H
#define CLOISON_VRTC_H

#include <stdint.h>
#include <stdbool.h>

#define VRTC_CMOS_SIZE 128
#define VRTC_CENTURY 0x32 /* the century byte the guest's FADT names */

/* Registers, MC146818A data sheet "Address map". */
enum {
	VRTC_SECONDS = 0x00,
	VRTC_SECONDS_ALARM = 0x01,
	VRTC_MINUTES = 0x02,
	VRTC_MINUTES_ALARM = 0x03,
	VRTC_HOURS = 0x04,
	VRTC_HOURS_ALARM = 0x05,
	VRTC_DAY_OF_WEEK = 0x06,
	VRTC_DAY_OF_MONTH = 0x07,
	VRTC_MONTH = 0x08,
	VRTC_YEAR = 0x09,
	VRTC_REG_A = 0x0a,
	VRTC_REG_B = 0x0b,
	VRTC_REG_C = 0x0c,
	VRTC_REG_D = 0x0d,
};

#define VRTC_A_UIP 0x80
#define VRTC_B_SET 0x80
#define VRTC_B_PIE 0x40
#define VRTC_B_AIE 0x20
#define VRTC_B_UIE 0x10
#define VRTC_B_DM_BINARY 0x04
#define VRTC_B_24H 0x02
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF 0x40
#define VRTC_C_AF 0x20
#define VRTC_C_UF 0x10
#define VRTC_D_VRT 0x80

struct vrtc {
	uint8_t index;
	uint8_t cmos[VRTC_CMOS_SIZE]; /* time bytes hold the guest's values only while SET is on */
	uint8_t reg_c;
	uint64_t tsc_hz, base_tsc, unix_at_base;
	int64_t offset;               /* guest clock minus the host-based clock, in seconds */
	uint64_t flags_second;        /* guest second up to which the update and alarm flags are done */
	uint64_t periodic_index;      /* periods of the current rate elapsed since base_tsc */
};

/* Wall clock `unix_seconds_at_base` at TSC `base_tsc`; A = 0x26, B = 0x02 (24 h, BCD) as a PC BIOS
 * leaves them. @pre tsc_hz != 0 */
void vrtc_init(struct vrtc *rtc, uint64_t unix_seconds_at_base, uint64_t base_tsc, uint64_t tsc_hz);
/* Ports 0x70 (index; bit 7, the NMI mask, is ignored) and 0x71 (data); others read 0xff. */
uint8_t vrtc_read(struct vrtc *rtc, uint16_t port, uint64_t now);
void vrtc_write(struct vrtc *rtc, uint16_t port, uint8_t value, uint64_t now);
/* The IRQ 8 output: high while C's IRQF is set (an enabled flag is up), until C is read. */
bool vrtc_irq(struct vrtc *rtc, uint64_t now);
/* TSC at which an enabled flag may next be set, or UINT64_MAX (also while IRQF is already up). */
uint64_t vrtc_next_event(const struct vrtc *rtc);
/* The guest's clock in Unix seconds. */
uint64_t vrtc_guest_time(const struct vrtc *rtc, uint64_t now);
/* CMOS memory sizes from the guest's RAM (0x15-0x18, 0x30/0x31, 0x34/0x35, 0x5b-0x5d) and the
 * checksum of 0x10-0x2d at 0x2e/0x2f. */
void vrtc_set_memory(struct vrtc *rtc, uint64_t below_4g_bytes, uint64_t above_4g_bytes);

/* Proleptic Gregorian calendar from 1970-01-01 (day 0). */
void vrtc_days_to_date(uint64_t days, unsigned *year, unsigned *month, unsigned *day);
uint64_t vrtc_date_to_days(unsigned year, unsigned month, unsigned day);

#endif
