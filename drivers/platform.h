/* Whole-machine controls: power-off, reset, and the emulators' exit ports as fallback. */
#ifndef CLOISON_PLATFORM_H
#define CLOISON_PLATFORM_H

#include <stdint.h>

#define QEMU_DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4 */
#define BOCHS_SHUTDOWN_PORT 0x8900

struct acpi_info;

void platform_init(void);
/* The ACPI facts power-off and reset use (NULL: none; the fallbacks are used). */
void platform_set_acpi(const struct acpi_info *acpi);
__attribute__((noreturn)) void platform_power_off(uint8_t code);
__attribute__((noreturn)) void platform_reboot(void);
void platform_stop_other_cpus(void);

#endif
