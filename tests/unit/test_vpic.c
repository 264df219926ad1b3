/* Host tests for the virtual 8259A pair: Linux's init and probe, priorities, EOIs, cascade, spurious IRQs. */
#include "tests/unit/test.h"
#include "drivers/virt/vpic.h"

TEST_MAIN_GLOBALS;

static uint8_t read_isr(struct vpic *p, uint16_t port)
{
	uint8_t v;

	vpic_write(p, port, 0x0b);
	v = vpic_read(p, port);
	vpic_write(p, port, 0x0a);
	return v;
}

/* Linux's init_8259A(0) (arch/x86/kernel/i8259.c): vectors 0x30 and 0x38, cascade on IR2, normal EOI */
static void linux_init(struct vpic *p)
{
	vpic_write(p, 0x21, 0xff);
	vpic_write(p, 0xa1, 0xff);
	vpic_write(p, 0x20, 0x11);
	vpic_write(p, 0x21, 0x30);
	vpic_write(p, 0x21, 1 << 2);
	vpic_write(p, 0x21, 0x01);
	vpic_write(p, 0xa0, 0x11);
	vpic_write(p, 0xa1, 0x38);
	vpic_write(p, 0xa1, 2);
	vpic_write(p, 0xa1, 0x01);
	vpic_write(p, 0x21, 0xfb); /* everything masked but the cascade */
	vpic_write(p, 0xa1, 0xff);
}

static void test_reset_and_probe(void)
{
	struct vpic p;

	vpic_init(&p);
	CHECK_EQ(vpic_read(&p, 0x21), 0xff);
	CHECK_EQ(vpic_read(&p, 0xa1), 0xff);
	CHECK_EQ(vpic_read(&p, 0x20), 0);
	CHECK_EQ(vpic_read(&p, 0xa0), 0);
	CHECK_EQ(vpic_read(&p, 0x4d0), 0);
	CHECK_EQ(vpic_read(&p, 0x4d1), 0);
	CHECK_EQ(vpic_read(&p, 0x22), 0xff);
	CHECK_EQ(vpic_read(&p, 0x4d2), 0xff);
	CHECK(!vpic_has_intr(&p));
	/* probe_8259A: mask the slave, write 0xfb to the master IMR, read it back */
	vpic_write(&p, 0xa1, 0xff);
	vpic_write(&p, 0x21, 0xfb);
	CHECK_EQ(vpic_read(&p, 0x21), 0xfb);
	CHECK_EQ(vpic_read(&p, 0xa1), 0xff);
	/* BIOS vectors before the guest initialises */
	vpic_write(&p, 0x21, 0xfe);
	vpic_set_irq(&p, 0, true);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x08);
	/* Initialisation clears ISR and IMR and forgets edges */
	vpic_set_irq(&p, 0, false);
	vpic_set_irq(&p, 1, true);
	vpic_write(&p, 0x20, 0x11);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	CHECK_EQ(vpic_read(&p, 0x21), 0);
	linux_init(&p);
	CHECK_EQ(p.master.vector_base, 0x30);
	CHECK_EQ(p.slave.vector_base, 0x38);
	CHECK_EQ(vpic_read(&p, 0x21), 0xfb);
	CHECK_EQ(vpic_read(&p, 0x20), 0);
	CHECK(!vpic_has_intr(&p));
	/* Linux masks both when it switches to the I/O APIC: no interrupt whatever is requested */
	vpic_write(&p, 0x21, 0xff);
	vpic_write(&p, 0xa1, 0xff);
	for (unsigned irq = 0; irq < 16; irq++)
		vpic_set_irq(&p, irq, true);
	CHECK(!vpic_has_intr(&p));
	CHECK_EQ(vpic_read(&p, 0x21), 0xff);
	CHECK_EQ(vpic_read(&p, 0xa1), 0xff);
}

static void test_master_priorities_and_eoi(void)
{
	struct vpic p;

	vpic_init(&p);
	linux_init(&p);
	vpic_write(&p, 0x21, 0x00);
	vpic_set_irq(&p, 1, true);
	vpic_set_irq(&p, 3, true);
	CHECK_EQ(vpic_read(&p, 0x20), 0x0a);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x31);
	CHECK_EQ(read_isr(&p, 0x20), 0x02);
	CHECK_EQ(vpic_read(&p, 0x20), 0x08);
	/* IR3 waits behind IR1 in service; IR0 nests above it */
	CHECK(!vpic_has_intr(&p));
	vpic_set_irq(&p, 0, true);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x30);
	CHECK_EQ(read_isr(&p, 0x20), 0x03);
	/* Non-specific EOI ends the highest in service (IR0) */
	vpic_write(&p, 0x20, 0x20);
	CHECK_EQ(read_isr(&p, 0x20), 0x02);
	CHECK(!vpic_has_intr(&p));
	/* Specific EOI of IR1 (Linux's mask_and_ack_8259A sends 0x60 + irq) */
	vpic_write(&p, 0x20, 0x61);
	CHECK_EQ(read_isr(&p, 0x20), 0x00);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x33);
	/* Masked requests stay in IRR but raise nothing */
	vpic_write(&p, 0x20, 0x63);
	vpic_write(&p, 0x21, 0x20);
	vpic_set_irq(&p, 5, true);
	CHECK_EQ(vpic_read(&p, 0x20) & 0x20, 0x20);
	CHECK(!vpic_has_intr(&p));
	vpic_write(&p, 0x21, 0x00);
	CHECK_EQ(vpic_ack(&p), 0x35);
	/* OCW3 selection persists: ISR until IRR is asked for again */
	vpic_write(&p, 0x20, 0x0b);
	CHECK_EQ(vpic_read(&p, 0x20), 0x20);
	CHECK_EQ(vpic_read(&p, 0x20), 0x20);
	vpic_write(&p, 0x20, 0x08); /* RR=0: no change */
	CHECK_EQ(vpic_read(&p, 0x20), 0x20);
	vpic_write(&p, 0x20, 0x0a);
	CHECK_EQ(vpic_read(&p, 0x20), 0x00);
	/* The IMR still reads back after OCW3 */
	CHECK_EQ(vpic_read(&p, 0x21), 0x00);
}

static void test_edge_latch(void)
{
	struct vpic p;

	vpic_init(&p);
	linux_init(&p);
	vpic_write(&p, 0x21, 0xfa);
	/* A pulse (the PIT model's way) is latched */
	vpic_set_irq(&p, 0, true);
	vpic_set_irq(&p, 0, false);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x30);
	vpic_write(&p, 0x20, 0x20);
	CHECK(!vpic_has_intr(&p));
	/* A line held high is one request */
	vpic_set_irq(&p, 0, true);
	CHECK_EQ(vpic_ack(&p), 0x30);
	vpic_write(&p, 0x20, 0x20);
	vpic_set_irq(&p, 0, true);
	CHECK(!vpic_has_intr(&p));
	vpic_set_irq(&p, 0, false);
	vpic_set_irq(&p, 0, true);
	CHECK(vpic_has_intr(&p));
	/* The cascade IR cannot be driven from outside; IRQs >= 16 are ignored */
	vpic_ack(&p);
	vpic_write(&p, 0x20, 0x20);
	vpic_set_irq(&p, 2, true);
	vpic_set_irq(&p, 16, true);
	vpic_set_irq(&p, 1000, true);
	CHECK(!vpic_has_intr(&p));
	CHECK_EQ(vpic_read(&p, 0x20), 0x00);
}

static void test_cascade(void)
{
	struct vpic p;

	vpic_init(&p);
	linux_init(&p);
	vpic_write(&p, 0xa1, 0xfe); /* IRQ 8 */
	vpic_set_irq(&p, 8, true);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_read(&p, 0xa0), 0x01);
	CHECK_EQ(vpic_ack(&p), 0x38);
	CHECK_EQ(read_isr(&p, 0x20), 0x04);
	CHECK_EQ(read_isr(&p, 0xa0), 0x01);
	CHECK(!vpic_has_intr(&p));
	/* A second slave IRQ of lower priority waits for the slave's EOI */
	vpic_write(&p, 0xa1, 0xf6); /* IRQ 8 and 11 */
	vpic_set_irq(&p, 11, true);
	CHECK(!vpic_has_intr(&p));
	/* Linux's order: specific EOI to the slave, then to the master for IR2 */
	vpic_write(&p, 0xa0, 0x60);
	CHECK(!vpic_has_intr(&p)); /* master IR2 still in service */
	vpic_write(&p, 0x20, 0x62);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x3b);
	vpic_write(&p, 0xa0, 0x20);
	vpic_write(&p, 0x20, 0x20);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	CHECK_EQ(read_isr(&p, 0xa0), 0);
	/* Slave requests rank as master IR2: above IR3, below IR1 */
	vpic_write(&p, 0x21, 0xf1);
	vpic_set_irq(&p, 8, false);
	vpic_set_irq(&p, 8, true);
	vpic_set_irq(&p, 3, true);
	vpic_set_irq(&p, 1, true);
	CHECK_EQ(vpic_ack(&p), 0x31);
	vpic_write(&p, 0x20, 0x20);
	CHECK_EQ(vpic_ack(&p), 0x38);
	vpic_write(&p, 0xa0, 0x20);
	vpic_write(&p, 0x20, 0x20);
	CHECK_EQ(vpic_ack(&p), 0x33);
	/* A masked cascade blocks the slave */
	vpic_write(&p, 0x20, 0x20);
	vpic_write(&p, 0x21, 0xff);
	vpic_set_irq(&p, 8, false);
	vpic_set_irq(&p, 8, true);
	CHECK(!vpic_has_intr(&p));
	vpic_write(&p, 0x21, 0xfb);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x38);
}

static void test_elcr_level_and_spurious(void)
{
	struct vpic p;

	vpic_init(&p);
	linux_init(&p);
	/* IRQ 0, 1, 2, 8 and 13 cannot be level */
	vpic_write(&p, 0x4d0, 0xff);
	vpic_write(&p, 0x4d1, 0xff);
	CHECK_EQ(vpic_read(&p, 0x4d0), 0xf8);
	CHECK_EQ(vpic_read(&p, 0x4d1), 0xde);
	vpic_write(&p, 0x4d0, 0x20); /* IRQ 5 level */
	vpic_write(&p, 0x4d1, 0x04); /* IRQ 10 level */
	CHECK_EQ(vpic_read(&p, 0x4d0), 0x20);
	CHECK_EQ(vpic_read(&p, 0x4d1), 0x04);
	vpic_write(&p, 0x21, 0xdb);
	vpic_write(&p, 0xa1, 0xfb);
	/* A level request is re-raised after EOI while asserted */
	vpic_set_irq(&p, 5, true);
	CHECK_EQ(vpic_ack(&p), 0x35);
	CHECK_EQ(vpic_read(&p, 0x20), 0x20); /* IRR follows the line */
	CHECK(!vpic_has_intr(&p));
	vpic_write(&p, 0x20, 0x20);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x35);
	vpic_write(&p, 0x20, 0x20);
	/* The request vanishes before INTA: spurious IRQ 7, nothing in service */
	vpic_set_irq(&p, 5, false);
	CHECK(!vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x37);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	CHECK_EQ(p.spurious, 1);
	/* Masking between INTR and INTA: also IR7 */
	vpic_set_irq(&p, 5, true);
	CHECK(vpic_has_intr(&p));
	vpic_write(&p, 0x21, 0xff);
	CHECK_EQ(vpic_ack(&p), 0x37);
	CHECK_EQ(p.spurious, 2);
	vpic_set_irq(&p, 5, false);
	vpic_write(&p, 0x21, 0xdb);
	/* Spurious IRQ 15: the slave's request vanished after master IR2 latched */
	vpic_set_irq(&p, 10, true);
	CHECK(vpic_has_intr(&p));
	vpic_set_irq(&p, 10, false);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x3f);
	CHECK_EQ(read_isr(&p, 0xa0), 0);
	CHECK_EQ(read_isr(&p, 0x20), 0x04); /* Linux EOIs the master for it */
	CHECK_EQ(p.spurious, 3);
	vpic_write(&p, 0x20, 0x62);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	/* Turning a line with a pending edge request to level makes IRR follow the line */
	vpic_write(&p, 0x4d0, 0x00);
	vpic_set_irq(&p, 5, true);
	vpic_set_irq(&p, 5, false);
	CHECK_EQ(vpic_read(&p, 0x20) & 0x20, 0x20);
	vpic_write(&p, 0x4d0, 0x20);
	CHECK_EQ(vpic_read(&p, 0x20) & 0x20, 0);
	/* ICW1 LTIM makes every input level-sensitive */
	vpic_write(&p, 0x20, 0x19);
	vpic_write(&p, 0x21, 0x30);
	vpic_write(&p, 0x21, 0x04);
	vpic_write(&p, 0x21, 0x01);
	vpic_set_irq(&p, 3, true);
	CHECK_EQ(vpic_ack(&p), 0x33);
	vpic_write(&p, 0x20, 0x20);
	CHECK(vpic_has_intr(&p));
	vpic_set_irq(&p, 3, false);
	CHECK(!vpic_has_intr(&p));
}

static void test_auto_eoi_rotate_poll(void)
{
	struct vpic p;

	vpic_init(&p);
	/* Single chip, ICW4 with auto-EOI */
	vpic_write(&p, 0x20, 0x13);
	vpic_write(&p, 0x21, 0x40);
	vpic_write(&p, 0x21, 0x03);
	vpic_write(&p, 0x21, 0x00);
	vpic_set_irq(&p, 4, true);
	CHECK_EQ(vpic_ack(&p), 0x44);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	/* Rotate in auto-EOI mode: the acknowledged IR becomes lowest */
	vpic_write(&p, 0x20, 0x80);
	vpic_set_irq(&p, 4, false);
	vpic_set_irq(&p, 4, true);
	vpic_set_irq(&p, 6, true);
	CHECK_EQ(vpic_ack(&p), 0x44);
	CHECK_EQ(p.master.lowest_priority, 4);
	vpic_set_irq(&p, 4, false);
	vpic_set_irq(&p, 4, true);
	CHECK_EQ(vpic_ack(&p), 0x46); /* IR6 now outranks IR4 */
	vpic_write(&p, 0x20, 0x00);

	/* Without auto-EOI: set priority makes IR3 lowest, so IR4 is highest */
	vpic_init(&p);
	linux_init(&p);
	vpic_write(&p, 0x21, 0x00);
	vpic_write(&p, 0x20, 0xc3);
	vpic_set_irq(&p, 0, true);
	vpic_set_irq(&p, 4, true);
	CHECK_EQ(vpic_ack(&p), 0x34);
	/* IR0 ranks below IR4 in service now: blocked */
	CHECK(!vpic_has_intr(&p));
	/* Rotate on non-specific EOI: IR4 becomes lowest, IR5 highest */
	vpic_write(&p, 0x20, 0xa0);
	CHECK_EQ(p.master.lowest_priority, 4);
	CHECK_EQ(vpic_ack(&p), 0x30);
	/* Rotate on specific EOI */
	vpic_write(&p, 0x20, 0xe0);
	CHECK_EQ(p.master.lowest_priority, 0);
	CHECK_EQ(read_isr(&p, 0x20), 0);
	/* No-op OCW2 and clearing rotate-in-AEOI leave things alone */
	vpic_write(&p, 0x20, 0x40);
	vpic_write(&p, 0x20, 0x00);
	CHECK_EQ(p.master.lowest_priority, 0);

	/* Poll command: the next read acts as INTA */
	vpic_set_irq(&p, 6, true);
	vpic_write(&p, 0x20, 0x0c);
	CHECK_EQ(vpic_read(&p, 0x20), 0x86);
	CHECK_EQ(read_isr(&p, 0x20), 0x40);
	vpic_write(&p, 0x20, 0x0c);
	CHECK_EQ(vpic_read(&p, 0x20), 0x00);
	/* Poll applies once */
	CHECK_EQ(vpic_read(&p, 0x20), 0x00); /* IRR */
	vpic_write(&p, 0x20, 0x20);
}

static void test_special_mask(void)
{
	struct vpic p;

	vpic_init(&p);
	linux_init(&p);
	vpic_write(&p, 0x21, 0x00);
	vpic_set_irq(&p, 1, true);
	CHECK_EQ(vpic_ack(&p), 0x31);
	vpic_set_irq(&p, 3, true);
	CHECK(!vpic_has_intr(&p));
	/* Special mask mode, IR1 masked: the in-service IR1 no longer blocks IR3 */
	vpic_write(&p, 0x20, 0x68);
	vpic_write(&p, 0x21, 0x02);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x33);
	vpic_write(&p, 0x20, 0x48);
	CHECK(!p.master.special_mask);
	/* Special fully nested: the slave may interrupt again while IR2 is in service */
	vpic_init(&p);
	vpic_write(&p, 0x20, 0x11);
	vpic_write(&p, 0x21, 0x30);
	vpic_write(&p, 0x21, 0x04);
	vpic_write(&p, 0x21, 0x11);
	vpic_write(&p, 0xa0, 0x11);
	vpic_write(&p, 0xa1, 0x38);
	vpic_write(&p, 0xa1, 0x02);
	vpic_write(&p, 0xa1, 0x01);
	vpic_write(&p, 0x21, 0xfb);
	vpic_write(&p, 0xa1, 0x00);
	vpic_set_irq(&p, 12, true);
	CHECK_EQ(vpic_ack(&p), 0x3c);
	vpic_set_irq(&p, 9, true);
	CHECK(vpic_has_intr(&p));
	CHECK_EQ(vpic_ack(&p), 0x39);
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
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x22, 0x60 };
	struct vpic p;
	uint64_t seed = 0x1234567887654321ull;
	unsigned acks = 0;

	vpic_init(&p);
	for (unsigned i = 0; i < 300000; i++) {
		uint64_t r = xorshift(&seed);
		uint16_t port = ports[(r >> 8) % 8];

		switch (r % 5) {
		case 0:
			vpic_write(&p, port, (uint8_t)(r >> 16));
			break;
		case 1:
			(void)vpic_read(&p, port);
			break;
		case 2:
		case 3:
			vpic_set_irq(&p, (unsigned)(r >> 16) % 18, (r >> 24) & 1);
			break;
		default: {
			bool intr = vpic_has_intr(&p);
			bool cascade = p.master.irr & ~p.master.imr & 0x04;
			uint64_t spurious = p.spurious;
			int vector = vpic_ack(&p);

			acks++;
			CHECK(vector >= 0 && vector <= 0xff);
			/* INTA without INTR is spurious; with INTR and no cascade request it never is */
			if (!intr)
				CHECK_EQ(p.spurious, spurious + 1);
			else if (!cascade)
				CHECK_EQ(p.spurious, spurious);
			break;
		}
		}
		CHECK_EQ(p.master.vector_base & 7, 0);
		CHECK_EQ(p.slave.vector_base & 7, 0);
		CHECK_EQ(p.master.elcr & ~p.master.elcr_mask, 0);
		CHECK_EQ(p.slave.elcr & ~p.slave.elcr_mask, 0);
		CHECK(p.master.lowest_priority < 8 && p.slave.lowest_priority < 8);
		CHECK(p.master.init_step <= 4 && p.slave.init_step <= 4);
	}
	CHECK(acks > 1000);
}

int main(void)
{
	RUN_TEST(test_reset_and_probe);
	RUN_TEST(test_master_priorities_and_eoi);
	RUN_TEST(test_edge_latch);
	RUN_TEST(test_cascade);
	RUN_TEST(test_elcr_level_and_spurious);
	RUN_TEST(test_auto_eoi_rotate_poll);
	RUN_TEST(test_special_mask);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
