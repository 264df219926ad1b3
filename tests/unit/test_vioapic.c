/* Host tests for the virtual I/O APIC: registers, edge and level pins, remote IRR, EOI, the queue. */
#include "tests/unit/test.h"
#include "drivers/virt/vioapic.h"

TEST_MAIN_GLOBALS;

static uint32_t reg_read(struct vioapic *io, uint32_t index)
{
	vioapic_write(io, VIOAPIC_IOREGSEL, index);
	return vioapic_read(io, VIOAPIC_IOWIN);
}

static void reg_write(struct vioapic *io, uint32_t index, uint32_t value)
{
	vioapic_write(io, VIOAPIC_IOREGSEL, index);
	vioapic_write(io, VIOAPIC_IOWIN, value);
}

/* Programs pin like Linux's ioapic_write_entry: high half (destination) first, then low half */
static void program(struct vioapic *io, unsigned pin, uint64_t rte)
{
	reg_write(io, 0x11 + 2 * pin, (uint32_t)(rte >> 32));
	reg_write(io, 0x10 + 2 * pin, (uint32_t)rte);
}

static uint64_t rte_of(struct vioapic *io, unsigned pin)
{
	return (uint64_t)reg_read(io, 0x11 + 2 * pin) << 32 | reg_read(io, 0x10 + 2 * pin);
}

static unsigned drain(struct vioapic *io)
{
	struct apic_msg m;
	unsigned n = 0;

	while (vioapic_take_msg(io, &m))
		n++;
	return n;
}

static void test_reset_and_ids(void)
{
	struct vioapic io;

	vioapic_init(&io);
	CHECK_EQ(reg_read(&io, 0), 0x0f000000);
	CHECK_EQ(reg_read(&io, 1), 0x00170020);
	CHECK_EQ(reg_read(&io, 2), 0x0f000000);
	for (unsigned pin = 0; pin < 24; pin++)
		CHECK_EQ(rte_of(&io, pin), 0x10000);
	CHECK_EQ(vioapic_read(&io, VIOAPIC_IOREGSEL), 0x10 + 2 * 23);
	/* Unimplemented registers and offsets read zero; IOREGSEL keeps 8 bits */
	CHECK_EQ(reg_read(&io, 3), 0);
	CHECK_EQ(reg_read(&io, 0x40), 0);
	CHECK_EQ(reg_read(&io, 0xff), 0);
	CHECK_EQ(vioapic_read(&io, 0x20), 0);
	CHECK_EQ(vioapic_read(&io, VIOAPIC_EOI), 0);
	vioapic_write(&io, VIOAPIC_IOREGSEL, 0x1234);
	CHECK_EQ(vioapic_read(&io, VIOAPIC_IOREGSEL), 0x34);
	/* ID bits 27:24 are writable; version and arbitration are not */
	reg_write(&io, 0, 0xf2345678);
	CHECK_EQ(reg_read(&io, 0), 0x02000000);
	CHECK_EQ(reg_read(&io, 2), 0x02000000);
	reg_write(&io, 1, 0xffffffff);
	reg_write(&io, 2, 0xffffffff);
	CHECK_EQ(reg_read(&io, 1), 0x00170020);
	CHECK_EQ(reg_read(&io, 2), 0x02000000);
	CHECK_EQ(drain(&io), 0);
	CHECK_EQ(vioapic_redir(&io, 24), 0x10000);
}

static void test_redir_rw(void)
{
	struct vioapic io;

	vioapic_init(&io);
	program(&io, 5, 0xff000000000000ffull | 0x1afff);
	CHECK_EQ(rte_of(&io, 5), 0xff0000000001afffull);
	/* Reserved high bits and the read-only delivery status / remote IRR are not writable */
	reg_write(&io, 0x11 + 10, 0x00ffffff);
	reg_write(&io, 0x10 + 10, 0xffffffff);
	CHECK_EQ(rte_of(&io, 5), 0x000000000001afffull);
	/* Each half is independent */
	reg_write(&io, 0x11 + 10, 0x03000000);
	CHECK_EQ(rte_of(&io, 5), 0x030000000001afffull);
	reg_write(&io, 0x10 + 10, 0x10031);
	CHECK_EQ(rte_of(&io, 5), 0x0300000000010031ull);
	CHECK_EQ(vioapic_redir(&io, 5), 0x0300000000010031ull);
	/* Other pins untouched */
	CHECK_EQ(rte_of(&io, 4), 0x10000);
	CHECK_EQ(rte_of(&io, 6), 0x10000);
}

static void test_edge(void)
{
	struct vioapic io;
	struct apic_msg m;

	vioapic_init(&io);
	/* Vector 0x31, lowest priority, logical destination 0x0f, edge, active high */
	program(&io, 2, 0x0f00000000000931ull);
	CHECK(!vioapic_take_msg(&io, &m));
	vioapic_set_irq(&io, 2, true);
	CHECK(vioapic_take_msg(&io, &m));
	CHECK_EQ(m.vector, 0x31);
	CHECK_EQ(m.delivery, APIC_DM_LOWEST);
	CHECK_EQ(m.shorthand, APIC_DEST_NO_SHORTHAND);
	CHECK(m.dest_logical);
	CHECK(!m.level);
	CHECK(m.assert);
	CHECK_EQ(m.dest, 0x0f);
	CHECK_EQ(m.source_apic_id, 0);
	/* Holding the line high is no new edge */
	vioapic_set_irq(&io, 2, true);
	CHECK_EQ(drain(&io), 0);
	vioapic_set_irq(&io, 2, false);
	CHECK_EQ(drain(&io), 0);
	vioapic_set_irq(&io, 2, true);
	CHECK_EQ(drain(&io), 1);
	/* An edge pin never sets remote IRR, and EOI of its vector changes nothing */
	CHECK_EQ(rte_of(&io, 2) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_eoi(&io, 0x31);
	CHECK_EQ(drain(&io), 0);
	/* An edge while masked is lost, also after unmasking */
	vioapic_set_irq(&io, 2, false);
	program(&io, 2, 0x0f00000000010931ull);
	vioapic_set_irq(&io, 2, true);
	CHECK_EQ(drain(&io), 0);
	program(&io, 2, 0x0f00000000000931ull);
	CHECK_EQ(drain(&io), 0);
	/* Fixed, physical destination */
	vioapic_set_irq(&io, 2, false);
	program(&io, 2, 0x0100000000000040ull);
	vioapic_set_irq(&io, 2, true);
	CHECK(vioapic_take_msg(&io, &m));
	CHECK_EQ(m.delivery, APIC_DM_FIXED);
	CHECK(!m.dest_logical);
	CHECK_EQ(m.dest, 1);
	CHECK_EQ(m.vector, 0x40);
	/* Pins out of range are ignored */
	vioapic_set_irq(&io, 24, true);
	vioapic_set_irq(&io, 1000, true);
	CHECK_EQ(drain(&io), 0);
	CHECK_EQ(io.asserted, 1u << 2);
}

static void test_level(void)
{
	struct vioapic io;
	struct apic_msg m;

	vioapic_init(&io);
	/* SCI-like: vector 0x39, fixed, level, active low, destination 0 */
	program(&io, 9, 0x000000000000a039ull);
	vioapic_set_irq(&io, 9, true);
	CHECK(vioapic_take_msg(&io, &m));
	CHECK_EQ(m.vector, 0x39);
	CHECK(m.level);
	CHECK(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR);
	/* No resend while remote IRR is set, however often the line is driven */
	vioapic_set_irq(&io, 9, true);
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(drain(&io), 0);
	/* The guest rewriting the entry keeps remote IRR */
	program(&io, 9, 0x000000000000a039ull);
	CHECK(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR);
	CHECK_EQ(drain(&io), 0);
	/* EOI of another vector does nothing; of this one, redelivers while still asserted */
	vioapic_eoi(&io, 0x38);
	CHECK_EQ(drain(&io), 0);
	CHECK(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR);
	vioapic_eoi(&io, 0x39);
	CHECK_EQ(drain(&io), 1);
	CHECK(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR);
	/* Deasserted before the EOI: the EOI clears remote IRR and sends nothing */
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x39);
	CHECK_EQ(drain(&io), 0);
	CHECK_EQ(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* The EOI register at offset 0x40 does the same */
	vioapic_set_irq(&io, 9, true);
	CHECK_EQ(drain(&io), 1);
	vioapic_write(&io, VIOAPIC_EOI, 0x39);
	CHECK_EQ(drain(&io), 1);
	vioapic_set_irq(&io, 9, false);
	vioapic_write(&io, VIOAPIC_EOI, 0x39);
	CHECK_EQ(drain(&io), 0);
	/* Two pins sharing a vector are both released by one EOI */
	program(&io, 10, 0x000000000000a039ull);
	vioapic_set_irq(&io, 9, true);
	vioapic_set_irq(&io, 10, true);
	CHECK_EQ(drain(&io), 2);
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x39);
	CHECK_EQ(drain(&io), 1);
	CHECK_EQ(rte_of(&io, 9) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK(rte_of(&io, 10) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_mask_unmask_level(void)
{
	struct vioapic io;

	vioapic_init(&io);
	program(&io, 11, 0x0000000000018041ull); /* level, masked */
	vioapic_set_irq(&io, 11, true);
	CHECK_EQ(drain(&io), 0);
	CHECK_EQ(rte_of(&io, 11) & VIOAPIC_RTE_REMOTE_IRR, 0);
	/* Unmasking while still asserted delivers at once */
	program(&io, 11, 0x0000000000008041ull);
	CHECK_EQ(drain(&io), 1);
	CHECK(rte_of(&io, 11) & VIOAPIC_RTE_REMOTE_IRR);
	/* Masked with remote IRR set, EOI, unmask: delivered once, on unmask */
	program(&io, 11, 0x0000000000018041ull);
	vioapic_eoi(&io, 0x41);
	CHECK_EQ(drain(&io), 0);
	CHECK_EQ(rte_of(&io, 11) & VIOAPIC_RTE_REMOTE_IRR, 0);
	program(&io, 11, 0x0000000000008041ull);
	CHECK_EQ(drain(&io), 1);
	/* Unmasking a deasserted pin sends nothing */
	vioapic_set_irq(&io, 11, false);
	vioapic_eoi(&io, 0x41);
	program(&io, 11, 0x0000000000018041ull);
	program(&io, 11, 0x0000000000008041ull);
	CHECK_EQ(drain(&io), 0);
	/* Switching a pin with remote IRR set to edge clears remote IRR */
	vioapic_set_irq(&io, 11, true);
	CHECK_EQ(drain(&io), 1);
	program(&io, 11, 0x0000000000000041ull);
	CHECK_EQ(rte_of(&io, 11) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ(drain(&io), 0);
	/* Edge to level while asserted: sends (the line is asserted and remote IRR clear) */
	program(&io, 11, 0x0000000000008041ull);
	CHECK_EQ(drain(&io), 1);
}

static void test_queue_overflow(void)
{
	struct vioapic io;
	struct apic_msg m;

	vioapic_init(&io);
	for (unsigned pin = 0; pin < 24; pin++)
		program(&io, pin, 0x20 + pin);
	for (unsigned i = 0; i < 40; i++) {
		vioapic_set_irq(&io, i % 24, true);
		vioapic_set_irq(&io, i % 24, false);
	}
	CHECK_EQ(io.queue_count, VIOAPIC_QUEUE);
	CHECK_EQ(io.dropped, 40 - VIOAPIC_QUEUE);
	CHECK_EQ(io.delivered, VIOAPIC_QUEUE);
	/* First in, first out */
	for (unsigned i = 0; i < VIOAPIC_QUEUE; i++) {
		CHECK(vioapic_take_msg(&io, &m));
		CHECK_EQ(m.vector, 0x20 + i % 24);
	}
	CHECK(!vioapic_take_msg(&io, &m));
	/* A level pin that found the queue full is not marked sent, and goes out next time */
	for (unsigned i = 0; i < VIOAPIC_QUEUE; i++) {
		vioapic_set_irq(&io, 0, true);
		vioapic_set_irq(&io, 0, false);
	}
	program(&io, 7, 0x8077);
	vioapic_set_irq(&io, 7, true);
	CHECK_EQ(rte_of(&io, 7) & VIOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ(drain(&io), VIOAPIC_QUEUE);
	vioapic_set_irq(&io, 7, true);
	CHECK(vioapic_take_msg(&io, &m));
	CHECK_EQ(m.vector, 0x77);
	CHECK(rte_of(&io, 7) & VIOAPIC_RTE_REMOTE_IRR);
}

/* Linux's I/O APIC bring-up: mask every pin, read the version, route the ISA IRQs */
static void test_linux_setup(void)
{
	struct vioapic io;
	unsigned count = 0;

	vioapic_init(&io);
	CHECK_EQ((reg_read(&io, 1) >> 16 & 0xff) + 1, 24);
	for (unsigned pin = 0; pin < 24; pin++)
		program(&io, pin, VIOAPIC_RTE_MASKED);
	/* PIT on GSI 2, UART on 4, RTC on 8, all edge to CPU 0 */
	program(&io, VPLAT_PIT_GSI, 0x30);
	program(&io, VPLAT_COM1_IRQ, 0x34);
	program(&io, VPLAT_RTC_IRQ, 0x38);
	for (unsigned pin = 0; pin < 24; pin++) {
		vioapic_set_irq(&io, pin, true);
		vioapic_set_irq(&io, pin, false);
	}
	for (struct apic_msg m; vioapic_take_msg(&io, &m); count++)
		CHECK(m.vector == 0x30 || m.vector == 0x34 || m.vector == 0x38);
	CHECK_EQ(count, 3);
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
	struct vioapic io;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint64_t taken = 0;

	vioapic_init(&io);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t r = xorshift(&seed);
		struct apic_msg m;

		switch (r % 7) {
		case 0:
			vioapic_write(&io, (uint32_t)(r >> 8) % 0x48 & ~3u, (uint32_t)(r >> 16) & 0x3f);
			break;
		case 1:
			vioapic_write(&io, VIOAPIC_IOWIN, (uint32_t)(r >> 20));
			break;
		case 2:
			(void)vioapic_read(&io, (uint32_t)(r >> 8) & 0x7f);
			break;
		case 3:
			vioapic_set_irq(&io, (unsigned)(r >> 8) % 26, (r >> 16) & 1);
			break;
		case 4:
			vioapic_eoi(&io, (uint8_t)(r >> 8));
			break;
		case 5:
			vioapic_write(&io, VIOAPIC_EOI, (uint32_t)(r >> 8));
			break;
		default:
			/* Drained more slowly than filled now and then, so the queue overflows */
			if ((i >> 14) & 1 && (r >> 8) % 8)
				break;
			if (vioapic_take_msg(&io, &m)) {
				taken++;
				CHECK(m.delivery <= 7);
				CHECK(m.dest <= 0xff);
				CHECK_EQ(m.shorthand, APIC_DEST_NO_SHORTHAND);
				CHECK(m.assert);
			}
			break;
		}
		CHECK(io.queue_count <= VIOAPIC_QUEUE);
		CHECK_EQ(io.delivered - taken, io.queue_count);
		for (unsigned pin = 0; pin < 24; pin++) {
			uint64_t rte = io.redir[pin];

			CHECK_EQ(rte & VIOAPIC_RTE_DELIVS, 0);
			CHECK_EQ(rte & 0x00ffffffffff0000ull & ~VIOAPIC_RTE_MASKED, 0);
			if (!(rte & VIOAPIC_RTE_LEVEL))
				CHECK_EQ(rte & VIOAPIC_RTE_REMOTE_IRR, 0);
		}
		CHECK_EQ(io.asserted >> 24, 0);
	}
	CHECK(taken > 1000);
	CHECK(io.dropped > 0);
}

int main(void)
{
	RUN_TEST(test_reset_and_ids);
	RUN_TEST(test_redir_rw);
	RUN_TEST(test_edge);
	RUN_TEST(test_level);
	RUN_TEST(test_mask_unmask_level);
	RUN_TEST(test_queue_overflow);
	RUN_TEST(test_linux_setup);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
