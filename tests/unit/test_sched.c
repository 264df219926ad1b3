/* Host tests for kernel/sched.c: round-robin order, blocking, removal, slices, weighted shares. */
#include "tests/unit/test.h"
#include "kernel/sched.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

static struct sched_queue q;
static struct sched_entity ents[MAX_GUESTS];

/* A queue of n runnable entities with ids 0..n-1 and the given weight. */
static void setup(unsigned n, unsigned weight)
{
	sched_queue_init(&q, 1000);
	for (unsigned i = 0; i < n; i++) {
		ents[i] = (struct sched_entity){ .id = i, .weight = weight, .runnable = true };
		CHECK_EQ(sched_add(&q, &ents[i]), 0);
	}
}

/* Queues ents[0..n-1] again, as they are now (weights, runnable), in a fresh queue of the same
 * base slice: slices are noted when an entity is queued, so weights are set before. */
static void requeue(unsigned n)
{
	sched_queue_init(&q, q.base_slice);
	for (unsigned i = 0; i < n; i++)
		CHECK_EQ(sched_add(&q, &ents[i]), 0);
}

static unsigned pick_id(void)
{
	struct sched_entity *e = sched_pick(&q);

	return e ? e->id : 99;
}

static void test_order_wrap(void)
{
	setup(3, 256);
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(pick_id(), 0);
		CHECK_EQ(pick_id(), 1);
		CHECK_EQ(pick_id(), 2);
	}
	setup(1, 256);
	CHECK_EQ(pick_id(), 0);
	CHECK_EQ(pick_id(), 0);

	/* An entity added mid-round joins the round at the end */
	setup(2, 256);
	CHECK_EQ(pick_id(), 0);
	ents[2] = (struct sched_entity){ .id = 2, .weight = 256, .runnable = true };
	CHECK_EQ(sched_add(&q, &ents[2]), 0);
	CHECK_EQ(pick_id(), 1);
	CHECK_EQ(pick_id(), 2);
	CHECK_EQ(pick_id(), 0);
}

static void test_blocked(void)
{
	setup(4, 256);
	ents[1].runnable = false;
	ents[2].runnable = false;
	CHECK_EQ(pick_id(), 0);
	CHECK_EQ(pick_id(), 3);
	CHECK_EQ(pick_id(), 0);
	/* Waking up: the round goes on from where it was */
	ents[2].runnable = true;
	CHECK_EQ(pick_id(), 2);
	CHECK_EQ(pick_id(), 3);
	CHECK_EQ(pick_id(), 0);

	for (unsigned i = 0; i < 4; i++)
		ents[i].runnable = false;
	CHECK(sched_pick(&q) == NULL);
	CHECK(sched_pick(&q) == NULL);
	ents[3].runnable = true;
	CHECK_EQ(pick_id(), 3);
	CHECK_EQ(pick_id(), 3);

	sched_queue_init(&q, 1000);
	CHECK(sched_pick(&q) == NULL);
}

static void test_remove(void)
{
	/* The picked one removed: the round goes on with its successor */
	setup(4, 256);
	CHECK_EQ(pick_id(), 0);
	CHECK_EQ(pick_id(), 1);
	sched_remove(&q, &ents[1]);
	CHECK_EQ(q.count, 3);
	CHECK_EQ(pick_id(), 2);
	/* One before the cursor, one after it */
	sched_remove(&q, &ents[0]);
	CHECK_EQ(pick_id(), 3);
	CHECK_EQ(pick_id(), 2);
	sched_remove(&q, &ents[3]);
	CHECK_EQ(pick_id(), 2);
	CHECK_EQ(pick_id(), 2);
	sched_remove(&q, &ents[2]);
	CHECK_EQ(q.count, 0);
	CHECK(sched_pick(&q) == NULL);

	/* The last one removed while the cursor points at it: wrap to the first */
	setup(3, 256);
	CHECK_EQ(pick_id(), 0);
	CHECK_EQ(pick_id(), 1);
	sched_remove(&q, &ents[2]);
	CHECK_EQ(pick_id(), 0);

	/* Removing what is not queued changes nothing */
	setup(2, 256);
	sched_remove(&q, &ents[5]);
	CHECK_EQ(q.count, 2);

	/* Removing every entity in turn, each right after its pick */
	setup(MAX_GUESTS, 256);
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		struct sched_entity *e = sched_pick(&q);

		CHECK(e == &ents[i]);
		if (e)
			sched_remove(&q, e);
	}
	CHECK_EQ(q.count, 0);
}

static void test_add_errors(void)
{
	struct sched_entity extra = { .id = 9, .weight = 256 }, zero = { .id = 10 };

	setup(MAX_GUESTS, 256);
	CHECK_EQ(sched_add(&q, &extra), -E_FULL);
	CHECK_EQ(sched_add(&q, &ents[3]), -E_EXIST);
	CHECK_EQ(sched_add(&q, &zero), -E_INVAL);
	CHECK_EQ(sched_add(&q, NULL), -E_INVAL);
	CHECK_EQ(q.count, MAX_GUESTS);
}

static void test_slice(void)
{
	struct sched_entity e = { .weight = 256 };

	sched_queue_init(&q, 1000);
	CHECK_EQ(sched_slice(&q, &e), 1000);
	e.weight = 512;
	CHECK_EQ(sched_slice(&q, &e), 2000);
	e.weight = 128;
	CHECK_EQ(sched_slice(&q, &e), 500);
	e.weight = 1;
	CHECK_EQ(sched_slice(&q, &e), 3);
	e.weight = 65535;
	CHECK_EQ(sched_slice(&q, &e), 1000ULL * 65535 / 256);
	sched_queue_init(&q, 10);
	e.weight = 1;
	CHECK_EQ(sched_slice(&q, &e), 1);
	sched_queue_init(&q, 0);
	CHECK_EQ(sched_slice(&q, &e), 1);
	/* No overflow with a huge base slice */
	sched_queue_init(&q, UINT64_MAX / 2);
	e.weight = 512;
	CHECK_EQ(sched_slice(&q, &e), (UINT64_MAX / 2) / 256 * 512);
}

static void test_account_alone(void)
{
	uint64_t slice = 0;

	setup(2, 256);
	sched_account(&ents[0], 1000, true);
	sched_account(&ents[0], 400, true);
	sched_account(&ents[0], 1200, false);
	CHECK_EQ(ents[0].runtime, 2600);
	CHECK_EQ(ents[0].slices, 2);
	CHECK_EQ(ents[0].switches, 2);

	/* Another entity runnable: the weighted slice; alone: the alone slice */
	CHECK(sched_next(&q, NULL, 0, 7777, &slice) == &ents[0]);
	CHECK_EQ(slice, 1000);
	ents[1].runnable = false;
	CHECK(sched_next(&q, NULL, 0, 7777, &slice) == &ents[0]);
	CHECK_EQ(slice, 7777);
	/* prev picked again is not switched away; prev left for idle is */
	CHECK(sched_next(&q, &ents[0], 300, 7777, &slice) == &ents[0]);
	CHECK_EQ(ents[0].switches, 2);
	ents[0].runnable = false;
	CHECK(sched_next(&q, &ents[0], 300, 7777, &slice) == NULL);
	CHECK_EQ(ents[0].switches, 3);
	CHECK_EQ(ents[0].runtime, 3200);
}

/* Runs rounds of picks, each entity using its whole slice; returns the total ticks. */
static uint64_t simulate(unsigned picks)
{
	uint64_t total = 0;

	struct sched_entity *prev = NULL;
	uint64_t ran = 0;

	for (unsigned i = 0; i < picks; i++) {
		uint64_t slice;
		struct sched_entity *e = sched_next(&q, prev, ran, 0, &slice);

		if (!e)
			return total;
		prev = e;
		ran = e->slice;
		total += ran;
	}
	if (prev)
		sched_account(prev, ran, true);
	return total;
}

/* Each runtime share equals its weight share within 1 %. */
static void check_shares(unsigned n)
{
	uint64_t runtime = 0, weight = 0;

	for (unsigned i = 0; i < n; i++) {
		runtime += ents[i].runtime;
		weight += ents[i].weight;
	}
	for (unsigned i = 0; i < n; i++) {
		/* runtime_i / runtime vs weight_i / weight, cross-multiplied in integers */
		uint64_t got = ents[i].runtime * weight, want = ents[i].weight * runtime;
		uint64_t diff = got > want ? got - want : want - got;

		CHECK(diff * 100 <= want);
	}
}

static void test_shares(void)
{
	static const unsigned weights[] = { 256, 512, 128, 1024, 1, 65535, 300, 256 };

	setup(2, 256);
	ents[1].weight = 512;
	requeue(2);
	simulate(2000);
	check_shares(2);
	CHECK_EQ(ents[1].runtime, 2 * ents[0].runtime);

	/* Slices in TSC ticks are large enough that rounding weight 1's slice costs nothing */
	setup(MAX_GUESTS, 256);
	q.base_slice = 30000000;
	for (unsigned i = 0; i < MAX_GUESTS; i++)
		ents[i].weight = weights[i % ARRAY_SIZE(weights)];
	requeue(MAX_GUESTS);
	simulate(MAX_GUESTS * 1000);
	check_shares(MAX_GUESTS);
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		CHECK_EQ(ents[i].slices, 1000);
		CHECK_EQ(ents[i].switches, 1000);
	}

	/* A blocked entity's share goes to the others, in their ratio */
	setup(3, 256);
	ents[1].weight = 768;
	ents[2].runnable = false;
	requeue(3);
	simulate(3000);
	check_shares(2);
	CHECK_EQ(ents[2].runtime, 0);
}

static void test_no_starvation(void)
{
	unsigned picked[MAX_GUESTS];

	/* A heavy entity that never yields gets long slices but only one per round */
	setup(4, 1);
	ents[0].weight = 65535;
	requeue(4);
	for (int round = 0; round < 100; round++) {
		memset(picked, 0, sizeof(picked));
		for (unsigned i = 0; i < 4; i++) {
			struct sched_entity *e = sched_pick(&q);

			CHECK(e != NULL);
			if (!e)
				return;
			picked[e->id]++;
			sched_account(e, e->slice, true);
		}
		for (unsigned i = 0; i < 4; i++)
			CHECK_EQ(picked[i], 1);
	}
	/* Still true while others block and wake at random */
	for (int round = 0; round < 1000; round++) {
		unsigned runnable = 0;

		memset(picked, 0, sizeof(picked));
		for (unsigned i = 1; i < 4; i++)
			ents[i].runnable = ((unsigned)round >> i) & 1;
		for (unsigned i = 0; i < 4; i++)
			runnable += ents[i].runnable;
		for (unsigned i = 0; i < runnable; i++) {
			struct sched_entity *e = sched_pick(&q);

			if (e)
				picked[e->id]++;
		}
		for (unsigned i = 0; i < 4; i++)
			CHECK(picked[i] <= 1 && picked[i] == ents[i].runnable);
	}
}

/* The scheduler as three separate steps (pick, whether the pick is alone, accounting with the
 * slice computed anew): the reference sched_next's single pass must agree with. */
static struct sched_entity *ref_pick(struct sched_queue *rq)
{
	for (unsigned n = 0; n < rq->count; n++) {
		unsigned i = (rq->cursor + n) % rq->count;

		if (rq->entities[i]->runnable) {
			rq->cursor = (i + 1) % rq->count;
			return rq->entities[i];
		}
	}
	return NULL;
}

static bool ref_alone(const struct sched_queue *rq, const struct sched_entity *e)
{
	if (!e->runnable)
		return false;
	for (unsigned i = 0; i < rq->count; i++)
		if (rq->entities[i] != e && rq->entities[i]->runnable)
			return false;
	return true;
}

static void ref_account(const struct sched_queue *rq, struct sched_entity *e, uint64_t ran)
{
	e->runtime += ran;
	if (ran >= sched_slice(rq, e))
		e->slices++;
	if (!ref_alone(rq, e))
		e->switches++;
}

/* Two queues of n entities alike (ents on q, twin on q2), weights in steps of weight_step. */
static struct sched_queue q2;
static struct sched_entity twin[MAX_GUESTS];

static void twin_queues(unsigned n, unsigned weight_step)
{
	sched_queue_init(&q, 1000);
	sched_queue_init(&q2, 1000);
	for (unsigned i = 0; i < n; i++) {
		ents[i] = (struct sched_entity){ .id = i, .weight = weight_step * (i + 1),
						 .runnable = true };
		twin[i] = ents[i];
		CHECK_EQ(sched_add(&q, &ents[i]), 0);
		CHECK_EQ(sched_add(&q2, &twin[i]), 0);
	}
}

/* The same runnable set on both queues, drawn from seed */
static void twin_runnable(unsigned n, uint32_t seed)
{
	for (unsigned i = 0; i < n; i++)
		ents[i].runnable = twin[i].runnable = ((seed >> (8 + i)) & 3) != 0;
}

static void check_twin_accounting(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(ents[i].runtime, twin[i].runtime);
		CHECK_EQ(ents[i].switches, twin[i].switches);
		CHECK_EQ(ents[i].slices, twin[i].slices);
	}
}

/* Over many random runnable sets and weights, sched_next and the reference steps give the same
 * picks, slices and accounting. */
static void test_next_matches_steps(void)
{
	struct sched_entity *prev = NULL, *prev2 = NULL;
	uint32_t seed = 12345;

	for (unsigned n = 1; n <= 7; n++) {
		twin_queues(n, 64);
		prev = prev2 = NULL;
		for (unsigned step = 0; step < 500; step++) {
			uint64_t ran = 0, slice = 0, slice2 = 0;
			struct sched_entity *e, *e2;

			seed = seed * 1103515245u + 12345u;
			twin_runnable(n, seed);
			ran = (seed >> 4) % 3000;
			/* the reference steps on q2 */
			if (prev2)
				ref_account(&q2, prev2, ran);
			e2 = ref_pick(&q2);
			if (e2)
				slice2 = ref_alone(&q2, e2) ? 7777 : sched_slice(&q2, e2);
			/* the one call on q */
			e = sched_next(&q, prev, ran, 7777, &slice);
			CHECK_EQ(e ? e->id : 99, e2 ? e2->id : 99);
			CHECK_EQ(slice, slice2);
			CHECK_EQ(q.cursor, q2.cursor);
			prev = e;
			prev2 = e2;
		}
		check_twin_accounting(n);
	}
}

/* sched_peek changes nothing and names what sched_next picks; a declined peek leaves the next
 * sched_next as it was, and a taken one (sched_commit) is sched_next. */
static void test_peek_then_commit(void)
{
	struct sched_entity *prev = NULL, *prev2 = NULL;
	uint32_t seed = 777;

	for (unsigned n = 1; n <= 7; n++) {
		twin_queues(n, 32);
		prev = prev2 = NULL;
		for (unsigned step = 0; step < 500; step++) {
			uint64_t ran, slice = 0, slice2 = 0;
			unsigned cursor = 99, before = q.cursor;
			struct sched_entity *e, *e2;

			seed = seed * 1103515245u + 12345u;
			twin_runnable(n, seed);
			ran = (seed >> 4) % 3000;
			e = sched_peek(&q, 5555, &slice, &cursor);
			CHECK_EQ(q.cursor, before);
			CHECK_EQ(prev ? prev->runtime : 0, prev2 ? prev2->runtime : 0);
			if (seed & 0x10000)
				continue; /* declined: q stays in step with q2 */
			e2 = sched_next(&q2, prev2, ran, 5555, &slice2);
			CHECK_EQ(e ? e->id : 99, e2 ? e2->id : 99);
			if (e)
				CHECK_EQ(slice, slice2);
			sched_commit(&q, prev, ran, e, cursor);
			CHECK_EQ(q.cursor, q2.cursor);
			prev = e;
			prev2 = e2;
		}
		check_twin_accounting(n);
	}
}

int main(void)
{
	RUN_TEST(test_order_wrap);
	RUN_TEST(test_blocked);
	RUN_TEST(test_remove);
	RUN_TEST(test_add_errors);
	RUN_TEST(test_slice);
	RUN_TEST(test_account_alone);
	RUN_TEST(test_peek_then_commit);
	RUN_TEST(test_shares);
	RUN_TEST(test_no_starvation);
	RUN_TEST(test_next_matches_steps);
	return test_any_failed;
}
