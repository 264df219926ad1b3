/* Byte ring with absolute positions: one lock-free writer, readers that replay and then stream. */
#include "kernel/ring.h"
#include "kernel/lib.h"

void ring_init(struct ring *r, uint8_t *buf, size_t size)
{
	r->buf = buf;
	r->size = buf ? size : 0;
	r->head = 0;
	r->tail = 0;
	r->reserve = 0;
	r->dropped = 0;
}

void ring_write(struct ring *r, const void *data, size_t n)
{
	const uint8_t *src = data;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint64_t new_head = head + n;
	uint64_t new_tail = tail;
	size_t skip = 0, idx;

	if (n == 0)
		return;
	if (new_head - tail > r->size)
		new_tail = new_head - r->size;
	/* Of data longer than the ring only the last size bytes can stay */
	if (n > r->size)
		skip = n - r->size;

	/* Announce the overwrite before making it, so readers can spot torn copies (seqlock) */
	__atomic_store_n(&r->reserve, new_head, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (r->size) {
		idx = (size_t)((head + skip) % r->size);
		for (size_t i = skip; i < n; i++) {
			__atomic_store_n(&r->buf[idx], src[i], __ATOMIC_RELAXED);
			if (++idx == r->size)
				idx = 0;
		}
	}
	__atomic_store_n(&r->tail, new_tail, __ATOMIC_RELAXED);
	__atomic_store_n(&r->dropped, r->dropped + (new_tail - tail), __ATOMIC_RELAXED);
	__atomic_store_n(&r->head, new_head, __ATOMIC_RELEASE);
}

void ring_clear(struct ring *r)
{
	__atomic_store_n(&r->tail, __atomic_load_n(&r->head, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
}

size_t ring_read(const struct ring *r, uint64_t *pos, uint8_t *out, size_t max)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint64_t p = *pos, reserve, valid_from;
	size_t n, idx, cut;

	/* The writer moves tail before head, so a tail from a later write may pass our head */
	if (tail > head)
		tail = head;
	if (p < tail)
		p = tail;
	if (p > head)
		p = head;
	n = (size_t)MIN(head - p, (uint64_t)max);
	if (n == 0 || r->size == 0) {
		*pos = p;
		return 0;
	}

	idx = (size_t)(p % r->size);
	for (size_t i = 0; i < n; i++) {
		out[i] = __atomic_load_n(&r->buf[idx], __ATOMIC_RELAXED);
		if (++idx == r->size)
			idx = 0;
	}

	/* Whatever a write begun meanwhile may have overwritten is dropped from the copy */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	reserve = __atomic_load_n(&r->reserve, __ATOMIC_RELAXED);
	valid_from = reserve > r->size ? reserve - r->size : 0;
	if (valid_from > p) {
		cut = (size_t)MIN(valid_from - p, (uint64_t)n);
		memmove(out, out + cut, n - cut);
		n -= cut;
		p += cut;
	}
	*pos = p + n;
	return n;
}

uint64_t ring_head(const struct ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

uint64_t ring_used(const struct ring *r)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return tail < head ? head - tail : 0;
}

uint64_t ring_dropped(const struct ring *r)
{
	return __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
}
