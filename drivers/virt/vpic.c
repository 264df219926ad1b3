/* Virtual 8259A pair: initialisation words, masks, priorities and EOIs, edge/level inputs, INTA. */
#include "drivers/virt/vpic.h"
#include "drivers/virt/vplatform.h"
#include "kernel/lib.h"

#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SELECT 0x08
#define OCW3_READ_ISR 0x03
#define OCW3_READ_IRR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x60
#define OCW3_SET_SMM 0x60
#define OCW3_RESET_SMM 0x40

#define CASCADE_IR 2

static bool chip_is_level(const struct vpic_chip *c, unsigned ir)
{
	return c->level_mode || (c->elcr >> ir & 1);
}

/* Priority rank of IR `ir`: 0 is highest; rotation moves the lowest-priority IR, 8259A OCW2 */
static unsigned chip_rank(const struct vpic_chip *c, unsigned ir)
{
	return (ir - c->lowest_priority - 1) & 7;
}

/* The highest-priority IR set in `bits`, or -1 */
static int chip_highest(const struct vpic_chip *c, uint8_t bits)
{
	for (unsigned rank = 0; rank < 8; rank++) {
		unsigned ir = (rank + c->lowest_priority + 1) & 7;

		if (bits >> ir & 1)
			return (int)ir;
	}
	return -1;
}

/* The IR the chip would raise INT for: unmasked, and above everything in service, 8259A "Priority resolver" */
static int chip_pending(const struct vpic_chip *c, bool is_master)
{
	int req = chip_highest(c, (uint8_t)(c->irr & ~c->imr));
	uint8_t in_service = c->isr;
	int cur;

	if (req < 0)
		return -1;
	/* Special mask mode: masked in-service levels no longer inhibit lower ones, 8259A OCW3 */
	if (c->special_mask)
		in_service &= (uint8_t)~c->imr;
	/* Special fully nested mode lets the slave interrupt again while its cascade IR is in service */
	if (is_master && c->special_fully_nested)
		in_service &= (uint8_t)~(1u << CASCADE_IR);
	cur = chip_highest(c, in_service);
	if (cur >= 0 && chip_rank(c, (unsigned)cur) <= chip_rank(c, (unsigned)req))
		return -1;
	return req;
}

/* Input edge/level handling, 8259A "Edge and level triggered modes" */
static void chip_set_line(struct vpic_chip *c, unsigned ir, bool level)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (chip_is_level(c, ir)) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->lines & bit)) {
		/* Edge requests latch until acknowledged (a pulse from a device model is not lost) */
		c->irr |= bit;
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

/* The slave's INT output drives master IR2 */
static void vpic_update_cascade(struct vpic *pic)
{
	chip_set_line(&pic->master, CASCADE_IR, chip_pending(&pic->slave, false) >= 0);
}

static void chip_eoi_ir(struct vpic_chip *c, unsigned ir, bool rotate)
{
	c->isr &= (uint8_t)~(1u << ir);
	if (rotate)
		c->lowest_priority = (uint8_t)ir;
}

/* INTA on one chip: the request moves to in-service; an edge request is consumed */
static void chip_ack(struct vpic_chip *c, unsigned ir)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (!chip_is_level(c, ir))
		c->irr &= (uint8_t)~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->lowest_priority = (uint8_t)ir;
	} else {
		c->isr |= bit;
	}
}

static void chip_reset(struct vpic_chip *c, uint8_t vector_base, uint8_t elcr_mask)
{
	memset(c, 0, sizeof(*c));
	c->imr = 0xff;
	c->vector_base = vector_base;
	c->elcr_mask = elcr_mask;
	c->lowest_priority = 7;
}

void vpic_init(struct vpic *pic)
{
	memset(pic, 0, sizeof(*pic));
	chip_reset(&pic->master, 0x08, 0xf8);
	chip_reset(&pic->slave, 0x70, 0xde);
	pic->master.icw3 = 1u << CASCADE_IR;
	pic->slave.icw3 = CASCADE_IR;
}

/* ICW1 starts initialisation: IMR and ISR cleared, IR7 lowest, special mask off, IRR read, 8259A ICW1 */
static void chip_icw1(struct vpic_chip *c, uint8_t value)
{
	c->isr = 0;
	c->imr = 0;
	/* Edge requests are forgotten: the input needs a new rising edge */
	c->irr &= c->elcr;
	c->lines &= c->elcr;
	c->lowest_priority = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->auto_eoi = false;
	c->rotate_on_auto_eoi = false;
	c->special_fully_nested = false;
	c->icw4_needed = value & ICW1_IC4;
	c->single = value & ICW1_SNGL;
	c->level_mode = value & ICW1_LTIM;
	c->init_step = 2;
}

static void chip_ocw2(struct vpic_chip *c, uint8_t value)
{
	unsigned level = value & 7;
	int ir;

	switch (value >> 5) {
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		ir = chip_highest(c, c->isr);
		if (ir >= 0)
			chip_eoi_ir(c, (unsigned)ir, value >> 5 == 5);
		break;
	case 3: /* specific EOI */
	case 7: /* rotate on specific EOI */
		chip_eoi_ir(c, level, value >> 5 == 7);
		break;
	case 4:
		c->rotate_on_auto_eoi = true;
		break;
	case 0:
		c->rotate_on_auto_eoi = false;
		break;
	case 6: /* set priority: `level` becomes the lowest */
		c->lowest_priority = (uint8_t)level;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void chip_ocw3(struct vpic_chip *c, uint8_t value)
{
	if (value & OCW3_POLL)
		c->poll = true;
	if ((value & OCW3_READ_IRR) == OCW3_READ_IRR)
		c->read_isr = value & 1;
	if ((value & OCW3_SMM) == OCW3_SET_SMM)
		c->special_mask = true;
	else if ((value & OCW3_SMM) == OCW3_RESET_SMM)
		c->special_mask = false;
}

static void chip_write(struct vpic_chip *c, bool a0, uint8_t value)
{
	if (!a0) {
		if (value & ICW1_INIT)
			chip_icw1(c, value);
		else if (value & OCW3_SELECT)
			chip_ocw3(c, value);
		else
			chip_ocw2(c, value);
		return;
	}
	switch (c->init_step) {
	case 2:
		/* x86 mode: the low three bits come from the IR number, 8259A ICW2 */
		c->vector_base = value & 0xf8;
		c->init_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = value;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = value & ICW4_AEOI;
		c->special_fully_nested = value & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = value; /* OCW1 */
		break;
	}
}

/* Poll command: the read acts as an INTA and returns 0x80 | IR, or 0 when nothing is pending, 8259A "Poll command" */
static uint8_t vpic_poll(struct vpic *pic, bool is_master)
{
	struct vpic_chip *c = is_master ? &pic->master : &pic->slave;
	int ir;

	c->poll = false;
	ir = chip_pending(c, is_master);
	if (ir < 0)
		return 0;
	chip_ack(c, (unsigned)ir);
	return (uint8_t)(0x80 | ir);
}

uint8_t vpic_read(struct vpic *pic, uint16_t port)
{
	struct vpic_chip *c;
	uint8_t value;

	switch (port) {
	case VPLAT_PIC_ELCR:
		return pic->master.elcr;
	case VPLAT_PIC_ELCR + 1:
		return pic->slave.elcr;
	case VPLAT_PIC_MASTER:
	case VPLAT_PIC_SLAVE:
		c = port == VPLAT_PIC_MASTER ? &pic->master : &pic->slave;
		if (c->poll) {
			value = vpic_poll(pic, c == &pic->master);
			vpic_update_cascade(pic);
			return value;
		}
		return c->read_isr ? c->isr : c->irr;
	case VPLAT_PIC_MASTER + 1:
		return pic->master.imr;
	case VPLAT_PIC_SLAVE + 1:
		return pic->slave.imr;
	default:
		return 0xff;
	}
}

void vpic_write(struct vpic *pic, uint16_t port, uint8_t value)
{
	switch (port) {
	case VPLAT_PIC_ELCR:
	case VPLAT_PIC_ELCR + 1: {
		struct vpic_chip *c = port == VPLAT_PIC_ELCR ? &pic->master : &pic->slave;

		c->elcr = value & c->elcr_mask;
		/* A level input's request follows its line */
		c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
		break;
	}
	case VPLAT_PIC_MASTER:
	case VPLAT_PIC_MASTER + 1:
		chip_write(&pic->master, port & 1, value);
		break;
	case VPLAT_PIC_SLAVE:
	case VPLAT_PIC_SLAVE + 1:
		chip_write(&pic->slave, port & 1, value);
		break;
	default:
		return;
	}
	vpic_update_cascade(pic);
}

void vpic_set_irq(struct vpic *pic, unsigned irq, bool level)
{
	if (irq >= 16 || irq == CASCADE_IR)
		return;
	if (irq < 8)
		chip_set_line(&pic->master, irq, level);
	else
		chip_set_line(&pic->slave, irq - 8, level);
	vpic_update_cascade(pic);
}

bool vpic_has_intr(const struct vpic *pic)
{
	return chip_pending(&pic->master, true) >= 0;
}

int vpic_ack(struct vpic *pic)
{
	int ir = chip_pending(&pic->master, true);
	int vector;

	if (ir < 0) {
		/* The request went away before INTA: the master answers IR7 without setting ISR, 8259A "Interrupt sequence" */
		pic->spurious++;
		return pic->master.vector_base | 7;
	}
	chip_ack(&pic->master, (unsigned)ir);
	if (ir == CASCADE_IR) {
		int sir = chip_pending(&pic->slave, false);

		if (sir < 0) {
			/* The master's IR2 stays in service; the guest EOIs it for a spurious IRQ 15 */
			pic->spurious++;
			vector = pic->slave.vector_base | 7;
		} else {
			chip_ack(&pic->slave, (unsigned)sir);
			vector = pic->slave.vector_base | sir;
		}
	} else {
		vector = pic->master.vector_base | ir;
	}
	vpic_update_cascade(pic);
	return vector;
}
