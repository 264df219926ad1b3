/* Virtual 8254: counting modes 0-5 from the TSC, access modes, latch and read-back, port 0x61. */
#include "drivers/virt/vpit.h"
#include "drivers/virt/vplatform.h"
#include "kernel/lib.h"

#define PIT_CONTROL 0x43
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_WRITABLE 0x0f
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2 0x20

#define ACCESS_LSB 1
#define ACCESS_MSB 2
#define ACCESS_WORD 3

/* Modes 1 and 5 count from a rising gate; the others count while the gate is high, 8254 "Gate" table */
static bool mode_gate_triggered(uint8_t mode)
{
	return mode == 1 || mode == 5;
}

static bool ch_counting(const struct vpit_channel *c)
{
	return c->armed && (c->gate || mode_gate_triggered(c->mode));
}

static uint64_t ch_elapsed(const struct vpit *pit, const struct vpit_channel *c, uint64_t now)
{
	uint64_t ticks = c->base_ticks;

	if (!c->armed)
		return 0;
	if (ch_counting(c) && now > c->start)
		ticks += vplat_tsc_to_ticks(now - c->start, pit->tsc_hz, VPIT_HZ);
	return ticks;
}

/* The counting element after `e` ticks, 8254 mode descriptions */
static uint16_t ch_count(const struct vpit_channel *c, uint64_t e)
{
	uint32_t n = c->count;
	uint32_t phase;

	if (!c->armed)
		return (uint16_t)n;
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - e % n);
	case 3:
		/* Mode 3 counts down by two, once through each half period */
		phase = (uint32_t)(e % n);
		if (phase >= (n + 1) / 2)
			phase -= (n + 1) / 2;
		return (uint16_t)((n & ~1u) - 2 * phase);
	default:
		/* Modes 0, 1, 4, 5 wrap past zero and keep counting, 8254 mode 0 */
		return (uint16_t)(n - e);
	}
}

static bool ch_out(const struct vpit_channel *c, uint64_t e)
{
	uint32_t n = c->count;

	if (!c->armed)
		return c->mode != 0; /* mode 0 drives OUT low from the control word on; the others high */
	switch (c->mode) {
	case 0:
	case 1:
		return e >= n;
	case 2:
		/* Low for the one clock at count 1 while the gate is high */
		return !c->gate || n < 2 || e % n != n - 1;
	case 3:
		return !c->gate || e % n < (n + 1) / 2;
	default:
		/* Modes 4 and 5: one low clock at terminal count */
		return e != n;
	}
}

/* OUT rising edges after `e` ticks of this programming */
static uint64_t ch_edges(const struct vpit_channel *c, uint64_t e)
{
	uint32_t n = c->count;

	if (!c->armed)
		return 0;
	switch (c->mode) {
	case 0:
	case 1:
		return e >= n;
	case 2:
	case 3:
		return n < 2 ? 0 : e / n;
	default:
		return e >= (uint64_t)n + 1;
	}
}

/* Tick of OUT's k-th rising edge (k >= 1), or UINT64_MAX when there is none */
static uint64_t ch_edge_tick(const struct vpit_channel *c, uint64_t k)
{
	uint32_t n = c->count;

	switch (c->mode) {
	case 0:
	case 1:
		return k == 1 ? n : UINT64_MAX;
	case 2:
	case 3:
		return n < 2 ? UINT64_MAX : k * n;
	default:
		return k == 1 ? (uint64_t)n + 1 : UINT64_MAX;
	}
}

/* Keeps channel 0's unpolled edges across reprogramming */
static void ch_carry_edges(struct vpit *pit, struct vpit_channel *c, uint64_t now)
{
	uint64_t edges = ch_edges(c, ch_elapsed(pit, c, now));

	if (edges > c->edges_reported)
		c->edges_carried += edges - c->edges_reported;
	c->edges_reported = 0;
}

static void ch_start(struct vpit_channel *c, uint64_t now)
{
	c->armed = true;
	c->base_ticks = 0;
	c->start = now;
}

static void ch_load(struct vpit *pit, struct vpit_channel *c, uint32_t value, uint64_t now)
{
	ch_carry_edges(pit, c, now);
	c->count = value ? value : 0x10000;
	c->loaded = true;
	c->null_count = false;
	/* A new count restarts modes 0, 2, 3, 4 at once (the model does not wait for the period's end) */
	if (mode_gate_triggered(c->mode))
		c->armed = false;
	else
		ch_start(c, now);
}

void vpit_init(struct vpit *pit, uint64_t tsc_hz)
{
	memset(pit, 0, sizeof(*pit));
	pit->tsc_hz = tsc_hz;
	for (unsigned i = 0; i < 3; i++) {
		pit->ch[i].access = ACCESS_WORD;
		pit->ch[i].count = 0x10000;
		pit->ch[i].gate = i != 2;
	}
}

/* Status byte for read-back: OUT, null count, access, mode, BCD (always 0), 8254 "Status byte" */
static uint8_t ch_status(const struct vpit *pit, const struct vpit_channel *c, uint64_t now)
{
	return (uint8_t)((ch_out(c, ch_elapsed(pit, c, now)) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
			 c->access << 4 | c->mode << 1);
}

static void ch_latch_count(const struct vpit *pit, struct vpit_channel *c, uint64_t now)
{
	/* A second latch before the first is read is ignored, 8254 "Counter latch command" */
	if (c->count_latched)
		return;
	c->latch = ch_count(c, ch_elapsed(pit, c, now));
	c->count_latched = true;
	c->read_msb_next = false;
}

static void vpit_read_back(struct vpit *pit, uint8_t value, uint64_t now)
{
	for (unsigned i = 0; i < 3; i++) {
		struct vpit_channel *c = &pit->ch[i];

		if (!(value & (2u << i)))
			continue;
		/* COUNT and STATUS are active low, 8254 "Read-back command" */
		if (!(value & 0x20))
			ch_latch_count(pit, c, now);
		if (!(value & 0x10) && !c->status_latched) {
			c->status = ch_status(pit, c, now);
			c->status_latched = true;
		}
	}
}

static void vpit_control(struct vpit *pit, uint8_t value, uint64_t now)
{
	struct vpit_channel *c;
	uint8_t access = (value >> 4) & 3;

	if ((value >> 6) == 3) {
		vpit_read_back(pit, value, now);
		return;
	}
	c = &pit->ch[value >> 6];
	if (access == 0) {
		ch_latch_count(pit, c, now);
		return;
	}
	ch_carry_edges(pit, c, now);
	c->mode = (value >> 1) & 7;
	if (c->mode >= 6)
		c->mode -= 4; /* modes 6 and 7 are 2 and 3, 8254 control word format */
	c->access = access;
	c->armed = false;
	c->loaded = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
	c->null_count = true;
}

static void ch_write(struct vpit *pit, struct vpit_channel *c, uint8_t value, uint64_t now)
{
	switch (c->access) {
	case ACCESS_LSB:
		ch_load(pit, c, value, now);
		break;
	case ACCESS_MSB:
		ch_load(pit, c, (uint32_t)value << 8, now);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = value;
			c->write_msb_next = true;
			/* In mode 0 the first byte stops the count and OUT goes low, 8254 mode 0 */
			if (c->mode == 0) {
				ch_carry_edges(pit, c, now);
				c->armed = false;
			}
			break;
		}
		c->write_msb_next = false;
		ch_load(pit, c, c->write_lsb | (uint32_t)value << 8, now);
		break;
	}
}

static uint8_t ch_read(struct vpit *pit, struct vpit_channel *c, uint64_t now)
{
	uint16_t value;
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	value = c->count_latched ? c->latch : ch_count(c, ch_elapsed(pit, c, now));
	switch (c->access) {
	case ACCESS_LSB:
		msb = false;
		c->count_latched = false;
		break;
	case ACCESS_MSB:
		msb = true;
		c->count_latched = false;
		break;
	default:
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
		if (msb)
			c->count_latched = false;
		break;
	}
	return (uint8_t)(msb ? value >> 8 : value);
}

/* Channel 2's gate: a rising edge triggers modes 1 and 5 and reloads 2 and 3; low pauses 0, 2, 3, 4 */
static void vpit_set_gate2(struct vpit *pit, bool gate, uint64_t now)
{
	struct vpit_channel *c = &pit->ch[2];

	if (gate == c->gate)
		return;
	if (!gate) {
		c->base_ticks = ch_elapsed(pit, c, now);
		c->gate = false;
		return;
	}
	c->gate = true;
	if (!c->loaded)
		return;
	if (mode_gate_triggered(c->mode) || c->mode == 2 || c->mode == 3) {
		ch_carry_edges(pit, c, now);
		ch_start(c, now);
	} else {
		c->start = now;
	}
}

uint8_t vpit_read(struct vpit *pit, uint16_t port, uint64_t now)
{
	uint8_t value;

	switch (port) {
	case VPLAT_PIT_BASE:
	case VPLAT_PIT_BASE + 1:
	case VPLAT_PIT_BASE + 2:
		return ch_read(pit, &pit->ch[port - VPLAT_PIT_BASE], now);
	case VPLAT_PORT_B:
		/* Bit 4 toggles with each read like the DRAM refresh request; software waits on it */
		pit->refresh_toggle = !pit->refresh_toggle;
		value = pit->port_b | (pit->refresh_toggle ? PORT_B_REFRESH : 0);
		if (vpit_out(pit, 2, now))
			value |= PORT_B_OUT2;
		return value;
	default:
		/* The control port is write-only */
		return 0xff;
	}
}

void vpit_write(struct vpit *pit, uint16_t port, uint8_t value, uint64_t now)
{
	switch (port) {
	case VPLAT_PIT_BASE:
	case VPLAT_PIT_BASE + 1:
	case VPLAT_PIT_BASE + 2:
		ch_write(pit, &pit->ch[port - VPLAT_PIT_BASE], value, now);
		break;
	case PIT_CONTROL:
		vpit_control(pit, value, now);
		break;
	case VPLAT_PORT_B:
		pit->port_b = value & PORT_B_WRITABLE;
		vpit_set_gate2(pit, value & PORT_B_GATE2, now);
		break;
	default:
		break;
	}
}

bool vpit_out(const struct vpit *pit, unsigned channel, uint64_t now)
{
	const struct vpit_channel *c;

	if (channel > 2)
		return false;
	c = &pit->ch[channel];
	return ch_out(c, ch_elapsed(pit, c, now));
}

unsigned vpit_poll_irq0(struct vpit *pit, uint64_t now)
{
	struct vpit_channel *c = &pit->ch[0];
	uint64_t edges = ch_edges(c, ch_elapsed(pit, c, now));
	uint64_t fresh = c->edges_carried;

	if (edges > c->edges_reported)
		fresh += edges - c->edges_reported;
	c->edges_reported = MAX(edges, c->edges_reported);
	c->edges_carried = 0;
	return fresh > UINT32_MAX ? UINT32_MAX : (unsigned)fresh;
}

uint64_t vpit_next_event(const struct vpit *pit)
{
	const struct vpit_channel *c = &pit->ch[0];
	uint64_t tick;

	if (c->edges_carried)
		return 0;
	if (!ch_counting(c))
		return UINT64_MAX;
	tick = ch_edge_tick(c, c->edges_reported + 1);
	if (tick == UINT64_MAX)
		return UINT64_MAX;
	if (tick <= c->base_ticks)
		return c->start;
	return c->start + vplat_ticks_to_tsc(tick - c->base_ticks, pit->tsc_hz, VPIT_HZ);
}
