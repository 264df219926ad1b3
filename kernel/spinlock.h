/* A test-and-set spinlock; the hypervisor runs with interrupts off, so nothing else is needed. */
#ifndef CLOISON_SPINLOCK_H
#define CLOISON_SPINLOCK_H

#include <stdbool.h>

struct spinlock {
	volatile bool locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_test_and_set((void *)&l->locked, __ATOMIC_ACQUIRE))
		while (l->locked)
			__builtin_ia32_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_clear((void *)&l->locked, __ATOMIC_RELEASE);
}

#endif
