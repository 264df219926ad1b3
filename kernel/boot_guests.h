/* Creating the guests at boot from the configuration module (or the bare modules). */
#ifndef CLOISON_BOOT_GUESTS_H
#define CLOISON_BOOT_GUESTS_H

#include <stdint.h>
#include "boot/boot_info.h"

/* Reads and checks the configuration, carves out the partitions and prints the map; needs no
 * VT-x. @pre the frame pool and the CPUs are up; guest_ram sizes module-only guests. */
void guests_plan(const struct boot_info *bi, const char *hv_cmdline, uint64_t guest_ram);
/* Prints each partition's host range, CPU and weight, and what the hypervisor keeps. */
void guests_print_map(void);
/* Creates the planned guests (and starts those with autostart), then prints the map. @pre VMX is on. */
void guests_create(const struct boot_info *bi);

#endif
