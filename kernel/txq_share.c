/* Fair shares of the console transmit queue for guest lines, and the aggregated overflow notice. */
#include "kernel/txq_share.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

uint64_t txq_share_held(struct txq_share *s, unsigned guest, uint64_t tail)
{
	/* The queue is FIFO: once the line has been sent past its last line, it holds nothing */
	if (s->end[guest] <= tail) {
		s->held[guest] = 0;
		return 0;
	}
	return MIN(s->held[guest], s->end[guest] - tail);
}

bool txq_share_admit(struct txq_share *s, unsigned guest, uint64_t need, uint64_t head,
		     uint64_t tail, uint64_t capacity, uint64_t now)
{
	uint64_t used = head - tail;
	uint64_t reserve = capacity / TXQ_SHARE_RESERVE_DIV;
	uint64_t mine = txq_share_held(s, guest, tail);
	uint64_t pool;

	if (used + need + reserve > capacity)
		goto refuse;
	if (mine == 0)
		return true;
	/* What the hypervisor's reserve and the other guests leave: at most half of it is ours */
	pool = capacity - reserve - (used - mine);
	if (mine + need <= pool / 2)
		return true;
refuse:
	if (s->dropped_total++ == 0)
		s->window_start = now;
	s->dropped[guest]++;
	return false;
}

void txq_share_queued(struct txq_share *s, unsigned guest, uint64_t bytes, uint64_t end)
{
	s->held[guest] += bytes;
	s->end[guest] = end;
}

bool txq_share_notice_due(const struct txq_share *s, uint64_t now, uint64_t ticks_per_sec)
{
	return s->dropped_total && now - s->window_start >= ticks_per_sec;
}

struct txq_share_out {
	char *buf;
	size_t size, len;
};

static void txq_share_put(void *ctx, char c)
{
	struct txq_share_out *o = ctx;

	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

size_t txq_share_notice(struct txq_share *s, char *buf, size_t size, const char *const *names,
			uint64_t now, uint64_t ticks_per_sec)
{
	struct txq_share_out o = { buf, size, 0 };
	uint64_t tenths = ticks_per_sec ? (now - s->window_start) * 10 / ticks_per_sec : 0;
	const char *sep = " (";

	if (size == 0)
		return 0;
	fmt_format(txq_share_put, &o, "[console] %lu guest line%s not shown in the last %lu.%lu s",
		   (unsigned long)s->dropped_total, s->dropped_total == 1 ? "" : "s",
		   (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		if (!s->dropped[i])
			continue;
		if (names && names[i])
			fmt_format(txq_share_put, &o, "%s%s: %lu", sep, names[i],
				   (unsigned long)s->dropped[i]);
		else
			fmt_format(txq_share_put, &o, "%sguest %u: %lu", sep, i,
				   (unsigned long)s->dropped[i]);
		sep = ", ";
		s->dropped[i] = 0;
	}
	fmt_format(txq_share_put, &o, "); each guest keeps them in its buffer (console NAME)");
	s->dropped_total = 0;
	buf[o.len] = '\0';
	return o.len;
}
