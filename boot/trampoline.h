/* The AP start-up trampoline: where it runs and the parameters the BSP hands each AP. */
#ifndef CLOISON_TRAMPOLINE_H
#define CLOISON_TRAMPOLINE_H

/* Below 1 MiB and page aligned: the start-up IPI's vector is the page number (SDM Vol. 3A 10.6.1). */
#define TRAMPOLINE_BASE 0x8000

#ifndef __ASSEMBLY__
#include <stdint.h>

struct tramp_params {
	uint64_t cr3;
	uint64_t stack;
	uint64_t cpu;   /* struct per_cpu * of the AP, first argument of entry */
	uint64_t entry; /* void entry(struct per_cpu *) */
	uint32_t apic_id; /* the AP these parameters are for; any other parks itself */
	uint32_t claimed; /* 0: free; set once by the AP that takes them or by the BSP giving up */
};

extern const char trampoline_start[], trampoline_end[], tramp_params[];
#endif

#endif
