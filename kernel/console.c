/* The management console on COM1: CPU 0 polls the UART at every tick of its timer (1 ms, 20 ms
 * when quiet), feeds the shell, and streams an attached guest's console output. Implements
 * struct shell_ops. */
#include "kernel/console.h"
#include "kernel/console_pace.h"
#include "kernel/cpu_timer.h"
#include "drivers/virt/vmachine.h"
#include "kernel/shell.h"
#include "kernel/guest.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/lib.h"
#include "kernel/x86.h"
#include "drivers/uart.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"
#include "drivers/platform.h"

#define CONSOLE_WAIT_US 1000000 /* how long a command waits for another CPU to act */

static struct shell shell;
static struct console_pace pace;
static bool shell_ready;
static volatile bool polling;
static bool attached;
static unsigned attached_id;
static uint64_t attached_pos;

static bool at_prompt; /* the console line holds the prompt and what is being typed after it */

static bool contains_newline(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n')
			return true;
	return false;
}

static void op_write(void *ctx, const char *s, size_t n)
{
	size_t plen = sizeof(SHELL_PROMPT) - 1;

	(void)ctx;
	/* Only the prompt line may be erased by a log line (and redrawn): a reply cut mid-line may not. */
	if (n >= plen && memcmp(s + n - plen, SHELL_PROMPT, plen) == 0)
		at_prompt = true;
	else if (contains_newline(s, n))
		at_prompt = false;
	log_console_write(s, n, at_prompt && !shell_attached(&shell, NULL));
}

static unsigned op_guest_count(void *ctx)
{
	(void)ctx;
	return guest_count;
}

static enum shell_guest_state shell_state(enum guest_state s)
{
	switch (s) {
	case GUEST_RUNNING: return SHELL_GUEST_RUNNING;
	case GUEST_PAUSED: return SHELL_GUEST_PAUSED;
	case GUEST_HALTED: return SHELL_GUEST_HALTED;
	case GUEST_SCRUBBING: return SHELL_GUEST_SCRUBBING;
	default: return SHELL_GUEST_STOPPED;
	}
}

static unsigned share_permille(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)(part * 1000 / whole) : 0;
}

static uint64_t cpu_busy_ticks(unsigned cpu, uint64_t *idle)
{
	uint64_t busy = 0;

	for (unsigned i = 0; i < guest_count; i++)
		for (unsigned k = 0; k < guests[i].nr_vcpus; k++)
			if (guests[i].vcpus[k]->cpu == cpu)
				busy += guests[i].vcpus[k]->sched.runtime;
	*idle = cpu_table[cpu] ? cpu_table[cpu]->idle_ticks : 0;
	return busy;
}

/* The registers are copied out of the VMCSs only for this: the CPUs holding the guest's vCPUs
 * do it at their next exit, which the NMI of guest_wait brings at once. */
static bool op_guest_sync(void *ctx, unsigned id)
{
	(void)ctx;
	return id < guest_count && guest_sync_regs(&guests[id], CONSOLE_WAIT_US);
}

static bool op_guest_get(void *ctx, unsigned id, struct shell_guest *out)
{
	struct guest *g;
	struct vcpu *v;
	uint64_t idle, busy;

	(void)ctx;
	if (id >= guest_count)
		return false;
	g = &guests[id];
	v = g->vcpus[0];
	memset(out, 0, sizeof(*out));
	out->id = g->id;
	str_copy(out->name, g->name, sizeof(out->name));
	str_copy(out->image, g->image ? g->image->string : "", sizeof(out->image));
	str_copy(out->cmdline, g->cmdline, sizeof(out->cmdline));
	out->state = shell_state(g->state);
	out->exited = g->exited;
	out->exit_code = g->exit_code;
	str_copy(out->stop_reason, g->stop_reason, sizeof(out->stop_reason));
	out->cpu_mask = g->cpu_mask;
	out->ram_bytes = g->ram_size;
	out->ram_base = g->ram_hpa;
	if (g->state != GUEST_STOPPED && g->state != GUEST_SCRUBBING && g->start_tsc)
		out->uptime_ms = (rdtsc() - g->start_tsc) / tsc_per_ms;
	out->weight = v->sched.weight;
	out->run_ticks = guest_run_ticks(g);
	busy = cpu_busy_ticks(g->cpu, &idle);
	out->share_permille = share_permille(v->sched.runtime, busy + idle);
	out->exits_total = guest_exits(g);
	_Static_assert(SHELL_EXIT_REASONS == EXIT_REASON_MAX, "exit reason tables differ");
	out->nr_vcpus = g->nr_vcpus < SHELL_VCPUS_MAX ? g->nr_vcpus : SHELL_VCPUS_MAX;
	for (unsigned k = 0; k < g->nr_vcpus; k++) {
		const struct vcpu *vk = g->vcpus[k];

		out->switches += vk->switches;
		for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
			out->exits[r] += vk->exits[r];
		if (k < out->nr_vcpus) {
			out->vcpus[k].cpu = vk->cpu;
			out->vcpus[k].block = vk->block;
			out->vcpus[k].started = vk->saved.valid;
			out->vcpus[k].rip = vk->saved.rip;
			out->vcpus[k].run_ticks = vk->sched.runtime;
			out->vcpus[k].exits = vk->exits_total;
		}
	}
	out->last_exit_reason = v->last_exit_reason;
	out->last_exit_qualification = v->last_exit_qualification;
	out->regs_valid = v->saved.valid;
	_Static_assert(SHELL_GPRS == GPR_COUNT, "register orders differ");
	memcpy(out->gpr, v->regs.gpr, sizeof(out->gpr));
	out->gpr[SHELL_RSP] = v->saved.rsp;
	out->rip = v->saved.rip;
	out->rflags = v->saved.rflags;
	out->cr0 = v->saved.cr0;
	out->cr3 = v->saved.cr3;
	out->cr4 = v->saved.cr4;
	out->long_mode = (v->saved.efer >> 10) & 1;
	out->preserved = g->preserved;
	out->has_platform = g->vm != NULL;
	if (g->vm) {
		uint64_t now = rdtsc(), next = vlapic_next_event(&g->vm->lapic[0]);

		out->irqs_injected = g->vm->irqs_injected;
		out->timer_irqs = g->vm->timer_irqs;
		out->pit_irqs = g->vm->pit_irqs;
		out->timer_latency_avg = g->vm->timer_irqs ? g->vm->timer_latency_sum / g->vm->timer_irqs : 0;
		out->timer_latency_max = g->vm->timer_latency_max;
		out->extint_irqs = g->vm->extint_irqs;
		out->io_accesses = g->vm->io_accesses;
		out->mmio_accesses = g->vm->mmio_accesses;
		out->timer_next_us = next == UINT64_MAX ? ~0ull :
				     next <= now ? 0 : (next - now) * 1000 / tsc_per_ms;
	}
	out->console_buffered = ring_used(&g->console);
	out->console_dropped = ring_dropped(&g->console);
	return true;
}

/* Off its CPU for good; the scrub of its RAM may go on (start waits for it) */
static bool is_stopped(struct guest *g)
{
	return g->state == GUEST_STOPPED || g->state == GUEST_SCRUBBING;
}

/* Paused means every vCPU has left its CPU, not just that it was asked to. */
static bool is_off_cpu(struct guest *g)
{
	return g->state != GUEST_RUNNING && guest_off_cpus(g);
}

/* Acts directly when the guest is not on another CPU's hands, else asks that CPU and waits. */
static int guest_request(struct guest *g, enum guest_request req, bool (*done)(struct guest *g))
{
	if (g->state != GUEST_RUNNING || g->cpu == this_cpu_id()) {
		if (req == GUEST_REQUEST_STOP)
			guest_stop(g, "stop command");
		else
			guest_set_state(g, GUEST_PAUSED);
		/* Its other vCPUs leave their CPUs at their next exit (the IPI forces one). */
		return g->nr_vcpus < 2 || guest_wait(g, done, CONSOLE_WAIT_US) ? 0 : -E_TIMEOUT;
	}
	g->request = req;
	if (guest_wait(g, done, CONSOLE_WAIT_US))
		return 0;
	/* Withdraw what the CPU did not take up; if it took it up meanwhile, that stands. */
	__atomic_compare_exchange_n(&g->request, &req, GUEST_REQUEST_NONE, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	return done(g) ? 0 : -E_TIMEOUT;
}

static int op_guest_start(void *ctx, unsigned id)
{
	(void)ctx;
	return id < guest_count ? guest_start(&guests[id]) : -E_NOENT;
}

static int op_guest_stop(void *ctx, unsigned id)
{
	(void)ctx;
	if (id >= guest_count)
		return -E_NOENT;
	if (is_stopped(&guests[id]))
		return 0;
	return guest_request(&guests[id], GUEST_REQUEST_STOP, is_stopped);
}

static int op_guest_pause(void *ctx, unsigned id)
{
	(void)ctx;
	if (id >= guest_count)
		return -E_NOENT;
	if (guests[id].state != GUEST_RUNNING)
		return -E_INVAL;
	return guest_request(&guests[id], GUEST_REQUEST_PAUSE, is_off_cpu);
}

static int op_guest_resume(void *ctx, unsigned id)
{
	(void)ctx;
	if (id >= guest_count)
		return -E_NOENT;
	if (guests[id].state != GUEST_PAUSED || guests[id].preserved)
		return -E_INVAL; /* a crashed guest's state is for inspection only: stop or restart it */
	guest_set_state(&guests[id], GUEST_RUNNING);
	return 0;
}

static int op_console_attach(void *ctx, unsigned id)
{
	(void)ctx;
	if (id >= guest_count)
		return -E_NOENT;
	attached = true;
	attached_id = id;
	attached_pos = 0; /* replay everything kept, then stream */
	guests[id].console_attached = true; /* its lines stop going to the main console */
	return 0;
}

static void op_console_input(void *ctx, unsigned id, uint8_t byte)
{
	(void)ctx;
	if (id < guest_count)
		guest_console_input(&guests[id], byte);
}

static void op_console_detach(void *ctx, unsigned id)
{
	(void)ctx;
	attached = false;
	if (id < guest_count)
		guests[id].console_attached = false;
}

static size_t op_log_read(void *ctx, char *buf, size_t size)
{
	(void)ctx;
	return log_ring_copy(buf, size);
}

static bool op_cpu_get(void *ctx, unsigned cpu, struct shell_cpu *out)
{
	uint64_t idle, busy;

	(void)ctx;
	if (cpu >= cpu_count)
		return false;
	memset(out, 0, sizeof(*out));
	out->id = cpu;
	out->online = cpu_table[cpu] != NULL;
	out->apic_id = cpu_table[cpu] ? cpu_table[cpu]->apic_id : 0;
	busy = cpu_busy_ticks(cpu, &idle);
	for (unsigned i = 0; i < guest_count && out->nr_guests < SHELL_CPU_GUESTS_MAX; i++) {
		for (unsigned k = 0; k < guests[i].nr_vcpus; k++) {
			if (guests[i].vcpus[k]->cpu != cpu || out->nr_guests >= SHELL_CPU_GUESTS_MAX)
				continue;
			out->guests[out->nr_guests] = i;
			out->share_permille[out->nr_guests++] =
				share_permille(guests[i].vcpus[k]->sched.runtime, busy + idle);
		}
	}
	out->idle_permille = share_permille(idle, busy + idle);
	return true;
}

static bool op_mem_get(void *ctx, struct shell_mem *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->total_bytes = mm_usable_bytes();
	out->free_bytes = frame_pool_free_bytes(&frame_pool);
	out->hypervisor_bytes = ((uint64_t)_image_end - (uint64_t)_image_start) + mm_allocated_bytes();
	for (unsigned i = 0; i < guest_count && out->nr_ranges < SHELL_MEM_RANGES_MAX; i++) {
		out->ranges[out->nr_ranges].guest_id = i;
		out->ranges[out->nr_ranges].base = guests[i].ram_hpa;
		out->ranges[out->nr_ranges++].size = guests[i].ram_size;
	}
	return true;
}

static void op_reboot(void *ctx)
{
	(void)ctx;
	platform_reboot();
}

static void op_halt(void *ctx)
{
	(void)ctx;
	platform_power_off(0);
}

static const struct shell_ops console_ops = {
	.write = op_write,
	.guest_count = op_guest_count,
	.guest_get = op_guest_get,
	.guest_sync = op_guest_sync,
	.guest_start = op_guest_start,
	.guest_stop = op_guest_stop,
	.guest_pause = op_guest_pause,
	.guest_resume = op_guest_resume,
	.console_attach = op_console_attach,
	.console_input = op_console_input,
	.console_detach = op_console_detach,
	.log_read = op_log_read,
	.cpu_get = op_cpu_get,
	.mem_get = op_mem_get,
	.reboot = op_reboot,
	.halt = op_halt,
};

/* Streams what the attached guest wrote since the last tick; returns whether there was any. */
static bool console_stream(void)
{
	uint8_t buf[128];
	bool any = false;
	size_t n;

	while ((n = ring_read(&guests[attached_id].console, &attached_pos, buf, sizeof(buf))) > 0) {
		log_console_write((const char *)buf, n, false);
		any = true;
	}
	return any;
}

bool console_poll(void)
{
	bool active = false;
	int c;

	/* A tick can land while a command of the previous tick is still waiting on another CPU. */
	if (!shell_ready || __atomic_test_and_set((void *)&polling, __ATOMIC_ACQUIRE))
		return true;
	/* Redraw an erased prompt before echoing what was typed behind it. */
	if (log_take_prompt_damage() && !shell_attached(&shell, NULL))
		shell_redraw(&shell);
	while ((c = uart_getc()) >= 0) {
		shell_input(&shell, (uint8_t)c);
		active = true;
	}
	if (log_take_prompt_damage() && !shell_attached(&shell, NULL))
		shell_redraw(&shell);
	/* What guests sent since the last tick, to their rings and prefixed lines */
	active |= guest_uart_drain_all();
	if (attached && shell_attached(&shell, NULL))
		active |= console_stream();
	active |= log_drain();
	__atomic_clear((void *)&polling, __ATOMIC_RELEASE);
	return active;
}

/* The console CPU's timer tick (kernel/cpu_timer.c): 1 ms apart while the console is in use,
 * CONSOLE_IDLE_TICK_US when it is quiet; guests on this CPU run at most that long without an
 * exit, since Bochs takes no host interrupt while a guest runs with interrupts off. */
static void console_tick(void)
{
	struct per_cpu *cpu = this_cpu();
	bool active = console_poll();
	uint64_t now = rdtsc(), next = console_pace_next(&pace, now, active);

	cpu->tick_due = now + next;
	cpu->poll_ticks = next;
}

#define CONSOLE_TXQ_SIZE (64 * KiB)

void console_start(void)
{
	struct per_cpu *cpu = this_cpu();
	uint64_t txq = phys_alloc_zeroed(CONSOLE_TXQ_SIZE, PAGE_SIZE);

	/* Room for bursts of guest lines, so that the serial line rarely has to drop any. */
	if (txq)
		log_grow_queue((char *)txq, CONSOLE_TXQ_SIZE);
	log_info("console: the shell runs on cpu0, polling COM1 every %u us, every %u us when quiet; "
		 "type 'help'", CONSOLE_TICK_US, CONSOLE_IDLE_TICK_US);
	shell_ready = true;
	shell_init(&shell, &console_ops);
	/* Every CPU looks at the console's requests at least this often, even under a guest that
	 * spins with interrupts off; the console CPU follows its own pace (console_tick). */
	console_pace_init(&pace, tsc_per_ms, rdtsc());
	for (unsigned i = 0; i < cpu_count; i++)
		if (cpu_table[i])
			cpu_table[i]->poll_ticks = pace.idle_ticks;
	cpu->poll_ticks = pace.busy_ticks;
	tick_handler = console_tick;
	cpu->tick_due = rdtsc() + cpu->poll_ticks;
	cpu_timer_arm(cpu);
}
