/* bench: the benchmark guest. Times VM-exit round trips, CPU-bound work, guest switches and its
 * own start with RDTSC, and prints one `bench: FIGURE key=value ...` line per result (README
 * "Benchmarks"; tests/bench/bench.py reads them). The same image runs under Cloison, natively
 * under GRUB, and under Linux KVM (tests/bench/kvm_runner.c); it finds out which from CPUID.
 *
 * Command line: mode=micro (default) | shared | start, quick (few repetitions), and the
 * overrides reps=N passes=N gaps=N window=MTICKS warmup=MTICKS. */
#include "tests/guests/lib/guest.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define KVM_HC_VAPIC_POLL_IRQ 1 /* KVM's hypercall that does nothing and returns 0 */
#define UART_LSR_PORT (GUEST_UART_PORT + 5)
#define UART_LSR_THRE 0x20

/* The CPU-bound work: sum and xor over 4 MiB at guest-physical 4 MiB, outside the image. */
#define WORK_BASE 0x400000u
#define WORK_BYTES 0x400000u
#define WORK_UNIT_BYTES 4096u /* the shared-CPU run counts progress in units of this */
#define MiB_U 0x100000u

#define MAX_SAMPLES 2048
#define MAX_GAPS 256
#define GAP_MIN_TICKS 64u  /* a longer pause between two RDTSCs of the spin loop: an exit */
#define TX_PER_LINE 64     /* UART data writes per console line */
#define CMDLINE_MAX 256

enum env { ENV_NATIVE, ENV_CLOISON, ENV_KVM, ENV_OTHER };
static const char *const env_names[] = { "native", "cloison", "kvm", "other" };

struct params {
	uint32_t reps;      /* repetitions of each exit round trip */
	uint32_t passes;    /* passes of the CPU-bound work over WORK_BYTES */
	uint32_t gaps;      /* pauses each guest records in mode=shared (switches and poll steps) */
	uint32_t window;    /* mode=shared: ticks of the progress window */
	uint32_t warmup;    /* mode=shared: ticks before the window and after it */
};

static uint32_t samples[MAX_SAMPLES];
static char cmdline[CMDLINE_MAX];

struct gap {
	uint64_t out, in; /* the last RDTSC before the pause, the first after it */
};
static struct gap gaps[MAX_GAPS];

/* Ticks from one RDTSC to the next with body between them. Each figure times its instruction after
 * a set-up, and subtracts the median of the same set-up without it (its "overhead"): what remains
 * is the instruction itself and, under a hypervisor, its exit. */
#define TIMED(body, inputs, ...) ({                                                 \
	uint32_t start_, end_;                                                      \
	__asm__ volatile("rdtsc\n\tmovl %%eax, %%esi\n\t" body "rdtsc"               \
			 : "=a"(end_), "=S"(start_) : inputs : "edx", "memory", ##__VA_ARGS__); \
	end_ - start_;                                                              \
})
#define CPUID_SETUP "xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\t" /* leaf 0 */
#define VMCALL_SETUP "movl %%ecx, %%eax\n\t"                     /* the hypercall number */
#define UART_LSR_SETUP "movl $0x3fd, %%edx\n\t"
#define UART_TX_SETUP "movl $0x3f8, %%edx\n\tmovb $'.', %%al\n\t"

static uint32_t time_cpuid(bool empty)
{
	return empty ? TIMED(CPUID_SETUP, , "ebx", "ecx") : TIMED(CPUID_SETUP "cpuid\n\t", , "ebx", "ecx");
}

static uint32_t time_vmcall(bool empty, uint32_t nr)
{
	return empty ? TIMED(VMCALL_SETUP, "c"(nr)) : TIMED(VMCALL_SETUP "vmcall\n\t", "c"(nr));
}

static uint32_t time_uart_lsr(bool empty)
{
	return empty ? TIMED(UART_LSR_SETUP, ) : TIMED(UART_LSR_SETUP "inb %%dx, %%al\n\t", );
}

static uint32_t time_uart_tx(bool empty)
{
	return empty ? TIMED(UART_TX_SETUP, ) : TIMED(UART_TX_SETUP "outb %%al, %%dx\n\t", );
}

static void sort_u32(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Sorts samples[0..n) and starts the figure's line: median, min, max, n; the caller ends it. */
static void report(const char *figure, uint32_t n, uint32_t overhead)
{
	sort_u32(samples, n);
	printf("bench: %s median=%u min=%u max=%u n=%u overhead=%u", figure, samples[n / 2],
	       samples[0], samples[n - 1], n, overhead);
}

/* The median of n runs of an empty timing pair: what the RDTSCs and the set-up cost by themselves. */
#define MEDIAN_OF(n, expr) ({                                    \
	for (uint32_t i_ = 0; i_ < (n); i_++)                    \
		samples[i_] = (expr);                            \
	sort_u32(samples, (n));                                  \
	samples[(n) / 2];                                        \
})

/* Subtracts overhead from every sample (a sample below it, which cannot happen, counts as 0). */
static void net_samples(uint32_t n, uint32_t overhead)
{
	for (uint32_t i = 0; i < n; i++)
		samples[i] = samples[i] > overhead ? samples[i] - overhead : 0;
}

static void bench_cpuid(uint32_t reps)
{
	uint32_t overhead = MEDIAN_OF(reps, time_cpuid(true));
	for (uint32_t i = 0; i < reps; i++)
		samples[i] = time_cpuid(false);
	net_samples(reps, overhead);
	report("cpuid_rtt", reps, overhead);
	printf(" leaf=0\n");
}

static void bench_vmcall(uint32_t reps, enum env env)
{
	uint32_t nr = env == ENV_CLOISON ? HC_NOP : KVM_HC_VAPIC_POLL_IRQ;
	uint32_t overhead = MEDIAN_OF(reps, time_vmcall(true, nr));
	uint32_t ret = 1;

	for (uint32_t i = 0; i < reps; i++)
		samples[i] = time_vmcall(false, nr);
	net_samples(reps, overhead);
	vmcall_safe(nr, 0, 0, 0, &ret);
	report("vmcall_rtt", reps, overhead);
	printf(" nr=%u ret=0x%x\n", nr, ret);
}

static void bench_uart_lsr(uint32_t reps)
{
	uint32_t overhead = MEDIAN_OF(reps, time_uart_lsr(true));
	for (uint32_t i = 0; i < reps; i++)
		samples[i] = time_uart_lsr(false);
	net_samples(reps, overhead);
	report("uart_lsr_read", reps, overhead);
	printf(" port=0x3fd\n");
}

/* One '.' per timed write; the transmitter is polled (untimed) before each, as a driver would,
 * and the console line is broken every TX_PER_LINE writes outside the timed part. */
static void bench_uart_tx(uint32_t reps)
{
	uint32_t overhead = MEDIAN_OF(reps, time_uart_tx(true));

	for (uint32_t i = 0; i < reps; i++) {
		if (i % TX_PER_LINE == 0)
			uart_puts("txfill ");
		while (!(inb(UART_LSR_PORT) & UART_LSR_THRE))
			;
		samples[i] = time_uart_tx(false);
		if (i % TX_PER_LINE == TX_PER_LINE - 1 || i == reps - 1)
			uart_putc('\n');
	}
	net_samples(reps, overhead);
	report("uart_tx_write", reps, overhead);
	printf(" port=0x3f8\n");
}

static void work_fill(void)
{
	uint32_t *p = (uint32_t *)WORK_BASE;
	for (uint32_t i = 0; i < WORK_BYTES / 4; i++)
		p[i] = i * 2654435761u;
}

/* The CPU-bound kernel: plain loads, adds and xors, no exits. */
static __attribute__((noinline)) uint32_t work_run(const uint32_t *p, uint32_t words)
{
	uint32_t sum = 0, mix = 0;
	for (uint32_t i = 0; i < words; i++) {
		sum += p[i];
		mix ^= p[i];
	}
	return sum ^ mix;
}

/* Runs the work one WORK_UNIT_BYTES unit at a time, cycling over the work area, until the TSC
 * reaches end or max_units are done, and counts the units that end inside [open, close). The figure
 * alone and the shared-CPU figure both run this loop, so a unit costs the same in both. */
struct work_loop {
	uint64_t open, close, end;
	uint32_t max_units;
	uint32_t in_window; /* out: units that ended inside the window */
	uint64_t last;      /* out: the TSC after the last unit */
	uint32_t check;     /* out: the work's result, printed so that it cannot be optimised away */
};

static __attribute__((noinline)) void work_loop(struct work_loop *w)
{
	const uint32_t words = WORK_UNIT_BYTES / 4, per_pass = WORK_BYTES / WORK_UNIT_BYTES;
	uint32_t u = 0, in_window = 0, check = 0;
	uint64_t now;

	do {
		check ^= work_run((const uint32_t *)WORK_BASE + (u % per_pass) * words, words);
		u++;
		now = rdtsc();
		if (now >= w->open && now < w->close)
			in_window++;
	} while (now < w->end && u < w->max_units);
	w->in_window = in_window;
	w->last = now;
	w->check = check;
}

static void bench_work(uint32_t passes)
{
	struct work_loop w = { .open = 0, .close = ~0ull, .end = ~0ull, .max_units = WORK_BYTES / WORK_UNIT_BYTES };

	for (uint32_t i = 0; i < passes; i++) {
		uint64_t t0 = rdtsc();
		work_loop(&w);
		samples[i] = (uint32_t)(w.last - t0);
	}
	sort_u32(samples, passes);
	printf("bench: work median=%u min=%u max=%u n=%u bytes=%u unit_bytes=%u check=0x%08x\n",
	       samples[passes / 2], samples[0], samples[passes - 1], passes, WORK_BYTES, WORK_UNIT_BYTES,
	       w.check);
}

/* Cloison only: the TSC at GRUB's hand-off and at this guest's first VM entry. */
static void bench_start(uint64_t first_insn)
{
	uint32_t lo, hi;
	uint64_t boot, entry;

	__asm__ volatile("vmcall" : "=a"(lo), "=d"(hi) : "a"(HC_BOOT_TSC) : "memory");
	boot = ((uint64_t)hi << 32) | lo;
	__asm__ volatile("vmcall" : "=a"(lo), "=d"(hi) : "a"(HC_GUEST_START_TSC) : "memory");
	entry = ((uint64_t)hi << 32) | lo;
	printf("bench: start handoff_to_first=%llu handoff_to_entry=%llu boot_tsc=0x%llx first_tsc=0x%llx\n",
	       first_insn - boot, entry - boot, boot, first_insn);
}

/* Spins on RDTSC and records each pause longer than GAP_MIN_TICKS: a switch away and back, or
 * an exit that did not switch (a poll step of the console's pace, about seven in eight of them
 * while the console is busy); bench.py keeps the pauses the other copy ran in. loop = the loop's
 * own period (the shortest step). */
static uint32_t bench_switch(uint32_t want, uint32_t *loop_out)
{
	uint64_t prev = rdtsc(), now;
	uint32_t n = 0, loop = ~0u;

	while (n < want) {
		now = rdtsc();
		uint32_t step = (uint32_t)now - (uint32_t)prev;
		if (step > GAP_MIN_TICKS) {
			gaps[n].out = prev;
			gaps[n].in = now;
			n++;
		} else if (step < loop) {
			loop = step;
		}
		prev = now;
	}
	*loop_out = loop;
	return n;
}

static void print_switch(uint32_t n, uint32_t loop)
{
	printf("bench: switch_gaps n=%u loop=%u\n", n, loop);
	for (uint32_t i = 0; i < n; i++)
		printf("bench: gap i=%u out=0x%llx in=0x%llx\n", i, gaps[i].out, gaps[i].in);
}

/* Works for warmup + window + warmup ticks and counts the units done inside the window; with the
 * rate alone (the work figure) that gives this guest's share of the CPU. */
static uint32_t bench_share(const struct params *pm)
{
	uint64_t t0 = rdtsc();
	struct work_loop w = { .open = t0 + pm->warmup, .close = t0 + pm->warmup + pm->window,
			       .end = t0 + 2ull * pm->warmup + pm->window, .max_units = ~0u };

	work_loop(&w);
	return w.in_window;
}

static enum env detect_env(void)
{
	struct cpuid_regs leaf1 = cpuid(1, 0), hv;

	if (!(leaf1.ecx & CPUID_1_ECX_HYPERVISOR))
		return ENV_NATIVE;
	hv = cpuid(CPUID_HV_LEAF, 0);
	if (hv.ebx == 0x696f6c43u && hv.ecx == 0x006e6f73u) /* "Cloison" */
		return ENV_CLOISON;
	if (hv.ebx == 0x4b4d564bu && hv.ecx == 0x564b4d56u && hv.edx == 0x4du) /* "KVMKVMKVM" */
		return ENV_KVM;
	return ENV_OTHER;
}

/* The value of key=N on the command line, or def when it is absent or malformed. */
static uint32_t arg_u32(const char *key, uint32_t def)
{
	uint32_t v;
	return cmdline_u32(cmdline, key, &v) == 1 ? v : def;
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A copy: natively GRUB may have put the command line inside the work area. */
static void copy_cmdline(const struct mb_info *mbi)
{
	const char *src = guest_cmdline(mbi);
	size_t i = 0;

	for (; src[i] && i < CMDLINE_MAX - 1; i++)
		cmdline[i] = src[i];
	cmdline[i] = '\0';
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint64_t first_insn = rdtsc();
	struct params pm;
	enum env env;
	bool quick, work_ok, micro, shared;

	guest_boot("bench", magic);
	idt_init(0xee);
	cli();
	copy_cmdline(mbi);
	/* GRUB may have put the boot information anywhere: the work area is written only after this. */
	work_ok = (mbi->flags & MB_INFO_MEMORY) &&
		  mbi->mem_upper >= (WORK_BASE + WORK_BYTES - MiB_U) / 1024;
	quick = cmdline_flag(cmdline, "quick");
	shared = cmdline_flag(cmdline, "mode=shared");
	micro = !shared && !cmdline_flag(cmdline, "mode=start");
	pm.reps = clamp(arg_u32("reps", quick ? 32 : 1000), 1, MAX_SAMPLES);
	pm.passes = clamp(arg_u32("passes", quick ? 2 : 16), 1, MAX_SAMPLES);
	pm.gaps = clamp(arg_u32("gaps", quick ? 4 : 192), 1, MAX_GAPS);
	pm.window = clamp(arg_u32("window", quick ? 4 : 100), 1, 4000) * 1000000u;
	/* Up to 4 G ticks: a CPU-mate Linux guest boots to its idle shell in about 3 G */
	pm.warmup = clamp(arg_u32("warmup", quick ? 1 : 3), 1, 4000) * 1000000u;
	env = detect_env();
	/* Bochs 2.7 lets the host's interrupts exit a KVM guest only while the guest's EFLAGS.IF is 1
	 * (seen: with IF=0 the host never got its CPU back). The runner gives the guest no interrupt
	 * source, so nothing is ever delivered to it. */
	if (env == ENV_KVM)
		__asm__ volatile("sti" : : : "memory");

	printf("bench: begin mode=%s env=%s quick=%u\n", micro ? "micro" : shared ? "shared" : "start",
	       env_names[env], quick);
	if (env == ENV_CLOISON)
		bench_start(first_insn);
	if (micro) {
		bench_cpuid(pm.reps);
		if (env == ENV_CLOISON || env == ENV_KVM)
			bench_vmcall(pm.reps, env);
		else
			printf("bench: skip figure=vmcall_rtt reason=no_hypervisor\n");
		bench_uart_lsr(pm.reps);
		bench_uart_tx(pm.reps);
	}
	if (micro || shared) {
		if (!work_ok) {
			printf("bench: error reason=work_area_not_ram mem_upper=%u\n", mbi->mem_upper);
			guest_exit(3);
		}
		work_fill();
	}
	if (micro)
		bench_work(pm.passes);
	if (shared) {
		/* Nothing is printed until both phases are over: output exits would tilt the other guest's window. */
		uint32_t loop_ticks, n = bench_switch(pm.gaps, &loop_ticks);
		uint32_t units = bench_share(&pm);
		print_switch(n, loop_ticks);
		printf("bench: share units=%u window=%u unit_bytes=%u\n", units, pm.window, WORK_UNIT_BYTES);
	}
	printf("bench: end status=ok\n");
	guest_exit(0);
}
