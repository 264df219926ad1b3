/* Host tests of a guest's virtual PC as a whole: the chipset wiring between the device models
 * (PIT -> I/O APIC pin 2 -> LAPIC, PIC -> LINT0 ExtINT, UART line, level EOIs), port, MMIO and
 * MSR routing, and the power events. */
#include "tests/unit/test.h"
#include "drivers/virt/vmachine.h"

TEST_MAIN_GLOBALS;

#define TSC_HZ 100000000ull /* 100 MHz: 100000 ticks a millisecond */
#define MS (TSC_HZ / 1000)

static struct vmachine m;

static void setup(void)
{
	vmachine_init(&m, 1, TSC_HZ, 25000000, 1700000000ull, 0, 64ull << 20, 0);
}

static void io_out(uint16_t port, uint32_t value, uint64_t now)
{
	enum vplat_event ev;

	CHECK(vmachine_io(&m, port, 1, false, &value, now, &ev));
}

static uint32_t io_in(uint16_t port, unsigned size, uint64_t now)
{
	enum vplat_event ev;
	uint32_t value = 0;

	CHECK(vmachine_io(&m, port, size, true, &value, now, &ev));
	return value;
}

static void mmio_write(uint64_t gpa, uint32_t value, uint64_t now)
{
	uint64_t v = value;

	CHECK(vmachine_mmio(&m, 0, gpa, 4, true, &v, now));
}

static uint32_t mmio_read(uint64_t gpa, uint64_t now)
{
	uint64_t v = 0;

	CHECK(vmachine_mmio(&m, 0, gpa, 4, false, &v, now));
	return (uint32_t)v;
}

/* Redirection entry pin: vector, edge/level, unmasked, physical destination 0. */
static void ioapic_route(unsigned pin, uint8_t vector, bool level)
{
	mmio_write(VPLAT_IOAPIC_BASE, 0x10 + 2 * pin, 0);
	mmio_write(VPLAT_IOAPIC_BASE + 0x10, vector | (level ? 1u << 15 : 0), 0);
	mmio_write(VPLAT_IOAPIC_BASE, 0x11 + 2 * pin, 0);
	mmio_write(VPLAT_IOAPIC_BASE + 0x10, 0, 0);
}

static void pit_periodic_1ms(uint64_t now)
{
	io_out(0x43, 0x34, now); /* channel 0, LSB then MSB, mode 2 */
	io_out(0x40, 1193 & 0xff, now);
	io_out(0x40, 1193 >> 8, now);
}

static void test_pit_through_ioapic_pin2(void)
{
	uint64_t t;

	setup();
	ioapic_route(2, 0x30, false);
	pit_periodic_1ms(0);
	vmachine_update(&m, MS / 2);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	t = vmachine_next_event(&m, 0);
	CHECK(t > 0 && t <= MS + MS / 100);
	vmachine_update(&m, MS + MS / 10);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x30);
	CHECK_EQ(vmachine_ack(&m, 0, 0x30, 0), 0x30);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	CHECK_EQ(m.pit_irqs, 1);
	/* In service until EOI: the next tick is pending but waits behind it (same class). */
	vmachine_update(&m, 2 * MS + MS / 10);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	mmio_write(VPLAT_LAPIC_BASE + VLAPIC_REG_EOI, 0, 2 * MS + MS / 10);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x30);
	/* Masked pin 0 of the I/O APIC is not where the PIT goes. */
	CHECK_EQ(vioapic_redir(&m.ioapic, 0) & 0xff, 0);
}

static void test_pic_virtual_wire(void)
{
	setup();
	/* Linux's init_8259A: ICW1-4 with vectors 0x30/0x38, then unmask IRQ 0. */
	io_out(0x20, 0x11, 0);
	io_out(0x21, 0x30, 0);
	io_out(0x21, 0x04, 0);
	io_out(0x21, 0x01, 0);
	io_out(0xa0, 0x11, 0);
	io_out(0xa1, 0x38, 0);
	io_out(0xa1, 0x02, 0);
	io_out(0xa1, 0x01, 0);
	io_out(0x21, 0xfe, 0);
	CHECK_EQ(io_in(0x21, 1, 0), 0xfe);
	pit_periodic_1ms(0);
	vmachine_update(&m, MS + MS / 10);
	/* The PIC's INTR reaches the CPU through LINT0 in ExtINT mode; INTA gives its vector. */
	CHECK_EQ(vmachine_pending_vector(&m, 0), 256);
	CHECK_EQ(vmachine_ack(&m, 0, 256, 0), 0x30);
	CHECK_EQ(m.extint_irqs, 1);
	io_out(0x20, 0x20, MS + MS / 10); /* EOI */
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
}

static void test_uart_level_line(void)
{
	setup();
	ioapic_route(4, 0x24, false);
	vmachine_set_isa_irq(&m, 4, true);
	vmachine_update(&m, 10);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x24);
	vmachine_ack(&m, 0, 0x24, 0);
	mmio_write(VPLAT_LAPIC_BASE + VLAPIC_REG_EOI, 0, 20);
	/* Edge pin: no second interrupt while the line stays high, one more after it drops and rises. */
	vmachine_update(&m, 30);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	vmachine_set_isa_irq(&m, 4, false);
	vmachine_set_isa_irq(&m, 4, true);
	vmachine_update(&m, 40);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x24);
}

static void test_level_eoi_returns_to_ioapic(void)
{
	setup();
	ioapic_route(10, 0x49, true); /* pin 9 is the SCI */
	vmachine_set_isa_irq(&m, 10, true);
	vmachine_update(&m, 10);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x49);
	vmachine_ack(&m, 0, 0x49, 0);
	CHECK(vioapic_redir(&m.ioapic, 10) & (1u << 14)); /* remote IRR */
	mmio_write(VPLAT_LAPIC_BASE + VLAPIC_REG_EOI, 0, 20);
	vmachine_update(&m, 30);
	/* Still asserted: delivered again after the EOI reached the I/O APIC. */
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0x49);
	vmachine_ack(&m, 0, 0x49, 0);
	vmachine_set_isa_irq(&m, 10, false);
	mmio_write(VPLAT_LAPIC_BASE + VLAPIC_REG_EOI, 0, 40);
	vmachine_update(&m, 50);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	CHECK_EQ(vioapic_redir(&m.ioapic, 10) & (1u << 14), 0);
}

static void test_msrs_and_tsc_deadline(void)
{
	uint64_t v = 0;

	setup();
	CHECK_EQ(vmachine_msr_read(&m, 0, 0x1b, &v, 0), 1);
	CHECK_EQ(v, 0xfee00000ull | (1u << 11) | (1u << 8));
	CHECK_EQ(vmachine_msr_read(&m, 0, 0x10, &v, 0), 0); /* not the platform's */
	/* x2APIC is not offered: its MSRs fault. */
	CHECK(vmachine_msr_read(&m, 0, 0x802, &v, 0) < 0);
	CHECK(vmachine_msr_write(&m, 0, 0x1b, 0xfee00000ull | (3u << 10) | (1u << 8), 0) < 0);
	/* TSC-deadline timer: LVT timer mode 2, vector 0xec. */
	mmio_write(VPLAT_LAPIC_BASE + VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_TSC_DEADLINE | 0xec, 0);
	CHECK_EQ(vmachine_msr_write(&m, 0, 0x6e0, 5 * MS, 0), 1);
	CHECK_EQ(vmachine_msr_read(&m, 0, 0x6e0, &v, 0), 1);
	CHECK_EQ(v, 5 * MS);
	CHECK_EQ(vmachine_next_event(&m, 0), 5 * MS);
	vmachine_update(&m, 5 * MS - 1);
	CHECK_EQ(vmachine_pending_vector(&m, 0), -1);
	vmachine_update(&m, 5 * MS);
	CHECK_EQ(vmachine_pending_vector(&m, 0), 0xec);
	vmachine_ack(&m, 0, 0xec, 5 * MS + 1234); /* injected 1234 ticks after it was due */
	CHECK_EQ(m.timer_irqs, 1);
	CHECK_EQ(m.timer_latency_sum, 1234);
	CHECK_EQ(m.timer_latency_max, 1234);
	/* CR8 is the TPR's class. */
	vmachine_set_cr8(&m, 0, 0xe);
	CHECK_EQ(mmio_read(VPLAT_LAPIC_BASE + VLAPIC_REG_TPR, 0), 0xe0);
	CHECK_EQ(vmachine_cr8(&m, 0), 0xe);
}

static void test_ports_and_power_events(void)
{
	enum vplat_event ev;
	uint32_t v, t0, t1;

	setup();
	/* RTC: binary/BCD per register B; the year register of 2023-11-14 (1700000000 s). */
	io_out(0x70, 0x09, 0);
	CHECK_EQ(io_in(0x71, 1, 0), 0x23);
	/* PM timer at 3.579545 MHz: 1 ms is about 3580 counts. */
	t0 = io_in(VPLAT_PM_TMR_BLK, 4, 0);
	t1 = io_in(VPLAT_PM_TMR_BLK, 4, MS);
	CHECK(((t1 - t0) & 0xffffff) >= 3578 && ((t1 - t0) & 0xffffff) <= 3581);
	/* 0xcf9: 0x02 alone is no reset; 0x06 is. */
	v = 0x02;
	CHECK(vmachine_io(&m, 0xcf9, 1, false, &v, 0, &ev));
	CHECK_EQ(ev, VPLAT_EVENT_NONE);
	v = 0x06;
	CHECK(vmachine_io(&m, 0xcf9, 1, false, &v, 0, &ev));
	CHECK_EQ(ev, VPLAT_EVENT_REBOOT);
	v = 0xfe;
	CHECK(vmachine_io(&m, 0x64, 1, false, &v, 0, &ev));
	CHECK_EQ(ev, VPLAT_EVENT_REBOOT);
	/* ACPI S5: SLP_TYP 5, SLP_EN. */
	v = (VPLAT_S5_SLP_TYP << 10) | (1u << 13);
	CHECK(vmachine_io(&m, VPLAT_PM1A_CNT_BLK, 2, false, &v, 0, &ev));
	CHECK_EQ(ev, VPLAT_EVENT_POWEROFF);
	/* Ports no device decodes are the caller's (PCI configuration, VGA). */
	CHECK(!vmachine_io(&m, 0xcf8, 4, true, &v, 0, &ev));
	CHECK(!vmachine_io(&m, 0x3d4, 1, false, &v, 0, &ev));
	CHECK(m.io_accesses >= 6);
}

static void test_mmio_claims(void)
{
	uint64_t v = 0;

	setup();
	CHECK(vmachine_mmio_claims(&m, VPLAT_LAPIC_BASE));
	CHECK(vmachine_mmio_claims(&m, VPLAT_LAPIC_BASE + 0xff0));
	CHECK(vmachine_mmio_claims(&m, VPLAT_IOAPIC_BASE + 0x10));
	CHECK(!vmachine_mmio_claims(&m, VPLAT_LAPIC_BASE + 0x1000));
	CHECK(!vmachine_mmio_claims(&m, 0xfed00000ull)); /* no HPET */
	CHECK(!vmachine_mmio_claims(&m, 0x1000));
	/* Only aligned 32-bit accesses are decoded. */
	CHECK(!vmachine_mmio(&m, 0, VPLAT_LAPIC_BASE + 0x20, 1, false, &v, 0));
	CHECK(!vmachine_mmio(&m, 0, VPLAT_LAPIC_BASE + 0x22, 4, false, &v, 0));
	CHECK(!vmachine_mmio(&m, 0, VPLAT_IOAPIC_BASE + 0x200, 4, false, &v, 0));
	CHECK_EQ(mmio_read(VPLAT_LAPIC_BASE + VLAPIC_REG_VERSION, 0), VLAPIC_VERSION);
	mmio_write(VPLAT_IOAPIC_BASE, 1, 0);
	CHECK_EQ(mmio_read(VPLAT_IOAPIC_BASE + 0x10, 0) & 0xff, 0x20); /* I/O APIC version */
}


/* Four vCPUs: APIC IDs 0-3, the APs waiting for INIT-SIPI. */
static void setup_smp(void)
{
	vmachine_init(&m, 4, TSC_HZ, 25000000, 1700000000ull, 0, 64ull << 20, 0);
	for (unsigned i = 0; i < 4; i++)
		vlapic_mmio_write(&m.lapic[i], VLAPIC_REG_SVR, 0x1ff, 0);
}

/* An xAPIC ICR write by vCPU from: high (destination) first, then low. */
/* The ICR written through the platform, as the guest's MMIO exit does */
static void send_ipi(unsigned from, uint32_t dest, uint32_t low)
{
	uint64_t high = dest << 24, value = low;

	CHECK(vmachine_mmio(&m, from, VPLAT_LAPIC_BASE + VLAPIC_REG_ICR_HIGH, 4, true, &high, 0));
	CHECK(vmachine_mmio(&m, from, VPLAT_LAPIC_BASE + VLAPIC_REG_ICR_LOW, 4, true, &value, 0));
	vmachine_update(&m, 1);
}

static void test_init_sipi_start_up(void)
{
	uint8_t vector = 0;

	setup_smp();
	CHECK(!m.wait_sipi[0]);
	CHECK(m.wait_sipi[1] && m.wait_sipi[3]);
	/* A SIPI before any INIT to a waiting AP starts it (power-on wait-for-SIPI). */
	send_ipi(0, 1, (APIC_DM_INIT << 8) | (1u << 14));
	CHECK_EQ(vmachine_take_kicks(&m), 1u << 1);
	CHECK_EQ(vmachine_take_start(&m, 1, &vector), VMACHINE_START_INIT);
	send_ipi(0, 1, (APIC_DM_INIT << 8) | (1u << 15)); /* level de-assert: ignored */
	CHECK_EQ(vmachine_take_start(&m, 1, &vector), VMACHINE_START_NONE);
	send_ipi(0, 1, (APIC_DM_STARTUP << 8) | 0x9a);
	CHECK_EQ(vmachine_take_start(&m, 1, &vector), VMACHINE_START_SIPI);
	CHECK_EQ(vector, 0x9a);
	/* The second SIPI of INIT-SIPI-SIPI finds it running: ignored. */
	send_ipi(0, 1, (APIC_DM_STARTUP << 8) | 0x9a);
	CHECK_EQ(vmachine_take_start(&m, 1, &vector), VMACHINE_START_NONE);
	/* Nothing reached vCPU 2 or 3. */
	CHECK_EQ(vmachine_take_start(&m, 2, &vector), VMACHINE_START_NONE);
	CHECK(m.wait_sipi[2]);
}

static void test_ipis_stay_in_the_guest(void)
{
	setup_smp();
	/* Fixed IPI to APIC ID 2. */
	send_ipi(0, 2, (APIC_DM_FIXED << 8) | 0xf1);
	CHECK_EQ(vmachine_take_kicks(&m), 1u << 2);
	CHECK_EQ(vmachine_pending_vector(&m, 2), 0xf1);
	CHECK_EQ(vmachine_pending_vector(&m, 1), -1);
	vmachine_ack(&m, 2, 0xf1, 0);
	/* An APIC ID the guest does not have (another guest's, a physical CPU's): nobody. */
	send_ipi(0, 7, (APIC_DM_FIXED << 8) | 0xf2);
	send_ipi(0, 7, (APIC_DM_INIT << 8) | (1u << 14));
	CHECK_EQ(vmachine_take_kicks(&m), 0);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(vmachine_pending_vector(&m, i), -1);
	/* All-but-self from vCPU 1: 0, 2, 3. */
	send_ipi(1, 0, (APIC_DEST_ALL_BUT_SELF << 18) | 0xf3);
	CHECK_EQ(vmachine_take_kicks(&m), 0xd);
	CHECK_EQ(vmachine_pending_vector(&m, 1), -1);
	CHECK_EQ(vmachine_pending_vector(&m, 3), 0xf3);
	/* Self. */
	send_ipi(3, 0, (APIC_DEST_SELF << 18) | 0xf4);
	CHECK_EQ(vmachine_pending_vector(&m, 3), 0xf4);
	/* Broadcast 0xff physical: everyone, sender too. */
	setup_smp();
	send_ipi(0, 0xff, 0xf5);
	CHECK_EQ(vmachine_take_kicks(&m), 0xf);
	/* NMI to vCPU 3. */
	send_ipi(0, 3, APIC_DM_NMI << 8);
	CHECK(vmachine_take_nmi(&m, 3));
	CHECK(!vmachine_take_nmi(&m, 3));
	CHECK(!vmachine_take_nmi(&m, 0));
	CHECK_EQ(m.ipis, 2);
}

static void test_logical_and_lowest_priority(void)
{
	setup_smp();
	/* Flat logical: vCPU i gets LDR bit i. */
	for (unsigned i = 0; i < 4; i++)
		vlapic_mmio_write(&m.lapic[i], VLAPIC_REG_LDR, (1u << i) << 24, 0);
	send_ipi(0, 0x0a, (1u << 11) | 0xe1); /* logical, vCPUs 1 and 3 */
	CHECK_EQ(vmachine_take_kicks(&m), 0xa);
	/* Lowest priority among 1, 2 and 3: vCPU 2 has the lowest TPR. */
	vmachine_set_cr8(&m, 1, 5);
	vmachine_set_cr8(&m, 3, 5);
	vmachine_take_kicks(&m);
	send_ipi(0, 0x0e, (1u << 11) | (APIC_DM_LOWEST << 8) | 0xe2);
	CHECK_EQ(vmachine_take_kicks(&m), 1u << 2);
	/* The I/O APIC reaches only the guest's vCPUs too: pin 4 to APIC ID 3. */
	mmio_write(VPLAT_IOAPIC_BASE, 0x10 + 8, 0);
	mmio_write(VPLAT_IOAPIC_BASE + 0x10, 0x44, 0);
	mmio_write(VPLAT_IOAPIC_BASE, 0x11 + 8, 0);
	mmio_write(VPLAT_IOAPIC_BASE + 0x10, 3u << 24, 0);
	vmachine_set_isa_irq(&m, 4, true);
	vmachine_update(&m, 2);
	CHECK_EQ(vmachine_take_kicks(&m), 1u << 3);
	CHECK(m.lapic[3].irr[0x44 / 32] & (1u << (0x44 % 32)));
	CHECK(!(m.lapic[2].irr[0x44 / 32] & (1u << (0x44 % 32))));
	/* Each vCPU's LAPIC page is its own. */
	CHECK_EQ(vlapic_mmio_read(&m.lapic[2], VLAPIC_REG_ID, 0) >> 24, 2);
	uint64_t v = 0;
	CHECK(vmachine_mmio(&m, 2, VPLAT_LAPIC_BASE + VLAPIC_REG_ID, 4, false, &v, 0));
	CHECK_EQ(v >> 24, 2);
}

/* vmachine_update skips its work when no register changed and no device event is due. Two
 * machines take the same random stream of guest accesses, interrupt acknowledgements and time
 * steps, one with the skip and one updating fully every time: every interrupt, NMI, start-up
 * message, kick and next event must come out the same. */
static struct vmachine twin[2];
static uint32_t rng_state = 1;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return (rng_state >> 8) % n;
}

static void both_io(uint16_t port, unsigned size, bool in, uint32_t value, uint64_t now)
{
	enum vplat_event ev[2];
	uint32_t v[2] = { value, value };

	for (int k = 0; k < 2; k++)
		vmachine_io(&twin[k], port, size, in, &v[k], now, &ev[k]);
	CHECK_EQ(v[0], v[1]);
	CHECK_EQ(ev[0], ev[1]);
}

static void both_mmio(unsigned vcpu, uint64_t gpa, bool write, uint32_t value, uint64_t now)
{
	uint64_t v[2] = { value, value };

	for (int k = 0; k < 2; k++)
		vmachine_mmio(&twin[k], vcpu, gpa, 4, write, &v[k], now);
	CHECK_EQ(v[0], v[1]);
}

static void test_update_skip_changes_nothing(void)
{
	static const uint16_t rtc_regs[] = { 0x0a, 0x0b, 0x0c };
	uint64_t now = 0;

	for (int k = 0; k < 2; k++) {
		vmachine_init(&twin[k], 2, TSC_HZ, 25000000, 1700000000ull, 0, 64ull << 20, 0);
		twin[k].always_update = k == 1;
	}
	uint32_t kinds = 0xffff; /* the access kinds of this phase: quiet spells in some phases */

	for (unsigned step = 0; step < 200000; step++) {
		unsigned vcpu = rnd(2), kind = rnd(16);
		uint64_t lapic = VPLAT_LAPIC_BASE;

		if (step % 2000 == 0)
			kinds = rnd(0x10000) | 0xe00f; /* time, IPIs and the entry path always */
		if (!(kinds & (1u << kind)))
			continue;
		switch (kind) {
		case 0: case 1: case 2: case 3:
			now += rnd(4) == 0 ? rnd(3 * MS) : rnd(MS / 50);
			break;
		case 4: /* PIT channel 0: mode 0, 2 or 3 with a random divisor */
			both_io(0x43, 1, false, 0x30 | (rnd(3) == 0 ? 0 : rnd(2) ? 4 : 6), now);
			both_io(0x40, 1, false, rnd(256), now);
			both_io(0x40, 1, false, rnd(8), now);
			break;
		case 5: /* RTC: rate and interrupt enables, or a read of register C */
			both_io(VPLAT_RTC_INDEX, 1, false, rtc_regs[rnd(3)], now);
			if (rnd(2))
				both_io(VPLAT_RTC_DATA, 1, true, 0, now);
			else
				both_io(VPLAT_RTC_DATA, 1, false, rnd(256) & 0x7f, now);
			break;
		case 6: /* PM: timer interrupt enable, status read or clear */
			both_io(VPLAT_PM1A_EVT_BLK + 2, 2, false, rnd(2), now);
			both_io(VPLAT_PM1A_EVT_BLK, 2, rnd(2), rnd(2) ? 1 : 0xffff, now);
			break;
		case 7: /* LAPIC timer: mode, vector, count */
			both_mmio(vcpu, lapic + VLAPIC_REG_SVR, true, 0x1ff, now);
			both_mmio(vcpu, lapic + VLAPIC_REG_LVT_TIMER, true,
				  (0x40 + rnd(64)) | (rnd(3) << 17) | (rnd(5) == 0 ? VLAPIC_LVT_MASKED : 0), now);
			both_mmio(vcpu, lapic + VLAPIC_REG_TIMER_INITIAL, true, rnd(200000), now);
			break;
		case 8: {
			uint64_t deadline = now + rnd(2 * MS);

			for (int k = 0; k < 2; k++)
				vmachine_msr_write(&twin[k], vcpu, 0x6e0, deadline, now);
			break;
		}
		case 9:
			both_mmio(vcpu, lapic + VLAPIC_REG_EOI, true, 0, now);
			break;
		case 10: { /* an I/O APIC pin: vector, edge or level, masked or not, to vCPU 0 or 1 */
			unsigned pin = rnd(16);

			both_mmio(0, VPLAT_IOAPIC_BASE, true, 0x10 + 2 * pin, now);
			both_mmio(0, VPLAT_IOAPIC_BASE + 0x10, true,
				  (0x50 + rnd(32)) | (rnd(2) << 15) | (rnd(4) == 0 ? 1u << 16 : 0), now);
			both_mmio(0, VPLAT_IOAPIC_BASE, true, 0x11 + 2 * pin, now);
			both_mmio(0, VPLAT_IOAPIC_BASE + 0x10, true, rnd(2) << 24, now);
			break;
		}
		case 11: { /* a line of the ISA bus goes up or down (the UART's, say) */
			unsigned irq = rnd(16);
			bool level = rnd(2);

			for (int k = 0; k < 2; k++)
				vmachine_set_isa_irq(&twin[k], irq, level);
			break;
		}
		case 14: /* an IPI: fixed or NMI to the other vCPU */
			both_mmio(vcpu, lapic + VLAPIC_REG_ICR_HIGH, true, (1u - vcpu) << 24, now);
			both_mmio(vcpu, lapic + VLAPIC_REG_ICR_LOW, true,
				  (0x60 + rnd(32)) | (rnd(6) == 0 ? APIC_DM_NMI << 8 : 0), now);
			break;
		case 12:
			for (int k = 0; k < 2; k++)
				vmachine_set_cr8(&twin[k], vcpu, (uint8_t)(step % 16));
			break;
		default: /* the entry path: take what is pending, as vcpu_deliver_interrupts does */
			for (int k = 0; k < 2; k++)
				vmachine_update(&twin[k], now);
			CHECK_EQ(vmachine_take_kicks(&twin[0]), vmachine_take_kicks(&twin[1]));
			CHECK_EQ(vmachine_take_nmi(&twin[0], vcpu), vmachine_take_nmi(&twin[1], vcpu));
			for (unsigned c = 0; c < 2; c++) {
				int v0 = vmachine_pending_vector(&twin[0], c), v1 = vmachine_pending_vector(&twin[1], c);

				CHECK_EQ(v0, v1);
				CHECK_EQ(vmachine_next_event(&twin[0], c), vmachine_next_event(&twin[1], c));
				if (v0 >= 0 && rnd(2))
					CHECK_EQ(vmachine_ack(&twin[0], c, v0, now), vmachine_ack(&twin[1], c, v1, now));
			}
			break;
		}
		if (test_any_failed)
			return;
	}
	CHECK(twin[0].irqs_injected > 100);
	CHECK_EQ(twin[0].irqs_injected, twin[1].irqs_injected);
	CHECK_EQ(twin[0].timer_irqs, twin[1].timer_irqs);
	CHECK_EQ(twin[0].pit_irqs, twin[1].pit_irqs);
}

int main(void)
{
	RUN_TEST(test_pit_through_ioapic_pin2);
	RUN_TEST(test_pic_virtual_wire);
	RUN_TEST(test_uart_level_line);
	RUN_TEST(test_level_eoi_returns_to_ioapic);
	RUN_TEST(test_msrs_and_tsc_deadline);
	RUN_TEST(test_ports_and_power_events);
	RUN_TEST(test_mmio_claims);
	RUN_TEST(test_init_sipi_start_up);
	RUN_TEST(test_ipis_stay_in_the_guest);
	RUN_TEST(test_logical_and_lowest_priority);
	RUN_TEST(test_update_skip_changes_nothing);
	return test_any_failed;
}
