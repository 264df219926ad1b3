/* Time: the TSC, calibrated once against the PIT. */
#ifndef CLOISON_TIMER_H
#define CLOISON_TIMER_H

#include <stdint.h>

/* Measures TSC ticks per millisecond over a 10 ms PIT channel-2 one-shot. */
uint64_t tsc_calibrate(void);
extern uint64_t tsc_per_ms;
/* The TSC when GRUB handed over (read first thing in boot/entry.S). */
extern uint64_t boot_tsc;

#endif
