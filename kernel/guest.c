/* Guest lifecycle: build a partition from a Multiboot image, run the guests of a CPU, stop them. */
#include "kernel/guest.h"
#include "kernel/mb1.h"
#include "kernel/mm.h"
#include "kernel/log.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"
#include "kernel/percpu.h"
#include "vmx/vmx.h"
#include "vmx/exit.h"
#include "drivers/timer.h"
#include "drivers/platform.h"
#include "kernel/x86.h"
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "drivers/lapic.h"
#include "kernel/smp.h"
#include "drivers/virt/vmachine.h"
#include "kernel/cpu_timer.h"


#define ALONE_SLICES 10
/* Scrub step: the CPU takes interrupts (the console tick) between steps, SDM-free arithmetic:
 * 2 MiB of REP STOSQ is 256 Ki iterations, a fraction of a millisecond on hardware. */
#define SCRUB_STEP (2 * MiB)
/* A start waits this long for another CPU's scrub, plus SCRUB_WAIT_US_PER_GIB per GiB. */
#define SCRUB_WAIT_US 10000000ull
#define SCRUB_WAIT_US_PER_GIB 10000000ull
/* Scrubs of this much or more are logged with their ticks (smaller ones would only be noise) */
#define SCRUB_LOG_MIN (64 * MiB)

struct guest guests[MAX_GUESTS];
unsigned guest_count;
/* Guests in GUEST_SCRUBBING per CPU, so that the run loop looks for scrub work only when there is some */
static unsigned scrubs_pending[MAX_CPUS];

__attribute__((cold)) static void *ept_table_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	*phys = page_alloc_phys();
	return (void *)*phys;
}

__attribute__((cold)) static void *ept_table_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)phys; /* identity map */
}

__attribute__((cold)) static void ept_table_free(void *ctx, uint64_t phys)
{
	(void)ctx;
	page_free_phys(phys);
}

static const struct ept_mm ept_host_mm = {
	.alloc = ept_table_alloc,
	.to_virt = ept_table_virt,
	.free = ept_table_free,
};

__attribute__((cold)) static int guest_load(struct guest *g)
{
	const void *image = (const void *)g->image->start;
	size_t image_size = g->image->end - g->image->start;
	struct mb1_module modules[MAX_GUEST_MODULES];
	struct mb1_image im;
	struct mb1_boot_params params;
	const char *why = "";
	uint32_t mbi_gpa;
	int err;

	g->is_linux = guest_image_is_linux(g->image);
	if (g->is_linux)
		return guest_linux_load(g);
	err = mb1_parse(image, image_size, &im, &why);
	if (err < 0) {
		log_err("guest %s: image '%s' is not a usable Multiboot kernel: %s", g->name,
			g->image->string, why);
		return err;
	}
	err = mb1_load(&im, image, image_size, (uint8_t *)g->ram_hpa, g->ram_size);
	if (err < 0) {
		log_err("guest %s: image '%s' (0x%x-0x%x) %s", g->name, g->image->string,
			im.load_start, im.load_end, err == -E_RANGE ?
			"does not fit in the guest's RAM" :
			err_name(err));
		return err;
	}
	for (unsigned i = 0; i < g->module_count; i++) {
		modules[i].data = (const void *)g->modules[i]->start;
		modules[i].size = g->modules[i]->end - g->modules[i]->start;
		modules[i].string = g->modules[i]->string;
	}
	memset(&params, 0, sizeof(params));
	params.ram_size = g->ram_size;
	params.cmdline = g->cmdline;
	params.loader_name = "Cloison";
	params.modules = modules;
	params.module_count = g->module_count;
	params.modules_start = (uint32_t)ALIGN_UP((uint64_t)im.load_end, PAGE_SIZE);
	params.image = &im; /* the information block goes where the image is not */
	err = mb1_boot_setup((uint8_t *)g->ram_hpa, &params, &mbi_gpa);
	if (err < 0) {
		log_err("guest %s: its modules and Multiboot information do not fit in its RAM: %s",
			g->name, err_name(err));
		return err;
	}
	g->entry = im.entry;
	g->mbi_gpa = mbi_gpa;
	if (g->platform == GUEST_PLATFORM_PC) {
		uint64_t rsdp;

		return guest_platform_setup(g, &rsdp);
	}
	return 0;
}

/* Another CPU, up and running, to signal; NULL for this CPU or one not (yet) there. */
static struct per_cpu *other_cpu(unsigned cpu)
{
	return cpu != this_cpu_id() && cpu_table[cpu] && percpu_ready ? cpu_table[cpu] : NULL;
}

static void cpu_wake(unsigned cpu)
{
	struct per_cpu *c = other_cpu(cpu);

	if (c)
		lapic_send_ipi(c->apic_id, VECTOR_WAKEUP);
}

/* Every CPU of the guest looks at it again now: an NMI takes a vCPU off even while it runs
 * with interrupts off (an interrupt would wait for its IF in Bochs, SDM Vol. 3C 25.2 NMI
 * exiting makes the NMI an exit whatever the guest's state); an idle CPU wakes from it. */
static void guest_wake_cpu(const struct guest *g)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct per_cpu *c = other_cpu(g->vcpus[i]->cpu);

		if (c)
			lapic_send_nmi(c->apic_id);
	}
}

/* @pre the vCPU's run-queue lock is held */
static void vcpu_update_runnable(struct vcpu *v)
{
	v->sched.runnable = v->guest->state == GUEST_RUNNING && v->block == VCPU_RUNNABLE;
}

__attribute__((cold)) void guest_set_state(struct guest *g, enum guest_state state)
{
	g->state = state;
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct per_cpu *cpu = cpu_table[g->vcpus[i]->cpu];

		spin_lock(&cpu->runq_lock);
		vcpu_update_runnable(g->vcpus[i]);
		spin_unlock(&cpu->runq_lock);
	}
	/* Running: its CPUs pick it up; anything else: its vCPUs leave their CPUs now. */
	guest_wake_cpu(g);
}

void vcpu_set_block(struct vcpu *v, enum vcpu_block block)
{
	struct per_cpu *cpu = cpu_table[v->cpu];
	bool runnable;

	spin_lock(&cpu->runq_lock);
	v->block = block;
	if (block == VCPU_HLT)
		cpu->halted_hint = true; /* only its own CPU halts a vCPU */
	vcpu_update_runnable(v);
	runnable = v->sched.runnable;
	spin_unlock(&cpu->runq_lock);
	if (runnable)
		cpu_wake(v->cpu);
}

void guest_kick_vcpus(struct guest *g, uint32_t mask, const struct vcpu *self)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = g->vcpus[i];

		if (!(mask & (1u << i)) || v == self)
			continue;
		if (v->block != VCPU_RUNNABLE)
			vcpu_set_block(v, VCPU_RUNNABLE); /* it blocks again if there is nothing for it */
		else if (v->on_cpu)
			cpu_wake(v->cpu);
	}
}

/* No vCPU of g is in its run loop on a CPU other than cpu. From cpu itself its own vCPUs are in
 * host code (its run loop or an interrupt in it), so the guest's RAM may be touched there. */
static bool guest_others_off(const struct guest *g, unsigned cpu)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++)
		if (g->vcpus[i]->cpu != cpu && __atomic_load_n(&g->vcpus[i]->on_cpu, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

__attribute__((cold)) bool guest_off_cpus(const struct guest *g)
{
	return guest_others_off(g, MAX_CPUS); /* no CPU excepted */
}

bool guest_gpa_to_hpa(const struct guest *g, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	uint64_t high = g->ram_size - g->ram_low;

	if (gpa < g->ram_low && len <= g->ram_low - gpa) {
		*hpa = g->ram_hpa + gpa;
		return true;
	}
	if (gpa >= GUEST_HIGH_RAM_BASE && gpa - GUEST_HIGH_RAM_BASE < high &&
	    len <= high - (gpa - GUEST_HIGH_RAM_BASE)) {
		*hpa = g->ram_hpa + g->ram_low + (gpa - GUEST_HIGH_RAM_BASE);
		return true;
	}
	return false;
}

__attribute__((cold)) uint64_t guest_run_ticks(const struct guest *g)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < g->nr_vcpus; i++)
		sum += g->vcpus[i]->sched.runtime;
	return sum;
}

__attribute__((cold)) uint64_t guest_exits(const struct guest *g)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < g->nr_vcpus; i++)
		sum += g->vcpus[i]->exits_total;
	return sum;
}

/* Zeroes the next step of a scrubbing guest's RAM; once all is zero the guest is GUEST_STOPPED.
 * @pre on the guest's CPU (its scrub is never run by two CPUs at once). */
static void guest_scrub_step(struct guest *g, uint64_t max_bytes)
{
	uint64_t n = MIN(max_bytes, g->ram_size - g->scrub_done);

	memset((void *)(g->ram_hpa + g->scrub_done), 0, n);
	g->scrub_done += n;
	if (g->scrub_done < g->ram_size)
		return;
	g->ram_clean = true;
	g->scrub_ticks = rdtsc() - g->scrub_start_tsc;
	__atomic_fetch_sub(&scrubs_pending[g->cpu], 1, __ATOMIC_ACQ_REL);
	/* Release: whoever sees GUEST_STOPPED also sees the zeroed RAM */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	guest_set_state(g, GUEST_STOPPED);
	if (g->ram_size >= SCRUB_LOG_MIN)
		log_info("guest %s: %lu MiB scrubbed in %lu ticks", g->name, g->ram_size / MiB,
			 g->scrub_ticks);
	if (g->restart_pending) {
		g->restart_pending = false;
		if (guest_start(g) == 0)
			log_info("guest %s restarted", g->name);
	}
	guest_check_all_idle();
}

/* One scrub step of one of this CPU's scrubbing guests; false when there is none. */
static bool guest_scrub_some(unsigned cpu)
{
	if (!__atomic_load_n(&scrubs_pending[cpu], __ATOMIC_ACQUIRE))
		return false;
	for (unsigned i = 0; i < guest_count; i++) {
		/* Every vCPU must have left its CPU before its RAM is touched. */
		if (guests[i].cpu == cpu && guests[i].state == GUEST_SCRUBBING &&
		    guest_others_off(&guests[i], cpu)) {
			guest_scrub_step(&guests[i], SCRUB_STEP);
			return true;
		}
	}
	return false;
}

/* Until g's scrub is over: done here when g belongs to this CPU (its run loop is not inside a step:
 * this runs between steps, from the console tick or the loop itself), else waited for. */
__attribute__((cold)) static int guest_scrub_wait(struct guest *g)
{
	uint64_t limit = SCRUB_WAIT_US + g->ram_size / GiB * SCRUB_WAIT_US_PER_GIB, waited = 0;

	if (g->state != GUEST_SCRUBBING)
		return 0;
	guest_wake_cpu(g);
	if (g->cpu == this_cpu_id()) {
		/* The scrub is this CPU's: once the other CPUs' vCPUs have left, do it here. */
		while (!guest_others_off(g, g->cpu) && waited < limit) {
			delay_us(100);
			waited += 100;
		}
		if (!guest_others_off(g, g->cpu))
			return -E_TIMEOUT;
		while (g->state == GUEST_SCRUBBING)
			guest_scrub_step(g, g->ram_size);
		return 0;
	}
	while (__atomic_load_n(&g->state, __ATOMIC_ACQUIRE) == GUEST_SCRUBBING && waited < limit) {
		delay_us(100);
		waited += 100;
	}
	return g->state == GUEST_SCRUBBING ? -E_TIMEOUT : 0;
}

/* Zeroes its RAM (unless the scrub did) and loads its image. */
__attribute__((cold)) static int guest_prepare(struct guest *g)
{
	int err;

	/* Fresh, zeroed RAM for every run: nothing of a previous run or owner survives. After a stop
	 * the scrub has done it; the first start zeroes what the frame pool handed over. */
	if (!g->ram_clean)
		memset((void *)g->ram_hpa, 0, g->ram_size);
	g->ram_clean = false;
	err = guest_load(g);
	if (err < 0)
		fmt_snprintf(g->stop_reason, sizeof(g->stop_reason), "its image could not be loaded");
	return err;
}

__attribute__((cold)) static int guest_start_run(struct guest *g, bool at_boot)
{
	int err;

	g->restart_pending = false; /* this start is the restart: the scrub must not start it too */
	err = guest_scrub_wait(g);
	if (err < 0) {
		log_err("guest %s: cpu%u has not finished scrubbing its RAM; not started", g->name, g->cpu);
		return err;
	}
	if (g->state != GUEST_STOPPED)
		return -E_EXIST;
	/* At boot the guest's own CPU prepares it (vcpu_run_slice); from the console, right here. */
	g->load_pending = at_boot;
	if (!at_boot) {
		err = guest_prepare(g);
		if (err < 0)
			return err;
	}
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		struct vcpu *v = g->vcpus[i];

		memset(&v->exits, 0, sizeof(v->exits));
		v->exits_total = 0;
		v->vmcs_ready = false;
		v->launched = false;
		v->saved.valid = false;
		vcpu_context_reset(&v->context);
		v->context_fresh = true;
		v->cr8 = 0;
		v->wake_tsc = 0;
		/* Application processors wait for the INIT-SIPI-SIPI their BSP sends. */
		v->block = i == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
	}
	g->preserved = false;
	g->panic_seen = false;
	g->panic_match = 0;
	ring_clear(&g->console);
	g->exited = false;
	g->exit_code = 0;
	g->stop_reason[0] = '\0';
	g->start_tsc = 0;
	g->unhandled_io = 0;
	g->refused_msrs = 0;
	g->request = GUEST_REQUEST_NONE;
	spin_lock(&g->uart_lock);
	vuart_init(&g->uart, guest_uart_tx, g);
	g->input_head = g->input_count = 0;
	spin_unlock(&g->uart_lock);
	guest_set_state(g, GUEST_RUNNING);
	return 0;
}

__attribute__((cold)) int guest_start(struct guest *g)
{
	return guest_start_run(g, false);
}

/* One vCPU per CPU of its list, each on that CPU's run queue. A Multiboot kernel has no way to
 * start another processor, so only Linux guests may have several. */
__attribute__((cold)) static int guest_create_vcpus(struct guest *g, const struct guest_config *gc)
{
	uint64_t mask = gc->cpu_mask;
	unsigned n = 0;
	int err;

	for (uint64_t m = mask; m; m &= m - 1)
		n++;
	if (n > 1 && g->platform != GUEST_PLATFORM_PC) {
		log_err("guest %s: refused: cpus lists %u CPUs, but it has no virtual PC to start them "
			"(platform = none); give one CPU, or platform = pc", g->name, n);
		return -E_INVAL;
	}
	if (n > GUEST_MAX_VCPUS) {
		log_err("guest %s: refused: %u vCPUs, at most %u", g->name, n, GUEST_MAX_VCPUS);
		return -E_FULL;
	}
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *v = (struct vcpu *)phys_alloc_zeroed(sizeof(struct vcpu), PAGE_SIZE);
		unsigned cpu = (unsigned)__builtin_ctzll(mask);

		mask &= mask - 1;
		if (!v) {
			log_err("guest %s: refused: no memory for vCPU %u", g->name, i);
			return -E_NOMEM;
		}
		g->vcpus[g->nr_vcpus++] = v;
		v->guest = g;
		v->index = i;
		v->cpu = cpu;
		/* One VPID per guest: its vCPUs share its address space, SDM Vol. 3C 28.1 */
		v->vpid = vmx_ctls.has_vpid ? (uint16_t)(g->id + 1) : 0;
		v->sched.id = g->id;
		v->sched.weight = gc->weight;
		err = sched_add(&cpu_table[cpu]->runq, &v->sched);
		if (err < 0) {
			log_err("guest %s: refused: cpu%u's run queue: %s", g->name, cpu, err_name(err));
			return err;
		}
	}
	return 0;
}

__attribute__((cold)) static void guest_free_vcpus(struct guest *g)
{
	for (unsigned i = 0; i < g->nr_vcpus; i++) {
		sched_remove(&cpu_table[g->vcpus[i]->cpu]->runq, &g->vcpus[i]->sched);
		phys_free((uint64_t)g->vcpus[i], sizeof(struct vcpu));
		g->vcpus[i] = NULL;
	}
	g->nr_vcpus = 0;
}

__attribute__((cold)) int guest_create(const struct guest_config *gc, uint64_t ram_hpa,
					 const struct boot_module *image,
					 const struct boot_module *const *modules,
					 const struct boot_module *initrd)
{
	struct guest *g;
	uint64_t console;
	int err;

	if (guest_count == MAX_GUESTS)
		return -E_FULL;
	g = &guests[guest_count];
	memset(g, 0, sizeof(*g));
	g->id = guest_count;
	str_copy(g->name, gc->name, sizeof(g->name));
	str_copy(g->cmdline, gc->cmdline, sizeof(g->cmdline));
	g->image = image;
	g->initrd = initrd;
	g->on_poweroff = gc->on_poweroff;
	g->on_reboot = gc->on_reboot;
	g->on_crash = gc->on_crash;
	g->platform = gc->platform != GUEST_PLATFORM_DEFAULT ? gc->platform :
		      guest_image_is_linux(image) ? GUEST_PLATFORM_PC : GUEST_PLATFORM_NONE;
	for (unsigned i = 0; i < gc->module_count && i < MAX_GUEST_MODULES; i++)
		g->modules[g->module_count++] = modules[i];
	g->cpu = (unsigned)__builtin_ctzll(gc->cpu_mask);
	g->cpu_mask = gc->cpu_mask;
	g->ram_hpa = ram_hpa;
	g->ram_size = gc->memory;
	g->console_prefixed = guest_console_prefixed;
	g->state = GUEST_STOPPED;
	fmt_snprintf(g->stop_reason, sizeof(g->stop_reason), "not started (autostart = no)");

	console = phys_alloc_zeroed(gc->console_buffer, PAGE_SIZE);
	if (!console) {
		log_err("guest %s: refused: no memory for its %u-byte console buffer", g->name,
			gc->console_buffer);
		return -E_NOMEM;
	}
	ring_init(&g->console, (uint8_t *)console, gc->console_buffer);
	err = ept_init_sizes(&g->ept, &ept_host_mm, vmx_ctls.has_ept_2m,
			     (vmx_caps.ept_vpid_cap & EPT_CAP_1G_PAGES) != 0);
	/* A Linux guest's RAM leaves 3.5-4 GiB to its platform's MMIO; the rest goes above. */
	g->ram_low = guest_image_is_linux(image) && g->ram_size > GUEST_LOW_RAM_MAX ?
		     GUEST_LOW_RAM_MAX : g->ram_size;
	if (!err)
		err = ept_map(&g->ept, 0, g->ram_hpa, g->ram_low, EPT_RWX, EPT_MEMTYPE_WB);
	if (!err && g->ram_low < g->ram_size)
		err = ept_map(&g->ept, GUEST_HIGH_RAM_BASE, g->ram_hpa + g->ram_low,
			      g->ram_size - g->ram_low, EPT_RWX, EPT_MEMTYPE_WB);
	if (!err)
		ept_count_pages(&g->ept, &g->ept_pages);
	if (err < 0) {
		log_err("guest %s: refused: building its EPT failed: %s", g->name, err_name(err));
		goto fail;
	}
	g->eptp = ept_eptp(&g->ept, false);
	err = guest_create_vcpus(g, gc);
	if (err < 0)
		goto fail;
	guest_count++;
	if (gc->autostart && guest_start_run(g, true) < 0)
		guest_set_state(g, GUEST_STOPPED);
	return 0;

fail:
	guest_free_vcpus(g);
	if (g->ept.pml4)
		ept_destroy(&g->ept);
	phys_free(console, gc->console_buffer);
	return err;
}

__attribute__((cold)) void guest_stop(struct guest *g, const char *fmt, ...)
{
	va_list ap;

	if (g->state == GUEST_STOPPED || g->state == GUEST_SCRUBBING)
		return;
	guest_uart_flush(g);
	va_start(ap, fmt);
	fmt_vsnprintf(g->stop_reason, sizeof(g->stop_reason), fmt, ap);
	va_end(ap);
	/* Scrub the partition so nothing of this run leaks into the next; STOPPED means done. */
	g->scrub_done = 0;
	g->scrub_start_tsc = rdtsc();
	__atomic_fetch_add(&scrubs_pending[g->cpu], 1, __ATOMIC_ACQ_REL);
	guest_set_state(g, GUEST_SCRUBBING);
	g->request = GUEST_REQUEST_NONE;
	log_info("guest %s stopped: %s", g->name, g->stop_reason);
	if (g->vm && g->vm->timer_irqs)
		log_info("guest %s: %lu LAPIC timer interrupts, injected %lu ticks after due on average, "
			 "%lu at most", g->name, g->vm->timer_irqs,
			 g->vm->timer_latency_sum / g->vm->timer_irqs, g->vm->timer_latency_max);
	guest_wake_cpu(g);
}

__attribute__((cold)) void guest_exit(struct guest *g, int code, const char *how)
{
	g->exited = true;
	g->exit_code = code;
	guest_stop(g, "exit code %d (%s)", code, how);
}

bool guest_power_off_when_idle;
bool guest_console_prefixed = true;

__attribute__((cold)) void guest_check_all_idle(void)
{
	if (guest_any_active())
		return;
	log_info("no runnable guest is left");
	if (guest_power_off_when_idle)
		platform_power_off(0);
}

__attribute__((cold)) bool guest_any_active(void)
{
	for (unsigned i = 0; i < guest_count; i++)
		if (guests[i].state == GUEST_RUNNING || guests[i].state == GUEST_PAUSED ||
		    guests[i].state == GUEST_SCRUBBING)
			return true;
	return false;
}

__attribute__((cold)) bool guest_wait(struct guest *g, bool (*done)(struct guest *g),
				       uint64_t timeout_us)
{
	uint64_t waited = 0;

	guest_wake_cpu(g);
	while (!done(g) && waited < timeout_us) {
		delay_us(50);
		waited += 50;
		/* Again each millisecond: an NMI that came just before a VM entry found the CPU in
		 * its run loop, after it had looked at the request */
		if (waited % 1000 == 0)
			guest_wake_cpu(g);
	}
	return done(g);
}

/* The common case before an entry: nothing asked from the console, the guest running, the
 * vCPU runnable and set up. */
static inline bool vcpu_nothing_pending(const struct vcpu *v)
{
	const struct guest *g = v->guest;

	return g->request == GUEST_REQUEST_NONE && g->state == GUEST_RUNNING &&
	       v->block == VCPU_RUNNABLE && v->vmcs_ready;
}

/* Carries out what the console CPU asked for; returns whether the guest must leave the CPU. */
static inline bool guest_take_request(struct vcpu *v)
{
	struct guest *g = v->guest;

	if (vcpu_nothing_pending(v))
		return false;
	if (!v->vmcs_ready)
		return true; /* restarted from the console meanwhile: set up afresh on the next pick */
	switch (g->request) {
	case GUEST_REQUEST_PAUSE:
		g->request = GUEST_REQUEST_NONE;
		guest_set_state(g, GUEST_PAUSED);
		return true;
	case GUEST_REQUEST_STOP:
		guest_stop(g, "stop command");
		return true;
	default:
		return g->state != GUEST_RUNNING || v->block != VCPU_RUNNABLE;
	}
}

/* Arms the preemption timer for the next reason to take the CPU back: the slice's end at
 * deadline (which a halted CPU-mate's wake-up brings forward), the poll step, or the next
 * interrupt of the guest's own platform (its timer keeps time while the guest spins). */
static inline void guest_timer_arm(const struct per_cpu *cpu, struct vcpu *v, uint64_t now,
				   uint64_t deadline)
{
	uint64_t due = MIN(deadline, now + cpu->poll_ticks);

	if (v->guest->vm)
		due = MIN(due, vcpu_next_event(v));
	vmx_arm_preemption_timer(v, now, due);
}

/* A slice of v begins at now and ends at deadline (cpu->slice_*, which the exit path's switch
 * also sets); its preemption timer is armed when the CPU has one (timer: the exit path knows). */
static inline void cpu_begin_slice(struct per_cpu *cpu, struct vcpu *v, uint64_t now,
				   uint64_t deadline, bool timer)
{
	cpu->slice_start = now;
	cpu->slice_deadline = deadline;
	if (timer)
		guest_timer_arm(cpu, v, now, deadline);
}

/* The VMCS of a vCPU about to run: the boot state of its image for vCPU 0; an application
 * processor is set up when its SIPI comes (vcpu_take_start). */
__attribute__((cold)) static int vcpu_setup(struct vcpu *v)
{
	struct guest *g = v->guest;

	if (vmcs_setup(v, g->entry, g->mbi_gpa) < 0)
		return -E_INVAL;
	/* A (re)started guest's vCPU sees no TLB entry of its previous run on this CPU. */
	vmx_flush_guest_tlb(g->eptp, v->vpid);
	if (g->is_linux && v->index == 0 && vmcs_setup_linux(v, &g->linux_entry) < 0)
		return -E_INVAL;
	v->vmcs_ready = true;
	return 0;
}

/* What a vCPU needs before the first entry of a run: vCPU 0 of a guest started at boot zeroes
 * its RAM and loads its image here, on its own CPU; every vCPU gets its VMCS set up. */
__attribute__((cold)) static bool vcpu_begin(struct vcpu *v)
{
	struct guest *g = v->guest;

	if (g->load_pending && v->index == 0) {
		g->load_pending = false;
		if (guest_prepare(g) < 0) {
			guest_stop(g, "its image could not be loaded");
			return false;
		}
	}
	if (!v->vmcs_ready && vcpu_setup(v) < 0) {
		guest_stop(g, "its VMCS could not be set up");
		return false;
	}
	if (!g->start_tsc)
		g->start_tsc = rdtsc(); /* the run's first VM entry is next */
	return true;
}

/* INIT and SIPI from the guest's own vCPUs, SDM Vol. 3A 9.4.4: an INIT resets the vCPU to
 * wait for a SIPI; a SIPI starts a waiting one in real mode at vector << 12. Returns whether
 * the vCPU may run now. @pre its VMCS is current */
static bool vcpu_take_start(struct vcpu *v)
{
	struct guest *g = v->guest;
	enum vmachine_start start;
	uint8_t vector = 0;

	if (!g->vm || g->nr_vcpus < 2)
		return true;
	spin_lock(&g->vm_lock);
	start = vmachine_take_start(g->vm, v->index, &vector);
	spin_unlock(&g->vm_lock);
	if (start == VMACHINE_START_INIT) {
		vcpu_context_reset(&v->context);
		vcpu_context_switch(NULL, &v->context);
		vmcs_cpu_controls(CPU_MOV_DR_EXITING, true); /* until it uses DR0-DR3 again */
		v->cr8 = 0;
		v->block = VCPU_WAIT_SIPI;
		spin_lock(&g->vm_lock);
		start = vmachine_take_start(g->vm, v->index, &vector); /* a SIPI right behind it */
		spin_unlock(&g->vm_lock);
	}
	if (start == VMACHINE_START_SIPI) {
		if (vmcs_setup_sipi(v, vector) < 0) {
			guest_crash(g, "vCPU %u could not be started at its SIPI vector 0x%x", v->index,
				    vector);
			return false;
		}
		v->block = VCPU_RUNNABLE;
		log_info("guest %s: vCPU %u started at 0x%x (SIPI)", g->name, v->index, vector << 12);
		return true;
	}
	/* Kicked for an interrupt while it still waits for its SIPI: it waits on. */
	if (g->vm->wait_sipi[v->index]) {
		vcpu_set_block(v, VCPU_WAIT_SIPI);
		return false;
	}
	return true;
}

/* Runs v for slice ticks (until wake at the latest), or until it yields or its guest stops;
 * returns the ticks the vCPU running at the end held the CPU in its slice. That is cpu->running,
 * v unless the exit path switched to another (guest_switch_on_timer). The preemption timer also
 * fires every cpu->poll_ticks so that this CPU takes its own interrupts even while the guest
 * spins with interrupts off: Bochs 2.7 does not turn host interrupts into VM exits while the
 * guest's RFLAGS.IF is 0. @pre cpu->running is v */
static uint64_t vcpu_run_slice(struct per_cpu *cpu, struct vcpu *v, uint64_t slice, uint64_t wake)
{
	struct guest *g = v->guest;
	bool smp = g->vm && g->nr_vcpus > 1;
	uint64_t now;

	if (__builtin_expect(!v->vmcs_ready || g->load_pending, 0) && !vcpu_begin(v))
		return 0;
	if (vmcs_load(v) < 0) {
		guest_stop(g, "its VMCS could not be loaded");
		return 0;
	}
	if (smp && !vcpu_take_start(v))
		return 0;
	/* The slice counts from here, after a first start's zeroing and loading; a halted
	 * CPU-mate's wake-up ends it, so that the CPU-mate runs on time */
	now = rdtsc();
	cpu_begin_slice(cpu, v, now, MIN(now + slice, wake), vmx_ctls.has_preemption_timer);
	for (;;) {
		enum exit_action action;
		int failed;

		if (guest_take_request(v))
			break;
		if (g->vm)
			vcpu_deliver_interrupts(v);
		failed = vmx_enter(v);
		if (__builtin_expect(cpu->running != v, 0)) {
			/* Switched in the exit path: only to a vCPU of a one-vCPU guest */
			v = cpu->running;
			g = v->guest;
			smp = false;
		}
		if (failed) {
			vmx_report_instruction_error(v->launched ? "VMRESUME" : "VMLAUNCH");
			vcpu_dump(v);
			guest_crash(g, "VM entry of vCPU %u failed", v->index);
			break;
		}
		action = vmx_handle_exit(v);
		irq_window();
		if (__builtin_expect(cpu->copy_guest != NULL, 0))
			cpu_take_copies(cpu);
		if (action == EXIT_STOPPED || action == EXIT_YIELD)
			break;
		if (action == EXIT_TIMER) {
			now = rdtsc();
			if (now >= cpu->slice_deadline)
				return now - cpu->slice_start;
			guest_timer_arm(cpu, v, now, cpu->slice_deadline);
		}
		if (smp && !vcpu_take_start(v))
			break; /* an INIT from another vCPU */
	}
	return rdtsc() - cpu->slice_start;
}

/* The earliest wake-up of a vCPU of this CPU blocked in HLT (UINT64_MAX: none); blocked vCPUs
 * whose platform has something for them now (a timer expired, a key came, an IPI) run again. */
static uint64_t guest_wake_halted(struct per_cpu *cpu)
{
	uint64_t now, earliest = UINT64_MAX;
	bool halted = false;

	if (!cpu->halted_hint)
		return UINT64_MAX;
	now = rdtsc();
	for (unsigned i = 0; i < guest_count; i++) {
		struct guest *g = &guests[i];

		if (g->state != GUEST_RUNNING || !g->vm || !(g->cpu_mask & (1ull << cpu->id)))
			continue;
		for (unsigned k = 0; k < g->nr_vcpus; k++) {
			struct vcpu *v = g->vcpus[k];

			if (v->cpu != cpu->id || v->block != VCPU_HLT)
				continue;
			if (now >= v->wake_tsc || vcpu_interrupt_ready(v, now)) {
				vcpu_set_block(v, VCPU_RUNNABLE);
			} else {
				halted = true;
				earliest = MIN(earliest, v->wake_tsc);
			}
		}
	}
	/* Cleared only here, on the CPU that alone sets it (a vCPU halts on its own CPU) */
	cpu->halted_hint = halted;
	return earliest;
}

static struct vcpu *entity_vcpu(struct sched_entity *e)
{
	return (struct vcpu *)((char *)e - __builtin_offsetof(struct vcpu, sched));
}

/* Puts v's registers on the CPU unless they are there; a restarted guest's old ones are
 * dropped, not saved over its reset ones. */
static inline void cpu_take_context(struct per_cpu *cpu, struct vcpu *v)
{
	struct vcpu *owner = cpu->owner;

	if (v != owner || v->context_fresh) {
		vcpu_context_switch(owner && owner != v ? &owner->context : NULL, &v->context);
		v->context_fresh = false;
		cpu->owner = v;
	}
	__atomic_store_n(&v->on_cpu, true, __ATOMIC_RELEASE);
}

/* Whether w can be entered straight from another vCPU's exit: the run loop would do nothing
 * for it but what guest_switch_on_timer does (no request, no first start, no SMP start
 * protocol, no fresh context, launched on this CPU). */
static inline bool vcpu_switch_ready(const struct vcpu *w)
{
	const struct guest *g = w->guest;

	return vcpu_nothing_pending(w) && w->launched && !w->context_fresh && !g->load_pending &&
	       !(g->vm && g->nr_vcpus > 1);
}

struct vcpu *guest_switch_on_timer(struct vcpu *v)
{
	struct per_cpu *cpu = this_cpu();
	struct sched_entity *e;
	struct vcpu *w;
	uint64_t now, slice;
	unsigned cursor;

	irq_window(); /* as the run loop does after every exit */
	now = rdtsc();
	if (now < cpu->slice_deadline || cpu->halted_hint ||
	    __atomic_load_n(&scrubs_pending[cpu->id], __ATOMIC_ACQUIRE))
		return NULL;
	spin_lock(&cpu->runq_lock);
	e = sched_peek(&cpu->runq, cpu->runq.base_slice * ALONE_SLICES, &slice, &cursor);
	w = e ? entity_vcpu(e) : NULL;
	/* A failed VMPTRLD leaves v's VMCS current; the run loop stops w's guest when it picks it */
	if (!e || w == v || !vcpu_switch_ready(w) || vmcs_load(w) < 0) {
		spin_unlock(&cpu->runq_lock);
		return NULL;
	}
	sched_commit(&cpu->runq, &v->sched, now - cpu->slice_start, e, cursor);
	spin_unlock(&cpu->runq_lock);
	__atomic_store_n(&v->on_cpu, false, __ATOMIC_RELEASE);
	w->switches++;
	cpu_take_context(cpu, w);
	cpu->running = w;
	cpu_begin_slice(cpu, w, now, now + slice, true); /* a timer exit brought us here */
	if (__builtin_expect(w->guest->vm != NULL, 0))
		vcpu_deliver_interrupts(w);
	return w;
}

void guest_run_cpu(void)
{
	struct per_cpu *cpu = this_cpu();
	struct sched_entity *e = NULL; /* ran last: NULL after idling */
	uint64_t ran = 0;

	for (;;) {
		struct vcpu *v, *last = e ? entity_vcpu(e) : NULL;
		uint64_t slice = 0, wake;

		/* The console's NMI woke this CPU, or came between two slices */
		if (cpu->copy_guest)
			cpu_take_copies(cpu);
		/* Scrubs come first, a step at a time, with the console tick let in between */
		if (guest_scrub_some(cpu->id)) {
			irq_window();
			continue;
		}
		wake = guest_wake_halted(cpu);
		/* Alone on its CPU a vCPU still ends a long slice now and then, so its run time is
		 * accounted while it runs; the cost is one exit per ALONE_SLICES base slices. */
		spin_lock(&cpu->runq_lock);
		e = sched_next(&cpu->runq, e, ran, cpu->runq.base_slice * ALONE_SLICES, &slice);
		spin_unlock(&cpu->runq_lock);
		ran = 0;
		if (!e) {
			uint64_t idle_start = rdtsc();

			cpu->wake_due = wake;
			cpu_timer_arm(cpu);
			cpu_idle_wait(); /* until an IPI, the console tick or a halted guest's timer */
			cpu->idle_ticks += rdtsc() - idle_start;
			continue;
		}
		v = entity_vcpu(e);
		if (v != last)
			v->switches++;
		cpu_take_context(cpu, v);
		cpu->running = v;
		ran = vcpu_run_slice(cpu, v, slice, wake);
		v = cpu->running; /* the exit path may have switched */
		e = &v->sched;
		cpu->running = NULL;
		__atomic_store_n(&v->on_cpu, false, __ATOMIC_RELEASE);
	}
}
