/* The shell's commands: what each prints and which kernel operation it asks for. */
#include "kernel/shell.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"
#include "vmx/vmcs.h"

#define SHELL_CELL 32
#define SHELL_CPU_LIST_MAX 192 /* "0,2,4,...,62" fits */
#define SHELL_SHORT_REASON 24  /* characters of a stop reason that 'list' shows */
#define SHELL_CPUS_WIDTH 100   /* 'cpus' wraps a CPU's guest list at this column */

_Static_assert(SHELL_EXIT_REASONS == EXIT_REASON_MAX, "one exit counter per basic exit reason");

/* Binary units, the largest that is exact or gives 10 or more: "64 MiB", "1790 MiB", "32.5 MiB". */
static void shell_fmt_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = ARRAY_SIZE(units) - 1;
	uint64_t unit = 1ULL << (10 * u), tenth;

	while (u > 0 && (bytes / unit == 0 || (bytes % unit && bytes / unit < 10))) {
		unit >>= 10;
		u--;
	}
	tenth = u ? (bytes % unit) * 10 / unit : 0;
	if (tenth)
		fmt_snprintf(buf, size, "%lu.%lu %s", bytes / unit, tenth, units[u]);
	else
		fmt_snprintf(buf, size, "%lu %s", bytes / unit, units[u]);
}

static void shell_fmt_uptime(char *buf, size_t size, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		fmt_snprintf(buf, size, "%lud %02lu:%02lu:%02lu", s / 86400, s / 3600 % 24,
			     s / 60 % 60, s % 60);
	else
		fmt_snprintf(buf, size, "%02lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

static void shell_fmt_permille(char *buf, size_t size, unsigned permille)
{
	permille = MIN(permille, 1000u);
	fmt_snprintf(buf, size, "%u.%u%%", permille / 10, permille % 10);
}

/* A CPU mask as a Linux-style list: "0-3,6". */
static void shell_fmt_cpus(char *buf, size_t size, uint64_t mask)
{
	size_t len = 0;

	str_copy(buf, mask ? "" : "-", size);
	for (unsigned cpu = 0; cpu < 64 && len < size; cpu++) {
		unsigned last = cpu;

		if (!(mask >> cpu & 1))
			continue;
		while (last < 63 && (mask >> (last + 1) & 1))
			last++;
		if (last == cpu)
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u", len ? "," : "",
						    cpu);
		else
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%u-%u",
						    len ? "," : "", cpu, last);
		cpu = last;
	}
}

/* The state for 'list': a stop reason is cut to its cause, the part before any ':', ',' or '('. */
static void shell_fmt_state(char *buf, size_t size, const struct shell_guest *g)
{
	static const char *const names[] = {
		[SHELL_GUEST_STOPPED] = "stopped",
		[SHELL_GUEST_RUNNING] = "running",
		[SHELL_GUEST_PAUSED] = "paused",
		[SHELL_GUEST_HALTED] = "halted",
		[SHELL_GUEST_SCRUBBING] = "scrubbing",
	};
	const char *reason = g->stop_reason;
	const char *word = g->preserved ? "crashed" : "stopped";
	size_t n = 0;

	if (g->state != SHELL_GUEST_STOPPED && !(g->state == SHELL_GUEST_PAUSED && g->preserved)) {
		str_copy(buf, names[g->state], size);
		return;
	}
	if (g->exited) {
		fmt_snprintf(buf, size, "stopped (exit %d)", g->exit_code);
		return;
	}
	while (reason[n] && reason[n] != ':' && reason[n] != ',' && reason[n] != '(')
		n++;
	while (n > 0 && reason[n - 1] == ' ')
		n--;
	if (n == 0)
		str_copy(buf, word, size);
	else if (n > SHELL_SHORT_REASON)
		fmt_snprintf(buf, size, "%s (%.*s...)", word, SHELL_SHORT_REASON - 3, reason);
	else
		fmt_snprintf(buf, size, "%s (%.*s)", word, (int)n, reason);
}

struct shell_list_row {
	char id[12];
	char state[SHELL_SHORT_REASON + 16];
	char cpus[SHELL_CPU_LIST_MAX];
	char memory[SHELL_CELL];
	char uptime[SHELL_CELL];
	char exits[SHELL_CELL];
};

static void shell_list_row(const struct shell_guest *g, struct shell_list_row *row)
{
	fmt_snprintf(row->id, sizeof(row->id), "%u", g->id);
	shell_fmt_state(row->state, sizeof(row->state), g);
	shell_fmt_cpus(row->cpus, sizeof(row->cpus), g->cpu_mask);
	shell_fmt_size(row->memory, sizeof(row->memory), g->ram_bytes);
	if (g->state == SHELL_GUEST_STOPPED || g->state == SHELL_GUEST_SCRUBBING)
		str_copy(row->uptime, "-", sizeof(row->uptime));
	else
		shell_fmt_uptime(row->uptime, sizeof(row->uptime), g->uptime_ms);
	fmt_snprintf(row->exits, sizeof(row->exits), "%lu", g->exits_total);
}

static int shell_widen(int width, const char *cell)
{
	return MAX(width, (int)strlen(cell));
}

/* 'list' filters: a state name, "stopped" taking in "scrubbing" (both are off their CPU). */
static const char *const shell_list_filters[] = { "running", "stopped", "paused", "halted",
						  "scrubbing" };

static bool shell_list_match(const struct shell_guest *g, int filter)
{
	switch (filter) {
	case 0: return g->state == SHELL_GUEST_RUNNING;
	case 1: return g->state == SHELL_GUEST_STOPPED || g->state == SHELL_GUEST_SCRUBBING;
	case 2: return g->state == SHELL_GUEST_PAUSED;
	case 3: return g->state == SHELL_GUEST_HALTED;
	case 4: return g->state == SHELL_GUEST_SCRUBBING;
	default: return true;
	}
}

static void shell_cmd_list(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;
	struct shell_list_row row;
	int w_id = 2, w_name = 4, w_state = 5, w_cpus = 4, w_mem = 6, w_up = 6, w_exits = 8;
	unsigned count = shell_guest_count(sh), shown = 0, listed = 0;
	unsigned by_state[SHELL_GUEST_SCRUBBING + 1] = { 0 };
	uint64_t ram = 0;
	char size[SHELL_CELL];
	int filter = -1;

	if (argc == 2) {
		for (unsigned f = 0; f < ARRAY_SIZE(shell_list_filters); f++)
			if (strcmp(argv[1], shell_list_filters[f]) == 0)
				filter = (int)f;
		if (filter < 0) {
			shell_printf(sh, "list: unknown filter '%s' (running, stopped, paused, halted or scrubbing)\n",
				     argv[1]);
			return;
		}
	}
	/* Two passes over fresh snapshots: the first only measures the columns and counts */
	for (unsigned id = 0; id < count; id++) {
		if (!shell_guest_get(sh, id, g))
			continue;
		listed++;
		if (g->state <= SHELL_GUEST_SCRUBBING)
			by_state[g->state]++;
		ram += g->ram_bytes;
		if (!shell_list_match(g, filter))
			continue;
		shell_list_row(g, &row);
		w_id = shell_widen(w_id, row.id);
		w_name = shell_widen(w_name, g->name);
		w_state = shell_widen(w_state, row.state);
		w_cpus = shell_widen(w_cpus, row.cpus);
		w_mem = shell_widen(w_mem, row.memory);
		w_up = shell_widen(w_up, row.uptime);
		w_exits = shell_widen(w_exits, row.exits);
		shown++;
	}
	if (!listed) {
		shell_printf(sh, "no guests\n");
		return;
	}
	if (shown) {
		shell_printf(sh, "%-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s\n", w_id, "ID", w_name,
			     "NAME", w_state, "STATE", w_cpus, "CPUS", w_mem, "MEMORY", w_up, "UPTIME",
			     w_exits, "VM EXITS");
		for (unsigned id = 0; id < count; id++) {
			if (!shell_guest_get(sh, id, g) || !shell_list_match(g, filter))
				continue;
			shell_list_row(g, &row);
			shell_printf(sh, "%-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s\n", w_id, row.id,
				     w_name, g->name, w_state, row.state, w_cpus, row.cpus, w_mem,
				     row.memory, w_up, row.uptime, w_exits, row.exits);
		}
	}
	/* The summary counts every guest, whatever the filter */
	shell_fmt_size(size, sizeof(size), ram);
	shell_printf(sh, "%u guest%s: %u running, %u paused, %u halted, %u stopped", listed,
		     listed == 1 ? "" : "s", by_state[SHELL_GUEST_RUNNING],
		     by_state[SHELL_GUEST_PAUSED], by_state[SHELL_GUEST_HALTED],
		     by_state[SHELL_GUEST_STOPPED]);
	if (by_state[SHELL_GUEST_SCRUBBING])
		shell_printf(sh, ", %u scrubbing", by_state[SHELL_GUEST_SCRUBBING]);
	shell_printf(sh, "; %s of guest RAM", size);
	if (filter >= 0)
		shell_printf(sh, "; %u shown (%s)", shown, shell_list_filters[filter]);
	shell_printf(sh, "\n");
}

static const char *shell_or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static void shell_info_config(struct shell *sh, const struct shell_guest *g)
{
	char a[SHELL_CPU_LIST_MAX], b[SHELL_CELL];

	shell_printf(sh, "Guest %u: %s\n", g->id, g->name);
	if (g->state == SHELL_GUEST_PAUSED && g->preserved) {
		shell_printf(sh, "  state      crashed, kept for inspection: %s\n", g->stop_reason);
	} else if (g->state != SHELL_GUEST_STOPPED) {
		shell_fmt_state(a, sizeof(a), g);
		shell_printf(sh, "  state      %s\n", a);
	} else if (g->stop_reason[0]) {
		shell_printf(sh, "  state      stopped: %s\n", g->stop_reason);
	} else if (g->exited) {
		shell_printf(sh, "  state      stopped: exit code %d\n", g->exit_code);
	} else {
		shell_printf(sh, "  state      stopped\n");
	}
	shell_printf(sh, "  image      %s\n", shell_or_dash(g->image));
	shell_printf(sh, "  cmdline    %s\n", shell_or_dash(g->cmdline));
	shell_fmt_cpus(a, sizeof(a), g->cpu_mask);
	shell_printf(sh, "  CPUs       %s\n", a);
	shell_fmt_size(b, sizeof(b), g->ram_bytes);
	shell_printf(sh, "  memory     %s at host 0x%016lx-0x%016lx\n", b, g->ram_base,
		     g->ram_bytes ? g->ram_base + g->ram_bytes - 1 : g->ram_base);
	if (g->state == SHELL_GUEST_STOPPED)
		str_copy(b, "-", sizeof(b));
	else
		shell_fmt_uptime(b, sizeof(b), g->uptime_ms);
	shell_printf(sh, "  uptime     %s\n", b);
	shell_fmt_permille(b, sizeof(b), g->share_permille);
	shell_printf(sh, "  scheduler  weight %u, %s of its CPUs, %lu ticks run, %lu switches\n",
		     g->weight, b, g->run_ticks, g->switches);
	shell_printf(sh, "  console    %lu bytes buffered, %lu dropped\n", g->console_buffered,
		     g->console_dropped);
	if (g->nr_vcpus > 1) {
		static const char *const blocks[] = { "running", "halted", "waiting for SIPI" };

		for (unsigned k = 0; k < g->nr_vcpus; k++) {
			const struct shell_vcpu *v = &g->vcpus[k];

			shell_printf(sh, "  vCPU %-2u    cpu%-3u %-16s rip %016lx  %lu ticks, %lu exits\n",
				     k, v->cpu, g->state == SHELL_GUEST_RUNNING && v->block < 3 ?
				     blocks[v->block] : "-", v->started ? v->rip : 0, v->run_ticks,
				     v->exits);
		}
	}
	if (!g->has_platform)
		return;
	shell_printf(sh, "  interrupts %lu injected: %lu LAPIC timer, %lu PIT, %lu through the PIC\n",
		     g->irqs_injected, g->timer_irqs, g->pit_irqs, g->extint_irqs);
	if (g->timer_next_us == ~0ull)
		shell_printf(sh, "  timer      not armed");
	else
		shell_printf(sh, "  timer      next expiry in %lu us", g->timer_next_us);
	shell_printf(sh, "; injected %lu ticks after due on average, %lu at most\n",
		     g->timer_latency_avg, g->timer_latency_max);
	shell_printf(sh, "  devices    %lu port and %lu MMIO accesses\n", g->io_accesses,
		     g->mmio_accesses);
}

/* fresh: the guest's CPUs copied the registers for this look (else the older copy is shown) */
static void shell_info_regs(struct shell *sh, const struct shell_guest *g, bool fresh)
{
	static const char *const names32[] = { "eax", "ebx", "ecx", "edx",
					       "esi", "edi", "ebp", "esp" };
	static const char *const names64[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
					       "rbp", "rsp", "r8",  "r9",  "r10", "r11",
					       "r12", "r13", "r14", "r15" };
	static const uint8_t order[] = { SHELL_RAX, SHELL_RBX, SHELL_RCX, SHELL_RDX, SHELL_RSI,
					 SHELL_RDI, SHELL_RBP, SHELL_RSP, SHELL_R8,  SHELL_R9,
					 SHELL_R10, SHELL_R11, SHELL_R12, SHELL_R13, SHELL_R14,
					 SHELL_R15 };
	unsigned n = g->long_mode ? 16 : 8, per_line = g->long_mode ? 3 : 4, i;
	int digits = g->long_mode ? 16 : 8;

	if (!g->regs_valid) {
		shell_printf(sh, "Registers: none yet (the guest has not run)\n");
		return;
	}
	shell_printf(sh, "Registers%s:\n",
		     fresh ? "" : " (an older copy: a CPU of the guest did not answer)");
	for (i = 0; i < n + 2; i++) {
		const char *name;
		uint64_t value;

		if (i < n) {
			name = g->long_mode ? names64[i] : names32[i];
			value = g->gpr[order[i]];
		} else {
			if (i == n)
				name = g->long_mode ? "rip" : "eip";
			else
				name = g->long_mode ? "rflags" : "eflags";
			value = i == n ? g->rip : g->rflags;
		}
		shell_printf(sh, "  %-3s=%0*lx", name, digits, value);
		if (i % per_line == per_line - 1 || i == n + 1)
			shell_printf(sh, "\n");
	}
	shell_printf(sh, "  cr0=%0*lx  cr3=%0*lx  cr4=%0*lx\n", digits, g->cr0, digits, g->cr3,
		     digits, g->cr4);
}

static void shell_info_exits(struct shell *sh, const struct shell_guest *g)
{
	bool shown[SHELL_EXIT_REASONS] = { false };
	int w_name = 0, w_count = 1;
	char count[SHELL_CELL];
	uint32_t last = g->last_exit_reason;

	if (!g->exits_total) {
		shell_printf(sh, "VM exits: none\n");
		return;
	}
	for (unsigned r = 0; r < SHELL_EXIT_REASONS; r++) {
		if (!g->exits[r])
			continue;
		w_name = shell_widen(w_name, vmx_exit_reason_name(r));
		fmt_snprintf(count, sizeof(count), "%lu", g->exits[r]);
		w_count = shell_widen(w_count, count);
	}
	shell_printf(sh, "VM exits: %lu\n", g->exits_total);
	/* Most frequent first */
	for (;;) {
		int best = -1;

		for (unsigned r = 0; r < SHELL_EXIT_REASONS; r++)
			if (g->exits[r] && !shown[r] && (best < 0 || g->exits[r] > g->exits[best]))
				best = (int)r;
		if (best < 0)
			break;
		shown[best] = true;
		shell_printf(sh, "  %-*s  %*lu\n", w_name, vmx_exit_reason_name((uint32_t)best),
			     w_count, g->exits[best]);
	}
	shell_printf(sh, "Last exit: %s%s (reason %u), qualification 0x%lx\n",
		     last & EXIT_REASON_ENTRY_FAILURE ? "VM-entry failure, " : "",
		     vmx_exit_reason_name(last & 0xffff), last & 0xffff,
		     g->last_exit_qualification);
}

static void shell_cmd_info(struct shell *sh, unsigned argc, char **argv)
{
	bool fresh = true;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	/* Only this command needs the registers: the look (list, cpus, mem) costs no CPU a copy */
	if (sh->ops->guest_sync) {
		fresh = sh->ops->guest_sync(sh->ops->ctx, sh->guest.id);
		if (!shell_guest_get(sh, sh->guest.id, &sh->guest))
			return;
	}
	shell_info_config(sh, &sh->guest);
	shell_info_regs(sh, &sh->guest, fresh);
	shell_info_exits(sh, &sh->guest);
}

/* Runs one guest operation on sh->guest; prints why it failed. */
static bool shell_guest_op(struct shell *sh, int (*op)(void *ctx, unsigned id), const char *verb)
{
	int err;

	shell_flush(sh);
	err = op(sh->ops->ctx, sh->guest.id);
	if (err) {
		shell_printf(sh, "cannot %s guest %s: %s\n", verb, sh->guest.name, err_name(err));
		return false;
	}
	return true;
}

/* A start waits for the scrub of the guest's RAM: say so before the wait. */
static void shell_say_scrub_wait(struct shell *sh, const struct shell_guest *g)
{
	char size[SHELL_CELL];

	if (g->state != SHELL_GUEST_SCRUBBING)
		return;
	shell_fmt_size(size, sizeof(size), g->ram_bytes);
	shell_printf(sh, "Guest %s's %s of RAM is still being scrubbed; waiting for it.\n", g->name,
		     size);
	shell_flush(sh);
}

static void shell_cmd_start(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	if (g->state == SHELL_GUEST_PAUSED) {
		shell_printf(sh, "guest %s is paused; use 'resume %s'\n", g->name, g->name);
		return;
	}
	if (g->state != SHELL_GUEST_STOPPED && g->state != SHELL_GUEST_SCRUBBING) {
		shell_printf(sh, "guest %s is already running\n", g->name);
		return;
	}
	shell_say_scrub_wait(sh, g);
	if (shell_guest_op(sh, sh->ops->guest_start, "start"))
		shell_printf(sh, "Guest %s started.\n", g->name);
}

static void shell_cmd_stop(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	if (g->state == SHELL_GUEST_STOPPED || g->state == SHELL_GUEST_SCRUBBING)
		shell_printf(sh, "guest %s is not running\n", g->name);
	else if (shell_guest_op(sh, sh->ops->guest_stop, "stop"))
		shell_printf(sh, "Guest %s stopped.\n", g->name);
}

static void shell_cmd_restart(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	if (g->state != SHELL_GUEST_STOPPED && g->state != SHELL_GUEST_SCRUBBING &&
	    !shell_guest_op(sh, sh->ops->guest_stop, "stop"))
		return;
	/* The stop leaves the RAM scrubbing; the start waits for it */
	if (shell_guest_get(sh, g->id, g))
		shell_say_scrub_wait(sh, g);
	if (shell_guest_op(sh, sh->ops->guest_start, "start"))
		shell_printf(sh, "Guest %s restarted.\n", g->name);
}

static void shell_cmd_pause(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	if (g->state == SHELL_GUEST_STOPPED)
		shell_printf(sh, "guest %s is not running\n", g->name);
	else if (g->state == SHELL_GUEST_PAUSED)
		shell_printf(sh, "guest %s is already paused\n", g->name);
	else if (shell_guest_op(sh, sh->ops->guest_pause, "pause"))
		shell_printf(sh, "Guest %s paused.\n", g->name);
}

static void shell_cmd_resume(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	if (g->state != SHELL_GUEST_PAUSED)
		shell_printf(sh, "guest %s is not paused\n", g->name);
	else if (g->preserved)
		shell_printf(sh, "guest %s crashed and is kept for inspection: it cannot resume; "
			     "'stop %s' frees it, 'restart %s' boots it again\n", g->name, g->name, g->name);
	else if (shell_guest_op(sh, sh->ops->guest_resume, "resume"))
		shell_printf(sh, "Guest %s resumed.\n", g->name);
}

static void shell_cmd_console(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_guest *g = &sh->guest;

	(void)argc;
	if (!shell_find_guest(sh, argv[1]))
		return;
	shell_printf(sh, "Connected to guest %s console; press Ctrl-] to detach.\n", g->name);
	/* The guest's buffered output follows this line */
	if (shell_guest_op(sh, sh->ops->console_attach, "attach to the console of"))
		shell_attach(sh, g->id, g->name);
}

/* Log text may hold guest output: nothing but printable ASCII and newlines reaches the terminal. */
static void shell_write_clean(struct shell *sh, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\r')
			continue;
		shell_write(sh, (c >= ' ' && c <= '~') || c == '\n' || c == '\t' ? &c : "?", 1);
	}
}

static void shell_cmd_log(struct shell *sh, unsigned argc, char **argv)
{
	size_t n, begin = 0, from;
	unsigned lines = 0, seen = 0;

	if (argc == 2 && (!shell_parse_uint(argv[1], &lines) || lines == 0)) {
		shell_printf(sh, "usage: log [LINES]\n");
		return;
	}
	n = sh->ops->log_read(sh->ops->ctx, sh->log, sizeof(sh->log));
	n = MIN(n, sizeof(sh->log));
	/* A full buffer most likely starts in the middle of a line */
	if (n == sizeof(sh->log))
		while (begin < n && sh->log[begin++] != '\n')
			;
	if (begin == n) {
		shell_printf(sh, "the log is empty\n");
		return;
	}
	from = begin;
	if (lines) {
		size_t i = sh->log[n - 1] == '\n' ? n - 1 : n;

		for (from = i; from > begin; from--)
			if (sh->log[from - 1] == '\n' && ++seen == lines)
				break;
	}
	shell_write_clean(sh, sh->log + from, n - from);
	if (sh->log[n - 1] != '\n')
		shell_write(sh, "\n", 1);
}

static void shell_cmd_mem(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_mem *m = &sh->scratch.mem;
	uint64_t in_guests = 0;
	char size[SHELL_CELL];
	int w_id = 2, w_name = 5, w_size = 4;
	unsigned nr;

	(void)argc;
	(void)argv;
	if (!sh->ops->mem_get(sh->ops->ctx, m)) {
		shell_printf(sh, "memory information is not available\n");
		return;
	}
	nr = MIN(m->nr_ranges, (unsigned)SHELL_MEM_RANGES_MAX);
	for (unsigned i = 0; i < nr; i++) {
		in_guests += m->ranges[i].size;
		shell_fmt_size(size, sizeof(size), m->ranges[i].size);
		w_size = shell_widen(w_size, size);
		fmt_snprintf(size, sizeof(size), "%u", m->ranges[i].guest_id);
		w_id = shell_widen(w_id, size);
		if (shell_guest_get(sh, m->ranges[i].guest_id, &sh->guest))
			w_name = shell_widen(w_name, sh->guest.name);
	}
	shell_fmt_size(size, sizeof(size), m->total_bytes);
	shell_printf(sh, "total       %s\n", size);
	shell_fmt_size(size, sizeof(size), m->hypervisor_bytes);
	shell_printf(sh, "hypervisor  %s\n", size);
	shell_fmt_size(size, sizeof(size), in_guests);
	shell_printf(sh, "guests      %s in %u partition%s\n", size, nr, nr == 1 ? "" : "s");
	shell_fmt_size(size, sizeof(size), m->free_bytes);
	shell_printf(sh, "free        %s\n", size);
	if (!nr)
		return;
	shell_printf(sh, "\n%-*s  %-*s  %-37s  %*s\n", w_id, "ID", w_name, "GUEST", "HOST RANGE",
		     w_size, "SIZE");
	for (unsigned i = 0; i < nr; i++) {
		const struct shell_mem_range *r = &m->ranges[i];
		uint64_t last = r->size ? r->base + r->size - 1 : r->base;
		const char *name = "?";

		if (shell_guest_get(sh, r->guest_id, &sh->guest))
			name = sh->guest.name;
		shell_fmt_size(size, sizeof(size), r->size);
		shell_printf(sh, "%-*u  %-*s  0x%016lx-0x%016lx  %*s\n", w_id, r->guest_id, w_name,
			     name, r->base, last, w_size, size);
	}
}

static void shell_cmd_cpus(struct shell *sh, unsigned argc, char **argv)
{
	struct shell_cpu *c = &sh->scratch.cpu;
	char cell[SHELL_CELL];
	int w_cpu = 3, w_apic = 4;
	unsigned cpu, indent, online = 0, guests = 0;

	(void)argc;
	(void)argv;
	for (cpu = 0; cpu < SHELL_MAX_CPUS && sh->ops->cpu_get(sh->ops->ctx, cpu, c); cpu++) {
		fmt_snprintf(cell, sizeof(cell), "%u", c->id);
		w_cpu = shell_widen(w_cpu, cell);
		fmt_snprintf(cell, sizeof(cell), "%u", c->apic_id);
		w_apic = shell_widen(w_apic, cell);
	}
	if (cpu == 0) {
		shell_printf(sh, "CPU information is not available\n");
		return;
	}
	indent = (unsigned)(w_cpu + 2 + w_apic + 2 + 7 + 2 + 6 + 2);
	shell_printf(sh, "%-*s  %-*s  %-7s  %6s  %s\n", w_cpu, "CPU", w_apic, "APIC", "STATE",
		     "IDLE", "GUESTS");
	for (cpu = 0; cpu < SHELL_MAX_CPUS && sh->ops->cpu_get(sh->ops->ctx, cpu, c); cpu++) {
		unsigned nr = MIN(c->nr_guests, (unsigned)SHELL_CPU_GUESTS_MAX);

		if (c->online)
			shell_fmt_permille(cell, sizeof(cell), c->idle_permille);
		else
			str_copy(cell, "-", sizeof(cell));
		shell_printf(sh, "%-*u  %-*u  %-7s  %6s  ", w_cpu, c->id, w_apic, c->apic_id,
			     c->online ? "online" : "offline", cell);
		if (!nr)
			shell_printf(sh, "-");
		/* Many CPU-mates wrap onto indented lines of at most SHELL_CPUS_WIDTH columns */
		for (unsigned i = 0, col = indent; i < nr; i++) {
			char name[SHELL_NAME_MAX + 4];
			unsigned len;

			shell_fmt_permille(cell, sizeof(cell), c->share_permille[i]);
			if (shell_guest_get(sh, c->guests[i], &sh->guest))
				str_copy(name, sh->guest.name, sizeof(name));
			else
				fmt_snprintf(name, sizeof(name), "#%u", c->guests[i]);
			len = (unsigned)(strlen(name) + 1 + strlen(cell));
			if (i && col + 2 + len > SHELL_CPUS_WIDTH) {
				shell_printf(sh, ",\n%*s", (int)indent, "");
				col = indent;
			} else if (i) {
				shell_printf(sh, ", ");
				col += 2;
			}
			shell_printf(sh, "%s %s", name, cell);
			col += len;
		}
		shell_printf(sh, "\n");
		online += c->online;
		guests += c->nr_guests;
	}
	shell_printf(sh, "%u CPU%s, %u online; %u guest%s placed\n", cpu, cpu == 1 ? "" : "s", online,
		     guests, guests == 1 ? "" : "s");
}

static void shell_cmd_reboot(struct shell *sh, unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_printf(sh, "Rebooting.\n");
	shell_flush(sh);
	sh->ops->reboot(sh->ops->ctx);
}

static void shell_cmd_halt(struct shell *sh, unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_printf(sh, "Halting: stopping all guests.\n");
	shell_flush(sh);
	sh->ops->halt(sh->ops->ctx);
}

const struct shell_cmd shell_cmds[] = {
	{ "help", "[COMMAND]", 0, 1, "list the commands, or explain one",
	  "Without COMMAND, lists every command; with it, shows its usage and what it does.",
	  shell_cmd_help },
	{ "list", "[STATE]", 0, 1, "list the guests and their state",
	  "One line per guest: id, name, state (and why it stopped), CPUs, memory, time since it\n"
	  "started and VM exits, then a summary line. With a state, only the guests in it\n"
	  "('stopped' includes those whose RAM is still being scrubbed).",
	  shell_cmd_list },
	{ "info", "GUEST", 1, 1, "show a guest's configuration, state, registers and exits",
	  "Everything about one guest: configuration, state, its range of host memory, the vCPU\n"
	  "registers at its last VM exit and its VM exits by reason.",
	  shell_cmd_info },
	{ "start", "GUEST", 1, 1, "start a stopped guest",
	  "Boots a stopped guest afresh from its image.", shell_cmd_start },
	{ "stop", "GUEST", 1, 1, "stop a guest",
	  "Stops a guest and scrubs its memory; 'start' boots it again from its image.",
	  shell_cmd_stop },
	{ "restart", "GUEST", 1, 1, "stop a guest if it runs, then start it",
	  "Stops the guest unless it is stopped already, then boots it afresh from its image.",
	  shell_cmd_restart },
	{ "pause", "GUEST", 1, 1, "stop scheduling a guest, keeping its state",
	  "Takes a guest off its CPUs but keeps its state; 'resume' continues it where it was.",
	  shell_cmd_pause },
	{ "resume", "GUEST", 1, 1, "continue a paused guest", "Continues a paused guest.",
	  shell_cmd_resume },
	{ "console", "GUEST", 1, 1, "connect to a guest's console (Ctrl-] detaches)",
	  "Shows the guest's buffered console output, then streams it; what you type goes to the\n"
	  "guest until Ctrl-] detaches.",
	  shell_cmd_console },
	{ "log", "[LINES]", 0, 1, "show the hypervisor log, or its last LINES lines",
	  "Shows the hypervisor log kept in memory, oldest first, or only its last LINES lines.",
	  shell_cmd_log },
	{ "mem", "", 0, 0, "show physical memory and the guest partitions",
	  "Physical memory: total, kept by the hypervisor, given to guests and free, and each\n"
	  "guest's range of host-physical memory.",
	  shell_cmd_mem },
	{ "cpus", "", 0, 0, "show the CPUs and the guests on each",
	  "Each CPU with its APIC id, the guests it runs and the share of its time each took\n"
	  "since boot, and how much of it was idle.",
	  shell_cmd_cpus },
	{ "reboot", "", 0, 0, "reset the machine",
	  "Resets the machine at once; the guests are not warned.", shell_cmd_reboot },
	{ "halt", "", 0, 0, "stop all guests and halt the machine",
	  "Stops every guest and halts all CPUs; only a reset brings the machine back.",
	  shell_cmd_halt },
};

const unsigned shell_cmd_count = ARRAY_SIZE(shell_cmds);
