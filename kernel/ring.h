/* A byte ring over caller-provided storage: writes never block, the oldest bytes give way. */
#ifndef CLOISON_RING_H
#define CLOISON_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * Positions are absolute: byte number p of everything ever written lives at buf[p % size] until
 * size newer bytes overwrite it.
 *
 * Concurrency: one writer (ring_write, ring_clear) and any number of readers (ring_read and the
 * accessors) on other CPUs, without locks. The writer announces the range it is about to
 * overwrite in `reserve` before touching the bytes and publishes `head` after them, so a reader
 * can throw away whatever it copied that may have been overwritten meanwhile (a seqlock whose
 * sequence is the position). Several writers, or ring_clear racing ring_write, need the caller's
 * lock; ring_init must finish before anyone else sees the ring.
 */
struct ring {
	uint8_t *buf;
	size_t size;
	uint64_t head;    /* one past the newest byte; written last, with release */
	uint64_t tail;    /* the oldest byte kept */
	uint64_t reserve; /* bytes below reserve - size may be in the middle of being overwritten */
	uint64_t dropped; /* bytes written and then lost to newer ones before ring_clear */
};

void ring_init(struct ring *r, uint8_t *buf, size_t size);
/* Appends n bytes; what does not fit drops the oldest bytes (or the start of data itself). */
void ring_write(struct ring *r, const void *data, size_t n);
/* Forgets every kept byte; positions keep counting, so readers simply find nothing older. */
void ring_clear(struct ring *r);

/*
 * Copies up to max bytes from absolute position *pos on and advances *pos past them. When *pos
 * is older than the oldest kept byte it first jumps forward to it: the bytes skipped are
 * (new *pos - old *pos - returned count). Start a reader at 0 to replay all that is kept, or at
 * ring_head() to stream only new bytes.
 */
size_t ring_read(const struct ring *r, uint64_t *pos, uint8_t *out, size_t max);

/* Snapshots for statistics, safe from any CPU. */
uint64_t ring_head(const struct ring *r);
uint64_t ring_used(const struct ring *r);
uint64_t ring_dropped(const struct ring *r);

#endif
