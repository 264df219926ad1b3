/* Virtual I/O APIC: redirection table, edge and level inputs, remote IRR, and the messages it sends. */
#include "drivers/virt/vioapic.h"
#include "kernel/lib.h"

/* Bits software may write in a redirection entry; delivery status and remote IRR are read-only, 82093AA 3.2.4 */
#define RTE_WRITABLE_LOW 0x1afffull
#define RTE_WRITABLE_HIGH 0xff000000ull

static void vioapic_queue(struct vioapic *io, uint64_t rte)
{
	struct apic_msg *msg;

	if (io->queue_count == VIOAPIC_QUEUE) {
		io->dropped++;
		return;
	}
	msg = &io->queue[(io->queue_head + io->queue_count) % VIOAPIC_QUEUE];
	io->queue_count++;
	io->delivered++;
	memset(msg, 0, sizeof(*msg));
	msg->vector = (uint8_t)(rte & VIOAPIC_RTE_VECTOR);
	msg->delivery = (uint8_t)((rte >> VIOAPIC_RTE_DELMODE_SHIFT) & 7);
	msg->shorthand = APIC_DEST_NO_SHORTHAND;
	msg->dest_logical = (rte & VIOAPIC_RTE_DEST_LOGICAL) != 0;
	msg->level = (rte & VIOAPIC_RTE_LEVEL) != 0;
	msg->assert = true;
	msg->dest = (uint32_t)(rte >> VIOAPIC_RTE_DEST_SHIFT);
	msg->source_apic_id = 0;
}

/* A level pin sends while asserted, unmasked and not awaiting EOI; remote IRR marks it sent, 82093AA 3.2.4 */
static void vioapic_try_level(struct vioapic *io, unsigned pin)
{
	uint64_t *rte = &io->redir[pin];

	if (!(*rte & VIOAPIC_RTE_LEVEL) || (*rte & (VIOAPIC_RTE_MASKED | VIOAPIC_RTE_REMOTE_IRR)))
		return;
	if (!(io->asserted & (1u << pin)))
		return;
	if (io->queue_count == VIOAPIC_QUEUE) {
		/* Not sent: leave remote IRR clear so the next assertion or EOI tries again */
		io->dropped++;
		return;
	}
	vioapic_queue(io, *rte);
	*rte |= VIOAPIC_RTE_REMOTE_IRR;
}

void vioapic_init(struct vioapic *io)
{
	memset(io, 0, sizeof(*io));
	io->id = VPLAT_IOAPIC_ID;
	for (unsigned pin = 0; pin < VPLAT_IOAPIC_PINS; pin++)
		io->redir[pin] = VIOAPIC_RTE_MASKED;
}

static uint32_t vioapic_read_reg(const struct vioapic *io, uint8_t index)
{
	unsigned pin;

	switch (index) {
	case VIOAPIC_REG_ID:
		return (uint32_t)(io->id & 0xf) << 24;
	case VIOAPIC_REG_VER:
		/* Maximum redirection entry in bits 23:16, 82093AA 3.2.2 */
		return ((uint32_t)(VPLAT_IOAPIC_PINS - 1) << 16) | VIOAPIC_VERSION;
	case VIOAPIC_REG_ARB:
		/* The arbitration ID is loaded from the APIC ID, 82093AA 3.2.3 */
		return (uint32_t)(io->id & 0xf) << 24;
	default:
		if (index < VIOAPIC_REG_REDTBL || index >= VIOAPIC_REG_REDTBL + 2 * VPLAT_IOAPIC_PINS)
			return 0;
		pin = (unsigned)(index - VIOAPIC_REG_REDTBL) / 2;
		if (index & 1)
			return (uint32_t)(io->redir[pin] >> 32);
		return (uint32_t)io->redir[pin];
	}
}

static void vioapic_write_reg(struct vioapic *io, uint8_t index, uint32_t value)
{
	unsigned pin;
	uint64_t rte;

	if (index == VIOAPIC_REG_ID) {
		io->id = (uint8_t)((value >> 24) & 0xf);
		return;
	}
	if (index < VIOAPIC_REG_REDTBL || index >= VIOAPIC_REG_REDTBL + 2 * VPLAT_IOAPIC_PINS)
		return; /* version, arbitration and unimplemented registers are read-only */
	pin = (unsigned)(index - VIOAPIC_REG_REDTBL) / 2;
	rte = io->redir[pin];
	if (index & 1)
		rte = (rte & ~(RTE_WRITABLE_HIGH << 32)) | ((uint64_t)value & RTE_WRITABLE_HIGH) << 32;
	else
		rte = (rte & ~RTE_WRITABLE_LOW) | ((uint64_t)value & RTE_WRITABLE_LOW);
	/* Remote IRR is defined only for level-triggered pins (82093AA 3.2.4); an edge pin has none */
	if (!(rte & VIOAPIC_RTE_LEVEL))
		rte &= ~VIOAPIC_RTE_REMOTE_IRR;
	io->redir[pin] = rte;
	/* Unmasking (or turning level) a pin whose input is still asserted sends it now */
	vioapic_try_level(io, pin);
}

uint32_t vioapic_read(struct vioapic *io, uint32_t offset)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		return io->ioregsel;
	case VIOAPIC_IOWIN:
		return vioapic_read_reg(io, io->ioregsel);
	default:
		/* The EOI register is write-only; nothing else decodes */
		return 0;
	}
}

void vioapic_write(struct vioapic *io, uint32_t offset, uint32_t value)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		io->ioregsel = (uint8_t)value;
		break;
	case VIOAPIC_IOWIN:
		vioapic_write_reg(io, io->ioregsel, value);
		break;
	case VIOAPIC_EOI:
		vioapic_eoi(io, (uint8_t)value);
		break;
	default:
		break;
	}
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	uint32_t bit;
	bool was;

	if (pin >= VPLAT_IOAPIC_PINS)
		return;
	bit = 1u << pin;
	was = (io->asserted & bit) != 0;
	if (level)
		io->asserted |= bit;
	else
		io->asserted &= ~bit;
	if (io->redir[pin] & VIOAPIC_RTE_LEVEL) {
		vioapic_try_level(io, pin);
		return;
	}
	/* An edge pin sends once per rising edge; an edge while masked is lost, 82093AA 3.2.4 */
	if (level && !was && !(io->redir[pin] & VIOAPIC_RTE_MASKED))
		vioapic_queue(io, io->redir[pin]);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < VPLAT_IOAPIC_PINS; pin++) {
		uint64_t *rte = &io->redir[pin];

		if ((*rte & VIOAPIC_RTE_VECTOR) != vector || !(*rte & VIOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~VIOAPIC_RTE_REMOTE_IRR;
		/* A level source still asserted after its EOI interrupts again */
		vioapic_try_level(io, pin);
	}
}

bool vioapic_take_msg(struct vioapic *io, struct apic_msg *out)
{
	if (io->queue_count == 0)
		return false;
	*out = io->queue[io->queue_head];
	io->queue_head = (io->queue_head + 1) % VIOAPIC_QUEUE;
	io->queue_count--;
	return true;
}

uint64_t vioapic_redir(const struct vioapic *io, unsigned pin)
{
	if (pin >= VPLAT_IOAPIC_PINS)
		return VIOAPIC_RTE_MASKED;
	return io->redir[pin];
}
