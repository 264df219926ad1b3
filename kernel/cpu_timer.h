/* Each CPU's one host timer: the earliest of the console's next tick (CPU 0 only) and the wake-up
 * of its earliest halted vCPU, in TSC-deadline mode; a 1 ms periodic tick where the CPU lacks it. */
#ifndef CLOISON_CPU_TIMER_H
#define CLOISON_CPU_TIMER_H

#include <stdint.h>

struct per_cpu;

/* Arms this CPU's timer for MIN(cpu->tick_due, cpu->wake_due). @pre cpu == this_cpu() */
void cpu_timer_arm(struct per_cpu *cpu);
/* The timer's interrupt (VECTOR_TICK): the console's tick when due, then the next deadline. */
void cpu_timer_fired(void);
/* Called on the console CPU when its tick is due; sets tick_due for the next one. */
extern void (*tick_handler)(void);

#endif
