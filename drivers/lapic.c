/* Local APIC access: MMIO registers in xAPIC mode, MSRs 0x800+ in x2APIC mode (SDM Vol. 3A 10.12). */
#include "drivers/lapic.h"
#include "kernel/x86.h"

#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define REG_ID 0x20
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define LVT_MASKED (1u << 16)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_FIXED 0x000
#define ICR_NMI 0x400
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Read once per boot (the firmware puts every CPU in the same mode): an RDMSR per EOI is not free. */
static uint64_t apic_base_cached;
static bool apic_mode_read;

static uint64_t apic_base_msr(void)
{
	if (!apic_mode_read) {
		apic_base_cached = rdmsr(MSR_IA32_APIC_BASE);
		apic_mode_read = true;
	}
	return apic_base_cached;
}

static uint64_t lapic_base(void)
{
	return apic_base_msr() & 0xfffff000ull;
}

bool lapic_x2apic_mode(void)
{
	return (apic_base_msr() & APIC_BASE_EXTD) != 0;
}

static uint32_t lapic_read(unsigned reg)
{
	if (lapic_x2apic_mode())
		return (uint32_t)rdmsr(0x800 + reg / 16);
	return *(volatile uint32_t *)(lapic_base() + reg);
}

static void lapic_write(unsigned reg, uint32_t value)
{
	if (lapic_x2apic_mode())
		wrmsr(0x800 + reg / 16, value);
	else
		*(volatile uint32_t *)(lapic_base() + reg) = value;
}

/* x2APIC has one 64-bit ICR MSR; xAPIC writes the high half first, SDM Vol. 3A 10.6.1 */
static void lapic_icr(uint32_t dest, uint32_t low)
{
	if (lapic_x2apic_mode()) {
		wrmsr(0x830, ((uint64_t)dest << 32) | low);
		return;
	}
	lapic_write(REG_ICR_HIGH, dest << 24);
	lapic_write(REG_ICR_LOW, low);
	for (unsigned spins = 0; lapic_read(REG_ICR_LOW) & ICR_DELIVERY_PENDING; spins++)
		if (spins > 1000000)
			break;
}

__attribute__((cold)) bool lapic_x2apic_supported(void)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	return (r.ecx >> 21) & 1;
}

/* xAPIC to x2APIC: set EXTD while EN stays set, SDM Vol. 3A 10.12.5 */
__attribute__((cold)) void lapic_enable_x2apic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE;

	wrmsr(MSR_IA32_APIC_BASE, base);
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	apic_base_cached = base | APIC_BASE_EXTD;
	apic_mode_read = true;
}

__attribute__((cold)) void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	/* An AP follows the BSP into x2APIC mode (every CPU in one mode: the cache is shared) */
	if (lapic_x2apic_mode() && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	lapic_write(REG_SVR, 0x100 | 0xff); /* APIC software enable, spurious vector 0xff */
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(REG_ID);

	return lapic_x2apic_mode() ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(REG_EOI, 0);
}

__attribute__((cold)) void lapic_start_ap(uint32_t apic_id, uint8_t sipi_vector, void (*delay_us)(uint64_t))
{
	lapic_icr(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		lapic_icr(apic_id, ICR_STARTUP | sipi_vector);
		delay_us(200);
	}
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	lapic_icr(apic_id, ICR_FIXED | vector);
}

void lapic_send_nmi(uint32_t apic_id)
{
	lapic_icr(apic_id, ICR_NMI);
}

__attribute__((cold)) void lapic_send_nmi_all_others(void)
{
	lapic_icr(0, ICR_NMI | ICR_ALL_BUT_SELF);
}

/* The APIC timer's clock is model-specific (SDM Vol. 3A 10.5.4): measure it against the TSC. */
__attribute__((cold)) void lapic_timer_periodic(uint8_t vector, uint64_t period_us, uint64_t tsc_per_ms)
{
	uint64_t start, window = tsc_per_ms / 10; /* 100 us */
	uint32_t counted, per_us;

	lapic_write(REG_TIMER_DIVIDE, 0xb); /* divide by 1 */
	lapic_write(REG_LVT_TIMER, LVT_MASKED | vector);
	lapic_write(REG_TIMER_INITIAL, 0xffffffffu);
	start = rdtsc();
	while (rdtsc() - start < window)
		;
	counted = 0xffffffffu - lapic_read(REG_TIMER_CURRENT);
	per_us = counted / 100 ? counted / 100 : 1;
	lapic_write(REG_TIMER_INITIAL, 0);
	lapic_write(REG_LVT_TIMER, LVT_TIMER_PERIODIC | vector);
	lapic_write(REG_TIMER_INITIAL, (uint32_t)(per_us * period_us));
}

__attribute__((cold)) bool lapic_tsc_deadline_supported(void)
{
	static int supported = -1;
	struct cpuid_regs r;

	if (supported < 0) {
		cpuid(1, 0, &r);
		supported = (r.ecx >> 24) & 1;
	}
	return supported;
}

__attribute__((cold)) void lapic_timer_deadline(uint8_t vector, uint64_t deadline)
{
	uint32_t lvt = lapic_read(REG_LVT_TIMER);

	/* The mode first: the deadline MSR is ignored in other modes, SDM Vol. 3A 11.5.4.1 */
	if ((lvt & (LVT_MASKED | (3u << 17))) != LVT_TIMER_TSC_DEADLINE || (lvt & 0xff) != vector)
		lapic_write(REG_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | vector);
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
}
