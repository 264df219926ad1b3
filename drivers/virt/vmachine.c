/* One guest's virtual PC: devices wired as a PC chipset wires them (ISA IRQs to the PIC and the
 * I/O APIC, the PIC's INTR to LINT0, I/O APIC messages and IPIs to the LAPICs of the guest's own
 * vCPUs), and the INIT/SIPI start-up of its application processors. Pure logic. */
#include "drivers/virt/vmachine.h"
#include "kernel/lib.h"

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define LAPIC_PAGE 0x1000u
#define IOAPIC_WINDOW 0x100u /* IOREGSEL, IOWIN, EOI: the 82093AA's decoded range */

__attribute__((cold)) void vmachine_init(struct vmachine *m, unsigned nr_vcpus, uint64_t tsc_hz, uint64_t apic_timer_hz,
		   uint64_t unix_time, uint64_t now, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	memset(m, 0, sizeof(*m));
	m->nr_vcpus = nr_vcpus < 1 ? 1 : nr_vcpus > VMACHINE_MAX_VCPUS ? VMACHINE_MAX_VCPUS : nr_vcpus;
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		vlapic_init(&m->lapic[i], i, i == 0, tsc_hz, apic_timer_hz);
		m->lapic[i].x2apic_supported = false; /* CPUID does not offer x2APIC (yet) */
		m->wait_sipi[i] = i != 0;             /* APs wait for INIT-SIPI-SIPI */
	}
	/* What a PC BIOS leaves for the OS, MP spec 3.6.2.2 virtual wire: the BSP's APIC
	 * software-enabled, LINT0 ExtINT (the PIC), LINT1 NMI. */
	vlapic_mmio_write(&m->lapic[0], VLAPIC_REG_SVR, 0x1ff, now);
	vlapic_mmio_write(&m->lapic[0], VLAPIC_REG_LVT_LINT0, APIC_DM_EXTINT << 8, now);
	vlapic_mmio_write(&m->lapic[0], VLAPIC_REG_LVT_LINT1, APIC_DM_NMI << 8, now);
	vioapic_init(&m->ioapic);
	vpic_init(&m->pic);
	vpit_init(&m->pit, tsc_hz);
	vrtc_init(&m->rtc, unix_time, now, tsc_hz);
	vrtc_set_memory(&m->rtc, ram_below_4g, ram_above_4g);
	vpm_init(&m->pm, tsc_hz, now);
}

void vmachine_set_isa_irq(struct vmachine *m, unsigned irq, bool level)
{
	if (irq >= 16 || m->isa_level[irq] == level)
		return;
	m->touched = true;
	m->isa_level[irq] = level;
	vpic_set_irq(&m->pic, irq, level);
	/* The PIT's IRQ 0 is I/O APIC pin 2 (the MADT's interrupt source override). */
	vioapic_set_irq(&m->ioapic, irq == VPLAT_PIT_IRQ ? VPLAT_PIT_GSI : irq, level);
}

/* An edge on an ISA line: the PIT's OUT0 rising in modes 2 and 3. */
static void isa_pulse(struct vmachine *m, unsigned irq)
{
	vmachine_set_isa_irq(m, irq, true);
	vmachine_set_isa_irq(m, irq, false);
}

static bool in_range(uint16_t port, uint16_t base, unsigned count)
{
	return port >= base && port < base + count;
}

bool vmachine_io(struct vmachine *m, uint16_t port, unsigned size, bool in, uint32_t *value,
		 uint64_t now, enum vplat_event *event)
{
	*event = VPLAT_EVENT_NONE;
	m->touched = true; /* reads too: they acknowledge (PIC, RTC register C, PM status) */
	if (vpm_handles(port)) {
		m->io_accesses++;
		if (in)
			*value = vpm_read(&m->pm, port, size, now);
		else
			*event = vpm_write(&m->pm, port, size, *value, now);
		if (*event == VPLAT_EVENT_SLEEP_IGNORED)
			*event = VPLAT_EVENT_NONE;
		return true;
	}
	if (in_range(port, VPLAT_PIC_MASTER, 2) || in_range(port, VPLAT_PIC_SLAVE, 2) ||
	    in_range(port, VPLAT_PIC_ELCR, 2)) {
		m->io_accesses++;
		if (in)
			*value = vpic_read(&m->pic, port);
		else
			vpic_write(&m->pic, port, (uint8_t)*value);
		return true;
	}
	if (in_range(port, VPLAT_PIT_BASE, 4) || port == VPLAT_PORT_B) {
		m->io_accesses++;
		if (in)
			*value = vpit_read(&m->pit, port, now);
		else
			vpit_write(&m->pit, port, (uint8_t)*value, now);
		return true;
	}
	if (port == VPLAT_RTC_INDEX || port == VPLAT_RTC_DATA) {
		m->io_accesses++;
		if (in)
			*value = vrtc_read(&m->rtc, port, now);
		else
			vrtc_write(&m->rtc, port, (uint8_t)*value, now);
		return true;
	}
	return false;
}

static bool in_lapic_page(const struct vlapic *v, uint64_t gpa)
{
	uint64_t base = vlapic_mmio_base(v);

	return gpa >= base && gpa < base + LAPIC_PAGE;
}

bool vmachine_mmio_claims(const struct vmachine *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		if (in_lapic_page(&m->lapic[i], gpa))
			return true;
	return gpa >= VPLAT_IOAPIC_BASE && gpa < VPLAT_IOAPIC_BASE + LAPIC_PAGE;
}

bool vmachine_mmio(struct vmachine *m, unsigned vcpu, uint64_t gpa, unsigned size, bool write,
		   uint64_t *value, uint64_t now)
{
	struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];
	uint32_t offset;

	/* Both devices decode aligned 32-bit registers only, SDM Vol. 3A 11.4.1 and the 82093AA. */
	if ((gpa & 3) || size != 4)
		return false;
	m->mmio_accesses++;
	m->touched = true;
	if (in_lapic_page(lapic, gpa)) {
		offset = (uint32_t)(gpa - vlapic_mmio_base(lapic));
		if (write)
			vlapic_mmio_write(lapic, offset, (uint32_t)*value, now);
		else
			*value = vlapic_mmio_read(lapic, offset, now);
		return true;
	}
	if (gpa >= VPLAT_IOAPIC_BASE && gpa < VPLAT_IOAPIC_BASE + IOAPIC_WINDOW) {
		offset = (uint32_t)(gpa - VPLAT_IOAPIC_BASE);
		if (write)
			vioapic_write(&m->ioapic, offset, (uint32_t)*value);
		else
			*value = vioapic_read(&m->ioapic, offset);
		return true;
	}
	return false;
}

int vmachine_msr_read(struct vmachine *m, unsigned vcpu, uint32_t msr, uint64_t *value, uint64_t now)
{
	struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];

	if (msr == MSR_IA32_APIC_BASE) {
		*value = vlapic_get_base(lapic);
		return 1;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*value = vlapic_read_tsc_deadline(lapic);
		return 1;
	}
	if (msr >= VLAPIC_MSR_FIRST && msr <= VLAPIC_MSR_LAST)
		return vlapic_msr_read(lapic, msr, value, now) < 0 ? -1 : 1;
	return 0;
}

int vmachine_msr_write(struct vmachine *m, unsigned vcpu, uint32_t msr, uint64_t value, uint64_t now)
{
	struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];

	m->touched = true;
	if (msr == MSR_IA32_APIC_BASE)
		return vlapic_set_base(lapic, value) < 0 ? -1 : 1;
	if (msr == MSR_IA32_TSC_DEADLINE) {
		vlapic_write_tsc_deadline(lapic, value, now);
		return 1;
	}
	if (msr >= VLAPIC_MSR_FIRST && msr <= VLAPIC_MSR_LAST)
		return vlapic_msr_write(lapic, msr, value, now) < 0 ? -1 : 1;
	return 0;
}

/* A message on the guest's APIC bus reaches only its own vCPUs, SDM Vol. 3A 11.6.2: every one
 * it names (fixed, NMI, INIT, SIPI), or the one of lowest priority among them. */
static void deliver(struct vmachine *m, const struct apic_msg *msg)
{
	int lowest = -1;

	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		if (!vlapic_match_msg(&m->lapic[i], msg))
			continue;
		if (msg->delivery == APIC_DM_LOWEST) {
			if (lowest < 0 || vlapic_get_ppr(&m->lapic[i]) < vlapic_get_ppr(&m->lapic[lowest]))
				lowest = (int)i;
			continue;
		}
		vlapic_accept(&m->lapic[i], msg);
		m->kicks |= 1u << i;
	}
	if (lowest >= 0) {
		vlapic_accept(&m->lapic[lowest], msg);
		m->kicks |= 1u << lowest;
	}
}

/* The earliest event of any device for any vCPU (vmachine_update's work is due then). */
static uint64_t vmachine_next_any(const struct vmachine *m)
{
	uint64_t next = vmachine_next_event(m, 0);

	for (unsigned i = 1; i < m->nr_vcpus; i++)
		next = MIN(next, vlapic_next_event(&m->lapic[i]));
	return next;
}

void vmachine_update(struct vmachine *m, uint64_t now)
{
	struct apic_msg msg;
	int vector;

	/* The entry path calls this before every VM entry: most of the time nothing is due */
	if (!m->touched && now < m->quiet_until && !m->always_update)
		return;

	if (vpit_poll_irq0(&m->pit, now)) {
		/* Missed periods coalesce into one interrupt, as with a busy CPU on hardware. */
		m->pit_irqs++;
		isa_pulse(m, VPLAT_PIT_IRQ);
	}
	vmachine_set_isa_irq(m, VPLAT_RTC_IRQ, vrtc_irq(&m->rtc, now));
	vmachine_set_isa_irq(m, VPLAT_SCI_IRQ, vpm_sci(&m->pm, now));
	/* Level EOIs first: a line still asserted is delivered again below. */
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		while ((vector = vlapic_take_eoi_level(&m->lapic[i])) >= 0)
			vioapic_eoi(&m->ioapic, (uint8_t)vector);
	while (vioapic_take_msg(&m->ioapic, &msg))
		deliver(m, &msg);
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		while (vlapic_take_ipi(&m->lapic[i], &msg)) {
			m->ipis++;
			deliver(m, &msg);
		}
	}
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		bool was = vlapic_pending_vector(&m->lapic[i]) >= 0;

		vlapic_tick(&m->lapic[i], now);
		vlapic_set_lint(&m->lapic[i], 0, vpic_has_intr(&m->pic));
		if (!was && vlapic_pending_vector(&m->lapic[i]) >= 0)
			m->kicks |= 1u << i;
	}
	m->touched = false;
	m->quiet_until = vmachine_next_any(m);
}

uint32_t vmachine_take_kicks(struct vmachine *m)
{
	uint32_t kicks = m->kicks;

	m->kicks = 0;
	return kicks;
}

int vmachine_pending_vector(const struct vmachine *m, unsigned vcpu)
{
	const struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];

	if (lapic->extint_pending && vpic_has_intr(&m->pic))
		return 256; /* the PIC answers with its vector at the INTA cycle */
	return vlapic_pending_vector(lapic);
}

int vmachine_ack(struct vmachine *m, unsigned vcpu, int vector, uint64_t now)
{
	struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];

	m->touched = true;
	m->irqs_injected++;
	if (vector == 256) {
		lapic->extint_pending = false;
		m->extint_irqs++;
		return vpic_ack(&m->pic);
	}
	if (!(lapic->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_MASKED) &&
	    (uint8_t)lapic->lvt[VLAPIC_LVT_TIMER] == vector) {
		uint64_t late = lapic->timer_due != UINT64_MAX && now > lapic->timer_due ?
				now - lapic->timer_due : 0;

		m->timer_irqs++;
		m->timer_latency_sum += late;
		m->timer_latency_max = MAX(m->timer_latency_max, late);
	}
	vlapic_ack(lapic, (uint8_t)vector);
	return vector;
}

bool vmachine_take_nmi(struct vmachine *m, unsigned vcpu)
{
	struct vlapic *lapic = &m->lapic[vcpu < m->nr_vcpus ? vcpu : 0];
	bool nmi = lapic->nmi_pending;

	lapic->nmi_pending = false;
	return nmi;
}

enum vmachine_start vmachine_take_start(struct vmachine *m, unsigned vcpu, uint8_t *vector)
{
	struct vlapic *lapic;

	if (vcpu >= m->nr_vcpus)
		return VMACHINE_START_NONE;
	lapic = &m->lapic[vcpu];
	if (lapic->init_pending) {
		m->touched = true;
		lapic->init_pending = false;
		lapic->sipi_pending = false; /* a SIPI counts only once the INIT is through */
		vlapic_init_signal(lapic);
		m->wait_sipi[vcpu] = true;
		return VMACHINE_START_INIT;
	}
	if (lapic->sipi_pending) {
		lapic->sipi_pending = false;
		if (!m->wait_sipi[vcpu])
			return VMACHINE_START_NONE; /* SIPIs are ignored outside wait-for-SIPI */
		m->wait_sipi[vcpu] = false;
		*vector = lapic->sipi_vector;
		return VMACHINE_START_SIPI;
	}
	return VMACHINE_START_NONE;
}

uint64_t vmachine_next_event(const struct vmachine *m, unsigned vcpu)
{
	uint64_t next = vlapic_next_event(&m->lapic[vcpu < m->nr_vcpus ? vcpu : 0]);

	/* The platform's timers interrupt whichever vCPU their I/O APIC entry names. */
	next = MIN(next, vpit_next_event(&m->pit));
	next = MIN(next, vrtc_next_event(&m->rtc));
	next = MIN(next, vpm_next_event(&m->pm));
	return next;
}

uint8_t vmachine_cr8(const struct vmachine *m, unsigned vcpu)
{
	return (uint8_t)(vlapic_get_tpr(&m->lapic[vcpu < m->nr_vcpus ? vcpu : 0]) >> 4);
}

void vmachine_set_cr8(struct vmachine *m, unsigned vcpu, uint8_t cr8)
{
	m->touched = true;
	vlapic_set_tpr(&m->lapic[vcpu < m->nr_vcpus ? vcpu : 0], (uint32_t)(cr8 & 0xf) << 4);
}
