/* How often the console CPU looks at COM1: every millisecond while the console is in use, every
 * CONSOLE_IDLE_TICK_US once nothing was typed or printed for CONSOLE_IDLE_AFTER_US. Pure logic. */
#ifndef CLOISON_CONSOLE_PACE_H
#define CLOISON_CONSOLE_PACE_H

#include <stdint.h>
#include <stdbool.h>

#define CONSOLE_TICK_US 1000
#define CONSOLE_IDLE_TICK_US 20000
#define CONSOLE_IDLE_AFTER_US 200000

struct console_pace {
	uint64_t busy_ticks, idle_ticks; /* the two periods, in TSC ticks */
	uint64_t idle_after;             /* quiet ticks before the idle period */
	uint64_t last_active;            /* TSC of the last tick with input or output */
};

void console_pace_init(struct console_pace *p, uint64_t tsc_per_ms, uint64_t now);
/* After a tick at now that saw input or output (active) or not: ticks until the next one. */
uint64_t console_pace_next(struct console_pace *p, uint64_t now, bool active);

#endif
