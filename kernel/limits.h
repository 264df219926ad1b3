/* Fixed capacities shared by the guest, CPU, configuration and scheduler code. */
#ifndef CLOISON_LIMITS_H
#define CLOISON_LIMITS_H

#define MAX_GUESTS 8
#define MAX_CPUS 16
#define MAX_GUEST_MODULES 8

#endif
