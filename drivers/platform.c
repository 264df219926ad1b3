/* Power-off and reset. ACPI comes with the MADT work; until then the emulator exit ports and the
 * keyboard-controller reset are what Cloison has. */
#include "drivers/platform.h"
#include "kernel/log.h"
#include "kernel/x86.h"
#include "kernel/percpu.h"
#include "drivers/lapic.h"

void platform_power_off(uint8_t code)
{
	static const char bochs_shutdown[] = "Shutdown";

	log_info("powering off (code %u)", code);
	outb(QEMU_DEBUG_EXIT_PORT, code); /* QEMU ends with status (code << 1) | 1 */
	for (const char *p = bochs_shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	log_info("no power-off method worked; halting");
	halt_forever();
}

void platform_reboot(void)
{
	struct descriptor_table_ptr empty = { 0, 0 };

	log_info("rebooting");
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
