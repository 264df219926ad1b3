/* Weighted round robin: every runnable entity once per round, for a slice scaled by its weight. */
#include "kernel/sched.h"
#include "kernel/lib.h"

void sched_queue_init(struct sched_queue *q, uint64_t base_slice)
{
	memset(q, 0, sizeof(*q));
	q->base_slice = base_slice;
}

static int sched_index(const struct sched_queue *q, const struct sched_entity *e)
{
	for (unsigned i = 0; i < q->count; i++)
		if (q->entities[i] == e)
			return (int)i;
	return -1;
}

int sched_add(struct sched_queue *q, struct sched_entity *e)
{
	if (!e || !e->weight)
		return -E_INVAL;
	if (sched_index(q, e) >= 0)
		return -E_EXIST;
	if (q->count >= MAX_GUESTS)
		return -E_FULL;
	e->slice = sched_slice(q, e);
	q->entities[q->count++] = e;
	return 0;
}

void sched_remove(struct sched_queue *q, struct sched_entity *e)
{
	int at = sched_index(q, e);

	if (at < 0)
		return;
	memmove(&q->entities[at], &q->entities[at + 1],
		(q->count - (unsigned)at - 1) * sizeof(q->entities[0]));
	q->count--;
	/* Keep the cursor on the same successor: entries behind it moved down by one */
	if ((unsigned)at < q->cursor)
		q->cursor--;
	if (q->cursor >= q->count)
		q->cursor = 0;
}

uint64_t sched_slice(const struct sched_queue *q, const struct sched_entity *e)
{
	uint64_t slice;

	if (e->weight && q->base_slice > UINT64_MAX / e->weight)
		slice = q->base_slice / SCHED_WEIGHT_UNIT * e->weight;
	else
		slice = q->base_slice * e->weight / SCHED_WEIGHT_UNIT;
	return slice ? slice : 1;
}

struct sched_entity *sched_next(struct sched_queue *q, struct sched_entity *prev,
				uint64_t ran_ticks, uint64_t alone_slice, uint64_t *slice)
{
	unsigned cursor = 0;
	struct sched_entity *next = sched_peek(q, alone_slice, slice, &cursor);

	sched_commit(q, prev, ran_ticks, next, cursor);
	return next;
}

struct sched_entity *sched_pick(struct sched_queue *q)
{
	uint64_t slice;

	return sched_next(q, NULL, 0, 0, &slice);
}
