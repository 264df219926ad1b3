/* Scheduler policy: weighted round robin over the guests of one physical CPU; no hardware here. */
#ifndef CLOISON_SCHED_H
#define CLOISON_SCHED_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "kernel/limits.h"

#define SCHED_WEIGHT_UNIT 256 /* the weight that gets exactly the base slice */

struct sched_entity {
	unsigned id;       /* the caller's: a guest index */
	unsigned weight;   /* 1..65535 */
	uint64_t slice;    /* sched_slice, noted by sched_add (weights do not change once queued) */
	bool runnable;     /* false while blocked (HLT) or stopped; set by the caller */
	uint64_t runtime;  /* ticks run, summed by sched_account */
	uint64_t switches; /* times it was switched away from */
	uint64_t slices;   /* times it ran its whole slice (was preempted rather than blocking) */
};

struct sched_queue {
	struct sched_entity *entities[MAX_GUESTS];
	unsigned count;
	unsigned cursor;     /* index where the next search starts: just after the last pick */
	uint64_t base_slice; /* ticks */
};

void sched_queue_init(struct sched_queue *q, uint64_t base_slice);
/* Appends e (runnable or not): -E_INVAL for weight 0, -E_EXIST when queued, -E_FULL. */
int sched_add(struct sched_queue *q, struct sched_entity *e);
/* Takes e out; the round continues with the entity that followed it. No-op when not queued. */
void sched_remove(struct sched_queue *q, struct sched_entity *e);
/* base_slice * weight / 256 ticks, at least 1. */
uint64_t sched_slice(const struct sched_queue *q, const struct sched_entity *e);
/* After e ran ran_ticks (a whole slice counts in e->slices): switched_away says whether the CPU
 * then went to another entity or idle. @pre e was queued (sched_add noted its slice) */
static inline void sched_account(struct sched_entity *e, uint64_t ran_ticks, bool switched_away)
{
	e->runtime += ran_ticks;
	if (ran_ticks >= e->slice)
		e->slices++;
	if (switched_away)
		e->switches++;
}

/* The run loop's one call between two slices: picks the next runnable entity after the one
 * picked last, wrapping (NULL when none is), and sets *slice to its slice, or to alone_slice
 * when no other entity is runnable (it then needs no preemption for others); then accounts
 * prev's ran_ticks (prev NULL: the CPU idled), switched away unless it is picked again. */
struct sched_entity *sched_next(struct sched_queue *q, struct sched_entity *prev,
				uint64_t ran_ticks, uint64_t alone_slice, uint64_t *slice);
/* sched_next in two steps, for a caller that may decline the pick (inline: the exit path's
 * switch uses them). The entity sched_next would pick (NULL: none runnable), its slice, and
 * where the cursor would go; nothing changes. */
static inline struct sched_entity *sched_peek(const struct sched_queue *q, uint64_t alone_slice,
					       uint64_t *slice, unsigned *cursor)
{
	struct sched_entity *next = NULL;
	unsigned count = q->count, i = q->cursor, left = count;

	/* From the cursor, wrapping: the first runnable entity... */
	while (left) {
		struct sched_entity *e = q->entities[i];

		left--;
		if (++i == count)
			i = 0;
		if (e->runnable) {
			next = e;
			*cursor = i;
			*slice = alone_slice;
			break;
		}
	}
	/* ...then whether any other is */
	while (left--) {
		struct sched_entity *e = q->entities[i];

		if (++i == count)
			i = 0;
		if (e->runnable) {
			*slice = next->slice;
			break;
		}
	}
	return next;
}

/* Takes a pick of sched_peek: the cursor moves past next, and prev's ran_ticks are accounted
 * (switched away unless next is prev). */
static inline void sched_commit(struct sched_queue *q, struct sched_entity *prev, uint64_t ran_ticks,
				struct sched_entity *next, unsigned cursor)
{
	if (next)
		q->cursor = cursor;
	if (prev)
		sched_account(prev, ran_ticks, next != prev);
}
/* sched_next without accounting, for the pick alone. */
struct sched_entity *sched_pick(struct sched_queue *q);

#endif
