/* The console tick's pace (kernel/console_pace.h). */
#include "kernel/console_pace.h"

void console_pace_init(struct console_pace *p, uint64_t tsc_per_ms, uint64_t now)
{
	p->busy_ticks = tsc_per_ms * CONSOLE_TICK_US / 1000;
	p->idle_ticks = tsc_per_ms * CONSOLE_IDLE_TICK_US / 1000;
	p->idle_after = tsc_per_ms * CONSOLE_IDLE_AFTER_US / 1000;
	p->last_active = now; /* the boot banner and prompt were just printed */
}

uint64_t console_pace_next(struct console_pace *p, uint64_t now, bool active)
{
	if (active)
		p->last_active = now;
	return now - p->last_active < p->idle_after ? p->busy_ticks : p->idle_ticks;
}
