/* Virtual 8254 PIT (ports 0x40-0x43) and port 0x61 (channel 2 gate, speaker, OUT2), timed by the TSC. */
#ifndef CLOISON_VPIT_H
#define CLOISON_VPIT_H

#include <stdint.h>
#include <stdbool.h>

#define VPIT_HZ 1193182u

struct vpit_channel {
	uint8_t mode;          /* 0-5 (6 and 7 are written as 2 and 3) */
	uint8_t access;        /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	uint32_t count;        /* the programmed count, 1..0x10000 (0 means 0x10000) */
	bool loaded;           /* a count was written since the control word */
	bool armed;            /* counting from `count` (modes 1 and 5: since the gate's trigger) */
	bool gate;
	uint64_t start;        /* TSC at which the current counting stretch began */
	uint64_t base_ticks;   /* PIT ticks counted before `start` (the gate paused counting) */
	bool write_msb_next, read_msb_next;
	uint8_t write_lsb;
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
	bool null_count;       /* a count was written but is not yet in the counting element */
	uint64_t edges_reported, edges_carried; /* OUT rising edges already polled; from earlier programming */
};

struct vpit {
	struct vpit_channel ch[3];
	uint64_t tsc_hz;
	uint8_t port_b;        /* port 0x61 bits 0-3 as written */
	bool refresh_toggle;
};

/* Every channel idle (no count loaded, as if the firmware left the PIT stopped); gates 0 and 1
 * high, channel 2's gate low. @pre tsc_hz != 0 */
void vpit_init(struct vpit *pit, uint64_t tsc_hz);
/* Ports 0x40-0x43 and 0x61; others read 0xff and ignore writes. BCD counting is not supported:
 * the BCD bit of a control word is ignored and counts are binary. */
uint8_t vpit_read(struct vpit *pit, uint16_t port, uint64_t now);
void vpit_write(struct vpit *pit, uint16_t port, uint8_t value, uint64_t now);
/* Rising edges of OUT0 (IRQ 0) since the last poll; the integrator coalesces them. */
unsigned vpit_poll_irq0(struct vpit *pit, uint64_t now);
/* TSC of the next OUT0 rising edge not yet polled (in the past when one is pending), or UINT64_MAX. */
uint64_t vpit_next_event(const struct vpit *pit);
/* Current level of a channel's OUT pin. */
bool vpit_out(const struct vpit *pit, unsigned channel, uint64_t now);

#endif
