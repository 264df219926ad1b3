/* Host tests for the virtual ACPI PM block: PM1 status/enable/control, S5, the PM timer, 0xcf9 and the KBC. */
#include "tests/unit/test.h"
#include "drivers/virt/vpm.h"

TEST_MAIN_GLOBALS;

#define HZ 2000000000ull

static void test_ports(void)
{
	CHECK(vpm_handles(0x600));
	CHECK(vpm_handles(0x603));
	CHECK(vpm_handles(0x604));
	CHECK(vpm_handles(0x605));
	CHECK(!vpm_handles(0x606));
	CHECK(!vpm_handles(0x607));
	CHECK(vpm_handles(0x608));
	CHECK(vpm_handles(0x60b));
	CHECK(!vpm_handles(0x60c));
	CHECK(!vpm_handles(0x5ff));
	CHECK(vpm_handles(0xcf9));
	CHECK(!vpm_handles(0xcf8));
	CHECK(!vpm_handles(0xcfc));
	CHECK(vpm_handles(0x64));
	CHECK(!vpm_handles(0x60));
}

static void test_pm1_registers(void)
{
	struct vpm pm;

	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_read(&pm, 0x600, 2, 0), 0);
	CHECK_EQ(vpm_read(&pm, 0x602, 2, 0), 0);
	/* SCI_EN always reads 1; a guest cannot leave ACPI mode */
	CHECK_EQ(vpm_read(&pm, 0x604, 2, 0), 0x0001);
	vpm_write(&pm, 0x604, 2, 0x0000, 0);
	CHECK_EQ(vpm_read(&pm, 0x604, 2, 0), 0x0001);
	/* Enable: only defined bits stick; byte access to each half */
	vpm_write(&pm, 0x602, 2, 0xffff, 0);
	CHECK_EQ(vpm_read(&pm, 0x602, 2, 0), 0x0721);
	vpm_write(&pm, 0x603, 1, 0x00, 0);
	CHECK_EQ(vpm_read(&pm, 0x602, 2, 0), 0x0021);
	CHECK_EQ(vpm_read(&pm, 0x602, 1, 0), 0x21);
	/* 32-bit access of the whole event block: status low, enable high */
	vpm_power_button(&pm);
	CHECK_EQ(vpm_read(&pm, 0x600, 4, 0), 0x00210100);
	/* Status is write-1-to-clear, byte by byte */
	vpm_write(&pm, 0x600, 1, 0xff, 0);
	CHECK_EQ(vpm_read(&pm, 0x600, 2, 0), 0x0100);
	vpm_write(&pm, 0x601, 1, 0x01, 0);
	CHECK_EQ(vpm_read(&pm, 0x600, 2, 0), 0);
	/* Writing 0 clears nothing */
	vpm_power_button(&pm);
	vpm_write(&pm, 0x600, 2, 0x0000, 0);
	CHECK_EQ(vpm_read(&pm, 0x600, 2, 0), 0x0100);
	/* Control: SLP_TYP and BM_RLD stick, SLP_EN reads 0 */
	CHECK_EQ(vpm_write(&pm, 0x604, 2, 0x0c02, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_read(&pm, 0x604, 2, 0), 0x0c03);
	/* Bytes beyond a device read 0xff; other sizes act as 1 */
	CHECK_EQ(vpm_read(&pm, 0x604, 4, 0), 0xffff0c03);
	CHECK_EQ(vpm_read(&pm, 0x605, 3, 0), 0x0c);
	CHECK_EQ(vpm_read(&pm, 0x606, 1, 0), 0xff);
	CHECK_EQ(vpm_write(&pm, 0x606, 2, 0xffff, 0), VPLAT_EVENT_NONE);
}

/* Linux's acpi_hw_legacy_sleep(S5): clear WAK_STS, write SLP_TYP, then SLP_TYP | SLP_EN */
static void test_s5_poweroff(void)
{
	struct vpm pm;
	uint32_t cnt;

	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_write(&pm, 0x600, 2, 0x8000, 0), VPLAT_EVENT_NONE);
	cnt = vpm_read(&pm, 0x604, 2, 0) & ~(7u << 10 | 0x2000);
	cnt |= VPLAT_S5_SLP_TYP << 10;
	CHECK_EQ(vpm_write(&pm, 0x604, 2, cnt, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_write(&pm, 0x604, 2, cnt | 0x2000, 0), VPLAT_EVENT_POWEROFF);
	/* The same through the high byte alone */
	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_write(&pm, 0x605, 1, (VPLAT_S5_SLP_TYP << 2) | 0x20, 0), VPLAT_EVENT_POWEROFF);
	/* Other sleep types are refused: reported, and the guest wakes at once */
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == VPLAT_S5_SLP_TYP)
			continue;
		vpm_init(&pm, HZ, 0);
		CHECK_EQ(vpm_write(&pm, 0x604, 2, typ << 10 | 0x2000, 0), VPLAT_EVENT_SLEEP_IGNORED);
		CHECK_EQ(vpm_read(&pm, 0x600, 2, 0) & 0x8000, 0x8000);
		CHECK_EQ(pm.sleeps_ignored, 1);
	}
	/* SLP_TYP = S5 without SLP_EN does nothing */
	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_write(&pm, 0x604, 2, VPLAT_S5_SLP_TYP << 10, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_write(&pm, 0x604, 1, 0x01, 0), VPLAT_EVENT_NONE);
}

static void test_pm_timer(void)
{
	struct vpm pm;
	uint64_t base = 12345;

	vpm_init(&pm, HZ, base);
	CHECK_EQ(vpm_read(&pm, 0x608, 4, base), 0);
	CHECK_EQ(vpm_read(&pm, 0x608, 4, 0), 0);
	/* 3.579545 MHz: one second is 3579545 ticks */
	CHECK_EQ(vpm_read(&pm, 0x608, 4, base + HZ), 3579545);
	CHECK_EQ(vpm_read(&pm, 0x608, 4, base + HZ / 1000), 3579);
	/* Byte and word reads of the same counter */
	CHECK_EQ(vpm_read(&pm, 0x608, 1, base + HZ), 3579545 & 0xff);
	CHECK_EQ(vpm_read(&pm, 0x609, 2, base + HZ), (3579545 >> 8) & 0xffff);
	CHECK_EQ(vpm_read(&pm, 0x60b, 1, base + HZ), 0);
	/* 24 bits: wraps after 2^24 ticks, about 4.69 s */
	CHECK_EQ(vpm_read(&pm, 0x608, 4, base + 5 * HZ), (5ull * 3579545) & 0xffffff);
	/* Writes are ignored */
	vpm_write(&pm, 0x608, 4, 0x123456, base);
	CHECK_EQ(vpm_read(&pm, 0x608, 4, base + HZ), 3579545);
	/* Monotonic between wraps */
	for (uint64_t t = 0, last = 0; t < HZ; t += HZ / 1000 + 7) {
		uint32_t v = vpm_read(&pm, 0x608, 4, base + t);

		CHECK(v >= last);
		last = v;
	}
}

static void test_timer_status_and_sci(void)
{
	struct vpm pm;
	uint64_t next;

	vpm_init(&pm, HZ, 0);
	/* TMR_STS on each flip of bit 23, whether or not enabled */
	CHECK_EQ(vpm_next_event(&pm), UINT64_MAX);
	CHECK(!vpm_sci(&pm, 3 * HZ));
	CHECK_EQ(vpm_read(&pm, 0x600, 2, 3 * HZ) & 1, 1);
	vpm_write(&pm, 0x600, 2, 1, 3 * HZ);
	/* Enabled: SCI at the next flip */
	vpm_write(&pm, 0x602, 2, VPM_TMR_EN, 3 * HZ);
	next = vpm_next_event(&pm);
	CHECK_EQ(next, ((2ull << 23) * HZ + 3579545 - 1) / 3579545);
	CHECK(!vpm_sci(&pm, next - 1));
	CHECK(vpm_sci(&pm, next));
	CHECK_EQ(vpm_next_event(&pm), UINT64_MAX);
	vpm_write(&pm, 0x600, 2, VPM_TMR_STS, next);
	CHECK(!vpm_sci(&pm, next));
	/* Power button: SCI when enabled */
	vpm_power_button(&pm);
	CHECK(!vpm_sci(&pm, next));
	vpm_write(&pm, 0x602, 2, VPM_PWRBTN_EN, next);
	CHECK(vpm_sci(&pm, next));
	vpm_write(&pm, 0x600, 2, VPM_PWRBTN_STS, next);
	CHECK(!vpm_sci(&pm, next));
}

static void test_reset_register(void)
{
	struct vpm pm;

	vpm_init(&pm, HZ, 0);
	/* The FADT reset value */
	CHECK_EQ(vpm_write(&pm, VPLAT_RESET_PORT, 1, VPLAT_RESET_VALUE, 0), VPLAT_EVENT_REBOOT);
	/* Linux's reboot=pci: 0x02 (select hard reset) is no reset; 0x06 is */
	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_write(&pm, 0xcf9, 1, 0x02, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_read(&pm, 0xcf9, 1, 0), 0x02);
	CHECK_EQ(vpm_write(&pm, 0xcf9, 1, 0x06, 0), VPLAT_EVENT_REBOOT);
	CHECK_EQ(vpm_write(&pm, 0xcf9, 1, 0x0e, 0), VPLAT_EVENT_REBOOT);
	CHECK_EQ(vpm_write(&pm, 0xcf9, 1, 0x08, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_read(&pm, 0xcf9, 1, 0), 0x08);
	CHECK_EQ(vpm_write(&pm, 0xcf9, 1, 0x00, 0), VPLAT_EVENT_NONE);
}

/* Linux's reboot=kbd: wait for "input buffer empty", then 0xfe to port 0x64 */
static void test_kbc(void)
{
	struct vpm pm;

	vpm_init(&pm, HZ, 0);
	CHECK_EQ(vpm_read(&pm, 0x64, 1, 0) & 0x02, 0);
	CHECK_EQ(vpm_read(&pm, 0x64, 1, 0) & 0x01, 0);
	CHECK_EQ(vpm_read(&pm, 0x64, 1, 0), 0x14);
	CHECK_EQ(vpm_write(&pm, 0x64, 1, 0x20, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_write(&pm, 0x64, 1, 0xff, 0), VPLAT_EVENT_NONE);
	CHECK_EQ(vpm_write(&pm, 0x64, 1, 0xfe, 0), VPLAT_EVENT_REBOOT);
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
	static const unsigned sizes[] = { 1, 2, 4, 3 };
	struct vpm pm;
	uint64_t seed = 0xfeedfacecafebeefull, now = 0;
	unsigned events[4] = { 0 };

	vpm_init(&pm, HZ, 1000);
	for (unsigned i = 0; i < 300000; i++) {
		uint64_t r = xorshift(&seed);
		uint16_t port = (r & 0x100) ? (uint16_t)(0x5fe + (r >> 16) % 16) : (r & 0x200) ? 0xcf9 : 0x64;
		unsigned size = sizes[(r >> 10) & 3];
		uint32_t timer_before = vpm_read(&pm, 0x608, 4, now);

		now += (r >> 40) % 100000;
		if (r & 1) {
			enum vplat_event e = vpm_write(&pm, port, size, (uint32_t)(r >> 20), now);

			CHECK(e <= VPLAT_EVENT_SLEEP_IGNORED);
			events[e]++;
			/* Only S5 powers off */
			if (e == VPLAT_EVENT_POWEROFF)
				CHECK_EQ((pm.pm1_cnt >> 10) & 7, VPLAT_S5_SLP_TYP);
		} else {
			(void)vpm_read(&pm, port, size, now);
		}
		CHECK_EQ(vpm_read(&pm, 0x604, 2, now) & 0x2001, 0x0001);
		CHECK_EQ(pm.pm1_en & ~0x0721, 0);
		CHECK_EQ(vpm_read(&pm, 0x608, 4, now) >> 24, 0);
		/* The timer only moves forward (modulo 2^24) */
		CHECK(((vpm_read(&pm, 0x608, 4, now) - timer_before) & 0xffffff) < 0x800000);
		CHECK((pm.pm1_sts & pm.pm1_en) || vpm_next_event(&pm) == UINT64_MAX || vpm_next_event(&pm) > now);
	}
	CHECK(events[VPLAT_EVENT_POWEROFF] > 0);
	CHECK(events[VPLAT_EVENT_REBOOT] > 0);
	CHECK(events[VPLAT_EVENT_SLEEP_IGNORED] > 0);
}

int main(void)
{
	RUN_TEST(test_ports);
	RUN_TEST(test_pm1_registers);
	RUN_TEST(test_s5_poweroff);
	RUN_TEST(test_pm_timer);
	RUN_TEST(test_timer_status_and_sci);
	RUN_TEST(test_reset_register);
	RUN_TEST(test_kbc);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
