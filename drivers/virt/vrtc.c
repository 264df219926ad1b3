/* Virtual MC146818: time registers computed from the TSC, SET and format bits, flags, CMOS memory. */
#include "drivers/virt/vrtc.h"
#include "drivers/virt/vplatform.h"
#include "kernel/lib.h"

#define SECONDS_PER_DAY 86400u
#define RTC_TIMEBASE_HZ 32768u
#define A_RATE 0x0f
#define A_DIVIDER 0x70
#define A_DIVIDER_RESET 0x60 /* DV2:DV1 = 11: divider chain held in reset */
#define UIP_US 244u
#define NO_ALARM UINT32_MAX

/* Days since 1970-01-01 of a Gregorian date: 400-year eras of 146097 days, years starting in March */
uint64_t vrtc_date_to_days(unsigned year, unsigned month, unsigned day)
{
	uint64_t y = year - (month <= 2);
	uint64_t era = y / 400;
	uint64_t year_of_era = y - era * 400;
	uint64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	uint64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

	/* 719468 days from 0000-03-01 to 1970-01-01 */
	return era * 146097 + day_of_era - 719468;
}

void vrtc_days_to_date(uint64_t days, unsigned *year, unsigned *month, unsigned *day)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	uint64_t day_of_era = z - era * 146097;
	uint64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	uint64_t mp = (5 * day_of_year + 2) / 153;
	unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

	*day = (unsigned)(day_of_year - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (unsigned)(year_of_era + era * 400 + (m <= 2));
}

static bool rtc_binary(const struct vrtc *rtc)
{
	return rtc->cmos[VRTC_REG_B] & VRTC_B_DM_BINARY;
}

/* BCD or binary per register B's DM bit, MC146818A "Time, calendar and alarm data modes" */
static uint8_t rtc_encode(const struct vrtc *rtc, unsigned v)
{
	if (rtc_binary(rtc))
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned rtc_decode(const struct vrtc *rtc, uint8_t v)
{
	if (rtc_binary(rtc))
		return v;
	return (unsigned)(v >> 4) * 10 + (v & 0xf);
}

/* 12-hour mode: 1-12 with bit 7 for PM */
static uint8_t rtc_encode_hour(const struct vrtc *rtc, unsigned hour)
{
	unsigned h12;

	if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
		return rtc_encode(rtc, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(rtc_encode(rtc, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned rtc_decode_hour(const struct vrtc *rtc, uint8_t v)
{
	if (rtc->cmos[VRTC_REG_B] & VRTC_B_24H)
		return rtc_decode(rtc, v);
	return rtc_decode(rtc, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

static uint64_t rtc_host_seconds(const struct vrtc *rtc, uint64_t now)
{
	return rtc->unix_at_base + (now > rtc->base_tsc ? (now - rtc->base_tsc) / rtc->tsc_hz : 0);
}

uint64_t vrtc_guest_time(const struct vrtc *rtc, uint64_t now)
{
	int64_t t = (int64_t)rtc_host_seconds(rtc, now) + rtc->offset;

	return t < 0 ? 0 : (uint64_t)t;
}

static bool rtc_is_time_reg(uint8_t index)
{
	return index <= VRTC_YEAR || index == VRTC_CENTURY;
}

/* Writes the guest clock `t` into the time bytes in the current format */
static void rtc_store_time(struct vrtc *rtc, uint64_t t)
{
	uint64_t days = t / SECONDS_PER_DAY;
	unsigned sod = (unsigned)(t % SECONDS_PER_DAY);
	unsigned year, month, day;

	vrtc_days_to_date(days, &year, &month, &day);
	rtc->cmos[VRTC_SECONDS] = rtc_encode(rtc, sod % 60);
	rtc->cmos[VRTC_MINUTES] = rtc_encode(rtc, sod / 60 % 60);
	rtc->cmos[VRTC_HOURS] = rtc_encode_hour(rtc, sod / 3600);
	/* Sunday is 1; 1970-01-01 was a Thursday */
	rtc->cmos[VRTC_DAY_OF_WEEK] = rtc_encode(rtc, (unsigned)((days + 4) % 7) + 1);
	rtc->cmos[VRTC_DAY_OF_MONTH] = rtc_encode(rtc, day);
	rtc->cmos[VRTC_MONTH] = rtc_encode(rtc, month);
	rtc->cmos[VRTC_YEAR] = rtc_encode(rtc, year % 100);
	rtc->cmos[VRTC_CENTURY] = rtc_encode(rtc, year / 100 % 100);
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The guest clock the time bytes describe; out-of-range fields are clamped, years before 1970 too */
static uint64_t rtc_load_time(const struct vrtc *rtc)
{
	unsigned sec = clamp(rtc_decode(rtc, rtc->cmos[VRTC_SECONDS]), 0, 59);
	unsigned min = clamp(rtc_decode(rtc, rtc->cmos[VRTC_MINUTES]), 0, 59);
	unsigned hour = clamp(rtc_decode_hour(rtc, rtc->cmos[VRTC_HOURS]), 0, 23);
	unsigned day = clamp(rtc_decode(rtc, rtc->cmos[VRTC_DAY_OF_MONTH]), 1, 31);
	unsigned month = clamp(rtc_decode(rtc, rtc->cmos[VRTC_MONTH]), 1, 12);
	unsigned year = clamp(rtc_decode(rtc, rtc->cmos[VRTC_YEAR]), 0, 99);
	unsigned century = rtc_decode(rtc, rtc->cmos[VRTC_CENTURY]);

	if (century < 19 || century > 99)
		century = year < 70 ? 20 : 19;
	year += century * 100;
	if (year < 1970)
		year = 1970;
	return vrtc_date_to_days(year, month, day) * SECONDS_PER_DAY + hour * 3600u + min * 60u + sec;
}

static bool rtc_updating(const struct vrtc *rtc)
{
	/* SET inhibits updates; DV = 11x holds the divider chain in reset, MC146818A register A */
	return !(rtc->cmos[VRTC_REG_B] & VRTC_B_SET) &&
	       (rtc->cmos[VRTC_REG_A] & A_DIVIDER_RESET) != A_DIVIDER_RESET;
}

/* Periodic interrupt period as a power of two of 32.768 kHz ticks; rates 1 and 2 repeat 8 and 9 */
static unsigned rtc_period_shift(uint8_t rate)
{
	return rate >= 3 ? rate - 1u : rate + 6u;
}

static uint64_t rtc_periodic_index(const struct vrtc *rtc, uint64_t now)
{
	uint8_t rate = rtc->cmos[VRTC_REG_A] & A_RATE;
	uint64_t ticks;

	if (!rate || now <= rtc->base_tsc)
		return 0;
	ticks = vplat_tsc_to_ticks(now - rtc->base_tsc, rtc->tsc_hz, RTC_TIMEBASE_HZ);
	return ticks >> rtc_period_shift(rate);
}

/* One alarm byte: 0xc0-0xff match anything, MC146818A "Alarm" */
static int rtc_alarm_field(const struct vrtc *rtc, uint8_t index, unsigned limit)
{
	uint8_t v = rtc->cmos[index];
	unsigned d;

	if ((v & 0xc0) == 0xc0)
		return -1;
	d = index == VRTC_HOURS_ALARM ? rtc_decode_hour(rtc, v) : rtc_decode(rtc, v);
	return d < limit ? (int)d : -2;
}

/* The first second of the day at or after `from` that the alarm matches, or NO_ALARM */
static uint32_t rtc_next_alarm(const struct vrtc *rtc, uint32_t from)
{
	int ah = rtc_alarm_field(rtc, VRTC_HOURS_ALARM, 24);
	int am = rtc_alarm_field(rtc, VRTC_MINUTES_ALARM, 60);
	int as = rtc_alarm_field(rtc, VRTC_SECONDS_ALARM, 60);
	unsigned fh = from / 3600, fm = from / 60 % 60, fs = from % 60;

	if (ah == -2 || am == -2 || as == -2)
		return NO_ALARM;
	for (unsigned h = fh; h < 24; h++) {
		if (ah >= 0 && (unsigned)ah != h)
			continue;
		for (unsigned m = h == fh ? fm : 0; m < 60; m++) {
			if (am >= 0 && (unsigned)am != m)
				continue;
			for (unsigned s = h == fh && m == fm ? fs : 0; s < 60; s++) {
				if (as < 0 || (unsigned)as == s)
					return h * 3600 + m * 60 + s;
			}
		}
	}
	return NO_ALARM;
}

/* Whether the alarm matches any second in (from, to] */
static bool rtc_alarm_between(const struct vrtc *rtc, uint64_t from, uint64_t to)
{
	uint64_t span = to - from;
	uint32_t start = (uint32_t)((from + 1) % SECONDS_PER_DAY);
	uint32_t hit;

	if (span >= SECONDS_PER_DAY)
		return rtc_next_alarm(rtc, 0) != NO_ALARM;
	hit = rtc_next_alarm(rtc, start);
	if (hit != NO_ALARM && hit - start < span)
		return true;
	if (start + span <= SECONDS_PER_DAY)
		return false;
	hit = rtc_next_alarm(rtc, 0);
	return hit != NO_ALARM && SECONDS_PER_DAY - start + hit < span;
}

/* Brings register C up to `now`: update-ended and alarm once per update cycle, periodic per period */
static void rtc_update_flags(struct vrtc *rtc, uint64_t now)
{
	uint64_t index = rtc_periodic_index(rtc, now);

	if (index > rtc->periodic_index) {
		rtc->reg_c |= VRTC_C_PF;
		rtc->periodic_index = index;
	}
	if (rtc_updating(rtc)) {
		uint64_t t = vrtc_guest_time(rtc, now);

		if (t > rtc->flags_second) {
			rtc->reg_c |= VRTC_C_UF;
			if (rtc_alarm_between(rtc, rtc->flags_second, t))
				rtc->reg_c |= VRTC_C_AF;
		}
		rtc->flags_second = t;
	}
	/* IRQF = PF.PIE + AF.AIE + UF.UIE, MC146818A register C */
	if (rtc->reg_c & rtc->cmos[VRTC_REG_B] & (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF))
		rtc->reg_c |= VRTC_C_IRQF;
}

void vrtc_init(struct vrtc *rtc, uint64_t unix_seconds_at_base, uint64_t base_tsc, uint64_t tsc_hz)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->unix_at_base = unix_seconds_at_base;
	rtc->base_tsc = base_tsc;
	rtc->tsc_hz = tsc_hz;
	rtc->cmos[VRTC_REG_A] = 0x26;
	rtc->cmos[VRTC_REG_B] = VRTC_B_24H;
	rtc->flags_second = unix_seconds_at_base;
}

static uint8_t rtc_read_reg(struct vrtc *rtc, uint8_t index, uint64_t now)
{
	uint8_t value;

	switch (index) {
	case VRTC_REG_A:
		value = rtc->cmos[VRTC_REG_A] & 0x7f;
		/* UIP: the last 244 us before an update, MC146818A "Update cycle" */
		if (rtc_updating(rtc) && now > rtc->base_tsc &&
		    (now - rtc->base_tsc) % rtc->tsc_hz >= rtc->tsc_hz - rtc->tsc_hz / 1000000 * UIP_US)
			value |= VRTC_A_UIP;
		return value;
	case VRTC_REG_C:
		rtc_update_flags(rtc, now);
		value = rtc->reg_c;
		rtc->reg_c = 0; /* reading C clears every flag, MC146818A register C */
		return value;
	case VRTC_REG_D:
		return VRTC_D_VRT;
	default:
		if (rtc_is_time_reg(index) && index != VRTC_SECONDS_ALARM && index != VRTC_MINUTES_ALARM &&
		    index != VRTC_HOURS_ALARM && !(rtc->cmos[VRTC_REG_B] & VRTC_B_SET))
			rtc_store_time(rtc, vrtc_guest_time(rtc, now));
		return rtc->cmos[index];
	}
}

/* The guest moves its own clock only: the difference is kept as an offset */
static void rtc_commit_time(struct vrtc *rtc, uint64_t now)
{
	rtc->offset = (int64_t)rtc_load_time(rtc) - (int64_t)rtc_host_seconds(rtc, now);
	rtc->flags_second = vrtc_guest_time(rtc, now);
}

static void rtc_write_reg(struct vrtc *rtc, uint8_t index, uint8_t value, uint64_t now)
{
	bool set = rtc->cmos[VRTC_REG_B] & VRTC_B_SET;

	switch (index) {
	case VRTC_REG_A:
		rtc_update_flags(rtc, now);
		rtc->cmos[VRTC_REG_A] = value & 0x7f;
		/* A new rate counts its periods from now */
		rtc->periodic_index = rtc_periodic_index(rtc, now);
		if (!rtc_updating(rtc))
			break;
		rtc->flags_second = MAX(rtc->flags_second, vrtc_guest_time(rtc, now));
		break;
	case VRTC_REG_B:
		rtc_update_flags(rtc, now);
		if (!set && (value & VRTC_B_SET)) {
			/* SET freezes the time bytes as they are now; it also clears UIE, MC146818A register B */
			rtc->cmos[VRTC_REG_B] = value & (uint8_t)~VRTC_B_UIE;
			rtc_store_time(rtc, vrtc_guest_time(rtc, now));
		} else if (set && !(value & VRTC_B_SET)) {
			rtc_commit_time(rtc, now);
			rtc->cmos[VRTC_REG_B] = value;
		} else {
			rtc->cmos[VRTC_REG_B] = set ? value & (uint8_t)~VRTC_B_UIE : value;
		}
		rtc_update_flags(rtc, now);
		break;
	case VRTC_REG_C:
	case VRTC_REG_D:
		break; /* read-only */
	default:
		if (rtc_is_time_reg(index) && index != VRTC_SECONDS_ALARM && index != VRTC_MINUTES_ALARM &&
		    index != VRTC_HOURS_ALARM && !set) {
			/* A time byte written without SET: the others keep running values */
			rtc_update_flags(rtc, now);
			rtc_store_time(rtc, vrtc_guest_time(rtc, now));
			rtc->cmos[index] = value;
			rtc_commit_time(rtc, now);
			break;
		}
		rtc->cmos[index] = value;
		break;
	}
}

uint8_t vrtc_read(struct vrtc *rtc, uint16_t port, uint64_t now)
{
	if (port == VPLAT_RTC_DATA)
		return rtc_read_reg(rtc, rtc->index, now);
	/* The index register is write-only; an open bus reads all ones */
	return 0xff;
}

void vrtc_write(struct vrtc *rtc, uint16_t port, uint8_t value, uint64_t now)
{
	if (port == VPLAT_RTC_INDEX)
		rtc->index = value & 0x7f; /* bit 7 masks NMIs on a PC: nothing to do here */
	else if (port == VPLAT_RTC_DATA)
		rtc_write_reg(rtc, rtc->index, value, now);
}

bool vrtc_irq(struct vrtc *rtc, uint64_t now)
{
	rtc_update_flags(rtc, now);
	return rtc->reg_c & VRTC_C_IRQF;
}

uint64_t vrtc_next_event(const struct vrtc *rtc)
{
	uint8_t b = rtc->cmos[VRTC_REG_B];
	uint8_t rate = rtc->cmos[VRTC_REG_A] & A_RATE;
	uint64_t next = UINT64_MAX;

	if (rtc->reg_c & VRTC_C_IRQF)
		return UINT64_MAX;
	if ((b & VRTC_B_PIE) && rate) {
		uint64_t tick = (rtc->periodic_index + 1) << rtc_period_shift(rate);

		next = rtc->base_tsc + vplat_ticks_to_tsc(tick, rtc->tsc_hz, RTC_TIMEBASE_HZ);
	}
	if ((b & (VRTC_B_UIE | VRTC_B_AIE)) && rtc_updating(rtc)) {
		/* The next update: the start of guest second flags_second + 1 on the host-based clock */
		int64_t host = (int64_t)rtc->flags_second + 1 - rtc->offset - (int64_t)rtc->unix_at_base;
		uint64_t at = host <= 0 ? rtc->base_tsc : rtc->base_tsc + (uint64_t)host * rtc->tsc_hz;

		next = MIN(next, at);
	}
	return next;
}

static void cmos_put16(struct vrtc *rtc, uint8_t index, uint64_t value)
{
	if (value > 0xffff)
		value = 0xffff;
	rtc->cmos[index] = (uint8_t)value;
	rtc->cmos[index + 1] = (uint8_t)(value >> 8);
}

void vrtc_set_memory(struct vrtc *rtc, uint64_t below_4g_bytes, uint64_t above_4g_bytes)
{
	uint64_t above_1m = below_4g_bytes > MiB ? (below_4g_bytes - MiB) / KiB : 0;
	uint64_t above_16m = below_4g_bytes > 16 * MiB ? (below_4g_bytes - 16 * MiB) / (64 * KiB) : 0;
	uint64_t high = above_4g_bytes / (64 * KiB);
	unsigned sum = 0;

	/* Base memory in KiB, then extended memory in KiB (both the POST and the CMOS copy) */
	cmos_put16(rtc, 0x15, below_4g_bytes >= 640 * KiB ? 640 : below_4g_bytes / KiB);
	cmos_put16(rtc, 0x17, above_1m);
	cmos_put16(rtc, 0x30, above_1m);
	/* 64 KiB blocks above 16 MiB and above 4 GiB, as SeaBIOS and QEMU lay them out */
	cmos_put16(rtc, 0x34, above_16m);
	if (high > 0xffffff)
		high = 0xffffff;
	rtc->cmos[0x5b] = (uint8_t)high;
	rtc->cmos[0x5c] = (uint8_t)(high >> 8);
	rtc->cmos[0x5d] = (uint8_t)(high >> 16);
	/* Standard checksum of 0x10-0x2d, big-endian at 0x2e */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rtc->cmos[i];
	rtc->cmos[0x2e] = (uint8_t)(sum >> 8);
	rtc->cmos[0x2f] = (uint8_t)sum;
}
