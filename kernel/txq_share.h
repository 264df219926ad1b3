/* The console's transmit queue shared among guests: which guest line may go in, and the one
 * notice a second that says how many were left off and whose. Pure logic. */
#ifndef CLOISON_TXQ_SHARE_H
#define CLOISON_TXQ_SHARE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "kernel/limits.h"

/* A queue of capacity C keeps C / TXQ_SHARE_RESERVE_DIV for the hypervisor's own lines. */
#define TXQ_SHARE_RESERVE_DIV 8

struct txq_share {
	/* Bytes admitted since its lines last all left the queue, and the queue position just past
	 * its last line: together an upper bound of what the guest holds in the queue now. */
	uint64_t held[MAX_GUESTS];
	uint64_t end[MAX_GUESTS];
	uint64_t dropped[MAX_GUESTS]; /* its lines left off since the last notice */
	uint64_t dropped_total;
	uint64_t window_start; /* when the first of those was left off */
};

/* Bytes of the queue the guest may still be holding, with the line sent up to tail. */
uint64_t txq_share_held(struct txq_share *s, unsigned guest, uint64_t tail);

/* Whether the guest's line of need bytes may go into the queue (capacity bytes, filled up to
 * head, sent up to tail) at time now. It may when the queue keeps its reserve after it and
 * either the guest holds nothing yet or it would hold at most half of what the others leave
 * free: so a flooding guest is cut first and a quiet guest's line finds room. A refusal is
 * counted for the next notice. @pre guest < MAX_GUESTS */
bool txq_share_admit(struct txq_share *s, unsigned guest, uint64_t need, uint64_t head,
		     uint64_t tail, uint64_t capacity, uint64_t now);
/* Records bytes of an admitted line that now end at queue position end. */
void txq_share_queued(struct txq_share *s, unsigned guest, uint64_t bytes, uint64_t end);

/* A notice is due once lines were left off and a second (ticks_per_sec) has passed since the
 * first of them, so notices come at most once a second; at once when ticks_per_sec is 0. */
bool txq_share_notice_due(const struct txq_share *s, uint64_t now, uint64_t ticks_per_sec);
/* Writes the notice (no newline; cut to size, always terminated) and starts a new window:
 * "[console] N guest lines not shown in the last S.s s (a: n, b: m); each guest keeps them in
 * its buffer (console NAME)". names[guest] may be NULL ("guest ID"). Returns its length. */
size_t txq_share_notice(struct txq_share *s, char *buf, size_t size, const char *const *names,
			uint64_t now, uint64_t ticks_per_sec);

#endif
