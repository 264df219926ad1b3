/* Creating the guests at boot from the configuration module (or the bare modules). */
#ifndef CLOISON_BOOT_GUESTS_H
#define CLOISON_BOOT_GUESTS_H

#include <stdint.h>
#include "boot/boot_info.h"

/* @pre the frame pool, the CPUs and VMX are up; guest_ram sizes module-only guests. */
void guests_boot(const struct boot_info *bi, const char *hv_cmdline, uint64_t guest_ram);

#endif
