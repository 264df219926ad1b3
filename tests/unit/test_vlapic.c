/* Host tests for drivers/virt/vlapic.c: registers in both modes, priorities, EOI, timer, IPIs, fuzz. */
#include "tests/unit/test.h"
#include "drivers/virt/vlapic.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

/* 2 GHz TSC, 1 GHz timer clock: with the reset divider (2) one count is 4 TSC ticks. */
#define TSC_HZ 2000000000ull
#define TIMER_HZ 1000000000ull

static uint32_t rd(struct vlapic *v, uint32_t off) { return vlapic_mmio_read(v, off, 0); }
static void wr(struct vlapic *v, uint32_t off, uint32_t val) { vlapic_mmio_write(v, off, val, 0); }

static bool irr_has(const struct vlapic *v, unsigned vec) { return (v->irr[vec / 32] >> (vec % 32)) & 1; }
static bool isr_has(const struct vlapic *v, unsigned vec) { return (v->isr[vec / 32] >> (vec % 32)) & 1; }
static bool tmr_has(const struct vlapic *v, unsigned vec) { return (v->tmr[vec / 32] >> (vec % 32)) & 1; }

/* ESR as a guest reads it: write to latch, then read. */
static uint32_t read_esr(struct vlapic *v)
{
	wr(v, VLAPIC_REG_ESR, 0);
	return rd(v, VLAPIC_REG_ESR);
}

static void xapic_on(struct vlapic *v, uint32_t id)
{
	vlapic_init(v, id, id == 0, TSC_HZ, TIMER_HZ);
	wr(v, VLAPIC_REG_SVR, 0x1ff); /* software-enable, spurious vector 0xff */
}

static void x2apic_on(struct vlapic *v, uint32_t id)
{
	vlapic_init(v, id, false, TSC_HZ, TIMER_HZ);
	CHECK_EQ(vlapic_set_base(v, 0xfee00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD), 0);
	CHECK_EQ(vlapic_msr_write(v, 0x80f, 0x1ff, 0), 0);
}

static struct apic_msg fixed_msg(uint8_t vector, bool level)
{
	struct apic_msg m = { .vector = vector, .delivery = APIC_DM_FIXED, .level = level, .assert = true };

	return m;
}

static void test_reset_values(void)
{
	struct vlapic v;

	vlapic_init(&v, 3, true, TSC_HZ, TIMER_HZ);
	CHECK_EQ(vlapic_get_base(&v), 0xfee00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP);
	CHECK_EQ(vlapic_mmio_base(&v), 0xfee00000ull);
	CHECK(vlapic_enabled(&v) && !vlapic_x2apic(&v));
	CHECK_EQ(rd(&v, VLAPIC_REG_ID), 3u << 24);
	CHECK_EQ(rd(&v, VLAPIC_REG_VERSION), 0x00050014);
	CHECK_EQ(rd(&v, VLAPIC_REG_TPR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_APR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_PPR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_LDR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_DFR), 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_SVR), 0xff);
	for (uint32_t i = 0; i < 8; i++) {
		CHECK_EQ(rd(&v, VLAPIC_REG_ISR + i * 16), 0);
		CHECK_EQ(rd(&v, VLAPIC_REG_TMR + i * 16), 0);
		CHECK_EQ(rd(&v, VLAPIC_REG_IRR + i * 16), 0);
	}
	CHECK_EQ(rd(&v, VLAPIC_REG_ESR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_ICR_LOW), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_ICR_HIGH), 0);
	for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 16)
		CHECK_EQ(rd(&v, off), VLAPIC_LVT_MASKED);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_CURRENT), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_DIVIDE), 0);
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 0);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	CHECK_EQ(vlapic_take_eoi_level(&v), -1);
	vlapic_init(&v, 1, false, TSC_HZ, TIMER_HZ);
	CHECK_EQ(vlapic_get_base(&v), 0xfee00000ull | VLAPIC_BASE_EN);
}

static void test_xapic_registers(void)
{
	struct vlapic v;

	xapic_on(&v, 2);
	wr(&v, VLAPIC_REG_TPR, 0x1ff);
	CHECK_EQ(rd(&v, VLAPIC_REG_TPR), 0xff);
	CHECK_EQ(rd(&v, VLAPIC_REG_PPR), 0xff);
	wr(&v, VLAPIC_REG_TPR, 0);
	wr(&v, VLAPIC_REG_LDR, 0x12345678);
	CHECK_EQ(rd(&v, VLAPIC_REG_LDR), 0x12000000);
	wr(&v, VLAPIC_REG_DFR, 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_DFR), 0x0fffffff);
	wr(&v, VLAPIC_REG_SVR, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_SVR), 0x3ff); /* no EOI-broadcast suppression offered */
	wr(&v, VLAPIC_REG_ICR_HIGH, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_ICR_HIGH), 0xff000000);
	wr(&v, VLAPIC_REG_LVT_TIMER, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_TIMER), 0x000700ff);
	wr(&v, VLAPIC_REG_LVT_THERMAL, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_THERMAL), 0x000107ff);
	wr(&v, VLAPIC_REG_LVT_PERF, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_PERF), 0x000107ff);
	wr(&v, VLAPIC_REG_LVT_LINT0, 0xffffffff & ~(1u << 15));
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_LINT0), 0x000127ff);
	wr(&v, VLAPIC_REG_LVT_LINT1, 0x00010400);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_LINT1), 0x00010400);
	wr(&v, VLAPIC_REG_LVT_ERROR, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_ERROR), 0x000100ff);
	wr(&v, VLAPIC_REG_TIMER_DIVIDE, 0xffffffff);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_DIVIDE), 0xb);
	wr(&v, VLAPIC_REG_TIMER_INITIAL, 0xdeadbeef);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 0xdeadbeef);

	/* Read-only registers ignore writes, without an error. */
	wr(&v, VLAPIC_REG_ID, 0x07000000);
	wr(&v, VLAPIC_REG_VERSION, 0);
	wr(&v, VLAPIC_REG_PPR, 0x80);
	wr(&v, VLAPIC_REG_APR, 0x80);
	wr(&v, VLAPIC_REG_ISR, 0xffffffff);
	wr(&v, VLAPIC_REG_TMR + 0x70, 0xffffffff);
	wr(&v, VLAPIC_REG_IRR + 0x30, 0xffffffff);
	wr(&v, VLAPIC_REG_TIMER_CURRENT, 5);
	CHECK_EQ(rd(&v, VLAPIC_REG_ID), 2u << 24);
	CHECK_EQ(rd(&v, VLAPIC_REG_VERSION), VLAPIC_VERSION);
	CHECK_EQ(rd(&v, VLAPIC_REG_PPR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_ISR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_TMR + 0x70), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_IRR + 0x30), 0);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	CHECK_EQ(read_esr(&v), 0);

	/* EOI is write-only; unaligned offsets read 0; reserved ones also set "illegal register". */
	CHECK_EQ(rd(&v, VLAPIC_REG_EOI), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_ID + 4), 0);
	CHECK_EQ(rd(&v, 0x1000), 0);
	CHECK_EQ(read_esr(&v), 0);
	CHECK_EQ(rd(&v, 0x000), 0);
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_ILLEGAL_REGISTER);
	wr(&v, VLAPIC_REG_SELF_IPI, 0x40); /* x2APIC only */
	CHECK(!irr_has(&v, 0x40));
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_ILLEGAL_REGISTER);
	CHECK_EQ(read_esr(&v), 0); /* back-to-back writes clear it */
	wr(&v, 0x2f0, 1);           /* LVT CMCI: absent with max LVT 5 */
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_ILLEGAL_REGISTER);
}

static void test_esr_and_error_lvt(void)
{
	struct vlapic v;
	struct apic_msg m = fixed_msg(7, false);

	xapic_on(&v, 0);
	vlapic_accept(&v, &m);             /* receive illegal vector */
	CHECK_EQ(rd(&v, VLAPIC_REG_ESR), 0); /* not visible before the latching write */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x4003); /* send illegal vector */
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_RECV_ILLEGAL_VECTOR | VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
	CHECK_EQ(rd(&v, VLAPIC_REG_ESR), VLAPIC_ESR_RECV_ILLEGAL_VECTOR | VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
	CHECK_EQ(read_esr(&v), 0);
	CHECK_EQ(v.ipi_count, 0);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(v.irr[i], 0);

	wr(&v, VLAPIC_REG_LVT_ERROR, 0xfe);  /* error interrupt on vector 0xfe */
	vlapic_accept(&v, &m);
	CHECK(irr_has(&v, 0xfe));
	CHECK_EQ(vlapic_pending_vector(&v), 0xfe);
	vlapic_ack(&v, 0xfe);
	vlapic_accept(&v, &m);               /* same error bit still pending: no new interrupt */
	CHECK(!irr_has(&v, 0xfe));
	read_esr(&v);
	wr(&v, VLAPIC_REG_LVT_ERROR, 0x03);  /* an illegal error vector does not loop */
	vlapic_accept(&v, &m);
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
}

static void test_x2apic_msrs(void)
{
	struct vlapic v;
	uint64_t val = 0;

	vlapic_init(&v, 0x25, false, TSC_HZ, TIMER_HZ);
	CHECK(vlapic_msr_read(&v, 0x802, &val, 0) < 0); /* not in x2APIC mode */
	CHECK(vlapic_msr_write(&v, 0x808, 0, 0) < 0);
	x2apic_on(&v, 0x25);
	CHECK(vlapic_x2apic(&v));
	CHECK_EQ(vlapic_msr_read(&v, 0x802, &val, 0), 0);
	CHECK_EQ(val, 0x25);
	CHECK_EQ(vlapic_msr_read(&v, 0x803, &val, 0), 0);
	CHECK_EQ(val, VLAPIC_VERSION);
	CHECK_EQ(vlapic_msr_read(&v, 0x80d, &val, 0), 0);
	CHECK_EQ(val, (2u << 16) | (1u << 5));
	CHECK_EQ(vlapic_msr_read(&v, 0x80f, &val, 0), 0);
	CHECK_EQ(val, 0x1ff);
	CHECK_EQ(rd(&v, VLAPIC_REG_SVR), 0); /* no MMIO page in x2APIC mode */

	CHECK_EQ(vlapic_msr_write(&v, 0x808, 0x20, 0), 0);
	CHECK_EQ(vlapic_get_tpr(&v), 0x20);
	CHECK(vlapic_msr_write(&v, 0x808, 0x120, 0) < 0);        /* TPR bits 31:8 reserved */
	CHECK(vlapic_msr_write(&v, 0x808, 1ull << 32, 0) < 0);   /* upper half reserved */
	CHECK_EQ(vlapic_get_tpr(&v), 0x20);
	CHECK(vlapic_msr_read(&v, 0x80b, &val, 0) < 0);          /* EOI is write-only */
	CHECK(vlapic_msr_write(&v, 0x80b, 1, 0) < 0);            /* non-zero EOI */
	CHECK_EQ(vlapic_msr_write(&v, 0x80b, 0, 0), 0);
	CHECK(vlapic_msr_read(&v, 0x83f, &val, 0) < 0);          /* SELF IPI is write-only */
	CHECK(vlapic_msr_write(&v, 0x83f, 0x100, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x828, 1, 0) < 0);            /* non-zero ESR write */
	CHECK_EQ(vlapic_msr_write(&v, 0x828, 0, 0), 0);
	CHECK(vlapic_msr_write(&v, 0x802, 0x25, 0) < 0);         /* read-only ones */
	CHECK(vlapic_msr_write(&v, 0x803, 0, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x80a, 0, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x80d, 0, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x810, 0, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x827, 0, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x839, 0, 0) < 0);
	CHECK(vlapic_msr_read(&v, 0x80e, &val, 0) < 0);          /* no DFR */
	CHECK(vlapic_msr_write(&v, 0x80e, 0, 0) < 0);
	CHECK(vlapic_msr_read(&v, 0x831, &val, 0) < 0);          /* no ICR high */
	CHECK(vlapic_msr_read(&v, 0x809, &val, 0) < 0);          /* no APR */
	CHECK(vlapic_msr_read(&v, 0x82f, &val, 0) < 0);          /* no CMCI LVT */
	CHECK(vlapic_msr_read(&v, 0x800, &val, 0) < 0);
	CHECK(vlapic_msr_read(&v, 0x840, &val, 0) < 0);
	CHECK(vlapic_msr_read(&v, 0x8ff, &val, 0) < 0);
	CHECK(vlapic_msr_read(&v, 0x900, &val, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x80f, 0x11ff, 0) < 0);       /* EOI-broadcast suppression */
	CHECK(vlapic_msr_write(&v, 0x83e, 0x4, 0) < 0);          /* DCR bit 2 */
	CHECK_EQ(vlapic_msr_write(&v, 0x83e, 0xb, 0), 0);
	CHECK(vlapic_msr_write(&v, 0x832, 1u << 20, 0) < 0);     /* LVT timer reserved bit */
	CHECK(vlapic_msr_write(&v, 0x837, 0x700, 0) < 0);        /* LVT error has no delivery mode */
	CHECK_EQ(vlapic_msr_write(&v, 0x835, 0x0000a755, 0), 0);
	CHECK_EQ(vlapic_msr_read(&v, 0x835, &val, 0), 0);
	CHECK_EQ(val, 0xa755);
	CHECK(vlapic_msr_write(&v, 0x830, 1u << 12, 0) < 0);     /* ICR delivery status is reserved */
	CHECK(vlapic_msr_write(&v, 0x830, 1u << 13, 0) < 0);
	CHECK(vlapic_msr_write(&v, 0x830, 1u << 20, 0) < 0);
	CHECK_EQ(vlapic_msr_write(&v, 0x830, (0x1234ull << 32) | 0x0831, 0), 0);
	CHECK_EQ(vlapic_msr_read(&v, 0x830, &val, 0), 0);
	CHECK_EQ(val, (0x1234ull << 32) | 0x0831);
	CHECK_EQ(vlapic_msr_write(&v, 0x838, 0xffffffff, 0), 0);
	CHECK_EQ(vlapic_msr_read(&v, 0x838, &val, 0), 0);
	CHECK_EQ(val, 0xffffffff);
	CHECK_EQ(vlapic_msr_read(&v, 0x839, &val, 0), 0);
	CHECK_EQ(val, 0xffffffff);
	CHECK_EQ(vlapic_msr_read(&v, 0x820, &val, 0), 0);
}

static void test_base_transitions(void)
{
	const uint64_t xapic = 0xfee00000ull | VLAPIC_BASE_EN, x2 = xapic | VLAPIC_BASE_EXTD;
	const uint64_t off = 0xfee00000ull;
	struct vlapic v;

	xapic_on(&v, 9);
	wr(&v, VLAPIC_REG_TPR, 0x30);
	wr(&v, VLAPIC_REG_LDR, 0x01000000);
	CHECK(vlapic_set_base(&v, off | VLAPIC_BASE_EXTD) < 0);   /* EN=0, EXTD=1 is invalid */
	CHECK(vlapic_set_base(&v, xapic | (1u << 9)) < 0);       /* reserved bit */
	CHECK(vlapic_set_base(&v, xapic | 1) < 0);
	CHECK(vlapic_set_base(&v, xapic | (1ull << 39)) < 0);    /* above MAXPHYADDR */
	CHECK_EQ(vlapic_set_base(&v, x2), 0);                    /* xAPIC -> x2APIC keeps state */
	CHECK_EQ(vlapic_get_tpr(&v), 0x30);
	CHECK_EQ(v.ldr, (0u << 16) | (1u << 9));
	CHECK(vlapic_set_base(&v, xapic) < 0);                   /* x2APIC -> xAPIC directly */
	CHECK(vlapic_x2apic(&v));
	CHECK_EQ(vlapic_set_base(&v, off), 0);                   /* x2APIC -> disabled resets */
	CHECK(!vlapic_enabled(&v));
	CHECK_EQ(vlapic_get_tpr(&v), 0);
	CHECK_EQ(v.svr, 0xff);
	CHECK_EQ(v.ldr, 0);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	CHECK(vlapic_set_base(&v, x2) < 0);                      /* disabled -> x2APIC */
	CHECK_EQ(vlapic_set_base(&v, xapic), 0);                 /* disabled -> xAPIC */
	CHECK_EQ(rd(&v, VLAPIC_REG_ID), 9u << 24);
	CHECK_EQ(rd(&v, VLAPIC_REG_DFR), 0xffffffff);
	/* The page may move; the integrator learns where. BSP stays the platform's. */
	CHECK_EQ(vlapic_set_base(&v, 0xfed00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_BSP), 0);
	CHECK_EQ(vlapic_mmio_base(&v), 0xfed00000ull);
	CHECK_EQ(vlapic_get_base(&v), 0xfed00000ull | VLAPIC_BASE_EN);
	vlapic_init(&v, 0, true, TSC_HZ, TIMER_HZ);
	CHECK_EQ(vlapic_set_base(&v, xapic), 0);
	CHECK_EQ(vlapic_get_base(&v), xapic | VLAPIC_BASE_BSP);
	v.x2apic_supported = false;
	CHECK(vlapic_set_base(&v, x2) < 0);
}

static void test_id_and_ldr(void)
{
	struct vlapic v;
	uint64_t val;

	x2apic_on(&v, 0x1234f);
	CHECK_EQ(vlapic_msr_read(&v, 0x802, &val, 0), 0);
	CHECK_EQ(val, 0x1234f);
	CHECK_EQ(vlapic_msr_read(&v, 0x80d, &val, 0), 0);
	CHECK_EQ(val, (0x1234u << 16) | 0x8000u);
	vlapic_init_signal(&v); /* INIT keeps x2APIC mode; LDR re-derived */
	CHECK(vlapic_x2apic(&v));
	CHECK_EQ(vlapic_msr_read(&v, 0x80d, &val, 0), 0);
	CHECK_EQ(val, (0x1234u << 16) | 0x8000u);
	xapic_on(&v, 0x1234f);
	CHECK_EQ(rd(&v, VLAPIC_REG_ID), 0x4fu << 24);
}

static void test_tpr_ppr(void)
{
	struct vlapic v;
	struct apic_msg m = fixed_msg(0x45, false);

	xapic_on(&v, 0);
	vlapic_accept(&v, &m);
	CHECK_EQ(vlapic_pending_vector(&v), 0x45);
	vlapic_set_tpr(&v, 0x40); /* same class: held */
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	CHECK_EQ(rd(&v, VLAPIC_REG_PPR), 0x40);
	CHECK_EQ(rd(&v, VLAPIC_REG_APR), 0x40);
	vlapic_set_tpr(&v, 0x4f);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	vlapic_set_tpr(&v, 0x3f);
	CHECK_EQ(vlapic_pending_vector(&v), 0x45);
	CHECK_EQ(rd(&v, VLAPIC_REG_APR), 0x40); /* IRR class above TPR class */
	vlapic_set_tpr(&v, 0xf0 >> 4 << 4);     /* CR8 = 15 */
	CHECK_EQ(vlapic_get_tpr(&v) >> 4, 15);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	vlapic_set_tpr(&v, 0x100 | 0x30);       /* only bits 7:0 */
	CHECK_EQ(vlapic_get_tpr(&v), 0x30);
	vlapic_ack(&v, 0x45);
	CHECK(isr_has(&v, 0x45) && !irr_has(&v, 0x45));
	CHECK_EQ(vlapic_get_ppr(&v), 0x40);     /* in-service class above the TPR's */
	wr(&v, VLAPIC_REG_TPR, 0x5a);
	CHECK_EQ(vlapic_get_ppr(&v), 0x5a);
	wr(&v, VLAPIC_REG_TPR, 0x4a);            /* equal class: PPR = TPR */
	CHECK_EQ(vlapic_get_ppr(&v), 0x4a);
	wr(&v, VLAPIC_REG_TPR, 0);
	CHECK_EQ(vlapic_get_ppr(&v), 0x40);
	vlapic_ack(&v, 0x99);                    /* not requested: no effect */
	CHECK(!isr_has(&v, 0x99));
}

static void test_isr_nesting_and_eoi(void)
{
	struct vlapic v;
	struct apic_msg a = fixed_msg(0x30, false), b = fixed_msg(0x80, false), c = fixed_msg(0x35, false);

	xapic_on(&v, 0);
	vlapic_accept(&v, &a);
	vlapic_ack(&v, 0x30);
	vlapic_accept(&v, &b);
	CHECK_EQ(vlapic_pending_vector(&v), 0x80); /* higher class nests */
	vlapic_ack(&v, 0x80);
	vlapic_accept(&v, &c);
	CHECK_EQ(vlapic_pending_vector(&v), -1);
	CHECK_EQ(vlapic_get_ppr(&v), 0x80);
	wr(&v, VLAPIC_REG_EOI, 0);                  /* EOI ends the highest in service: 0x80 */
	CHECK(!isr_has(&v, 0x80) && isr_has(&v, 0x30));
	CHECK_EQ(vlapic_get_ppr(&v), 0x30);
	CHECK_EQ(vlapic_pending_vector(&v), -1);    /* 0x35 is in 0x30's class */
	wr(&v, VLAPIC_REG_EOI, 0);
	CHECK_EQ(vlapic_get_ppr(&v), 0);
	CHECK_EQ(vlapic_pending_vector(&v), 0x35);
	CHECK_EQ(vlapic_take_eoi_level(&v), -1);    /* edge interrupts report nothing */
	wr(&v, VLAPIC_REG_EOI, 0);                  /* nothing in service: harmless */
	CHECK_EQ(vlapic_pending_vector(&v), 0x35);
}

static void test_level_eoi(void)
{
	struct vlapic v;
	struct apic_msg lvl = fixed_msg(0x60, true), lvl2 = fixed_msg(0x70, true), edge = fixed_msg(0x60, false);

	x2apic_on(&v, 1);
	vlapic_accept(&v, &lvl);
	CHECK(tmr_has(&v, 0x60));
	vlapic_ack(&v, 0x60);
	vlapic_accept(&v, &lvl2);
	vlapic_ack(&v, 0x70);
	CHECK_EQ(vlapic_msr_write(&v, 0x80b, 0, 0), 0);
	CHECK_EQ(vlapic_msr_write(&v, 0x80b, 0, 0), 0);
	CHECK_EQ(vlapic_take_eoi_level(&v), 0x70);
	CHECK_EQ(vlapic_take_eoi_level(&v), 0x60);
	CHECK_EQ(vlapic_take_eoi_level(&v), -1);
	vlapic_accept(&v, &edge); /* an edge interrupt on the same vector clears TMR */
	CHECK(!tmr_has(&v, 0x60));
	vlapic_ack(&v, 0x60);
	CHECK_EQ(vlapic_msr_write(&v, 0x80b, 0, 0), 0);
	CHECK_EQ(vlapic_take_eoi_level(&v), -1);
}

static void test_timer_one_shot(void)
{
	struct vlapic v;

	xapic_on(&v, 0);
	wr(&v, VLAPIC_REG_LVT_TIMER, 0x40);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 1000, 100);
	CHECK_EQ(vlapic_next_event(&v), 100 + 1000 * 4);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 100), 1000);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 143), 990);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 4099), 1);
	vlapic_tick(&v, 4099);
	CHECK(!irr_has(&v, 0x40));
	vlapic_tick(&v, 4100);
	CHECK(irr_has(&v, 0x40));
	CHECK_EQ(v.timer_fired, 1);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 4100), 0);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 1000000), 0); /* stays at 0 */
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 1000);
	vlapic_ack(&v, 0x40);
	vlapic_tick(&v, 9000);
	CHECK(!irr_has(&v, 0x40));
	CHECK_EQ(v.timer_fired, 1);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	/* Re-arming by a new initial count; a write of 0 stops it. */
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 10, 10000);
	CHECK_EQ(vlapic_next_event(&v), 10040);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 0, 10020);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_tick(&v, 20000);
	CHECK_EQ(v.timer_fired, 1);
	/* An expiry seen first by a register access still raises the interrupt once. */
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 10, 30000);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 30040), 0);
	CHECK(irr_has(&v, 0x40));
	vlapic_tick(&v, 30041);
	CHECK_EQ(v.timer_fired, 2);
}

static void test_timer_periodic(void)
{
	struct vlapic v;

	xapic_on(&v, 0);
	wr(&v, VLAPIC_REG_TIMER_DIVIDE, 0xb);           /* divide by 1: one count is 2 TSC ticks */
	wr(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_PERIODIC | 0x41);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 100, 0);
	CHECK_EQ(vlapic_next_event(&v), 200);
	vlapic_tick(&v, 199);
	CHECK_EQ(v.timer_fired, 0);
	vlapic_tick(&v, 200);
	CHECK_EQ(v.timer_fired, 1);
	CHECK(irr_has(&v, 0x41));
	CHECK_EQ(vlapic_next_event(&v), 400);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 200), 100); /* reloaded */
	vlapic_tick(&v, 200);
	vlapic_tick(&v, 399);
	CHECK_EQ(v.timer_fired, 1);                     /* never twice for one period */
	vlapic_ack(&v, 0x41);
	vlapic_tick(&v, 1050);                          /* periods 2..5 missed: one interrupt */
	CHECK_EQ(v.timer_fired, 2);
	CHECK(irr_has(&v, 0x41));
	CHECK_EQ(vlapic_next_event(&v), 1200);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 1050), 75);
	vlapic_tick(&v, 1199);
	CHECK_EQ(v.timer_fired, 2);
	vlapic_tick(&v, 1200);
	CHECK_EQ(v.timer_fired, 3);
	/* Dividing by 2 from mid-period keeps the current count and halves its pace. */
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 1300), 50);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_DIVIDE, 0x0, 1300);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 1300), 50);
	CHECK_EQ(vlapic_next_event(&v), 1300 + 50 * 4);
	vlapic_tick(&v, 1500);
	CHECK_EQ(v.timer_fired, 4);
	CHECK_EQ(vlapic_next_event(&v), 1500 + 100 * 4);
	/* A mode change disarms. */
	vlapic_mmio_write(&v, VLAPIC_REG_LVT_TIMER, 0x41, 1600);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 0);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_tick(&v, 100000);
	CHECK_EQ(v.timer_fired, 4);
}

static void test_timer_divide_values(void)
{
	static const struct { uint32_t dcr, div; } table[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	struct vlapic v;

	for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
		xapic_on(&v, 0);
		wr(&v, VLAPIC_REG_LVT_TIMER, 0x50);
		wr(&v, VLAPIC_REG_TIMER_DIVIDE, table[i].dcr);
		vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 10, 1000);
		CHECK_EQ(vlapic_next_event(&v), 1000 + 10 * table[i].div * 2);
		CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 1000 + 2 * table[i].div * 3), 7);
	}
}

static void test_timer_tsc_deadline(void)
{
	struct vlapic v;

	xapic_on(&v, 0);
	vlapic_write_tsc_deadline(&v, 5000, 0);          /* not in TSC-deadline mode: ignored */
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 0);
	wr(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_TSC_DEADLINE | 0x42);
	vlapic_write_tsc_deadline(&v, 5000, 0);
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 5000);
	CHECK_EQ(vlapic_next_event(&v), 5000);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 77, 0); /* ignored in this mode */
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 0);
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 10), 0);
	vlapic_tick(&v, 4999);
	CHECK(!irr_has(&v, 0x42));
	vlapic_tick(&v, 5000);
	CHECK(irr_has(&v, 0x42));
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 0);       /* fired: disarmed and cleared */
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_ack(&v, 0x42);
	vlapic_tick(&v, 6000);
	CHECK_EQ(v.timer_fired, 1);
	vlapic_write_tsc_deadline(&v, 7000, 6000);       /* writing 0 disarms */
	vlapic_write_tsc_deadline(&v, 0, 6001);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_tick(&v, 8000);
	CHECK_EQ(v.timer_fired, 1);
	vlapic_write_tsc_deadline(&v, 100, 9000);        /* already past: fires at once */
	CHECK(irr_has(&v, 0x42));
	CHECK_EQ(v.timer_fired, 2);
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 0);
	vlapic_write_tsc_deadline(&v, 20000, 9000);      /* leaving the mode disarms */
	vlapic_mmio_write(&v, VLAPIC_REG_LVT_TIMER, 0x42, 9001);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_mmio_write(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_TSC_DEADLINE | 0x42, 9002);
	CHECK_EQ(vlapic_read_tsc_deadline(&v), 0);
	/* x2APIC mode: the same through the LVT MSR. */
	x2apic_on(&v, 4);
	CHECK_EQ(vlapic_msr_write(&v, 0x832, VLAPIC_LVT_TIMER_TSC_DEADLINE | 0x43, 0), 0);
	vlapic_write_tsc_deadline(&v, 50, 10);
	vlapic_tick(&v, 60);
	CHECK(irr_has(&v, 0x43));
}

static void test_timer_masked(void)
{
	struct vlapic v;

	xapic_on(&v, 0);
	wr(&v, VLAPIC_REG_TIMER_DIVIDE, 0xb);
	wr(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_LVT_TIMER_PERIODIC | 0x44);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 100, 0);
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	vlapic_tick(&v, 250);
	CHECK(!irr_has(&v, 0x44));
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 250), 75); /* still reloading */
	vlapic_tick(&v, 650);
	vlapic_mmio_write(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_PERIODIC | 0x44, 700);
	CHECK(!irr_has(&v, 0x44));                  /* periods while masked are gone */
	CHECK_EQ(vlapic_next_event(&v), 800);
	vlapic_tick(&v, 800);
	CHECK(irr_has(&v, 0x44));
	CHECK_EQ(v.timer_fired, 1);
	/* One-shot, masked: the count runs down to 0, no interrupt. */
	xapic_on(&v, 0);
	wr(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_MASKED | 0x44);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 10, 0);
	vlapic_tick(&v, 100);
	CHECK(!irr_has(&v, 0x44));
	CHECK_EQ(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, 100), 0);
	vlapic_mmio_write(&v, VLAPIC_REG_LVT_TIMER, 0x44, 101);
	vlapic_tick(&v, 1000);
	CHECK(!irr_has(&v, 0x44));
	CHECK_EQ(v.timer_fired, 0);
	/* Illegal timer vector: no IRR bit, "receive illegal vector". */
	xapic_on(&v, 0);
	wr(&v, VLAPIC_REG_LVT_TIMER, 0x0e);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 1, 0);
	vlapic_tick(&v, 4);
	CHECK_EQ(v.irr[0], 0);
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_RECV_ILLEGAL_VECTOR);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* next_event is exact: tick one TSC tick earlier does not fire, at it does, for odd clock ratios. */
static void test_next_event_exact(void)
{
	struct vlapic v;
	static const uint32_t dcrs[] = { 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb };

	for (unsigned i = 0; i < 2000; i++) {
		uint64_t tsc = 1000 + xorshift() % 4000000000ull, timer = 1 + xorshift() % 2000000000ull;
		uint64_t start = xorshift() % (1ull << 50), ne;
		uint32_t count = 1 + (uint32_t)(xorshift() % (i & 1 ? 0xffffffffull : 5000));
		bool periodic = xorshift() & 1;

		vlapic_init(&v, 0, true, tsc, timer);
		wr(&v, VLAPIC_REG_SVR, 0x1ff);
		wr(&v, VLAPIC_REG_LVT_TIMER, (periodic ? VLAPIC_LVT_TIMER_PERIODIC : 0) | 0x80);
		wr(&v, VLAPIC_REG_TIMER_DIVIDE, dcrs[xorshift() % 8]);
		vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, count, start);
		for (unsigned k = 0; k < 3; k++) {
			ne = vlapic_next_event(&v);
			CHECK(ne > start);
			if (ne == UINT64_MAX)
				break;
			vlapic_tick(&v, ne - 1);
			CHECK_EQ(v.timer_fired, k);
			CHECK(vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, ne - 1) >= 1);
			vlapic_tick(&v, ne);
			CHECK_EQ(v.timer_fired, k + 1);
			if (!periodic) {
				CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
				break;
			}
			/* Reloaded; a timer clock faster than the TSC may already be a few counts on. */
			uint32_t cur = vlapic_mmio_read(&v, VLAPIC_REG_TIMER_CURRENT, ne);
			CHECK(cur <= count && count - cur <= timer / tsc);
		}
	}
}

static void test_ipi_xapic(void)
{
	struct vlapic v;
	struct apic_msg m;

	xapic_on(&v, 6);
	CHECK(!vlapic_take_ipi(&v, &m));
	wr(&v, VLAPIC_REG_ICR_HIGH, 0x05000000);
	wr(&v, VLAPIC_REG_ICR_LOW, 0x4031);                 /* fixed, physical */
	CHECK_EQ(rd(&v, VLAPIC_REG_ICR_LOW) & (1u << 12), 0); /* delivery status idle */
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK_EQ(m.vector, 0x31);
	CHECK_EQ(m.delivery, APIC_DM_FIXED);
	CHECK_EQ(m.shorthand, APIC_DEST_NO_SHORTHAND);
	CHECK_EQ(m.dest, 5);
	CHECK(!m.dest_logical && !m.level && m.assert);
	CHECK_EQ(m.source_apic_id, 6);
	CHECK(!vlapic_take_ipi(&v, &m));

	wr(&v, VLAPIC_REG_ICR_HIGH, 0x0c000000);
	wr(&v, VLAPIC_REG_ICR_LOW, 0x4932);                 /* lowest priority, logical */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x000c4400);             /* NMI to all but self */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x00084033);             /* fixed to all including self */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x0000c500);             /* INIT level assert */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x00088500);             /* INIT level de-assert, all */
	wr(&v, VLAPIC_REG_ICR_LOW, 0x00004699);             /* start-up, page 0x99 */
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.vector == 0x32 && m.delivery == APIC_DM_LOWEST && m.dest_logical && m.dest == 0x0c);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.delivery == APIC_DM_NMI && m.shorthand == APIC_DEST_ALL_BUT_SELF && m.source_apic_id == 6);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.vector == 0x33 && m.delivery == APIC_DM_FIXED && m.shorthand == APIC_DEST_ALL);
	CHECK(!irr_has(&v, 0x33)); /* the integrator routes ALL back here */
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.delivery == APIC_DM_INIT && m.level && m.assert);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.delivery == APIC_DM_INIT && m.level && !m.assert && m.shorthand == APIC_DEST_ALL);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.delivery == APIC_DM_STARTUP && m.vector == 0x99);
	CHECK(!vlapic_take_ipi(&v, &m));

	wr(&v, VLAPIC_REG_ICR_LOW, 0x00044034);             /* self: delivered here, not queued */
	CHECK(irr_has(&v, 0x34));
	CHECK(!vlapic_take_ipi(&v, &m));
	wr(&v, VLAPIC_REG_ICR_LOW, 0x00044400);             /* NMI to self is not valid */
	CHECK(!v.nmi_pending && !vlapic_take_ipi(&v, &m));
	wr(&v, VLAPIC_REG_ICR_LOW, 0x4305);                 /* reserved delivery mode */
	CHECK(!vlapic_take_ipi(&v, &m));
	wr(&v, VLAPIC_REG_ICR_LOW, 0x400f);                 /* illegal vector */
	CHECK(!vlapic_take_ipi(&v, &m));
	CHECK_EQ(read_esr(&v), VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
	wr(&v, VLAPIC_REG_ICR_LOW, 0x4405);                 /* NMI ignores the vector */
	CHECK(vlapic_take_ipi(&v, &m));

	for (unsigned i = 0; i < 10; i++)
		wr(&v, VLAPIC_REG_ICR_LOW, 0x4040 + i);
	CHECK_EQ(v.ipi_dropped, 2);
	for (unsigned i = 0; i < 8; i++) {
		CHECK(vlapic_take_ipi(&v, &m));
		CHECK_EQ(m.vector, 0x40 + i);
	}
	CHECK(!vlapic_take_ipi(&v, &m));
}

static void test_ipi_x2apic(void)
{
	struct vlapic v;
	struct apic_msg m;

	x2apic_on(&v, 0x101);
	CHECK_EQ(vlapic_msr_write(&v, 0x830, (0x12345ull << 32) | 0x4831, 0), 0);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.vector == 0x31 && m.delivery == APIC_DM_FIXED && m.dest_logical);
	CHECK_EQ(m.dest, 0x12345);
	CHECK_EQ(m.source_apic_id, 0x101);
	CHECK_EQ(vlapic_msr_write(&v, 0x830, (0xffffffffull << 32) | 0x000c4400, 0), 0);
	CHECK(vlapic_take_ipi(&v, &m));
	CHECK(m.delivery == APIC_DM_NMI && m.shorthand == APIC_DEST_ALL_BUT_SELF && m.dest == 0xffffffff);
	CHECK_EQ(vlapic_msr_write(&v, 0x830, 0x00044055, 0), 0); /* shorthand self */
	CHECK(irr_has(&v, 0x55));
	CHECK_EQ(vlapic_msr_write(&v, 0x83f, 0x56, 0), 0);       /* SELF IPI register */
	CHECK(irr_has(&v, 0x56) && !tmr_has(&v, 0x56));
	CHECK(!vlapic_take_ipi(&v, &m));
	CHECK_EQ(vlapic_msr_write(&v, 0x83f, 0x05, 0), 0);
	CHECK_EQ(vlapic_msr_write(&v, 0x828, 0, 0), 0);
	uint64_t esr = 0;
	CHECK_EQ(vlapic_msr_read(&v, 0x828, &esr, 0), 0);
	CHECK_EQ(esr, VLAPIC_ESR_SEND_ILLEGAL_VECTOR);
	CHECK_EQ(v.irr[0], 0);
}

static void test_match_dest(void)
{
	struct vlapic v;
	struct apic_msg m = { 0 };

	xapic_on(&v, 3);
	CHECK(vlapic_match_dest(&v, 3, false));
	CHECK(!vlapic_match_dest(&v, 4, false));
	CHECK(vlapic_match_dest(&v, 0xff, false));
	CHECK(!vlapic_match_dest(&v, 0x04, true));           /* LDR 0 matches no logical dest */
	wr(&v, VLAPIC_REG_LDR, 0x04000000);                  /* flat, bit 2 */
	CHECK(vlapic_match_dest(&v, 0x04, true));
	CHECK(vlapic_match_dest(&v, 0x06, true));
	CHECK(!vlapic_match_dest(&v, 0x08, true));
	CHECK(vlapic_match_dest(&v, 0xff, true));
	wr(&v, VLAPIC_REG_DFR, 0x0fffffff);                  /* cluster model */
	wr(&v, VLAPIC_REG_LDR, 0x21000000);                  /* cluster 2, member bit 0 */
	CHECK(vlapic_match_dest(&v, 0x21, true));
	CHECK(vlapic_match_dest(&v, 0x23, true));
	CHECK(!vlapic_match_dest(&v, 0x22, true));
	CHECK(!vlapic_match_dest(&v, 0x31, true));
	CHECK(vlapic_match_dest(&v, 0xff, true));
	m.shorthand = APIC_DEST_ALL_BUT_SELF;
	m.source_apic_id = 3;
	CHECK(!vlapic_match_msg(&v, &m));
	m.source_apic_id = 4;
	CHECK(vlapic_match_msg(&v, &m));
	m.shorthand = APIC_DEST_SELF;
	CHECK(!vlapic_match_msg(&v, &m));
	m.shorthand = APIC_DEST_ALL;
	CHECK(vlapic_match_msg(&v, &m));
	m.shorthand = APIC_DEST_NO_SHORTHAND;
	m.dest = 0x23;
	m.dest_logical = true;
	CHECK(vlapic_match_msg(&v, &m));

	x2apic_on(&v, 0x25);                                 /* cluster 2, bit 5 */
	CHECK(vlapic_match_dest(&v, 0x25, false));
	CHECK(!vlapic_match_dest(&v, 0xff, false));           /* 0xff is an ordinary ID here */
	CHECK(vlapic_match_dest(&v, 0xffffffff, false));
	CHECK(vlapic_match_dest(&v, 0xffffffff, true));
	CHECK(vlapic_match_dest(&v, (2u << 16) | 0x20, true));
	CHECK(vlapic_match_dest(&v, (2u << 16) | 0x30, true));
	CHECK(!vlapic_match_dest(&v, (2u << 16) | 0x10, true));
	CHECK(!vlapic_match_dest(&v, (3u << 16) | 0x20, true));

	CHECK_EQ(vlapic_set_base(&v, 0xfee00000ull), 0);      /* disabled APIC: nothing matches */
	CHECK(!vlapic_match_dest(&v, 0xffffffff, false));
	CHECK(!vlapic_match_msg(&v, &m));
}

static void test_lint(void)
{
	struct vlapic v;

	xapic_on(&v, 0);
	vlapic_set_lint(&v, 0, true);                        /* masked at reset */
	CHECK(!v.extint_pending);
	wr(&v, VLAPIC_REG_LVT_LINT0, 0x700);                 /* virtual wire: ExtINT, line high */
	CHECK(v.extint_pending);
	vlapic_set_lint(&v, 0, false);
	CHECK(!v.extint_pending);
	vlapic_set_lint(&v, 0, true);
	CHECK(v.extint_pending);
	CHECK_EQ(vlapic_pending_vector(&v), -1);

	wr(&v, VLAPIC_REG_LVT_LINT1, 0x400);                 /* NMI, edge */
	vlapic_set_lint(&v, 1, true);
	CHECK(v.nmi_pending);
	v.nmi_pending = false;
	vlapic_set_lint(&v, 1, true);                        /* no new edge */
	CHECK(!v.nmi_pending);
	vlapic_set_lint(&v, 1, false);
	vlapic_set_lint(&v, 1, true);
	CHECK(v.nmi_pending);
	vlapic_set_lint(&v, 1, false);
	vlapic_set_lint(&v, 2, true);                        /* no such pin */

	/* Fixed, level-triggered: remote IRR until EOI, re-sent while still asserted. */
	v.nmi_pending = false;
	wr(&v, VLAPIC_REG_LVT_LINT1, 0x8055);
	vlapic_set_lint(&v, 1, true);
	CHECK(irr_has(&v, 0x55) && tmr_has(&v, 0x55));
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_LINT1), 0xc055);
	vlapic_ack(&v, 0x55);
	wr(&v, VLAPIC_REG_EOI, 0);
	CHECK(irr_has(&v, 0x55));
	vlapic_ack(&v, 0x55);
	vlapic_set_lint(&v, 1, false);
	wr(&v, VLAPIC_REG_EOI, 0);
	CHECK(!irr_has(&v, 0x55));
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_LINT1), 0x8055);

	/* Fixed, edge-triggered. */
	wr(&v, VLAPIC_REG_LVT_LINT1, 0x0057);
	vlapic_set_lint(&v, 1, true);
	CHECK(irr_has(&v, 0x57) && !tmr_has(&v, 0x57));

	/* Software disable masks LINT0: the ExtINT request goes with it. */
	wr(&v, VLAPIC_REG_SVR, 0xff);
	CHECK(!v.extint_pending);
	wr(&v, VLAPIC_REG_SVR, 0x1ff);
	wr(&v, VLAPIC_REG_LVT_LINT0, 0x700);
	CHECK(v.extint_pending);

	/* APIC disabled in IA32_APIC_BASE: LINT0 is INTR, LINT1 is NMI. */
	CHECK_EQ(vlapic_set_base(&v, 0xfee00000ull), 0);
	CHECK(v.extint_pending);                             /* LINT0 is still high */
	v.nmi_pending = false;
	vlapic_set_lint(&v, 0, false);
	CHECK(!v.extint_pending);
	vlapic_set_lint(&v, 0, true);
	CHECK(v.extint_pending);
	vlapic_set_lint(&v, 1, false);
	vlapic_set_lint(&v, 1, true);
	CHECK(v.nmi_pending);
	CHECK_EQ(vlapic_set_base(&v, 0xfee00800ull), 0);     /* enabled again: LINT0 masked */
	CHECK(!v.extint_pending);
}

static void test_software_disabled(void)
{
	struct vlapic v;
	struct apic_msg m = fixed_msg(0x70, false);

	vlapic_init(&v, 2, false, TSC_HZ, TIMER_HZ);        /* SVR 0xff: software-disabled */
	vlapic_accept(&v, &m);
	CHECK(!irr_has(&v, 0x70));
	m.delivery = APIC_DM_LOWEST;
	vlapic_accept(&v, &m);
	CHECK(!irr_has(&v, 0x70));
	m.delivery = APIC_DM_NMI;
	vlapic_accept(&v, &m);
	m.delivery = APIC_DM_INIT;
	vlapic_accept(&v, &m);
	m.delivery = APIC_DM_STARTUP;
	m.vector = 0x9a;
	vlapic_accept(&v, &m);
	m.delivery = APIC_DM_EXTINT;
	vlapic_accept(&v, &m);
	CHECK(v.nmi_pending && v.init_pending && v.sipi_pending && v.extint_pending);
	CHECK_EQ(v.sipi_vector, 0x9a);
	wr(&v, VLAPIC_REG_LVT_TIMER, 0x40);                  /* the mask cannot be cleared */
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_TIMER), VLAPIC_LVT_MASKED | 0x40);
	wr(&v, VLAPIC_REG_SVR, 0x1ff);
	wr(&v, VLAPIC_REG_LVT_TIMER, VLAPIC_LVT_TIMER_PERIODIC | 0x40);
	wr(&v, VLAPIC_REG_LVT_LINT0, 0x700);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_TIMER), VLAPIC_LVT_TIMER_PERIODIC | 0x40);
	vlapic_mmio_write(&v, VLAPIC_REG_TIMER_INITIAL, 10, 0);
	vlapic_mmio_write(&v, VLAPIC_REG_SVR, 0xff, 1);       /* disabling masks every LVT */
	for (uint32_t off = VLAPIC_REG_LVT_TIMER; off <= VLAPIC_REG_LVT_ERROR; off += 16)
		CHECK(rd(&v, off) & VLAPIC_LVT_MASKED);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_LINT0), VLAPIC_LVT_MASKED | 0x700);
	vlapic_tick(&v, 1000);
	CHECK(!irr_has(&v, 0x40));
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	/* In-service and requested interrupts are held, 11.4.7.2. */
	wr(&v, VLAPIC_REG_SVR, 0x1ff);
	m = fixed_msg(0x70, false);
	vlapic_accept(&v, &m);
	wr(&v, VLAPIC_REG_SVR, 0xff);
	CHECK_EQ(vlapic_pending_vector(&v), 0x70);
}

static void test_init_signal(void)
{
	struct vlapic v;
	struct apic_msg m = fixed_msg(0x70, false);

	xapic_on(&v, 7);
	wr(&v, VLAPIC_REG_TPR, 0x20);
	wr(&v, VLAPIC_REG_LDR, 0x80000000);
	wr(&v, VLAPIC_REG_LVT_TIMER, 0x40);
	wr(&v, VLAPIC_REG_TIMER_INITIAL, 1000);
	vlapic_accept(&v, &m);
	vlapic_ack(&v, 0x70);
	vlapic_accept(&v, &m);
	m.delivery = APIC_DM_INIT;
	m.level = true;
	m.assert = false;                                    /* de-assert: ignored */
	vlapic_accept(&v, &m);
	CHECK(!v.init_pending);
	m.assert = true;
	vlapic_accept(&v, &m);
	CHECK(v.init_pending);
	m.delivery = APIC_DM_STARTUP;
	m.vector = 0x10;
	vlapic_accept(&v, &m);
	vlapic_init_signal(&v);
	CHECK(!v.init_pending && v.sipi_pending && v.sipi_vector == 0x10);
	CHECK_EQ(rd(&v, VLAPIC_REG_ID), 7u << 24);
	CHECK_EQ(vlapic_get_base(&v), 0xfee00000ull | VLAPIC_BASE_EN);
	CHECK_EQ(rd(&v, VLAPIC_REG_TPR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_LDR), 0);
	CHECK_EQ(rd(&v, VLAPIC_REG_SVR), 0xff);
	CHECK_EQ(rd(&v, VLAPIC_REG_LVT_TIMER), VLAPIC_LVT_MASKED);
	CHECK_EQ(rd(&v, VLAPIC_REG_TIMER_INITIAL), 0);
	CHECK(!irr_has(&v, 0x70) && !isr_has(&v, 0x70));
	CHECK_EQ(vlapic_next_event(&v), UINT64_MAX);
	m.delivery = APIC_DM_SMI;                           /* no SMM: nothing happens */
	vlapic_accept(&v, &m);
	CHECK(!v.init_pending && !v.nmi_pending);
}

/* Random register traffic must never crash and must keep the invariants. */
static void test_fuzz(void)
{
	static const uint64_t bases[] = { 0xfee00800ull, 0xfee00c00ull, 0xfee00000ull, 0xfee00400ull,
					  0x1fee00800ull, 0xfed00800ull };
	struct vlapic v[2];
	uint64_t now = 0, val;
	struct apic_msg m;

	vlapic_init(&v[0], 0, true, 3500000000ull, 100000000ull);
	vlapic_init(&v[1], 1, false, 1000, 7);
	for (unsigned i = 0; i < 400000; i++) {
		struct vlapic *a = &v[xorshift() & 1];
		uint64_t r = xorshift(), x = xorshift();

		now += (r & 0x10000) ? x % 100000000 : x % 64;
		switch (r % 14) {
		case 0: vlapic_mmio_read(a, (uint32_t)(x & 0xfff), now); break;
		case 1: vlapic_mmio_write(a, (uint32_t)(x & 0xff0), (uint32_t)(x >> 32), now); break;
		case 2: vlapic_msr_read(a, 0x7f0 + (uint32_t)(x % 0x120), &val, now); break;
		case 3: vlapic_msr_write(a, 0x800 + (uint32_t)(x % 0x40), (r & 0x20000) ? x >> 40 : x >> 56, now); break;
		case 4: vlapic_set_base(a, bases[x % ARRAY_SIZE(bases)]); break;
		case 5:
			m = (struct apic_msg){ .vector = (uint8_t)x, .delivery = (uint8_t)((x >> 8) & 7),
					       .level = (x >> 11) & 1, .assert = (x >> 12) & 1 };
			vlapic_accept(a, &m);
			break;
		case 6: vlapic_set_lint(a, (unsigned)(x % 3), x & 8); break;
		case 7: vlapic_tick(a, now); break;
		case 8: {
			int vec = vlapic_pending_vector(a);

			CHECK(vec == -1 || (vec >= 16 && vec < 256));
			if (vec >= 0)
				vlapic_ack(a, (uint8_t)vec);
			break;
		}
		case 9: while (vlapic_take_ipi(a, &m)) CHECK(m.delivery != 3 && m.delivery != 7); break;
		case 10: vlapic_take_eoi_level(a); break;
		case 11: vlapic_write_tsc_deadline(a, now + (x % 1000) - 500, now); break;
		case 12: vlapic_mmio_write(a, (uint32_t)(0x300 + (x & 0xf0)), (uint32_t)(x >> 20), now); break;
		default: vlapic_init_signal(a); break;
		}
		CHECK(a->ipi_count <= VLAPIC_IPI_QUEUE);
		CHECK_EQ(a->irr[0] & 0xffff, 0);
		CHECK_EQ(a->isr[0] & 0xffff, 0);
		CHECK(vlapic_next_event(a) == UINT64_MAX || vlapic_next_event(a) > 0);
		CHECK(!(a->apic_base & VLAPIC_BASE_EXTD) || (a->apic_base & VLAPIC_BASE_EN));
	}
}

int main(void)
{
	RUN_TEST(test_reset_values);
	RUN_TEST(test_xapic_registers);
	RUN_TEST(test_esr_and_error_lvt);
	RUN_TEST(test_x2apic_msrs);
	RUN_TEST(test_base_transitions);
	RUN_TEST(test_id_and_ldr);
	RUN_TEST(test_tpr_ppr);
	RUN_TEST(test_isr_nesting_and_eoi);
	RUN_TEST(test_level_eoi);
	RUN_TEST(test_timer_one_shot);
	RUN_TEST(test_timer_periodic);
	RUN_TEST(test_timer_divide_values);
	RUN_TEST(test_timer_tsc_deadline);
	RUN_TEST(test_timer_masked);
	RUN_TEST(test_next_event_exact);
	RUN_TEST(test_ipi_xapic);
	RUN_TEST(test_ipi_x2apic);
	RUN_TEST(test_match_dest);
	RUN_TEST(test_lint);
	RUN_TEST(test_software_disabled);
	RUN_TEST(test_init_signal);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
