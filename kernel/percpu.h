/* Per-CPU data: one page-aligned block per physical CPU, reached through GS. */
#ifndef CLOISON_PERCPU_H
#define CLOISON_PERCPU_H

#include <stdint.h>
#include <stdbool.h>

#include "kernel/limits.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#define EXCEPTION_STACK_SIZE 4096

#define GDT_NULL 0x00
#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_TSS 0x18 /* 16-byte system descriptor: entries 3 and 4 */
#define GDT_ENTRIES 5

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes (SDM Vol. 3A 8.7)");

struct vcpu;
struct guest;

/* poll_ticks before the console starts: no step (a sum with a TSC value cannot overflow) */
#define POLL_TICKS_NONE (UINT64_MAX >> 2)

struct per_cpu {
	struct per_cpu *self; /* at offset 0 so that %gs:0 finds the block */
	unsigned id;
	uint32_t apic_id;
	bool vmx_on;
	uint64_t vmxon_phys;
	struct vcpu *current; /* the vCPU whose VMCS is loaded, NULL when none */
	/* The slice under way (kernel/guest.c): begun by the run loop, or by the exit path's switch */
	struct vcpu *running; /* NULL between slices */
	struct vcpu *owner;   /* whose registers the CPU holds (kernel/vcpu_context.h) */
	uint64_t slice_start, slice_deadline;
	unsigned vmcs_errors; /* failed VMWRITEs since the last check */
	uint64_t idle_ticks;
	/* The host timer (kernel/cpu_timer.c) and the VMX-preemption timer step of the run loop */
	uint64_t tick_due;   /* TSC of the console's next tick: CPU 0 only, else UINT64_MAX */
	uint64_t wake_due;   /* TSC of the earliest halted vCPU's wake-up, UINT64_MAX for none */
	bool timer_periodic; /* without TSC-deadline mode: the 1 ms tick runs */
	bool halted_hint;    /* a vCPU of this CPU may be blocked in HLT: guest_wake_halted looks */
	/* The guest whose vCPUs on this CPU the console waits to see copied (cpu_take_copies) */
	struct guest *volatile copy_guest;
	uint64_t poll_ticks; /* the longest a guest runs without an exit (POLL_TICKS_NONE: no limit) */
	struct spinlock runq_lock;
	struct sched_queue runq; /* the guests pinned to this CPU */
	uint64_t gdt[GDT_ENTRIES];
	struct tss64 tss;
	uint8_t exception_stack[EXCEPTION_STACK_SIZE] __attribute__((aligned(16)));
} __attribute__((aligned(4096)));

_Static_assert(__builtin_offsetof(struct per_cpu, self) == 0, "%gs:0 must be the self pointer");
_Static_assert(sizeof(struct per_cpu) % 4096 == 0, "per-CPU blocks are whole pages");

extern struct per_cpu *cpu_table[MAX_CPUS];
extern unsigned cpu_count;
extern bool percpu_ready;

static inline struct per_cpu *this_cpu(void)
{
	struct per_cpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

static inline unsigned this_cpu_id(void)
{
	return percpu_ready ? this_cpu()->id : 0;
}

/* Loads this CPU's GDT, TSS (with an IST stack for NMI, #DF and #MC), IDT and GS base. */
void cpu_init(struct per_cpu *cpu, unsigned id);

#endif
