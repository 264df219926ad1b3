/* Virtual local APIC: registers, priorities, timer and IPIs of one vCPU's APIC (SDM Vol. 3A ch. 11). */
#include "drivers/virt/vlapic.h"
#include "kernel/lib.h"

#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_WRITABLE 0x000ccfffu  /* vector, mode, dest mode, level, trigger, shorthand; 11.6.1 */
#define LVT_DELIVERY_STATUS (1u << 12)
#define LVT_REMOTE_IRR (1u << 14)
#define LVT_LEVEL (1u << 15)
#define SVR_WRITABLE 0x3ffu       /* vector, enable, focus check; bit 12 not offered, 11.9 */
#define DCR_WRITABLE 0xbu         /* bits 0, 1, 3, SDM Vol. 3A 11.5.4 Figure 11-10 */
#define DFR_MODEL_FLAT 0xfu
#define DFR_MODEL_CLUSTER 0x0u

enum timer_mode { TIMER_ONE_SHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE, TIMER_RESERVED };

/* What an access found, for the xAPIC (ignore) and x2APIC (#GP) front ends to act on. */
enum access { ACC_OK, ACC_RESERVED, ACC_READ_ONLY, ACC_WRITE_ONLY, ACC_BAD_BITS };

/* Writable bits of each LVT, SDM Vol. 3A 11.5.1 Figure 11-8; delivery status reads as idle. */
static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
	[VLAPIC_LVT_TIMER] = 0x000700ff,   /* vector, mask, timer mode 18:17 */
	[VLAPIC_LVT_THERMAL] = 0x000107ff, /* vector, delivery mode, mask */
	[VLAPIC_LVT_PERF] = 0x000107ff,
	[VLAPIC_LVT_LINT0] = 0x0001a7ff,   /* + polarity 13, trigger 15; remote IRR 14 is read-only */
	[VLAPIC_LVT_LINT1] = 0x0001a7ff,
	[VLAPIC_LVT_ERROR] = 0x000100ff,
};

static void vec_set(uint32_t *bits, unsigned vec) { bits[vec >> 5] |= 1u << (vec & 31); }
static void vec_clear(uint32_t *bits, unsigned vec) { bits[vec >> 5] &= ~(1u << (vec & 31)); }
static bool vec_test(const uint32_t *bits, unsigned vec) { return (bits[vec >> 5] >> (vec & 31)) & 1; }

static int vec_highest(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

/* floor or ceil of a * b / c with a 128-bit product; UINT64_MAX when the quotient does not fit. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c, bool round_up)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p, q, r;

	if (hi == 0) {
		q = lo / c;
		r = lo % c;
	} else if (hi >= c) {
		return UINT64_MAX;
	} else { /* restoring long division of hi:lo by c, one quotient bit at a time */
		q = 0;
		r = hi;
		for (int i = 63; i >= 0; i--) {
			bool carry = r >> 63;

			r = (r << 1) | ((lo >> i) & 1);
			q <<= 1;
			if (carry || r >= c) {
				r -= c;
				q |= 1;
			}
		}
	}
	if (round_up && r && q != UINT64_MAX)
		q++;
	return q;
}

bool vlapic_enabled(const struct vlapic *v) { return (v->apic_base & VLAPIC_BASE_EN) != 0; }
bool vlapic_x2apic(const struct vlapic *v) { return vlapic_enabled(v) && (v->apic_base & VLAPIC_BASE_EXTD); }
static bool xapic_mode(const struct vlapic *v) { return vlapic_enabled(v) && !(v->apic_base & VLAPIC_BASE_EXTD); }
static bool sw_enabled(const struct vlapic *v) { return (v->svr & VLAPIC_SVR_ENABLE) != 0; }

/* Logical x2APIC ID: cluster in 31:16, one bit of 16 in 15:0, SDM Vol. 3A 11.12.10.2 */
static uint32_t x2apic_ldr(uint32_t id) { return ((id >> 4) << 16) | (1u << (id & 15)); }

/* PPR = TPR if its class is at least the highest in-service class, else that class, 11.8.3.1 */
static void update_ppr(struct vlapic *v)
{
	int isrv = vec_highest(v->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	v->ppr = (v->tpr & 0xf0) >= isr_class ? v->tpr & 0xff : isr_class;
}

/* APR for lowest-priority arbitration, SDM Vol. 3A 11.6.2.4 */
static uint32_t compute_apr(const struct vlapic *v)
{
	int irrv = vec_highest(v->irr), isrv = vec_highest(v->isr);
	uint32_t tpr = v->tpr & 0xf0, irr = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
	uint32_t isr = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	if (tpr >= irr && tpr > isr)
		return v->tpr & 0xff;
	return MAX(tpr, MAX(isr, irr));
}

static enum timer_mode timer_mode(const struct vlapic *v)
{
	return (enum timer_mode)((v->lvt[VLAPIC_LVT_TIMER] >> 17) & 3);
}

static bool timer_periodic(const struct vlapic *v) { return timer_mode(v) == TIMER_PERIODIC; }

static void timer_disarm(struct vlapic *v)
{
	v->timer_armed = false;
	v->timer_initial = 0;
	v->tsc_deadline = 0;
}

/* Divide configuration 0b000 = 2 ... 0b110 = 128, 0b111 = 1, SDM Vol. 3A 11.5.4 Figure 11-10 */
static unsigned divide_shift(uint32_t dcr) { return (((dcr & 3) | ((dcr >> 1) & 4)) + 1) & 7; }

/* Timer counts elapsed since timer_start. */
static uint64_t timer_elapsed(const struct vlapic *v, uint64_t now)
{
	if (now <= v->timer_start)
		return 0;
	return mul_div(now - v->timer_start, v->timer_hz, v->tsc_hz << v->timer_divide_shift, false);
}

/* Counts from timer_start to expiry n (1-based): the start count, then whole periods. */
static uint64_t timer_threshold(const struct vlapic *v, uint64_t n)
{
	return v->timer_start_count + (n - 1) * (uint64_t)v->timer_initial;
}

/* First TSC tick at which timer_elapsed() reaches `counts`. */
static uint64_t timer_tsc_at(const struct vlapic *v, uint64_t counts)
{
	uint64_t delta = mul_div(counts << v->timer_divide_shift, v->tsc_hz, v->timer_hz, true);

	return delta > UINT64_MAX - v->timer_start ? UINT64_MAX : v->timer_start + delta;
}

static uint32_t timer_current(const struct vlapic *v, uint64_t now)
{
	uint64_t e;

	if (!v->timer_armed || timer_mode(v) == TIMER_TSC_DEADLINE)
		return 0;
	e = timer_elapsed(v, now);
	if (e < v->timer_start_count)
		return (uint32_t)(v->timer_start_count - e);
	if (!timer_periodic(v))
		return 0;
	return v->timer_initial - (uint32_t)((e - v->timer_start_count) % v->timer_initial);
}

static void set_error(struct vlapic *v, uint32_t bits);

/* A fixed interrupt reaches IRR; vectors 0-15 are refused with an ESR bit, 11.5.3 */
static void accept_fixed(struct vlapic *v, uint8_t vector, bool level)
{
	if (vector < 16) {
		set_error(v, VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	vec_set(v->irr, vector);
	if (level)
		vec_set(v->tmr, vector);
	else
		vec_clear(v->tmr, vector);
}

/* A local interrupt through its LVT entry, SDM Vol. 3A 11.5.1; timer and error are always fixed. */
static bool lvt_deliver(struct vlapic *v, enum vlapic_lvt idx)
{
	uint32_t lvt = v->lvt[idx];
	unsigned mode = (lvt >> 8) & 7;

	if (lvt & VLAPIC_LVT_MASKED)
		return false;
	if (idx == VLAPIC_LVT_TIMER || idx == VLAPIC_LVT_ERROR)
		mode = APIC_DM_FIXED;
	switch (mode) {
	case APIC_DM_FIXED:
		accept_fixed(v, (uint8_t)lvt, false);
		return (lvt & 0xff) >= 16;
	case APIC_DM_NMI:
		v->nmi_pending = true;
		return true;
	case APIC_DM_INIT:
		v->init_pending = true;
		return true;
	case APIC_DM_EXTINT:
		v->extint_pending = true;
		return true;
	default: /* SMI: no SMM here */
		return false;
	}
}

/* New error bits raise the LVT error interrupt once; an illegal error vector stops at depth 2. */
static void set_error(struct vlapic *v, uint32_t bits)
{
	uint32_t fresh = bits & ~v->esr_pending;

	v->esr_pending |= bits;
	if (fresh)
		lvt_deliver(v, VLAPIC_LVT_ERROR);
}

static void timer_fire(struct vlapic *v)
{
	if (lvt_deliver(v, VLAPIC_LVT_TIMER))
		v->timer_fired++;
}

void vlapic_tick(struct vlapic *v, uint64_t now)
{
	uint64_t e, total;

	if (!vlapic_enabled(v))
		return;
	v->timer_due = vlapic_next_event(v); /* kept only when the timer fires below */
	if (timer_mode(v) == TIMER_TSC_DEADLINE) {
		/* Fires when TSC >= deadline, then disarms and clears the MSR, 11.5.4.1 */
		if (v->tsc_deadline && now >= v->tsc_deadline) {
			v->tsc_deadline = 0;
			timer_fire(v);
		}
		return;
	}
	if (!v->timer_armed)
		return;
	e = timer_elapsed(v, now);
	if (e < v->timer_start_count)
		return;
	if (!timer_periodic(v)) {
		v->timer_armed = false; /* one-shot: the count stays at 0 */
		timer_fire(v);
		return;
	}
	total = 1 + (e - v->timer_start_count) / v->timer_initial;
	if (total > v->timer_periods) { /* missed periods coalesce into one interrupt */
		v->timer_periods = total;
		timer_fire(v);
	}
}

uint64_t vlapic_next_event(const struct vlapic *v)
{
	if (!vlapic_enabled(v) || (v->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_MASKED))
		return UINT64_MAX;
	if (timer_mode(v) == TIMER_TSC_DEADLINE)
		return v->tsc_deadline ? v->tsc_deadline : UINT64_MAX;
	if (!v->timer_armed)
		return UINT64_MAX;
	return timer_tsc_at(v, timer_threshold(v, timer_periodic(v) ? v->timer_periods + 1 : 1));
}

/* Keep counting from the current count under a new divisor, 11.5.4 */
static void timer_rebase(struct vlapic *v, uint64_t now)
{
	if (!v->timer_armed)
		return;
	v->timer_start_count = timer_current(v, now);
	v->timer_start = now;
	v->timer_periods = 0;
}

__attribute__((cold)) static void reset_registers(struct vlapic *v)
{
	v->tpr = v->ppr = 0;
	v->ldr = vlapic_x2apic(v) ? x2apic_ldr(v->apic_id) : 0;
	v->dfr = 0xffffffff;
	v->svr = 0xff;
	memset(v->isr, 0, sizeof(v->isr));
	memset(v->tmr, 0, sizeof(v->tmr));
	memset(v->irr, 0, sizeof(v->irr));
	memset(v->eoi_level, 0, sizeof(v->eoi_level));
	v->esr = v->esr_pending = 0;
	v->icr_low = v->icr_high = 0;
	for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
		v->lvt[i] = VLAPIC_LVT_MASKED;
	timer_disarm(v);
	v->timer_divide_reg = 0;
	v->timer_divide_shift = divide_shift(0);
	v->timer_start = v->timer_periods = 0;
	v->timer_start_count = 0;
}

__attribute__((cold)) void vlapic_init(struct vlapic *v, uint32_t apic_id, bool bsp, uint64_t tsc_hz, uint64_t timer_hz)
{
	memset(v, 0, sizeof(*v));
	v->apic_id = apic_id;
	v->tsc_hz = MIN(MAX(tsc_hz, 1), 1ull << 56); /* tsc_hz << divide shift must fit */
	v->timer_hz = MAX(timer_hz, 1);
	v->x2apic_supported = true;
	v->maxphyaddr = 39;
	/* Enabled, xAPIC mode, base 0xfee00000 after reset, SDM Vol. 3A 11.4.4 */
	v->apic_base = VPLAT_LAPIC_BASE | VLAPIC_BASE_EN | (bsp ? VLAPIC_BASE_BSP : 0);
	reset_registers(v);
}

__attribute__((cold)) void vlapic_init_signal(struct vlapic *v)
{
	reset_registers(v);
	v->init_pending = v->nmi_pending = v->extint_pending = false;
}

/* A level-triggered LINT with delivery mode fixed is re-sent after EOI while still asserted. */
static void lint_evaluate(struct vlapic *v, unsigned lint, bool rising)
{
	enum vlapic_lvt idx = lint ? VLAPIC_LVT_LINT1 : VLAPIC_LVT_LINT0;
	uint32_t lvt = v->lvt[idx];
	unsigned mode = (lvt >> 8) & 7;
	bool asserted = v->lint_asserted[lint], masked = (lvt & VLAPIC_LVT_MASKED) != 0;

	if (mode == APIC_DM_EXTINT) { /* ExtINT is always level-sensitive, 11.5.1 */
		v->extint_pending = asserted && !masked;
	} else if (mode == APIC_DM_FIXED && (lvt & LVT_LEVEL)) {
		if (asserted && !masked && !(lvt & LVT_REMOTE_IRR)) {
			v->lvt[idx] |= LVT_REMOTE_IRR;
			accept_fixed(v, (uint8_t)lvt, true);
		}
	} else if (rising) { /* NMI, INIT and edge-triggered fixed */
		lvt_deliver(v, idx);
	}
}

void vlapic_set_lint(struct vlapic *v, unsigned lint, bool asserted)
{
	bool rising;

	if (lint > 1)
		return;
	rising = asserted && !v->lint_asserted[lint];
	v->lint_asserted[lint] = asserted;
	if (!vlapic_enabled(v)) { /* no APIC: LINT0 is INTR, LINT1 is NMI, 11.4.3 */
		if (lint == 0)
			v->extint_pending = asserted;
		else if (rising)
			v->nmi_pending = true;
		return;
	}
	lint_evaluate(v, lint, rising);
}

static void do_eoi(struct vlapic *v)
{
	int vec = vec_highest(v->isr);

	if (vec < 0)
		return;
	vec_clear(v->isr, (unsigned)vec);
	if (vec_test(v->tmr, (unsigned)vec)) /* broadcast to the I/O APICs, 11.8.5 */
		vec_set(v->eoi_level, (unsigned)vec);
	update_ppr(v);
	for (unsigned lint = 0; lint < 2; lint++) {
		uint32_t *lvt = &v->lvt[VLAPIC_LVT_LINT0 + lint];

		if ((*lvt & LVT_REMOTE_IRR) && (*lvt & 0xff) == (uint32_t)vec) {
			*lvt &= ~LVT_REMOTE_IRR;
			lint_evaluate(v, lint, false);
		}
	}
}

/* After a mask or mode change: the level-sensitive LINT inputs say again what they assert. */
static void lint_refresh(struct vlapic *v)
{
	if (!vlapic_enabled(v)) {
		v->extint_pending = v->lint_asserted[0];
		return;
	}
	lint_evaluate(v, 0, false);
	lint_evaluate(v, 1, false);
}

static void write_svr(struct vlapic *v, uint32_t value)
{
	v->svr = value & SVR_WRITABLE;
	if (!sw_enabled(v)) /* software disable masks every LVT, 11.4.7.2 */
		for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
			v->lvt[i] |= VLAPIC_LVT_MASKED;
	lint_refresh(v);
}

static void write_lvt(struct vlapic *v, enum vlapic_lvt idx, uint32_t value)
{
	uint32_t old = v->lvt[idx], val = value & lvt_writable[idx];

	if (!sw_enabled(v)) /* masks cannot be cleared while software-disabled, 11.4.7.2 */
		val |= VLAPIC_LVT_MASKED;
	if ((idx == VLAPIC_LVT_LINT0 || idx == VLAPIC_LVT_LINT1) && (val & LVT_LEVEL))
		val |= old & LVT_REMOTE_IRR;
	v->lvt[idx] = val;
	if (idx == VLAPIC_LVT_TIMER && ((old ^ val) >> 17) & 3)
		timer_disarm(v); /* a timer mode change disarms the timer, 11.5.4.1 */
	if (idx == VLAPIC_LVT_LINT0 || idx == VLAPIC_LVT_LINT1)
		lint_evaluate(v, idx - VLAPIC_LVT_LINT0, false);
}

static void enqueue_ipi(struct vlapic *v, const struct apic_msg *m)
{
	if (v->ipi_count == VLAPIC_IPI_QUEUE) {
		v->ipi_dropped++;
		return;
	}
	v->ipi[(v->ipi_head + v->ipi_count++) % VLAPIC_IPI_QUEUE] = *m;
}

/* An ICR write sends, SDM Vol. 3A 11.6.1 (xAPIC) and 11.12.9 (x2APIC). */
static void send_ipi(struct vlapic *v)
{
	uint32_t low = v->icr_low;
	struct apic_msg m = {
		.vector = (uint8_t)low,
		.delivery = (uint8_t)((low >> 8) & 7),
		.shorthand = (uint8_t)((low >> 18) & 3),
		.dest_logical = (low & ICR_LOGICAL) != 0,
		.level = (low & ICR_LEVEL) != 0,
		.dest = vlapic_x2apic(v) ? v->icr_high : v->icr_high >> 24,
		.source_apic_id = v->apic_id,
	};

	if (m.delivery == 3 || m.delivery == APIC_DM_EXTINT) /* reserved in the ICR */
		return;
	m.assert = !(m.delivery == APIC_DM_INIT && m.level && !(low & ICR_ASSERT));
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		set_error(v, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (m.shorthand == APIC_DEST_SELF) { /* fixed only, delivered here and now */
		if (m.delivery == APIC_DM_FIXED)
			vlapic_accept(v, &m);
		return;
	}
	enqueue_ipi(v, &m);
}

bool vlapic_take_ipi(struct vlapic *v, struct apic_msg *out)
{
	if (v->ipi_count == 0)
		return false;
	*out = v->ipi[v->ipi_head];
	v->ipi_head = (v->ipi_head + 1) % VLAPIC_IPI_QUEUE;
	v->ipi_count--;
	return true;
}

/* The registers both modes share, by xAPIC offset (Table 11-1). */
static enum access reg_read(struct vlapic *v, uint32_t off, uint64_t now, uint32_t *out)
{
	*out = 0;
	if (off >= VLAPIC_REG_ISR && off < VLAPIC_REG_IRR + 0x80) {
		const uint32_t *bank = off < VLAPIC_REG_TMR ? v->isr : off < VLAPIC_REG_IRR ? v->tmr : v->irr;

		*out = bank[(off >> 4) & 7];
		return ACC_OK;
	}
	if (off >= VLAPIC_REG_LVT_TIMER && off <= VLAPIC_REG_LVT_ERROR) {
		*out = v->lvt[(off - VLAPIC_REG_LVT_TIMER) >> 4];
		return ACC_OK;
	}
	switch (off) {
	case VLAPIC_REG_VERSION: *out = VLAPIC_VERSION; return ACC_OK;
	case VLAPIC_REG_TPR: *out = v->tpr; return ACC_OK;
	case VLAPIC_REG_PPR: *out = v->ppr; return ACC_OK;
	case VLAPIC_REG_EOI: return ACC_WRITE_ONLY;
	case VLAPIC_REG_LDR: *out = v->ldr; return ACC_OK;
	case VLAPIC_REG_SVR: *out = v->svr; return ACC_OK;
	case VLAPIC_REG_ESR: *out = v->esr; return ACC_OK;
	case VLAPIC_REG_ICR_LOW: *out = v->icr_low; return ACC_OK; /* delivery status: idle */
	case VLAPIC_REG_TIMER_INITIAL: *out = v->timer_initial; return ACC_OK;
	case VLAPIC_REG_TIMER_CURRENT: *out = timer_current(v, now); return ACC_OK;
	case VLAPIC_REG_TIMER_DIVIDE: *out = v->timer_divide_reg; return ACC_OK;
	default: return ACC_RESERVED;
	}
}

/* x2APIC: bits outside `defined` are reserved and #GP when set, SDM Vol. 3A 11.12.1.3 */
static bool bad_bits(bool strict, uint32_t value, uint32_t defined) { return strict && (value & ~defined); }

static enum access reg_write(struct vlapic *v, uint32_t off, uint32_t value, uint64_t now, bool strict)
{
	if (off >= VLAPIC_REG_ISR && off < VLAPIC_REG_IRR + 0x80)
		return ACC_READ_ONLY;
	if (off >= VLAPIC_REG_LVT_TIMER && off <= VLAPIC_REG_LVT_ERROR) {
		enum vlapic_lvt idx = (enum vlapic_lvt)((off - VLAPIC_REG_LVT_TIMER) >> 4);
		uint32_t ro = LVT_DELIVERY_STATUS | (lvt_writable[idx] & LVT_LEVEL ? LVT_REMOTE_IRR : 0);

		if (bad_bits(strict, value, lvt_writable[idx] | ro))
			return ACC_BAD_BITS;
		write_lvt(v, idx, value);
		return ACC_OK;
	}
	switch (off) {
	case VLAPIC_REG_VERSION:
	case VLAPIC_REG_PPR:
	case VLAPIC_REG_TIMER_CURRENT:
		return ACC_READ_ONLY;
	case VLAPIC_REG_TPR:
		if (bad_bits(strict, value, 0xff))
			return ACC_BAD_BITS;
		vlapic_set_tpr(v, value);
		return ACC_OK;
	case VLAPIC_REG_EOI:
		if (strict && value) /* WRMSR of a non-zero value #GPs, Table 11-6 */
			return ACC_BAD_BITS;
		do_eoi(v);
		return ACC_OK;
	case VLAPIC_REG_SVR:
		if (bad_bits(strict, value, SVR_WRITABLE))
			return ACC_BAD_BITS;
		write_svr(v, value);
		return ACC_OK;
	case VLAPIC_REG_ESR: /* a write latches the errors seen since the last one, 11.5.3 */
		if (strict && value)
			return ACC_BAD_BITS;
		v->esr = v->esr_pending;
		v->esr_pending = 0;
		return ACC_OK;
	case VLAPIC_REG_TIMER_INITIAL:
		if (timer_mode(v) == TIMER_TSC_DEADLINE) /* ignored in TSC-deadline mode, 11.5.4.1 */
			return ACC_OK;
		v->timer_initial = value;
		v->timer_armed = value != 0; /* a write of 0 stops the timer, 11.5.4 */
		v->timer_start = now;
		v->timer_start_count = value;
		v->timer_periods = 0;
		return ACC_OK;
	case VLAPIC_REG_TIMER_DIVIDE:
		if (bad_bits(strict, value, DCR_WRITABLE))
			return ACC_BAD_BITS;
		timer_rebase(v, now);
		v->timer_divide_reg = value & DCR_WRITABLE;
		v->timer_divide_shift = divide_shift(value);
		return ACC_OK;
	default:
		return ACC_RESERVED;
	}
}

uint32_t vlapic_mmio_read(struct vlapic *v, uint32_t offset, uint64_t now)
{
	uint32_t value;

	if (!xapic_mode(v) || (offset & 0xf) || offset > 0xff0)
		return 0;
	vlapic_tick(v, now);
	switch (offset) {
	case VLAPIC_REG_ID: return (v->apic_id & 0xff) << 24;
	case VLAPIC_REG_APR: return compute_apr(v);
	case VLAPIC_REG_DFR: return v->dfr;
	case VLAPIC_REG_ICR_HIGH: return v->icr_high;
	}
	if (reg_read(v, offset, now, &value) == ACC_RESERVED)
		set_error(v, VLAPIC_ESR_ILLEGAL_REGISTER); /* 11.5.3 */
	return value;
}

void vlapic_mmio_write(struct vlapic *v, uint32_t offset, uint32_t value, uint64_t now)
{
	if (!xapic_mode(v) || (offset & 0xf) || offset > 0xff0)
		return;
	vlapic_tick(v, now);
	switch (offset) {
	case VLAPIC_REG_ID: /* read-only here: the platform routes by the ID it assigned */
	case VLAPIC_REG_APR:
		return;
	case VLAPIC_REG_LDR:
		v->ldr = value & 0xff000000;
		return;
	case VLAPIC_REG_DFR: /* only the model, bits 31:28, is writable */
		v->dfr = value | 0x0fffffff;
		return;
	case VLAPIC_REG_ICR_HIGH:
		v->icr_high = value & 0xff000000;
		return;
	case VLAPIC_REG_ICR_LOW:
		v->icr_low = value & ICR_WRITABLE;
		send_ipi(v);
		return;
	}
	if (reg_write(v, offset, value, now, false) == ACC_RESERVED)
		set_error(v, VLAPIC_ESR_ILLEGAL_REGISTER);
}

/* MSR 0x800 + n is the register at xAPIC offset n * 16, SDM Vol. 3A 11.12.1.2 */
int vlapic_msr_read(struct vlapic *v, uint32_t msr, uint64_t *value, uint64_t now)
{
	uint32_t off = (msr - VLAPIC_MSR_FIRST) << 4, low;

	*value = 0;
	if (!vlapic_x2apic(v) || msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST)
		return -E_INVAL;
	vlapic_tick(v, now);
	switch (off) {
	case VLAPIC_REG_ID:
		*value = v->apic_id;
		return 0;
	case VLAPIC_REG_ICR_LOW: /* one 64-bit register, 11.12.9 */
		*value = (uint64_t)v->icr_high << 32 | v->icr_low;
		return 0;
	case VLAPIC_REG_APR: /* no APR, DFR, ICR high or remote read in x2APIC mode */
	case VLAPIC_REG_DFR:
	case VLAPIC_REG_ICR_HIGH:
		return -E_INVAL;
	}
	if (reg_read(v, off, now, &low) != ACC_OK)
		return -E_INVAL;
	*value = low;
	return 0;
}

int vlapic_msr_write(struct vlapic *v, uint32_t msr, uint64_t value, uint64_t now)
{
	uint32_t off = (msr - VLAPIC_MSR_FIRST) << 4, low = (uint32_t)value;

	if (!vlapic_x2apic(v) || msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST)
		return -E_INVAL;
	vlapic_tick(v, now);
	if (off == VLAPIC_REG_ICR_LOW) {
		if (low & ~ICR_WRITABLE) /* delivery status is gone in x2APIC mode, 11.12.9 */
			return -E_INVAL;
		v->icr_low = low;
		v->icr_high = (uint32_t)(value >> 32);
		send_ipi(v);
		return 0;
	}
	if (value >> 32) /* the upper half of every other x2APIC MSR is reserved, 11.12.1.2 */
		return -E_INVAL;
	switch (off) {
	case VLAPIC_REG_ID:
	case VLAPIC_REG_LDR:
	case VLAPIC_REG_APR:
	case VLAPIC_REG_DFR:
	case VLAPIC_REG_ICR_HIGH:
		return -E_INVAL;
	case VLAPIC_REG_SELF_IPI: { /* 11.12.11 */
		struct apic_msg m = { .vector = (uint8_t)low, .delivery = APIC_DM_FIXED, .assert = true,
				      .shorthand = APIC_DEST_SELF, .source_apic_id = v->apic_id };

		if (low & ~0xffu)
			return -E_INVAL;
		if (m.vector < 16)
			set_error(v, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
		else
			vlapic_accept(v, &m);
		return 0;
	}
	}
	return reg_write(v, off, low, now, true) == ACC_OK ? 0 : -E_INVAL;
}

/* Legal IA32_APIC_BASE transitions: xAPIC <-> disabled <-> x2APIC, xAPIC -> x2APIC, 11.12.5 */
__attribute__((cold)) int vlapic_set_base(struct vlapic *v, uint64_t value)
{
	uint64_t reserved = 0x2ffull | (v->maxphyaddr < 64 ? ~0ull << v->maxphyaddr : 0);
	bool en = value & VLAPIC_BASE_EN, x2 = value & VLAPIC_BASE_EXTD;
	bool was_en = vlapic_enabled(v), was_x2 = vlapic_x2apic(v);

	if ((value & reserved) || (x2 && !v->x2apic_supported) || (x2 && !en))
		return -E_INVAL;
	if ((was_x2 && en && !x2) || (!was_en && x2))
		return -E_INVAL;
	/* BSP is the platform's to say; a guest write does not move it. */
	v->apic_base = (value & ~VLAPIC_BASE_BSP) | (v->apic_base & VLAPIC_BASE_BSP);
	if (was_en && !en)
		reset_registers(v); /* disabled: back to the power-up state, ID kept */
	else if (!was_x2 && x2)
		v->ldr = x2apic_ldr(v->apic_id);
	if (!was_en && en) /* LINT0 stops being INTR */
		v->extint_pending = false;
	lint_refresh(v);
	return 0;
}

uint64_t vlapic_get_base(const struct vlapic *v) { return v->apic_base; }

uint64_t vlapic_mmio_base(const struct vlapic *v)
{
	uint64_t limit = v->maxphyaddr < 64 ? (1ull << v->maxphyaddr) - 1 : ~0ull;

	return v->apic_base & VLAPIC_BASE_ADDR_MASK & limit;
}

uint64_t vlapic_read_tsc_deadline(const struct vlapic *v)
{
	return vlapic_enabled(v) && timer_mode(v) == TIMER_TSC_DEADLINE ? v->tsc_deadline : 0;
}

void vlapic_write_tsc_deadline(struct vlapic *v, uint64_t value, uint64_t now)
{
	if (!vlapic_enabled(v) || timer_mode(v) != TIMER_TSC_DEADLINE)
		return; /* ignored in the other modes, 11.5.4.1 */
	v->tsc_deadline = value;
	vlapic_tick(v, now); /* a deadline already past fires at once */
}

void vlapic_accept(struct vlapic *v, const struct apic_msg *m)
{
	if (!vlapic_enabled(v))
		return;
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (sw_enabled(v)) /* a software-disabled APIC takes no fixed interrupts, 11.4.7.2 */
			accept_fixed(v, m->vector, m->level);
		break;
	case APIC_DM_NMI:
		v->nmi_pending = true;
		break;
	case APIC_DM_INIT:
		if (m->assert) /* INIT level de-assert does nothing on current CPUs, 11.6.1 */
			v->init_pending = true;
		break;
	case APIC_DM_STARTUP:
		v->sipi_vector = m->vector;
		v->sipi_pending = true;
		break;
	case APIC_DM_EXTINT:
		v->extint_pending = true;
		break;
	default: /* SMI and reserved modes */
		break;
	}
}

bool vlapic_match_dest(const struct vlapic *v, uint32_t dest, bool logical)
{
	uint32_t mda = dest & 0xff, model = v->dfr >> 28;

	if (!vlapic_enabled(v))
		return false;
	if (vlapic_x2apic(v)) { /* 11.12.10 */
		if (dest == 0xffffffff)
			return true;
		if (!logical)
			return dest == v->apic_id;
		return (dest >> 16) == (v->ldr >> 16) && (dest & v->ldr & 0xffff) != 0;
	}
	if (mda == 0xff) /* broadcast, physical and logical, 11.6.2 */
		return true;
	if (!logical)
		return mda == (v->apic_id & 0xff);
	if (model == DFR_MODEL_FLAT) /* 11.6.2.2 */
		return ((v->ldr >> 24) & mda) != 0;
	if (model == DFR_MODEL_CLUSTER)
		return (mda >> 4) == (v->ldr >> 28) && (mda & (v->ldr >> 24) & 0xf) != 0;
	return false;
}

bool vlapic_match_msg(const struct vlapic *v, const struct apic_msg *m)
{
	if (!vlapic_enabled(v))
		return false;
	switch (m->shorthand) {
	case APIC_DEST_SELF: return m->source_apic_id == v->apic_id;
	case APIC_DEST_ALL: return true;
	case APIC_DEST_ALL_BUT_SELF: return m->source_apic_id != v->apic_id;
	default: return vlapic_match_dest(v, m->dest, m->dest_logical);
	}
}

int vlapic_pending_vector(const struct vlapic *v)
{
	int vec = vec_highest(v->irr);

	if (!vlapic_enabled(v) || vec < 0 || ((uint32_t)vec & 0xf0) <= (v->ppr & 0xf0))
		return -1;
	return vec;
}

void vlapic_ack(struct vlapic *v, uint8_t vector)
{
	if (!vec_test(v->irr, vector))
		return;
	vec_clear(v->irr, vector);
	vec_set(v->isr, vector);
	update_ppr(v);
}

int vlapic_take_eoi_level(struct vlapic *v)
{
	int vec = vec_highest(v->eoi_level);

	if (vec >= 0)
		vec_clear(v->eoi_level, (unsigned)vec);
	return vec;
}

uint32_t vlapic_get_ppr(const struct vlapic *v) { return v->ppr; }

void vlapic_set_tpr(struct vlapic *v, uint32_t tpr)
{
	v->tpr = tpr & 0xff;
	update_ppr(v);
}

uint32_t vlapic_get_tpr(const struct vlapic *v) { return v->tpr; }
