/* Power-off and reset. ACPI comes with the MADT work; until then the emulator exit ports and the
 * keyboard-controller reset are what Cloison has. */
#include "drivers/platform.h"
#include "kernel/log.h"
#include "kernel/x86.h"
#include "kernel/percpu.h"
#include "drivers/lapic.h"
#include "drivers/acpi.h"

static const struct acpi_info *platform_acpi;

void platform_set_acpi(const struct acpi_info *acpi)
{
	platform_acpi = acpi;
}

/* ACPI soft-off: SLP_TYP of \_S5 with SLP_EN into PM1a/PM1b control (ACPI 6.5 7.4.2). */
static void acpi_power_off(void)
{
	const struct acpi_info *a = platform_acpi;

	if (!a || !a->s5_valid || !a->pm1a_cnt)
		return;
	if (a->smi_cmd && a->acpi_enable && !(inw(a->pm1a_cnt) & ACPI_PM1_SCI_EN)) {
		outb((uint16_t)a->smi_cmd, a->acpi_enable); /* hand the power button to ACPI first */
		for (unsigned i = 0; i < 1000000 && !(inw(a->pm1a_cnt) & ACPI_PM1_SCI_EN); i++)
			cpu_relax();
	}
	outw(a->pm1a_cnt, acpi_pm1_sleep_value(a->s5_slp_typa));
	if (a->pm1b_cnt)
		outw(a->pm1b_cnt, acpi_pm1_sleep_value(a->s5_slp_typb));
}

void platform_power_off(uint8_t code)
{
	static const char bochs_shutdown[] = "Shutdown";

	log_info("powering off (code %u)", code);
	log_flush();
	/* The emulators' exit ports first: they carry the exit code; on hardware nothing listens. */
	outb(QEMU_DEBUG_EXIT_PORT, code); /* QEMU ends with status (code << 1) | 1 */
	for (const char *p = bochs_shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	acpi_power_off();
	log_info("no power-off method worked; halting");
	log_flush();
	halt_forever();
}

void platform_reboot(void)
{
	struct descriptor_table_ptr empty = { 0, 0 };

	const struct acpi_info *a = platform_acpi;

	log_info("rebooting");
	log_flush();
	platform_stop_other_cpus();
	/* The FADT reset register (ACPI 6.5 4.8.3.6), then the 8042, then a triple fault. */
	if (a && a->reset_supported) {
		if (a->reset_reg.space_id == ACPI_GAS_IO)
			outb((uint16_t)a->reset_reg.address, a->reset_value);
		else if (a->reset_reg.space_id == ACPI_GAS_MEMORY && a->reset_reg.address < (4ull << 30))
			*(volatile uint8_t *)a->reset_reg.address = a->reset_value;
	}
	outb(0x64, 0xfe); /* 8042 keyboard controller: pulse the reset line */
	lidt(&empty);     /* then a triple fault */
	__asm__ volatile("int3");
	halt_forever();
}

void platform_init(void)
{
	/* Mask both 8259 PICs: the firmware's IRQ0 would otherwise arrive on exception vector 8. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void platform_stop_other_cpus(void)
{
	if (cpu_count > 1)
		lapic_send_nmi_all_others();
}
