/* Host tests for kernel/ring.c: wrap-around, dropping, replay, streaming, a racing reader. */
#include <pthread.h>
#include "tests/unit/test.h"
#include "kernel/ring.h"

TEST_MAIN_GLOBALS;

/* The byte the writer puts at absolute position p, so a reader can check what it got. */
static uint8_t pattern(uint64_t p)
{
	return (uint8_t)(p * 7 + (p >> 8));
}

static void write_pattern(struct ring *r, uint64_t from, size_t n)
{
	uint8_t chunk[64];

	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		for (size_t i = 0; i < k; i++)
			chunk[i] = pattern(from + i);
		ring_write(r, chunk, k);
		from += k;
		n -= k;
	}
}

static int matches_pattern(const uint8_t *out, uint64_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (out[i] != pattern(from + i))
			return 0;
	return 1;
}

static void test_empty(void)
{
	uint8_t buf[8], out[8];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, buf, sizeof(buf));
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 0);
	CHECK_EQ(pos, 0);
	CHECK_EQ(ring_used(&r), 0);
	CHECK_EQ(ring_dropped(&r), 0);
	CHECK_EQ(ring_head(&r), 0);
	ring_write(&r, "", 0);
	CHECK_EQ(ring_head(&r), 0);
}

static void test_write_read(void)
{
	uint8_t buf[8], out[8];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, buf, sizeof(buf));
	ring_write(&r, "hello", 5);
	CHECK_EQ(ring_used(&r), 5);
	CHECK_EQ(ring_read(&r, &pos, out, 3), 3);
	CHECK(memcmp(out, "hel", 3) == 0);
	CHECK_EQ(pos, 3);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 2);
	CHECK(memcmp(out, "lo", 2) == 0);
	CHECK_EQ(pos, 5);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 0);
	CHECK_EQ(pos, 5);
	CHECK_EQ(ring_read(&r, &pos, out, 0), 0);
}

static void test_wrap(void)
{
	uint8_t buf[8], out[8];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, buf, sizeof(buf));
	ring_write(&r, "abcde", 5);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 5);
	ring_write(&r, "fghijk", 6); /* positions 5..10 wrap past the end of buf */
	CHECK_EQ(ring_dropped(&r), 3);
	CHECK_EQ(ring_used(&r), 8);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 6);
	CHECK(memcmp(out, "fghijk", 6) == 0);
	CHECK_EQ(pos, 11);
	/* A fresh reader replays the 8 kept bytes */
	pos = 0;
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 8);
	CHECK(memcmp(out, "defghijk", 8) == 0);
	CHECK_EQ(pos, 11);
}

static void test_overflow_drops_oldest(void)
{
	uint8_t buf[16], out[32];
	struct ring r;
	uint64_t pos = 0;
	size_t n;

	ring_init(&r, buf, sizeof(buf));
	for (uint64_t p = 0; p < 100; p++)
		write_pattern(&r, p, 1);
	CHECK_EQ(ring_dropped(&r), 84);
	CHECK_EQ(ring_used(&r), 16);
	CHECK_EQ(ring_head(&r), 100);
	n = ring_read(&r, &pos, out, sizeof(out));
	CHECK_EQ(n, 16);
	CHECK_EQ(pos, 100);
	CHECK_EQ(pos - 0 - n, 84); /* skipped */
	CHECK(matches_pattern(out, 84, n));
}

static void test_write_larger_than_ring(void)
{
	uint8_t buf[8], out[8];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, buf, sizeof(buf));
	ring_write(&r, "12", 2);
	ring_write(&r, "abcdefghijklmnopqrst", 20);
	CHECK_EQ(ring_head(&r), 22);
	CHECK_EQ(ring_dropped(&r), 14);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 8);
	CHECK(memcmp(out, "mnopqrst", 8) == 0);
	CHECK_EQ(pos, 22);
}

static void test_replay_from_old_position(void)
{
	uint8_t buf[32], out[64];
	struct ring r;
	uint64_t pos = 10, before;
	size_t n;

	ring_init(&r, buf, sizeof(buf));
	write_pattern(&r, 0, 50);
	/* Position 10 is gone: the read jumps to 18, the oldest kept byte, and says so */
	before = pos;
	n = ring_read(&r, &pos, out, 5);
	CHECK_EQ(n, 5);
	CHECK_EQ(pos, 23);
	CHECK_EQ(pos - before - n, 8);
	CHECK(matches_pattern(out, 18, n));
	/* A kept position is read from where it is */
	pos = 40;
	n = ring_read(&r, &pos, out, sizeof(out));
	CHECK_EQ(n, 10);
	CHECK(matches_pattern(out, 40, n));
	/* A position past the head is taken as the head */
	pos = 1000;
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 0);
	CHECK_EQ(pos, 50);
}

static void test_stream(void)
{
	uint8_t buf[64], out[7];
	struct ring r;
	uint64_t pos = 0, expect = 0, written = 0;

	ring_init(&r, buf, sizeof(buf));
	/* The reader keeps up with small reads while the writer adds uneven chunks */
	for (unsigned round = 0; round < 500; round++) {
		size_t n, chunk = round % 13;

		write_pattern(&r, written, chunk);
		written += chunk;
		while ((n = ring_read(&r, &pos, out, sizeof(out))) > 0) {
			CHECK(matches_pattern(out, expect, n));
			expect += n;
			CHECK_EQ(pos, expect);
		}
	}
	CHECK_EQ(expect, written);
	CHECK_EQ(ring_dropped(&r), written - 64);
}

static void test_clear(void)
{
	uint8_t buf[8], out[8];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, buf, sizeof(buf));
	ring_write(&r, "abcdefghij", 10);
	CHECK_EQ(ring_dropped(&r), 2);
	ring_clear(&r);
	CHECK_EQ(ring_used(&r), 0);
	CHECK_EQ(ring_dropped(&r), 2);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 0);
	CHECK_EQ(pos, 10);
	/* A full ring's worth after clearing drops nothing */
	ring_write(&r, "ABCDEFGH", 8);
	CHECK_EQ(ring_dropped(&r), 2);
	pos = 0;
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 8);
	CHECK(memcmp(out, "ABCDEFGH", 8) == 0);
}

static void test_zero_size(void)
{
	uint8_t out[4];
	struct ring r;
	uint64_t pos = 0;

	ring_init(&r, NULL, 16);
	ring_write(&r, "abc", 3);
	CHECK_EQ(ring_dropped(&r), 3);
	CHECK_EQ(ring_used(&r), 0);
	CHECK_EQ(ring_read(&r, &pos, out, sizeof(out)), 0);
	CHECK_EQ(pos, 3);
}

struct race {
	struct ring ring;
	uint8_t buf[61]; /* small and odd, so the writer laps the reader mid-copy */
	uint64_t total;
	int done;
};

static void *race_writer(void *arg)
{
	struct race *race = arg;
	uint64_t p = 0;

	while (p < race->total) {
		size_t n = 1 + p % 37;

		if (n > race->total - p)
			n = (size_t)(race->total - p);
		write_pattern(&race->ring, p, n);
		p += n;
	}
	__atomic_store_n(&race->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A reader on another CPU may be lapped: it may lose bytes, never receive wrong ones. */
static void test_racing_reader(void)
{
	static struct race race;
	uint8_t out[50];
	uint64_t pos = 0, received = 0, skipped = 0;
	int bad = 0;
	pthread_t writer;

	race.total = 3000000;
	ring_init(&race.ring, race.buf, sizeof(race.buf));
	CHECK_EQ(pthread_create(&writer, NULL, race_writer, &race), 0);
	for (;;) {
		int finished = __atomic_load_n(&race.done, __ATOMIC_ACQUIRE);
		uint64_t before = pos;
		size_t n = ring_read(&race.ring, &pos, out, sizeof(out));

		skipped += pos - before - n;
		if (!matches_pattern(out, pos - n, n))
			bad++;
		received += n;
		if (finished && n == 0)
			break;
	}
	pthread_join(writer, NULL);
	CHECK_EQ(bad, 0);
	CHECK_EQ(received + skipped, race.total);
	CHECK_EQ(pos, race.total);
}

int main(void)
{
	RUN_TEST(test_empty);
	RUN_TEST(test_write_read);
	RUN_TEST(test_wrap);
	RUN_TEST(test_overflow_drops_oldest);
	RUN_TEST(test_write_larger_than_ring);
	RUN_TEST(test_replay_from_old_position);
	RUN_TEST(test_stream);
	RUN_TEST(test_clear);
	RUN_TEST(test_zero_size);
	RUN_TEST(test_racing_reader);
	return test_any_failed;
}
