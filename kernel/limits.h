/* Fixed capacities shared by the guest, CPU, configuration and scheduler code. */
#ifndef CLOISON_LIMITS_H
#define CLOISON_LIMITS_H

/* Guest slots are static: each costs sizeof(struct guest) of bss (about 3 KiB, see README). */
#define MAX_GUESTS 64
/* CPUs Cloison runs on: a guest's CPU set is a 64-bit mask; further CPUs are reported, left idle. */
#define MAX_CPUS 64
#define MAX_GUEST_MODULES 8

#endif
