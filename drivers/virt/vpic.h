/* Virtual 8259A pair (master at 0x20, slave at 0xa0 cascaded on master IR2) with the ELCR. */
#ifndef CLOISON_VPIC_H
#define CLOISON_VPIC_H

#include <stdint.h>
#include <stdbool.h>

struct vpic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;        /* input levels as last driven (edge detection; level-mode requests) */
	uint8_t elcr;         /* 1 = level-triggered input (ELCR at 0x4d0/0x4d1) */
	uint8_t elcr_mask;    /* ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are always edge */
	uint8_t vector_base;  /* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t init_step;    /* 0 ready; 2, 3, 4: the ICW expected next */
	bool icw4_needed, single, level_mode /* ICW1 LTIM */;
	bool auto_eoi, rotate_on_auto_eoi, special_fully_nested, special_mask;
	bool read_isr, poll;
	uint8_t lowest_priority; /* the IR with the lowest priority; IR7 after initialisation */
};

struct vpic {
	struct vpic_chip master, slave;
	uint64_t spurious; /* INTA cycles answered with IR7 because the request vanished */
};

/* Power-on: both chips masked (IMR 0xff), vector bases 0x08 and 0x70 as a BIOS leaves them, all edge. */
void vpic_init(struct vpic *pic);
/* Ports 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1; anything else reads 0xff and ignores writes. */
uint8_t vpic_read(struct vpic *pic, uint16_t port);
void vpic_write(struct vpic *pic, uint16_t port, uint8_t value);
/* Drives ISA IRQ `irq` (0-15; IRQ 2 is the cascade and is ignored, as are others). */
void vpic_set_irq(struct vpic *pic, unsigned irq, bool level);
/* The master's INTR output: an unmasked request outranks what is in service. */
bool vpic_has_intr(const struct vpic *pic);
/* The INTA cycle: returns the vector to deliver (IRR -> ISR, cascade handled, spurious IR7/IR15). */
int vpic_ack(struct vpic *pic);

#endif
