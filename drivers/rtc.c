/* The host's MC146818 RTC: one consistent read of the date and time, for the guests' clocks. */
#include "drivers/rtc.h"
#include "drivers/virt/vrtc.h"
#include "kernel/x86.h"

#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define RTC_UIP 0x80   /* register A: an update is in progress */
#define RTC_BINARY 0x04 /* register B: values in binary, not BCD */
#define RTC_24H 0x02
#define RTC_CENTURY 0x32
#define RTC_TRIES 100000

static uint8_t cmos_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (unsigned)((v >> 4) * 10 + (v & 0xf));
}

static bool same(const uint8_t *a, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

uint64_t rtc_read_unix_time(void)
{
	uint8_t t[7], again[7], b;
	unsigned tries = 0, year, hour;
	bool binary;

	/* Read twice outside an update until both reads agree, as the datasheet suggests. */
	do {
		while ((cmos_read(0x0a) & RTC_UIP) && ++tries < RTC_TRIES)
			;
		for (unsigned i = 0; i < 6; i++)
			t[i] = cmos_read((uint8_t)(i < 3 ? i * 2 : i + 4));
		t[6] = cmos_read(RTC_CENTURY);
		for (unsigned i = 0; i < 6; i++)
			again[i] = cmos_read((uint8_t)(i < 3 ? i * 2 : i + 4));
		again[6] = cmos_read(RTC_CENTURY);
	} while (!same(t, again, sizeof(t)) && ++tries < RTC_TRIES);
	if (tries >= RTC_TRIES)
		return 0;
	b = cmos_read(0x0b);
	binary = b & RTC_BINARY;
	/* t: seconds, minutes, hours, day, month, year, century */
	hour = bcd(t[2] & 0x7f, binary);
	if (!(b & RTC_24H) && (t[2] & 0x80))
		hour = (hour % 12) + 12;
	year = bcd(t[5], binary) + (t[6] ? bcd(t[6], binary) * 100 : 2000);
	if (bcd(t[4], binary) < 1 || bcd(t[4], binary) > 12 || year < 1970)
		return 0;
	return vrtc_date_to_days(year, bcd(t[4], binary), bcd(t[3], binary)) * 86400ull +
	       hour * 3600ull + bcd(t[1], binary) * 60ull + bcd(t[0], binary);
}
