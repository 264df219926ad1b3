/* Host tests for the virtual 8254: Linux's TSC calibration, modes 0-5, access modes, latch, read-back, IRQ 0. */
#include "tests/unit/test.h"
#include "drivers/virt/vpit.h"

TEST_MAIN_GLOBALS;

#define TSC_HZ 2500000000ull

/* TSC at which `ticks` PIT ticks have passed since `t0` */
static uint64_t at(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * TSC_HZ + VPIT_HZ - 1) / VPIT_HZ;
}

static uint16_t read_word(struct vpit *p, uint16_t port, uint64_t now)
{
	uint8_t lo = vpit_read(p, port, now);

	return (uint16_t)(lo | vpit_read(p, port, now) << 8);
}

static void test_reset_and_port_b(void)
{
	struct vpit p;
	uint8_t a, b;

	vpit_init(&p, TSC_HZ);
	CHECK_EQ(vpit_read(&p, 0x43, 0), 0xff);
	CHECK_EQ(vpit_read(&p, 0x44, 0), 0xff);
	CHECK_EQ(vpit_read(&p, 0x60, 0), 0xff);
	vpit_write(&p, 0x44, 0x12, 0);
	CHECK_EQ(vpit_poll_irq0(&p, 1000000000), 0);
	CHECK_EQ(vpit_next_event(&p), UINT64_MAX);
	CHECK(!vpit_out(&p, 0, 0));
	CHECK(!vpit_out(&p, 3, 0));
	/* Port 0x61: gate and speaker read back, refresh toggles, OUT2 low while idle in mode 0 */
	a = vpit_read(&p, 0x61, 0);
	b = vpit_read(&p, 0x61, 0);
	CHECK_EQ((a ^ b) & 0x10, 0x10);
	CHECK_EQ(a & 0xef, 0);
	vpit_write(&p, 0x61, 0xff, 0);
	CHECK_EQ(vpit_read(&p, 0x61, 0) & 0xef, 0x0f);
	vpit_write(&p, 0x61, 0x02, 0);
	CHECK_EQ(vpit_read(&p, 0x61, 0) & 0xef, 0x02);
	CHECK(!p.ch[2].gate);
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): gate high, speaker off, channel 2 mode 0, 50 ms latch, poll bit 5 */
static uint64_t linux_calibrate(uint64_t tsc_hz, uint64_t start, uint64_t step, unsigned *loops)
{
	struct vpit p;
	uint32_t latch = VPIT_HZ / (1000 / 50);
	uint64_t now = start, t1;

	vpit_init(&p, tsc_hz);
	vpit_write(&p, 0x61, (uint8_t)((vpit_read(&p, 0x61, now) & ~0x02) | 0x01), now);
	vpit_write(&p, 0x43, 0xb0, now);
	vpit_write(&p, 0x42, latch & 0xff, now);
	vpit_write(&p, 0x42, (uint8_t)(latch >> 8), now);
	t1 = now;
	*loops = 0;
	while ((vpit_read(&p, 0x61, now) & 0x20) == 0 && *loops < 100000000) {
		now += step;
		(*loops)++;
	}
	return now - t1;
}

static void test_linux_calibration(void)
{
	static const uint64_t rates[] = { 2500000000ull, 3500000000ull, 1000000000ull, 100000000ull };
	unsigned loops;

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t hz = rates[i], step = 997;
		uint64_t delta = linux_calibrate(hz, 123456789, step, &loops);
		/* The TSC rate Linux derives: delta * PIT_HZ / latch, within one polling step */
		uint64_t expect = (59659ull * hz + VPIT_HZ - 1) / VPIT_HZ;

		CHECK(delta >= expect);
		CHECK(delta < expect + step);
		CHECK(loops > 1000);
		CHECK_EQ(delta * VPIT_HZ / 59659 / 1000000, hz / 1000000);
	}
}

/* quick_pit_calibrate(): mode 0, count 0xffff, reading LSB then MSB; the MSB falls every 256 ticks */
static void test_quick_calibrate_msb(void)
{
	struct vpit p;
	uint64_t t0 = 5000;

	vpit_init(&p, TSC_HZ);
	vpit_write(&p, 0x61, 0x01, t0);
	vpit_write(&p, 0x43, 0xb0, t0);
	vpit_write(&p, 0x42, 0xff, t0);
	vpit_write(&p, 0x42, 0xff, t0);
	CHECK_EQ(read_word(&p, 0x42, t0), 0xffff);
	for (unsigned k = 1; k < 200; k++) {
		uint16_t v = read_word(&p, 0x42, at(t0, 256 * k));

		CHECK_EQ(v >> 8, 0xff - k);
		CHECK_EQ(v & 0xff, 0xff);
		CHECK_EQ(read_word(&p, 0x42, at(t0, 256 * k) - 1), 0xffff - 256 * k + 1);
	}
}

/* Linux's periodic PIT: 0x34 (channel 0, word, mode 2), LATCH = 1193 for HZ=1000 */
static void test_mode2_periodic_irq0(void)
{
	struct vpit p;
	uint64_t t0 = 777, total = 0, next;

	vpit_init(&p, TSC_HZ);
	vpit_write(&p, 0x43, 0x34, t0);
	vpit_write(&p, 0x40, 1193 & 0xff, t0);
	vpit_write(&p, 0x40, 1193 >> 8, t0);
	CHECK(vpit_out(&p, 0, t0));
	next = vpit_next_event(&p);
	CHECK_EQ(next, at(t0, 1193));
	CHECK_EQ(vpit_poll_irq0(&p, next - 1), 0);
	CHECK_EQ(vpit_poll_irq0(&p, next), 1);
	CHECK_EQ(vpit_next_event(&p), at(t0, 2 * 1193));
	/* One second: 1193182 / 1193 = 1000 edges */
	for (uint64_t now = next; now <= t0 + TSC_HZ; now += TSC_HZ / 333)
		total += vpit_poll_irq0(&p, now);
	total += vpit_poll_irq0(&p, t0 + TSC_HZ);
	CHECK_EQ(total + 1, 1000);
	/* OUT low for the single clock at count 1 */
	CHECK(!vpit_out(&p, 0, at(t0, 1192)));
	CHECK(vpit_out(&p, 0, at(t0, 1191)));
	CHECK(vpit_out(&p, 0, at(t0, 1193)));
	/* Count reads N..1 */
	vpit_write(&p, 0x43, 0x00, at(t0, 1193 * 5 + 10));
	CHECK_EQ(read_word(&p, 0x40, at(t0, 1193 * 9)), 1193 - 10);
	CHECK_EQ(read_word(&p, 0x40, at(t0, 1193 * 9)), 1193);
	/* A missed stretch comes in one poll with the whole count */
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 1193 * 1050)), 50);
}

static void test_mode3_square(void)
{
	struct vpit p;
	uint64_t t0 = 0;

	vpit_init(&p, TSC_HZ);
	vpit_write(&p, 0x43, 0x36, t0);
	vpit_write(&p, 0x40, 100, t0);
	vpit_write(&p, 0x40, 0, t0);
	CHECK(vpit_out(&p, 0, at(t0, 0)));
	CHECK(vpit_out(&p, 0, at(t0, 49)));
	CHECK(!vpit_out(&p, 0, at(t0, 50)));
	CHECK(!vpit_out(&p, 0, at(t0, 99)));
	CHECK(vpit_out(&p, 0, at(t0, 100)));
	/* Counts down by two in each half */
	CHECK_EQ(read_word(&p, 0x40, at(t0, 10)), 80);
	CHECK_EQ(read_word(&p, 0x40, at(t0, 60)), 80);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 99)), 0);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 100)), 1);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 1050)), 9);
	CHECK_EQ(vpit_next_event(&p), at(t0, 1100));
	/* Count 0 means 65536: about 18.2 Hz */
	vpit_write(&p, 0x40, 0, at(t0, 2000));
	vpit_write(&p, 0x40, 0, at(t0, 2000));
	CHECK_EQ(p.ch[0].count, 0x10000);
	/* The ten edges before the new count are kept for the next poll */
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 2000)), 10);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 2000 + 65536 * 18)), 18);
	/* Odd count: high one clock longer */
	vpit_write(&p, 0x43, 0x36, 0);
	vpit_write(&p, 0x40, 5, 0);
	vpit_write(&p, 0x40, 0, 0);
	CHECK(vpit_out(&p, 0, at(0, 2)));
	CHECK(!vpit_out(&p, 0, at(0, 3)));
	CHECK(vpit_out(&p, 0, at(0, 5)));
}

static void test_mode0_and_mode4_oneshot(void)
{
	struct vpit p;
	uint64_t t0 = 1000;

	vpit_init(&p, TSC_HZ);
	/* Linux's PIT shutdown: mode 0 with count 0 */
	vpit_write(&p, 0x43, 0x30, t0);
	CHECK(!vpit_out(&p, 0, t0));
	vpit_write(&p, 0x40, 0x10, t0);
	/* The first byte alone does not start mode 0 */
	CHECK_EQ(vpit_next_event(&p), UINT64_MAX);
	vpit_write(&p, 0x40, 0x00, t0);
	CHECK_EQ(vpit_next_event(&p), at(t0, 16));
	CHECK(!vpit_out(&p, 0, at(t0, 15)));
	CHECK(vpit_out(&p, 0, at(t0, 16)));
	CHECK_EQ(read_word(&p, 0x40, at(t0, 15)), 1);
	/* Past terminal count the counter wraps and OUT stays high: one edge only */
	CHECK_EQ(read_word(&p, 0x40, at(t0, 17)), 0xffff);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 100000)), 1);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 900000)), 0);
	CHECK_EQ(vpit_next_event(&p), UINT64_MAX);
	/* Rewriting the first byte mid-count stops it and drives OUT low */
	vpit_write(&p, 0x40, 0x20, at(t0, 200000));
	CHECK(!vpit_out(&p, 0, at(t0, 300000)));
	vpit_write(&p, 0x40, 0x00, at(t0, 300000));
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 300031)), 0);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 300032)), 1);

	/* Linux's one-shot: 0x38, mode 4; OUT falls for one clock at terminal count, IRQ on its return */
	vpit_write(&p, 0x43, 0x38, t0);
	CHECK(vpit_out(&p, 0, t0));
	vpit_write(&p, 0x40, 50, t0);
	vpit_write(&p, 0x40, 0, t0);
	CHECK(vpit_out(&p, 0, at(t0, 49)));
	CHECK(!vpit_out(&p, 0, at(t0, 50)));
	CHECK(vpit_out(&p, 0, at(t0, 51)));
	CHECK_EQ(vpit_next_event(&p), at(t0, 51));
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 50)), 0);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 51)), 1);
	CHECK_EQ(vpit_next_event(&p), UINT64_MAX);
	CHECK_EQ(vpit_poll_irq0(&p, at(t0, 5000000)), 0);
}

static void test_access_modes_and_latch(void)
{
	struct vpit p;
	uint64_t t0 = 0;

	vpit_init(&p, TSC_HZ);
	/* LSB only, mode 2 on channel 1 */
	vpit_write(&p, 0x43, 0x54, t0);
	vpit_write(&p, 0x41, 200, t0);
	CHECK_EQ(p.ch[1].count, 200);
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 50)), 150);
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 51)), 149);
	/* MSB only */
	vpit_write(&p, 0x43, 0x64, t0);
	vpit_write(&p, 0x41, 0x12, t0);
	CHECK_EQ(p.ch[1].count, 0x1200);
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x100)), 0x11);
	/* Latch: the value holds while time passes, until read out */
	vpit_write(&p, 0x43, 0x74, t0);
	vpit_write(&p, 0x41, 0x34, t0);
	vpit_write(&p, 0x41, 0x12, t0);
	vpit_write(&p, 0x43, 0x40, at(t0, 0x10));
	vpit_write(&p, 0x43, 0x40, at(t0, 0x20)); /* ignored: already latched */
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x100)), 0x24);
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x200)), 0x12);
	CHECK_EQ(read_word(&p, 0x41, at(t0, 0x30)), 0x1234 - 0x30);
	/* A latch between the bytes of a live read: the latched count is read from its LSB */
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x31)), 0x03);
	vpit_write(&p, 0x43, 0x40, at(t0, 0x1000));
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x1100)), 0x34);
	CHECK_EQ(vpit_read(&p, 0x41, at(t0, 0x1100)), 0x02);
	CHECK_EQ(read_word(&p, 0x41, at(t0, 0x1100)), 0x0134);
	/* A control word drops an unread latch */
	vpit_write(&p, 0x43, 0x40, at(t0, 0x10));
	vpit_write(&p, 0x43, 0x74, at(t0, 0x10));
	CHECK(!p.ch[1].count_latched);
	/* Modes 6 and 7 are 2 and 3 */
	vpit_write(&p, 0x43, 0x7e, 0);
	CHECK_EQ(p.ch[1].mode, 3);
	vpit_write(&p, 0x43, 0x7c, 0);
	CHECK_EQ(p.ch[1].mode, 2);
	/* BCD is refused: counts stay binary and the status says binary */
	vpit_write(&p, 0x43, 0x75, 0);
	vpit_write(&p, 0x41, 0x00, 0);
	vpit_write(&p, 0x41, 0x01, 0);
	CHECK_EQ(p.ch[1].count, 0x100);
	vpit_write(&p, 0x43, 0xe4, 0);
	CHECK_EQ(vpit_read(&p, 0x41, 0) & 1, 0);
}

static void test_read_back(void)
{
	struct vpit p;

	vpit_init(&p, TSC_HZ);
	vpit_write(&p, 0x43, 0x34, 0);
	/* Status after the control word: OUT high (mode 2), null count, access 3, mode 2 */
	vpit_write(&p, 0x43, 0xe2, 0);
	CHECK_EQ(vpit_read(&p, 0x40, 0), 0xf4);
	vpit_write(&p, 0x40, 0x00, 0);
	vpit_write(&p, 0x40, 0x10, 0);
	/* Status and count of channels 0 and 2 at once; status first */
	vpit_write(&p, 0x43, 0xb0, 0);
	vpit_write(&p, 0x43, 0xca, at(0, 0x100));
	CHECK_EQ(vpit_read(&p, 0x40, at(0, 0x500)), 0xb4);
	CHECK_EQ(read_word(&p, 0x40, at(0, 0x500)), 0x0f00);
	CHECK_EQ(vpit_read(&p, 0x42, 0), 0x70); /* mode 0, null count, OUT low */
	CHECK_EQ(read_word(&p, 0x42, 0), 0x0000); /* never loaded: reads its count register (0x10000) */
	/* Count only (STATUS bit set), then status only */
	vpit_write(&p, 0x43, 0xd2, at(0, 0x200));
	CHECK_EQ(read_word(&p, 0x40, at(0, 0x900)), 0x0e00);
	vpit_write(&p, 0x43, 0xe2, at(0, 0x200));
	CHECK_EQ(vpit_read(&p, 0x40, 0), 0xb4);
	CHECK_EQ(read_word(&p, 0x40, at(0, 0x300)), 0x0d00);
	/* Latched status is kept until read; a second read-back does not overwrite it */
	vpit_write(&p, 0x43, 0xe2, at(0, 0x0fff));
	vpit_write(&p, 0x43, 0xe2, at(0, 0x1000));
	CHECK_EQ(vpit_read(&p, 0x40, 0), 0x34); /* OUT low at count 1 */
	CHECK_EQ(read_word(&p, 0x40, at(0, 0x1001)), 0x0fff);
}

static void test_gate(void)
{
	struct vpit p;
	uint64_t t0 = 0;

	vpit_init(&p, TSC_HZ);
	/* Mode 0 counts only while the gate is high */
	vpit_write(&p, 0x43, 0xb0, t0);
	vpit_write(&p, 0x42, 100, t0);
	vpit_write(&p, 0x42, 0, t0);
	CHECK_EQ(read_word(&p, 0x42, at(t0, 500)), 100);
	vpit_write(&p, 0x61, 0x01, at(t0, 500));
	CHECK_EQ(read_word(&p, 0x42, at(t0, 540)), 60);
	vpit_write(&p, 0x61, 0x00, at(t0, 540));
	CHECK_EQ(read_word(&p, 0x42, at(t0, 9000)), 60);
	CHECK_EQ(vpit_read(&p, 0x61, at(t0, 9000)) & 0x20, 0);
	vpit_write(&p, 0x61, 0x01, at(t0, 10000));
	CHECK_EQ(vpit_read(&p, 0x61, at(t0, 10059)) & 0x20, 0);
	CHECK_EQ(vpit_read(&p, 0x61, at(t0, 10060)) & 0x20, 0x20);
	/* Mode 1: a rising gate starts the one-shot; OUT low until terminal count */
	vpit_write(&p, 0x61, 0x00, t0);
	vpit_write(&p, 0x43, 0xb2, t0);
	vpit_write(&p, 0x42, 10, t0);
	vpit_write(&p, 0x42, 0, t0);
	CHECK(vpit_out(&p, 2, at(t0, 100)));
	vpit_write(&p, 0x61, 0x01, at(t0, 100));
	CHECK(!vpit_out(&p, 2, at(t0, 109)));
	CHECK(vpit_out(&p, 2, at(t0, 110)));
	/* Retriggered */
	vpit_write(&p, 0x61, 0x00, at(t0, 120));
	vpit_write(&p, 0x61, 0x01, at(t0, 130));
	CHECK(!vpit_out(&p, 2, at(t0, 135)));
	/* Mode 2: gate low forces OUT high and stops; rising reloads */
	vpit_write(&p, 0x43, 0xb4, t0);
	vpit_write(&p, 0x42, 10, t0);
	vpit_write(&p, 0x42, 0, t0);
	CHECK_EQ(read_word(&p, 0x42, at(t0, 7)), 3);
	vpit_write(&p, 0x61, 0x00, at(t0, 9));
	CHECK(vpit_out(&p, 2, at(t0, 9)));
	vpit_write(&p, 0x61, 0x01, at(t0, 50));
	CHECK_EQ(read_word(&p, 0x42, at(t0, 52)), 8);
	/* Mode 5: a strobe one clock after the count from the gate's rise */
	vpit_write(&p, 0x43, 0xba, t0);
	vpit_write(&p, 0x42, 4, t0);
	vpit_write(&p, 0x42, 0, t0);
	vpit_write(&p, 0x61, 0x00, t0);
	vpit_write(&p, 0x61, 0x01, at(t0, 10));
	CHECK(vpit_out(&p, 2, at(at(t0, 10), 3)));
	CHECK(!vpit_out(&p, 2, at(at(t0, 10), 4)));
	CHECK(vpit_out(&p, 2, at(at(t0, 10), 5)));
}

static void test_reprogram_keeps_edges(void)
{
	struct vpit p;

	vpit_init(&p, TSC_HZ);
	vpit_write(&p, 0x43, 0x34, 0);
	vpit_write(&p, 0x40, 100, 0);
	vpit_write(&p, 0x40, 0, 0);
	CHECK_EQ(vpit_poll_irq0(&p, at(0, 250)), 2);
	/* Three more edges happen, then the guest switches to one-shot before the poll */
	vpit_write(&p, 0x43, 0x38, at(0, 550));
	CHECK_EQ(vpit_next_event(&p), 0);
	CHECK_EQ(vpit_poll_irq0(&p, at(0, 560)), 3);
	CHECK_EQ(vpit_next_event(&p), UINT64_MAX);
	/* Channel 0's gate is wired high: port 0x61 does not touch it */
	vpit_write(&p, 0x61, 0x00, 0);
	CHECK(p.ch[0].gate);
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
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x44, 0x43, 0x40 };
	struct vpit p;
	uint64_t seed = 0xdeadbeefcafef00dull, now = 0, edges = 0;

	vpit_init(&p, 3000000000ull);
	for (unsigned i = 0; i < 300000; i++) {
		uint64_t r = xorshift(&seed);
		uint16_t port = ports[(r >> 8) % 8];
		uint64_t next;

		now += (r >> 40) % 5000;
		if ((r & 0xff) < 3)
			now += (r >> 20) & 0xffffffffull; /* long gaps now and then */
		if (r & 0x100)
			vpit_write(&p, port, (uint8_t)(r >> 16), now);
		else
			(void)vpit_read(&p, port, now);
		next = vpit_next_event(&p);
		edges += vpit_poll_irq0(&p, now);
		/* After a poll, the next event is in the future (or there is none) */
		CHECK(vpit_next_event(&p) == UINT64_MAX || vpit_next_event(&p) > now);
		(void)next;
		for (unsigned c = 0; c < 3; c++) {
			CHECK(p.ch[c].mode <= 5);
			CHECK(p.ch[c].access >= 1 && p.ch[c].access <= 3);
			CHECK(p.ch[c].count >= 1 && p.ch[c].count <= 0x10000);
		}
		CHECK(p.ch[0].gate && p.ch[1].gate);
	}
	CHECK(edges > 0);
}

int main(void)
{
	RUN_TEST(test_reset_and_port_b);
	RUN_TEST(test_linux_calibration);
	RUN_TEST(test_quick_calibrate_msb);
	RUN_TEST(test_mode2_periodic_irq0);
	RUN_TEST(test_mode3_square);
	RUN_TEST(test_mode0_and_mode4_oneshot);
	RUN_TEST(test_access_modes_and_latch);
	RUN_TEST(test_read_back);
	RUN_TEST(test_gate);
	RUN_TEST(test_reprogram_keeps_edges);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
