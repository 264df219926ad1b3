/* Host tests for the virtual MC146818: calendar arithmetic, formats, SET, UIP, flags and IRQ 8, CMOS sizes. */
#include "tests/unit/test.h"
#include "drivers/virt/vrtc.h"

TEST_MAIN_GLOBALS;

#define HZ 1000000000ull

static uint8_t rd(struct vrtc *r, uint8_t index, uint64_t now)
{
	vrtc_write(r, 0x70, index, now);
	return vrtc_read(r, 0x71, now);
}

static void wr(struct vrtc *r, uint8_t index, uint8_t value, uint64_t now)
{
	vrtc_write(r, 0x70, index, now);
	vrtc_write(r, 0x71, value, now);
}

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static uint64_t unix_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	return vrtc_date_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static void test_calendar(void)
{
	unsigned y = 1970, m = 1, d = 1;

	CHECK_EQ(vrtc_date_to_days(1970, 1, 1), 0);
	CHECK_EQ(vrtc_date_to_days(2000, 1, 1), 10957);
	CHECK_EQ(vrtc_date_to_days(2000, 2, 29), 11016);
	CHECK_EQ(vrtc_date_to_days(2000, 3, 1), 11017);
	CHECK_EQ(vrtc_date_to_days(2038, 1, 19), 24855);
	CHECK_EQ(vrtc_date_to_days(2100, 2, 28) + 1, vrtc_date_to_days(2100, 3, 1));
	CHECK_EQ(vrtc_date_to_days(2100, 1, 1), 47482);
	CHECK_EQ(unix_time(2001, 9, 9, 1, 46, 40), 1000000000);
	/* Walk every day to 2199 against a day-by-day calendar with its own leap rule */
	for (uint64_t days = 0; days < vrtc_date_to_days(2200, 1, 1); days++) {
		unsigned yy, mm, dd;

		vrtc_days_to_date(days, &yy, &mm, &dd);
		if (yy != y || mm != m || dd != d) {
			CHECK_EQ(yy * 10000 + mm * 100 + dd, y * 10000 + m * 100 + d);
			break;
		}
		CHECK_EQ(vrtc_date_to_days(y, m, d), days);
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	vrtc_days_to_date(vrtc_date_to_days(2000, 2, 29), &y, &m, &d);
	CHECK_EQ(y * 10000 + m * 100 + d, 20000229);
	vrtc_days_to_date(vrtc_date_to_days(2100, 2, 28) + 1, &y, &m, &d);
	CHECK_EQ(y * 10000 + m * 100 + d, 21000301);
}

static void test_read_time_bcd(void)
{
	struct vrtc r;
	uint64_t base = 5000;

	vrtc_init(&r, unix_time(2024, 2, 29, 23, 59, 58), base, HZ);
	CHECK_EQ(rd(&r, 0x0a, base), 0x26);
	CHECK_EQ(rd(&r, 0x0b, base), 0x02);
	CHECK_EQ(rd(&r, 0x0d, base), 0x80);
	CHECK_EQ(rd(&r, 0x00, base), 0x58);
	CHECK_EQ(rd(&r, 0x02, base), 0x59);
	CHECK_EQ(rd(&r, 0x04, base), 0x23);
	CHECK_EQ(rd(&r, 0x06, base), 0x05); /* Thursday */
	CHECK_EQ(rd(&r, 0x07, base), 0x29);
	CHECK_EQ(rd(&r, 0x08, base), 0x02);
	CHECK_EQ(rd(&r, 0x09, base), 0x24);
	CHECK_EQ(rd(&r, 0x32, base), 0x20);
	/* Two seconds on: the first of March, a Friday */
	CHECK_EQ(rd(&r, 0x00, base + 2 * HZ), 0x00);
	CHECK_EQ(rd(&r, 0x02, base + 2 * HZ), 0x00);
	CHECK_EQ(rd(&r, 0x04, base + 2 * HZ), 0x00);
	CHECK_EQ(rd(&r, 0x06, base + 2 * HZ), 0x06);
	CHECK_EQ(rd(&r, 0x07, base + 2 * HZ), 0x01);
	CHECK_EQ(rd(&r, 0x08, base + 2 * HZ), 0x03);
	CHECK_EQ(rd(&r, 0x00, base + 2 * HZ - 1), 0x59);
	CHECK_EQ(vrtc_guest_time(&r, base + 2 * HZ), unix_time(2024, 3, 1, 0, 0, 0));
	/* Before the base the clock reads the base */
	CHECK_EQ(rd(&r, 0x00, 0), 0x58);
	/* Century rollover */
	vrtc_init(&r, unix_time(2099, 12, 31, 23, 59, 59), 0, HZ);
	CHECK_EQ(rd(&r, 0x09, HZ), 0x00);
	CHECK_EQ(rd(&r, 0x32, HZ), 0x21);
	CHECK_EQ(rd(&r, 0x08, HZ), 0x01);
	CHECK_EQ(rd(&r, 0x06, HZ), 0x06); /* 2100-01-01 was a Friday */
}

static void test_formats(void)
{
	struct vrtc r;

	vrtc_init(&r, unix_time(2023, 11, 5, 0, 7, 9), 0, HZ);
	/* Binary, 12-hour: midnight is 12 AM */
	wr(&r, 0x0b, 0x04, 0);
	CHECK_EQ(rd(&r, 0x04, 0), 12);
	CHECK_EQ(rd(&r, 0x02, 0), 7);
	CHECK_EQ(rd(&r, 0x09, 0), 23);
	CHECK_EQ(rd(&r, 0x06, 0), 1); /* Sunday */
	/* 13:07 is 1 PM */
	CHECK_EQ(rd(&r, 0x04, 13 * 3600 * HZ), 0x81);
	CHECK_EQ(rd(&r, 0x04, 12 * 3600 * HZ), 0x8c);
	/* BCD, 12-hour */
	wr(&r, 0x0b, 0x00, 0);
	CHECK_EQ(rd(&r, 0x04, 0), 0x12);
	CHECK_EQ(rd(&r, 0x04, 23 * 3600 * HZ), 0x91);
	/* Binary, 24-hour */
	wr(&r, 0x0b, 0x06, 0);
	CHECK_EQ(rd(&r, 0x04, 23 * 3600 * HZ), 23);
	CHECK_EQ(rd(&r, 0x00, 0), 9);
	CHECK_EQ(rd(&r, 0x32, 0), 20);
}

static void test_set_moves_guest_clock_only(void)
{
	struct vrtc r;
	uint64_t base_time = unix_time(2020, 1, 1, 0, 0, 0);

	vrtc_init(&r, base_time, 0, HZ);
	/* Linux's mc146818_set_time: SET, write BCD fields, restore B */
	wr(&r, 0x0b, 0x82, 3 * HZ);
	CHECK_EQ(rd(&r, 0x00, 50 * HZ), 0x03); /* frozen */
	wr(&r, 0x00, 0x56, 50 * HZ);
	wr(&r, 0x02, 0x34, 50 * HZ);
	wr(&r, 0x04, 0x12, 50 * HZ);
	wr(&r, 0x07, 0x15, 50 * HZ);
	wr(&r, 0x08, 0x06, 50 * HZ);
	wr(&r, 0x09, 0x30, 50 * HZ);
	wr(&r, 0x32, 0x20, 50 * HZ);
	CHECK_EQ(rd(&r, 0x02, 60 * HZ), 0x34);
	wr(&r, 0x0b, 0x02, 100 * HZ);
	CHECK_EQ(vrtc_guest_time(&r, 100 * HZ), unix_time(2030, 6, 15, 12, 34, 56));
	CHECK_EQ(rd(&r, 0x00, 110 * HZ), 0x06);
	CHECK_EQ(rd(&r, 0x02, 110 * HZ), 0x35);
	CHECK_EQ(rd(&r, 0x06, 110 * HZ), 0x07); /* 2030-06-15 is a Saturday */
	/* The host-based clock is untouched: only the offset moved */
	CHECK_EQ(r.unix_at_base, base_time);
	CHECK_EQ((uint64_t)r.offset, unix_time(2030, 6, 15, 12, 34, 56) - (base_time + 100));
	/* A time byte written without SET moves the clock at once */
	wr(&r, 0x02, 0x40, 110 * HZ);
	CHECK_EQ(vrtc_guest_time(&r, 110 * HZ), unix_time(2030, 6, 15, 12, 40, 6));
	/* Going back before the base works too */
	wr(&r, 0x0b, 0x86, 0);
	wr(&r, 0x09, 99, 0);
	wr(&r, 0x32, 19, 0);
	wr(&r, 0x0b, 0x06, 200 * HZ);
	CHECK_EQ(rd(&r, 0x09, 200 * HZ), 99);
	CHECK_EQ(rd(&r, 0x32, 200 * HZ), 19);
	/* Garbage fields are clamped into a valid date */
	wr(&r, 0x0b, 0x86, 0);
	wr(&r, 0x08, 0x7f, 0);
	wr(&r, 0x00, 0xff, 0);
	wr(&r, 0x0b, 0x06, 0);
	CHECK_EQ(rd(&r, 0x08, 0), 12);
	CHECK(rd(&r, 0x00, 0) < 60);
	/* Alarm bytes and plain CMOS are memory */
	wr(&r, 0x01, 0xc5, 0);
	CHECK_EQ(rd(&r, 0x01, 5 * HZ), 0xc5);
	wr(&r, 0x40, 0xa5, 0);
	CHECK_EQ(rd(&r, 0x40, 0), 0xa5);
	wr(&r, 0x7f, 0x5a, 0);
	CHECK_EQ(rd(&r, 0xff, 0), 0x5a); /* bit 7 of the index (NMI mask) is ignored */
	CHECK_EQ(vrtc_read(&r, 0x70, 0), 0xff);
	CHECK_EQ(vrtc_read(&r, 0x72, 0), 0xff);
}

static void test_registers_a_to_d(void)
{
	struct vrtc r;

	vrtc_init(&r, 1000000000, 0, HZ);
	/* UIP in the last 244 us of each second only */
	CHECK_EQ(rd(&r, 0x0a, HZ / 2) & 0x80, 0);
	CHECK_EQ(rd(&r, 0x0a, 2 * HZ - 1) & 0x80, 0x80);
	CHECK_EQ(rd(&r, 0x0a, 2 * HZ - 244000) & 0x80, 0x80);
	CHECK_EQ(rd(&r, 0x0a, 2 * HZ - 244001) & 0x80, 0);
	CHECK_EQ(rd(&r, 0x0a, 2 * HZ) & 0x80, 0);
	/* Not while SET holds updates */
	wr(&r, 0x0b, 0x82, 0);
	CHECK_EQ(rd(&r, 0x0a, 2 * HZ - 1) & 0x80, 0);
	wr(&r, 0x0b, 0x02, 0);
	/* UIP is read-only; D is fixed; C cannot be written */
	wr(&r, 0x0a, 0xa6, 0);
	CHECK_EQ(rd(&r, 0x0a, 0), 0x26);
	wr(&r, 0x0d, 0x00, 0);
	CHECK_EQ(rd(&r, 0x0d, 0), 0x80);
	wr(&r, 0x0c, 0xff, 0);
	CHECK_EQ(rd(&r, 0x0c, 0), 0x00);
	/* Setting SET clears UIE */
	wr(&r, 0x0b, 0x92, 0);
	CHECK_EQ(rd(&r, 0x0b, 0), 0x82);
	wr(&r, 0x0b, 0x12, 0);
	CHECK_EQ(rd(&r, 0x0b, 0), 0x12);
}

static void test_update_and_periodic_flags(void)
{
	struct vrtc r;
	uint64_t next;

	vrtc_init(&r, 1000000000, 100, HZ);
	/* Flags are set whether enabled or not; IRQF only for enabled ones */
	/* (PF follows the default rate 6 whether enabled or not) */
	CHECK_EQ(rd(&r, 0x0c, 100 + HZ - 1), 0x40);
	CHECK_EQ(rd(&r, 0x0c, 100 + HZ), 0x50);
	CHECK_EQ(rd(&r, 0x0c, 100 + HZ), 0x00); /* cleared by the read */
	CHECK(!vrtc_irq(&r, 100 + 5 * HZ));
	CHECK_EQ(vrtc_next_event(&r), UINT64_MAX);
	/* Update-ended interrupt */
	rd(&r, 0x0c, 100 + 5 * HZ);
	wr(&r, 0x0b, 0x12, 100 + 5 * HZ);
	next = vrtc_next_event(&r);
	CHECK_EQ(next, 100 + 6 * HZ);
	CHECK(!vrtc_irq(&r, next - 1));
	CHECK(vrtc_irq(&r, next));
	CHECK_EQ(vrtc_next_event(&r), UINT64_MAX); /* the line stays up until C is read */
	CHECK(vrtc_irq(&r, next + 10));
	CHECK_EQ(rd(&r, 0x0c, next + 10), 0xd0);
	CHECK(!vrtc_irq(&r, next + 10));
	/* SET stops updates: no UF */
	wr(&r, 0x0b, 0x82, next + 10);
	CHECK_EQ(rd(&r, 0x0c, next + 3 * HZ), 0x40);
	wr(&r, 0x0b, 0x02, next + 3 * HZ);
	/* Periodic at rate 6: 1024 Hz, 976.5625 us */
	vrtc_init(&r, 1000000000, 0, HZ);
	wr(&r, 0x0a, 0x26, 0);
	wr(&r, 0x0b, 0x42, 0);
	next = vrtc_next_event(&r);
	CHECK_EQ(next, 976563);
	CHECK(!vrtc_irq(&r, next - 1));
	CHECK(vrtc_irq(&r, next));
	CHECK_EQ(rd(&r, 0x0c, next), 0xc0);
	CHECK_EQ(vrtc_next_event(&r), 1953125);
	/* Rate 0 turns it off; rates 1 and 2 are 3.90625 ms and 7.8125 ms */
	wr(&r, 0x0a, 0x20, 2 * HZ);
	rd(&r, 0x0c, 2 * HZ);
	CHECK_EQ(vrtc_next_event(&r), UINT64_MAX);
	CHECK_EQ(rd(&r, 0x0c, 3 * HZ) & 0x40, 0);
	wr(&r, 0x0a, 0x21, 3 * HZ);
	CHECK_EQ(vrtc_next_event(&r) - 3 * HZ, 3906250);
	wr(&r, 0x0a, 0x22, 3 * HZ);
	CHECK_EQ(vrtc_next_event(&r) - 3 * HZ, 7812500);
	wr(&r, 0x0a, 0x2f, 3 * HZ);
	CHECK_EQ(vrtc_next_event(&r) - 3 * HZ, 500000000);
	/* A divider held in reset stops updates */
	wr(&r, 0x0a, 0x70, 3 * HZ);
	wr(&r, 0x0b, 0x12, 3 * HZ);
	rd(&r, 0x0c, 3 * HZ);
	CHECK(!vrtc_irq(&r, 9 * HZ));
	CHECK_EQ(vrtc_next_event(&r), UINT64_MAX);
	/* Released: no burst for the seconds it was held */
	wr(&r, 0x0a, 0x26, 10 * HZ);
	CHECK(!vrtc_irq(&r, 10 * HZ + 5));
	CHECK(vrtc_irq(&r, 11 * HZ));
}

static void test_alarm(void)
{
	struct vrtc r;
	uint64_t t0 = unix_time(2024, 5, 1, 10, 0, 0);

	vrtc_init(&r, t0, 0, HZ);
	/* 10:00:30 exactly, AIE */
	wr(&r, 0x01, 0x30, 0);
	wr(&r, 0x03, 0x00, 0);
	wr(&r, 0x05, 0x10, 0);
	wr(&r, 0x0b, 0x22, 0);
	CHECK(!vrtc_irq(&r, 29 * HZ));
	CHECK_EQ(rd(&r, 0x0c, 29 * HZ), 0x50);
	CHECK(vrtc_irq(&r, 30 * HZ));
	CHECK_EQ(rd(&r, 0x0c, 30 * HZ), 0xf0);
	CHECK(!vrtc_irq(&r, 31 * HZ));
	/* Skipped over in one gap: still seen */
	CHECK(vrtc_irq(&r, 3600 * HZ + 31 * HZ) == false);
	rd(&r, 0x0c, 3600 * HZ + 31 * HZ);
	CHECK(vrtc_irq(&r, 86400 * HZ + 40 * HZ));
	rd(&r, 0x0c, 86400 * HZ + 40 * HZ);
	/* Don't-care seconds: every second of 10:01 matches */
	wr(&r, 0x01, 0xff, 0);
	wr(&r, 0x03, 0x01, 0);
	rd(&r, 0x0c, 2 * 86400 * HZ + 30 * HZ); /* a whole day went by: day 1's 10:01 matched */
	CHECK(!vrtc_irq(&r, 2 * 86400 * HZ + 40 * HZ));
	CHECK(vrtc_irq(&r, 2 * 86400 * HZ + 61 * HZ));
	rd(&r, 0x0c, 2 * 86400 * HZ + 61 * HZ);
	CHECK(vrtc_irq(&r, 2 * 86400 * HZ + 62 * HZ));
	rd(&r, 0x0c, 2 * 86400 * HZ + 62 * HZ);
	/* Across midnight: hour 0 matches after 23:59:59 */
	wr(&r, 0x05, 0x00, 0);
	wr(&r, 0x03, 0xc0, 0);
	wr(&r, 0x01, 0x05, 0);
	CHECK(!vrtc_irq(&r, 3 * 86400 * HZ - 10 * 3600 * HZ - HZ));
	CHECK(vrtc_irq(&r, 3 * 86400 * HZ - 10 * 3600 * HZ + 7 * HZ));
	rd(&r, 0x0c, 3 * 86400 * HZ - 10 * 3600 * HZ + 7 * HZ);
	/* An impossible alarm never matches, even over days */
	wr(&r, 0x01, 0x61, 0);
	CHECK(!vrtc_irq(&r, 9 * 86400 * HZ));
	/* The alarm follows the guest's clock, not the host's */
	vrtc_init(&r, t0, 0, HZ);
	wr(&r, 0x0b, 0xa2, 0);
	wr(&r, 0x04, 0x09, 0);
	wr(&r, 0x0b, 0x22, 0);
	wr(&r, 0x05, 0x09, 0);
	wr(&r, 0x03, 0x00, 0);
	wr(&r, 0x01, 0x10, 0);
	CHECK(!vrtc_irq(&r, 9 * HZ));
	CHECK(vrtc_irq(&r, 10 * HZ));
}

static void test_memory_sizes(void)
{
	struct vrtc r;
	unsigned sum = 0;

	vrtc_init(&r, 0, 0, HZ);
	vrtc_set_memory(&r, 256ull << 20, 1ull << 30);
	CHECK_EQ(rd(&r, 0x15, 0) | rd(&r, 0x16, 0) << 8, 640);
	CHECK_EQ(rd(&r, 0x17, 0) | rd(&r, 0x18, 0) << 8, 0xffff);
	CHECK_EQ(rd(&r, 0x30, 0) | rd(&r, 0x31, 0) << 8, 0xffff);
	CHECK_EQ(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 3840);
	CHECK_EQ(rd(&r, 0x5b, 0) | rd(&r, 0x5c, 0) << 8 | rd(&r, 0x5d, 0) << 16, 16384);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rd(&r, (uint8_t)i, 0);
	CHECK_EQ(rd(&r, 0x2e, 0) << 8 | rd(&r, 0x2f, 0), sum);
	CHECK(sum != 0);
	/* Small guest: 16 MiB */
	vrtc_set_memory(&r, 16ull << 20, 0);
	CHECK_EQ(rd(&r, 0x17, 0) | rd(&r, 0x18, 0) << 8, 15 * 1024);
	CHECK_EQ(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 0);
	CHECK_EQ(rd(&r, 0x5b, 0) | rd(&r, 0x5c, 0) << 8 | rd(&r, 0x5d, 0) << 16, 0);
	/* 3.5 GiB below 4 GiB and a huge amount above: capped */
	vrtc_set_memory(&r, 0xe0000000ull, 1ull << 50);
	CHECK_EQ(rd(&r, 0x34, 0) | rd(&r, 0x35, 0) << 8, 0xdf00);
	CHECK_EQ(rd(&r, 0x5b, 0) | rd(&r, 0x5c, 0) << 8 | rd(&r, 0x5d, 0) << 16, 0xffffff);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_fuzz(void)
{
	struct vrtc r;
	uint64_t seed = 0x0123456789abcdefull, now = 0;
	unsigned irqs = 0, uf = 0, pf = 0, af = 0;

	vrtc_init(&r, 1700000000, 0, 2000000000ull);
	for (unsigned i = 0; i < 300000; i++) {
		uint64_t x = xorshift(&seed);
		uint16_t port = (x & 0x10) ? 0x71 : (x & 0x20) ? 0x70 : 0x72;
		uint64_t next;
		uint8_t index;

		now += (x >> 44) % 3000000;
		if (((x >> 8) & 0xff) == 0)
			now += (x >> 24) & 0xfffffffffull;
		if (x & 1)
			vrtc_write(&r, port, (uint8_t)(x >> 32), now);
		else
			(void)vrtc_read(&r, port, now);
		irqs += vrtc_irq(&r, now);
		uf += !!(r.reg_c & 0x10);
		pf += !!(r.reg_c & 0x40);
		af += !!(r.reg_c & 0x20);
		next = vrtc_next_event(&r);
		/* With IRQ 8 down, no enabled flag is due before the announced event */
		CHECK((r.reg_c & 0x80) || next > now);
		CHECK_EQ(r.cmos[VRTC_REG_A] & 0x80, 0);
		CHECK(r.index < 128);
		index = r.index;
		CHECK_EQ(rd(&r, 0x0d, now), 0x80);
		if (!(r.cmos[VRTC_REG_B] & 0x80) && (r.cmos[VRTC_REG_B] & 0x04)) {
			uint8_t sec = rd(&r, 0x00, now), month = rd(&r, 0x08, now);

			CHECK(sec < 60);
			CHECK(month >= 1 && month <= 12);
		}
		vrtc_write(&r, 0x70, index, now);
	}
	CHECK(irqs > 1000 && uf > 1000 && pf > 1000 && af > 100);
}

int main(void)
{
	RUN_TEST(test_calendar);
	RUN_TEST(test_read_time_bcd);
	RUN_TEST(test_formats);
	RUN_TEST(test_set_moves_guest_clock_only);
	RUN_TEST(test_registers_a_to_d);
	RUN_TEST(test_update_and_periodic_flags);
	RUN_TEST(test_alarm);
	RUN_TEST(test_memory_sizes);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
