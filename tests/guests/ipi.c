/* ipi: a hostile guest with two vCPUs and a virtual PC (platform = pc, cpus = two CPUs) that
 * sends every IPI it can name through its xAPIC ICR: INIT, SIPI, NMI and fixed IPIs to APIC IDs
 * outside its own set (another guest's vCPU, a physical CPU), logical and broadcast destinations,
 * all-but-self shorthands; it tries the x2APIC ICR too (x2APIC is not offered: #GP). Its own
 * AP (APIC ID 1) receives the broadcast INIT-SIPI and starts at a `cli; hlt` stub. A neighbour
 * on another CPU checks its memory meanwhile. Prints "ipi: sent N IPIs, x2APIC ICR refused"
 * and exits 0. */
#include "tests/guests/lib/guest.h"

#define LAPIC 0xfee00000u
#define REG_SVR 0x0f0
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define ICR_BUSY (1u << 12)
#define SIPI_PAGE 0x9000u /* vector 0x09 */

static void lapic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(LAPIC + reg) = value;
}

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC + reg);
}

static unsigned sent;
static volatile unsigned nmis;

static void nmi_handler(struct trap_frame *frame)
{
	(void)frame;
	nmis++;
}

static void ipi(uint8_t dest, uint32_t low)
{
	lapic_write(REG_ICR_HIGH, (uint32_t)dest << 24);
	lapic_write(REG_ICR_LOW, low);
	for (unsigned i = 0; i < 1000 && (lapic_read(REG_ICR_LOW) & ICR_BUSY); i++)
		;
	sent++;
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	static const uint8_t outside[] = { 2, 3, 7, 15, 0x80, 0xfe };
	static const uint8_t stub[] = { 0xfa, 0xf4, 0xeb, 0xfd }; /* cli; hlt; jmp $-1 */
	uint64_t icr = (uint64_t)0x4500; /* INIT */

	(void)mbi;
	guest_boot("ipi", magic);
	idt_init(0xee);
	idt_set_handler(2, nmi_handler); /* its own NMI broadcast comes back to it */
	memcpy((void *)SIPI_PAGE, stub, sizeof(stub));
	lapic_write(REG_SVR, 0x1ff);
	printf("ipi: lapic id %u, version 0x%x\n", lapic_read(0x20) >> 24, lapic_read(0x30));
	for (unsigned i = 0; i < sizeof(outside); i++) {
		ipi(outside[i], 0x4500);             /* INIT, physical */
		ipi(outside[i], 0x4600 | 0x09);      /* SIPI */
		ipi(outside[i], 0x4400);             /* NMI */
		ipi(outside[i], 0x4000 | 0x40);      /* fixed vector 0x40 */
		ipi(outside[i], 0x4800 | 0x4500);    /* INIT, logical */
	}
	ipi(0xff, 0x4000 | 0x41);                    /* physical broadcast */
	ipi(0, (3u << 18) | 0x4500);                 /* all but self: INIT ... */
	busy_wait(100000);
	ipi(0, (3u << 18) | 0x4600 | 0x09);          /* ... SIPI: its own AP starts at the stub */
	ipi(0, (2u << 18) | 0x4400);                 /* all including self: NMI */
	ipi(0, (3u << 18) | 0x4000 | 0x42);          /* all but self: fixed */
	if (wrmsr_safe(0x830, icr))
		printf("ipi: x2APIC ICR write ACCEPTED\n");
	else
		printf("ipi: sent %u IPIs, x2APIC ICR refused (vector %u), %u NMI to itself\n", sent,
		       guest_last_fault_vector, nmis);
	guest_exit(0);
}
