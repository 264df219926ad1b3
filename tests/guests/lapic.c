/* lapic: tries to send INIT and SIPI to the other CPUs, first through the x2APIC ICR MSR, then
 * through the xAPIC ICR in the local APIC page. Under Cloison the MSRs raise #GP and the page
 * is outside the guest's EPT, so the MMIO write stops the guest. Command line: NAME.
 * Surviving the MMIO write prints "lapic: SURVIVED" and exits 1. */
#include "tests/guests/lib/guest.h"

#define MSR_IA32_APIC_BASE 0x1bu
#define APIC_BASE_X2APIC_ENABLE (1u << 10) /* SDM Vol. 3A 11.12.1 */
#define APIC_BASE_XAPIC_ENABLE (1u << 11)
#define MSR_X2APIC_ICR 0x830u
#define XAPIC_MMIO_BASE 0xfee00000u
#define XAPIC_ICR_LOW 0x300u
#define XAPIC_ICR_HIGH 0x310u

/* ICR: all excluding self, level assert; INIT or start-up with the vector, SDM Vol. 3A 11.6.1 */
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define SIPI_VECTOR 0x10 /* the other CPUs would start at 0x10000 */

static const uint32_t icr_init = ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | ICR_INIT;
static const uint32_t icr_sipi = ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | ICR_STARTUP | SIPI_VECTOR;

static bool x2apic_send(const char *what)
{
	bool init_ok = wrmsr_safe(MSR_X2APIC_ICR, icr_init);
	bool sipi_ok = wrmsr_safe(MSR_X2APIC_ICR, icr_sipi);

	if (!init_ok && !sipi_ok)
		printf("lapic: x2APIC ICR write refused (#GP)%s\n", what);
	else
		printf("lapic: x2APIC ICR write accepted%s (INIT %s, SIPI %s)\n", what,
		       init_ok ? "accepted" : "#GP", sipi_ok ? "accepted" : "#GP");
	return init_ok || sipi_ok;
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint64_t apic_base = 0;

	(void)mbi;
	guest_boot("lapic", magic);
	idt_init(0xee);

	x2apic_send("");
	if (rdmsr_safe(MSR_IA32_APIC_BASE, &apic_base)) {
		printf("lapic: IA32_APIC_BASE = 0x%08x%08x\n", (uint32_t)(apic_base >> 32),
		       (uint32_t)apic_base);
		/* Switching the local APIC to x2APIC mode would make the MSRs live: try it. */
		uint64_t x2 = apic_base | APIC_BASE_XAPIC_ENABLE | APIC_BASE_X2APIC_ENABLE;
		if (wrmsr_safe(MSR_IA32_APIC_BASE, x2)) {
			printf("lapic: IA32_APIC_BASE write (x2APIC on) accepted\n");
			x2apic_send(" in x2APIC mode");
		} else {
			printf("lapic: IA32_APIC_BASE write (x2APIC on) refused (#GP)\n");
		}
	} else {
		printf("lapic: IA32_APIC_BASE read refused (#GP)\n");
	}

	printf("lapic: writing xAPIC ICR at 0x%08x (INIT to all others)\n",
	       XAPIC_MMIO_BASE + XAPIC_ICR_LOW);
	uart_flush();
	volatile uint32_t *apic = (volatile uint32_t *)XAPIC_MMIO_BASE;
	apic[XAPIC_ICR_HIGH / 4] = 0;
	apic[XAPIC_ICR_LOW / 4] = icr_init;
	apic[XAPIC_ICR_LOW / 4] = icr_sipi;
	printf("lapic: SURVIVED\n");
	guest_exit(1);
}
