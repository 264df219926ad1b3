/* Host tests for kernel/shell*.c over a fake kernel: every command, every error, fuzzing. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/shell.h"
#include "kernel/lib.h"
#include "vmx/vmcs.h"

TEST_MAIN_GLOBALS;

/* The fake kernel: three guests, four CPUs, a log; it records what the shell asked of it. */
struct fake {
	struct shell_guest guests[SHELL_MAX_GUESTS];
	unsigned nr_guests;
	int next_err;         /* returned by the next start/stop/pause/resume/attach */
	char calls[1024];     /* "start(2) stop(0) ..." */
	char input[1024];     /* bytes sent to the attached console */
	size_t input_len;
	int attached;         /* guest id, or -1 */
	const char *log;
	size_t log_len;
	bool no_mem, no_cpus;
	unsigned big_cpus;    /* > 0: that many CPUs, guest g on CPU g % big_cpus */
	unsigned syncs;       /* guest_sync calls */
	bool sync_fails;      /* a CPU of the guest "does not answer" */
	uint64_t sync_rip;    /* non-zero: what a sync copies into the guest's rip */
	char out[65536];
	size_t out_len;
	size_t out_total;
	size_t max_write;     /* longest single write() */
};

static struct fake fake;
static struct shell sh;

static void fake_call(const char *what, unsigned id)
{
	size_t len = strlen(fake.calls);

	snprintf(fake.calls + len, sizeof(fake.calls) - len, "%s(%u) ", what, id);
}

static void fake_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	fake.out_total += n;
	if (n > fake.max_write)
		fake.max_write = n;
	/* Keep the newest output: the fuzzer only looks at the tail */
	if (n >= sizeof(fake.out)) {
		s += n - (sizeof(fake.out) - 1);
		n = sizeof(fake.out) - 1;
	}
	if (fake.out_len + n >= sizeof(fake.out)) {
		/* Drop a good part at once, so long runs do not move the buffer on every write */
		size_t need = fake.out_len + n - (sizeof(fake.out) - 1);
		size_t drop = MIN(fake.out_len, need + sizeof(fake.out) / 2);

		memmove(fake.out, fake.out + drop, fake.out_len - drop);
		fake.out_len -= drop;
	}
	memcpy(fake.out + fake.out_len, s, n);
	fake.out_len += n;
	fake.out[fake.out_len] = '\0';
}

static unsigned fake_guest_count(void *ctx)
{
	(void)ctx;
	return fake.nr_guests;
}

static bool fake_guest_get(void *ctx, unsigned id, struct shell_guest *out)
{
	(void)ctx;
	if (id >= fake.nr_guests || id >= ARRAY_SIZE(fake.guests))
		return false;
	*out = fake.guests[id];
	return true;
}

static bool fake_guest_sync(void *ctx, unsigned id)
{
	(void)ctx;
	fake.syncs++;
	if (id < fake.nr_guests && fake.sync_rip)
		fake.guests[id].rip = fake.sync_rip;
	return !fake.sync_fails;
}

static int fake_err(void)
{
	int err = fake.next_err;

	fake.next_err = 0;
	return err;
}

static int fake_set_state(const char *what, unsigned id, enum shell_guest_state state)
{
	int err = fake_err();

	fake_call(what, id);
	if (err)
		return err;
	fake.guests[id].state = state;
	if (state == SHELL_GUEST_STOPPED) {
		fake.guests[id].exited = false;
		str_copy(fake.guests[id].stop_reason, "shell command", SHELL_TEXT_MAX);
	}
	return 0;
}

static int fake_start(void *ctx, unsigned id)
{
	(void)ctx;
	return fake_set_state("start", id, SHELL_GUEST_RUNNING);
}

static int fake_stop(void *ctx, unsigned id)
{
	(void)ctx;
	return fake_set_state("stop", id, SHELL_GUEST_STOPPED);
}

static int fake_pause(void *ctx, unsigned id)
{
	(void)ctx;
	return fake_set_state("pause", id, SHELL_GUEST_PAUSED);
}

static int fake_resume(void *ctx, unsigned id)
{
	(void)ctx;
	return fake_set_state("resume", id, SHELL_GUEST_RUNNING);
}

static int fake_attach(void *ctx, unsigned id)
{
	int err = fake_err();

	(void)ctx;
	fake_call("attach", id);
	if (err)
		return err;
	fake.attached = (int)id;
	/* The kernel replays the buffered output right away */
	fake_write(NULL, "[buffered]", 10);
	return 0;
}

static void fake_console_input(void *ctx, unsigned id, uint8_t byte)
{
	(void)ctx;
	CHECK_EQ(id, fake.attached);
	if (fake.input_len < sizeof(fake.input) - 1)
		fake.input[fake.input_len++] = (char)byte;
}

static void fake_detach(void *ctx, unsigned id)
{
	(void)ctx;
	CHECK_EQ(id, fake.attached);
	fake_call("detach", id);
	fake.attached = -1;
}

static size_t fake_log_read(void *ctx, char *buf, size_t size)
{
	size_t n = MIN(fake.log_len, size);

	(void)ctx;
	memcpy(buf, fake.log + fake.log_len - n, n);
	return n;
}

static bool fake_cpu_get(void *ctx, unsigned cpu, struct shell_cpu *out)
{
	(void)ctx;
	if (fake.no_cpus || cpu >= (fake.big_cpus ? fake.big_cpus : 4))
		return false;
	memset(out, 0, sizeof(*out));
	if (fake.big_cpus) {
		out->id = cpu;
		out->apic_id = cpu * 4 + 256; /* x2APIC ids */
		out->online = true;
		for (unsigned g = cpu; g < fake.nr_guests; g += fake.big_cpus) {
			out->guests[out->nr_guests] = g;
			out->share_permille[out->nr_guests++] = 1000 / (fake.nr_guests / fake.big_cpus);
		}
		return true;
	}
	out->id = cpu;
	out->apic_id = cpu * 2;
	out->online = cpu != 3;
	out->idle_permille = 1000;
	if (cpu == 1) {
		out->nr_guests = 2;
		out->guests[0] = 0;
		out->share_permille[0] = 623;
		out->guests[1] = 1;
		out->share_permille[1] = 0;
		out->idle_permille = 377;
	} else if (cpu == 2) {
		out->nr_guests = 2;
		out->guests[0] = 1;
		out->guests[1] = 7; /* an id the kernel no longer knows */
		out->share_permille[1] = 5;
		out->idle_permille = 995;
	}
	return true;
}

static bool fake_mem_get(void *ctx, struct shell_mem *out)
{
	(void)ctx;
	if (fake.no_mem)
		return false;
	memset(out, 0, sizeof(*out));
	out->total_bytes = 2 * GiB;
	out->hypervisor_bytes = 34 * MiB;
	out->free_bytes = 2 * GiB - 34 * MiB - 224 * MiB;
	out->nr_ranges = 3;
	for (unsigned i = 0; i < 3; i++) {
		out->ranges[i].guest_id = i;
		out->ranges[i].base = fake.guests[i].ram_base;
		out->ranges[i].size = fake.guests[i].ram_bytes;
	}
	return true;
}

static void fake_reboot(void *ctx)
{
	(void)ctx;
	fake_call("reboot", 0);
}

static void fake_halt(void *ctx)
{
	(void)ctx;
	fake_call("halt", 0);
}

static const struct shell_ops fake_ops = {
	.ctx = &fake,
	.write = fake_write,
	.guest_count = fake_guest_count,
	.guest_get = fake_guest_get,
	.guest_sync = fake_guest_sync,
	.guest_start = fake_start,
	.guest_stop = fake_stop,
	.guest_pause = fake_pause,
	.guest_resume = fake_resume,
	.console_attach = fake_attach,
	.console_input = fake_console_input,
	.console_detach = fake_detach,
	.log_read = fake_log_read,
	.cpu_get = fake_cpu_get,
	.mem_get = fake_mem_get,
	.reboot = fake_reboot,
	.halt = fake_halt,
};

static const char fake_log_text[] =
	"[cpu0] Cloison starting\n"
	"[cpu0] 4 CPUs, 2048 MiB\n"
	"[alpha] hello \x1b[31mred\x1b[0m\r\n"
	"[cpu1] guest gamma stopped: exit code 42 (hypercall)\n";

static void fake_reset(void)
{
	struct shell_guest *g;

	memset(&fake, 0, sizeof(fake));
	fake.attached = -1;
	fake.nr_guests = 3;
	fake.log = fake_log_text;
	fake.log_len = sizeof(fake_log_text) - 1;

	g = &fake.guests[0];
	g->id = 0;
	str_copy(g->name, "alpha", sizeof(g->name));
	str_copy(g->image, "demo.elf", sizeof(g->image));
	str_copy(g->cmdline, "alpha forever", sizeof(g->cmdline));
	g->state = SHELL_GUEST_RUNNING;
	g->cpu_mask = 0x2;
	g->ram_bytes = 64 * MiB;
	g->ram_base = 0x4000000;
	g->uptime_ms = 65000;
	g->weight = 256;
	g->run_ticks = 5000;
	g->share_permille = 623;
	g->switches = 42;
	g->exits[EXIT_REASON_IO_INSTRUCTION] = 120000;
	g->exits[EXIT_REASON_CPUID] = 3000;
	g->exits[EXIT_REASON_HLT] = 456;
	g->exits_total = 123456;
	g->last_exit_reason = EXIT_REASON_IO_INSTRUCTION;
	g->last_exit_qualification = 0x3f80008;
	g->regs_valid = true;
	for (unsigned i = 0; i < SHELL_GPRS; i++)
		g->gpr[i] = 0x1000 + i;
	g->rip = 0x100234;
	g->rflags = 0x202;
	g->cr0 = 0x11;
	g->cr3 = 0;
	g->cr4 = 0x2000;
	g->console_buffered = 1024;

	g = &fake.guests[1];
	g->id = 1;
	str_copy(g->name, "beta", sizeof(g->name));
	str_copy(g->image, "demo.elf", sizeof(g->image));
	str_copy(g->cmdline, "beta forever", sizeof(g->cmdline));
	g->state = SHELL_GUEST_PAUSED;
	g->cpu_mask = 0x16;
	g->ram_bytes = 128 * MiB;
	g->ram_base = 0x8000000;
	g->uptime_ms = 3723000;
	g->weight = 512;
	g->exits[EXIT_REASON_VMCALL] = 4567;
	g->exits_total = 4567;
	g->last_exit_reason = EXIT_REASON_VMCALL;
	g->regs_valid = true;
	g->long_mode = true;
	g->gpr[SHELL_R15] = 0xffffffff80000000;
	g->rip = 0xffffffff81000000;
	g->rflags = 0x2;
	g->cr0 = 0x80050033;
	g->cr3 = 0x1000;
	g->cr4 = 0x6a0;
	g->console_buffered = 65536;
	g->console_dropped = 1234;

	g = &fake.guests[2];
	g->id = 2;
	str_copy(g->name, "gamma", sizeof(g->name));
	str_copy(g->image, "hcall.elf", sizeof(g->image));
	g->state = SHELL_GUEST_STOPPED;
	g->exited = true;
	g->exit_code = 42;
	str_copy(g->stop_reason, "exit code 42 (hypercall)", sizeof(g->stop_reason));
	g->cpu_mask = 0x8;
	g->ram_bytes = 32 * MiB + 512 * KiB;
	g->ram_base = 0x10000000;
	g->exits[EXIT_REASON_VMCALL] = 89;
	g->exits_total = 89;
	g->last_exit_reason = EXIT_REASON_VMCALL;
	g->regs_valid = true;
}

static void setup(void)
{
	fake_reset();
	shell_init(&sh, &fake_ops);
	CHECK_STR(fake.out, "cloison> ");
	fake.out_len = 0;
	fake.out[0] = '\0';
}

static void feed(const char *s)
{
	while (*s)
		shell_input(&sh, (uint8_t)*s++);
}

/* Types line and Enter; returns what the shell printed after echoing the line. */
static const char *run(const char *line)
{
	size_t n = strlen(line);

	fake.out_len = 0;
	fake.out[0] = '\0';
	feed(line);
	shell_input(&sh, '\r');
	if (strncmp(fake.out, line, n) != 0 || fake.out[n] != '\n') {
		CHECK(!"the line was not echoed");
		return "";
	}
	return fake.out + n + 1;
}


static const char *calls(void)
{
	return fake.calls;
}

static void test_prompt(void)
{
	fake_reset();
	shell_init(&sh, &fake_ops);
	CHECK_STR(fake.out, "cloison> ");
	CHECK(!shell_attached(&sh, NULL));
	/* An empty or blank line just gives the prompt again */
	setup();
	CHECK_STR(run(""), "cloison> ");
	CHECK_STR(run("    "), "cloison> ");
	CHECK_STR(calls(), "");
}

static void test_help(void)
{
	setup();
	CHECK_STR(run("help"),
		  "Commands:\n"
		  "  help [COMMAND]  list the commands, or explain one\n"
		  "  list [STATE]    list the guests and their state\n"
		  "  info GUEST      show a guest's configuration, state, registers and exits\n"
		  "  start GUEST     start a stopped guest\n"
		  "  stop GUEST      stop a guest\n"
		  "  restart GUEST   stop a guest if it runs, then start it\n"
		  "  pause GUEST     stop scheduling a guest, keeping its state\n"
		  "  resume GUEST    continue a paused guest\n"
		  "  console GUEST   connect to a guest's console (Ctrl-] detaches)\n"
		  "  log [LINES]     show the hypervisor log, or its last LINES lines\n"
		  "  mem             show physical memory and the guest partitions\n"
		  "  cpus            show the CPUs and the guests on each\n"
		  "  reboot          reset the machine\n"
		  "  halt            stop all guests and halt the machine\n"
		  "GUEST is a guest's name or numeric id (see 'list').\n"
		  "cloison> ");
	CHECK_STR(run("help stop"),
		  "usage: stop GUEST\n"
		  "Stops a guest and scrubs its memory; 'start' boots it again from its image.\n"
		  "cloison> ");
	CHECK_STR(run("help list"),
		  "usage: list [STATE]\n"
		  "One line per guest: id, name, state (and why it stopped), CPUs, memory, time "
		  "since it\n"
		  "started and VM exits, then a summary line. With a state, only the guests in it\n"
		  "('stopped' includes those whose RAM is still being scrubbed).\n"
		  "cloison> ");
	CHECK_STR(run("help nope"), "unknown command 'nope'; type 'help' for the list\ncloison> ");
	CHECK_STR(run("help stop start"), "usage: help [COMMAND]\ncloison> ");
	/* Every command has help */
	for (unsigned i = 0; i < shell_cmd_count; i++) {
		char line[64];

		snprintf(line, sizeof(line), "help %s", shell_cmds[i].name);
		CHECK(strncmp(run(line), "usage: ", 7) == 0);
	}
}

static void test_list(void)
{
	setup();
	CHECK_STR(run("list"),
		  "ID  NAME   STATE              CPUS     MEMORY    UPTIME  VM EXITS\n"
		  "0   alpha  running            1        64 MiB  00:01:05    123456\n"
		  "1   beta   paused             1-2,4   128 MiB  01:02:03      4567\n"
		  "2   gamma  stopped (exit 42)  3      32.5 MiB         -        89\n"
		  "3 guests: 1 running, 1 paused, 0 halted, 1 stopped; 224.5 MiB of guest RAM\n"
		  "cloison> ");
}

static void test_list_filters(void)
{
	setup();
	CHECK_STR(run("list running"),
		  "ID  NAME   STATE    CPUS  MEMORY    UPTIME  VM EXITS\n"
		  "0   alpha  running  1     64 MiB  00:01:05    123456\n"
		  "3 guests: 1 running, 1 paused, 0 halted, 1 stopped; 224.5 MiB of guest RAM; 1 shown (running)\n"
		  "cloison> ");
	CHECK(strstr(run("list paused"), "1   beta  paused") != NULL);
	CHECK(strstr(run("list paused"), "alpha") == NULL);
	CHECK_STR(run("list halted"),
		  "3 guests: 1 running, 1 paused, 0 halted, 1 stopped; 224.5 MiB of guest RAM; 0 shown (halted)\n"
		  "cloison> ");
	CHECK_STR(run("list bogus"),
		  "list: unknown filter 'bogus' (running, stopped, paused, halted or scrubbing)\ncloison> ");

	/* A guest whose RAM is being zeroed is 'scrubbing', counted apart, and 'stopped' takes it in */
	fake.guests[0].state = SHELL_GUEST_SCRUBBING;
	CHECK_STR(run("list stopped"),
		  "ID  NAME   STATE              CPUS    MEMORY  UPTIME  VM EXITS\n"
		  "0   alpha  scrubbing          1       64 MiB       -    123456\n"
		  "2   gamma  stopped (exit 42)  3     32.5 MiB       -        89\n"
		  "3 guests: 0 running, 1 paused, 0 halted, 1 stopped, 1 scrubbing; 224.5 MiB of guest RAM; 2 shown (stopped)\n"
		  "cloison> ");
	CHECK(strstr(run("list scrubbing"), "gamma") == NULL);
	CHECK_STR(calls(), "");
}

static void test_scrubbing_start_stop(void)
{
	setup();
	fake.guests[0].state = SHELL_GUEST_SCRUBBING;
	/* start waits for the scrub and says so; stop has nothing left to do */
	CHECK_STR(run("start alpha"),
		  "Guest alpha's 64 MiB of RAM is still being scrubbed; waiting for it.\n"
		  "Guest alpha started.\ncloison> ");
	CHECK_STR(calls(), "start(0) ");
	fake.calls[0] = '\0';
	fake.guests[0].state = SHELL_GUEST_SCRUBBING;
	CHECK_STR(run("stop alpha"), "guest alpha is not running\ncloison> ");
	CHECK_STR(run("restart alpha"),
		  "Guest alpha's 64 MiB of RAM is still being scrubbed; waiting for it.\n"
		  "Guest alpha restarted.\ncloison> ");
	CHECK_STR(calls(), "start(0) ");
}

/* 64 guests on 64 CPUs with x2APIC ids: every listing stays one row per item, columns aligned */
static void test_sixty_four(void)
{
	const char *out;
	unsigned rows = 0;

	setup();
	fake.nr_guests = SHELL_MAX_GUESTS;
	fake.big_cpus = 64;
	for (unsigned i = 0; i < SHELL_MAX_GUESTS; i++) {
		struct shell_guest *g = &fake.guests[i];

		*g = fake.guests[i % 3];
		g->id = i;
		snprintf(g->name, sizeof(g->name), "student-%02u", i);
		g->cpu_mask = 1ull << i;
		g->ram_base = 0x100000000ull + i * 256 * MiB;
		g->ram_bytes = 256 * MiB;
	}
	out = run("list");
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		rows++;
	CHECK_EQ(rows, 1 + 64 + 1);
	CHECK(strstr(out, "ID  NAME        STATE") == out);
	CHECK(strstr(out, "\n62  student-62  stopped (exit 42)  62    256 MiB         -        89\n") != NULL);
	CHECK(strstr(out, "64 guests: 22 running, 21 paused, 0 halted, 21 stopped; 16 GiB of guest RAM\n") != NULL);

	out = run("cpus");
	CHECK(strstr(out, "CPU  APIC  STATE") == out);
	CHECK(strstr(out, "\n63   508   online     0.0%  student-63 1000.0%") == NULL); /* capped */
	CHECK(strstr(out, "\n63   508   online     0.0%  student-63 100.0%\n") != NULL);
	CHECK(strstr(out, "64 CPUs, 64 online; 64 guests placed\n") != NULL);

	/* 64 guests on 2 CPUs: a CPU's guest list wraps, indented under GUESTS */
	fake.big_cpus = 2;
	out = run("cpus");
	CHECK(strstr(out, ",\n                            student-") != NULL);
	for (const char *line = out; *line; line = strchr(line, '\n') + 1) {
		const char *end = strchr(line, '\n');

		if (!end)
			break;
		CHECK(end - line <= 100);
	}
	CHECK(strstr(out, "2 CPUs, 2 online; 64 guests placed\n") != NULL);
}

static void test_list_states(void)
{
	setup();
	fake.guests[0].state = SHELL_GUEST_HALTED;
	fake.guests[0].uptime_ms = 2 * 86400000ULL + 3600000;
	fake.guests[1].state = SHELL_GUEST_STOPPED;
	fake.guests[1].cpu_mask = 0;
	str_copy(fake.guests[1].stop_reason,
		 "EPT violation: write at guest-physical 0x5000 (not mapped), rip 0x1234",
		 SHELL_TEXT_MAX);
	fake.guests[2].exited = false;
	str_copy(fake.guests[2].stop_reason, "the guest did something long and unexplained",
		 SHELL_TEXT_MAX);
	CHECK_STR(run("list"),
		  "ID  NAME   STATE                               CPUS    MEMORY       UPTIME  VM EXITS\n"
		  "0   alpha  halted                              1       64 MiB  2d 01:00:00    123456\n"
		  "1   beta   stopped (EPT violation)             -      128 MiB            -      4567\n"
		  "2   gamma  stopped (the guest did somethi...)  3     32.5 MiB            -        89\n"
		  "3 guests: 0 running, 0 paused, 1 halted, 2 stopped; 224.5 MiB of guest RAM\n"
		  "cloison> ");
	/* Never started: no reason at all */
	fake.guests[2].stop_reason[0] = '\0';
	fake.nr_guests = 1;
	fake.guests[0].state = SHELL_GUEST_STOPPED;
	fake.guests[0].stop_reason[0] = '\0';
	CHECK_STR(run("list"),
		  "ID  NAME   STATE    CPUS  MEMORY  UPTIME  VM EXITS\n"
		  "0   alpha  stopped  1     64 MiB       -    123456\n"
		  "1 guest: 0 running, 0 paused, 0 halted, 1 stopped; 64 MiB of guest RAM\n"
		  "cloison> ");
	fake.nr_guests = 0;
	CHECK_STR(run("list"), "no guests\ncloison> ");
}

static void test_info(void)
{
	setup();
	CHECK_STR(run("info alpha"),
		  "Guest 0: alpha\n"
		  "  state      running\n"
		  "  image      demo.elf\n"
		  "  cmdline    alpha forever\n"
		  "  CPUs       1\n"
		  "  memory     64 MiB at host 0x0000000004000000-0x0000000007ffffff\n"
		  "  uptime     00:01:05\n"
		  "  scheduler  weight 256, 62.3% of its CPUs, 5000 ticks run, 42 switches\n"
		  "  console    1024 bytes buffered, 0 dropped\n"
		  "Registers:\n"
		  "  eax=00001000  ebx=00001003  ecx=00001001  edx=00001002\n"
		  "  esi=00001006  edi=00001007  ebp=00001005  esp=00001004\n"
		  "  eip=00100234  eflags=00000202\n"
		  "  cr0=00000011  cr3=00000000  cr4=00002000\n"
		  "VM exits: 123456\n"
		  "  I/O instruction  120000\n"
		  "  CPUID              3000\n"
		  "  HLT                 456\n"
		  "Last exit: I/O instruction (reason 30), qualification 0x3f80008\n"
		  "cloison> ");
}

/* info, and only info, has the guest's CPUs copy its registers, and shows what they copied */
static void test_info_syncs_registers(void)
{
	setup();
	run("list");
	run("cpus");
	run("mem");
	CHECK_EQ(fake.syncs, 0u);
	fake.sync_rip = 0x100abc;
	CHECK(strstr(run("info alpha"), "Registers:\n") != NULL);
	CHECK_EQ(fake.syncs, 1u);
	CHECK(strstr(run("info alpha"), "  eip=00100abc  eflags=00000202\n") != NULL);
	fake.sync_fails = true;
	CHECK(strstr(run("info alpha"),
		     "Registers (an older copy: a CPU of the guest did not answer):\n"
		     "  eax=00001000") != NULL);
}

static void test_info_long_mode(void)
{
	setup();
	CHECK_STR(run("info 1"),
		  "Guest 1: beta\n"
		  "  state      paused\n"
		  "  image      demo.elf\n"
		  "  cmdline    beta forever\n"
		  "  CPUs       1-2,4\n"
		  "  memory     128 MiB at host 0x0000000008000000-0x000000000fffffff\n"
		  "  uptime     01:02:03\n"
		  "  scheduler  weight 512, 0.0% of its CPUs, 0 ticks run, 0 switches\n"
		  "  console    65536 bytes buffered, 1234 dropped\n"
		  "Registers:\n"
		  "  rax=0000000000000000  rbx=0000000000000000  rcx=0000000000000000\n"
		  "  rdx=0000000000000000  rsi=0000000000000000  rdi=0000000000000000\n"
		  "  rbp=0000000000000000  rsp=0000000000000000  r8 =0000000000000000\n"
		  "  r9 =0000000000000000  r10=0000000000000000  r11=0000000000000000\n"
		  "  r12=0000000000000000  r13=0000000000000000  r14=0000000000000000\n"
		  "  r15=ffffffff80000000  rip=ffffffff81000000  rflags=0000000000000002\n"
		  "  cr0=0000000080050033  cr3=0000000000001000  cr4=00000000000006a0\n"
		  "VM exits: 4567\n"
		  "  VMCALL  4567\n"
		  "Last exit: VMCALL (reason 18), qualification 0x0\n"
		  "cloison> ");
}

static void test_info_stopped(void)
{
	struct shell_guest *g;

	setup();
	g = &fake.guests[2];
	g->regs_valid = false;
	g->exits_total = 0;
	g->exits[EXIT_REASON_VMCALL] = 0;
	CHECK_STR(run("info gamma"),
		  "Guest 2: gamma\n"
		  "  state      stopped: exit code 42 (hypercall)\n"
		  "  image      hcall.elf\n"
		  "  cmdline    -\n"
		  "  CPUs       3\n"
		  "  memory     32.5 MiB at host 0x0000000010000000-0x000000001207ffff\n"
		  "  uptime     -\n"
		  "  scheduler  weight 0, 0.0% of its CPUs, 0 ticks run, 0 switches\n"
		  "  console    0 bytes buffered, 0 dropped\n"
		  "Registers: none yet (the guest has not run)\n"
		  "VM exits: none\n"
		  "cloison> ");
	/* A failed VM entry is shown as one */
	g->exits_total = 1;
	g->exits[EXIT_REASON_INVALID_GUEST_STATE] = 1;
	g->last_exit_reason = EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_GUEST_STATE;
	g->stop_reason[0] = '\0';
	g->exited = false;
	CHECK(strstr(run("info 2"),
		     "  state      stopped\n") != NULL);
	CHECK(strstr(run("info 2"),
		     "VM exits: 1\n"
		     "  invalid guest state  1\n"
		     "Last exit: VM-entry failure, invalid guest state (reason 33), "
		     "qualification 0x0\n"
		     "cloison> ") != NULL);
	g->exited = true;
	CHECK(strstr(run("info 2"), "  state      stopped: exit code 42\n") != NULL);
}

static void test_guest_lookup(void)
{
	setup();
	CHECK(strncmp(run("info 2"), "Guest 2: gamma\n", 15) == 0);
	CHECK(strncmp(run("info  gamma  "), "Guest 2: gamma\n", 15) == 0);
	CHECK_STR(run("info 9"), "no guest with id 9 (see 'list')\ncloison> ");
	CHECK_STR(run("info 99999999999999999999"),
		  "no guest with id 99999999999999999999 (see 'list')\ncloison> ");
	CHECK_STR(run("info x"), "no guest named 'x' (see 'list')\ncloison> ");
	CHECK_STR(run("start Alpha"), "no guest named 'Alpha' (see 'list')\ncloison> ");
	/* A name made of digits is found when no id matches it */
	str_copy(fake.guests[1].name, "42", SHELL_NAME_MAX);
	CHECK(strncmp(run("info 42"), "Guest 1: 42\n", 12) == 0);
	CHECK_STR(calls(), "");
}

static void test_start(void)
{
	setup();
	CHECK_STR(run("start gamma"), "Guest gamma started.\ncloison> ");
	CHECK_STR(calls(), "start(2) ");
	CHECK_STR(run("start 2"), "guest gamma is already running\ncloison> ");
	CHECK_STR(run("start alpha"), "guest alpha is already running\ncloison> ");
	CHECK_STR(run("start beta"), "guest beta is paused; use 'resume beta'\ncloison> ");
	fake.guests[0].state = SHELL_GUEST_HALTED;
	CHECK_STR(run("start alpha"), "guest alpha is already running\ncloison> ");
	CHECK_STR(calls(), "start(2) ");
	fake.guests[2].state = SHELL_GUEST_STOPPED;
	fake.next_err = -E_NOMEM;
	CHECK_STR(run("start gamma"), "cannot start guest gamma: out of memory\ncloison> ");
	CHECK_EQ(fake.guests[2].state, SHELL_GUEST_STOPPED);
}

static void test_stop(void)
{
	setup();
	CHECK_STR(run("stop alpha"), "Guest alpha stopped.\ncloison> ");
	CHECK_STR(calls(), "stop(0) ");
	CHECK_STR(run("stop alpha"), "guest alpha is not running\ncloison> ");
	CHECK_STR(run("stop 2"), "guest gamma is not running\ncloison> ");
	/* Paused and halted guests can be stopped */
	CHECK_STR(run("stop beta"), "Guest beta stopped.\ncloison> ");
	fake.guests[2].state = SHELL_GUEST_HALTED;
	fake.next_err = -E_INVAL;
	CHECK_STR(run("stop gamma"), "cannot stop guest gamma: invalid\ncloison> ");
	CHECK_STR(calls(), "stop(0) stop(1) stop(2) ");
}

static void test_restart(void)
{
	setup();
	CHECK_STR(run("restart alpha"), "Guest alpha restarted.\ncloison> ");
	CHECK_STR(calls(), "stop(0) start(0) ");
	CHECK_STR(run("restart gamma"), "Guest gamma restarted.\ncloison> ");
	CHECK_STR(calls(), "stop(0) start(0) start(2) ");
	fake.next_err = -E_NOTSUP;
	CHECK_STR(run("restart beta"), "cannot stop guest beta: not supported\ncloison> ");
	CHECK_STR(calls(), "stop(0) start(0) start(2) stop(1) ");
}

static void test_pause_resume(void)
{
	setup();
	CHECK_STR(run("pause alpha"), "Guest alpha paused.\ncloison> ");
	CHECK_STR(run("pause alpha"), "guest alpha is already paused\ncloison> ");
	CHECK_STR(run("pause gamma"), "guest gamma is not running\ncloison> ");
	CHECK_STR(run("resume beta"), "Guest beta resumed.\ncloison> ");
	CHECK_STR(run("resume beta"), "guest beta is not paused\ncloison> ");
	CHECK_STR(run("resume gamma"), "guest gamma is not paused\ncloison> ");
	CHECK_STR(run("resume 0"), "Guest alpha resumed.\ncloison> ");
	CHECK_STR(calls(), "pause(0) resume(1) resume(0) ");
	fake.next_err = -E_FULL;
	CHECK_STR(run("pause beta"), "cannot pause guest beta: table full\ncloison> ");
}

static void test_usage_errors(void)
{
	static const char *const cases[][2] = {
		{ "stop", "usage: stop GUEST\n" },
		{ "stop alpha beta", "usage: stop GUEST\n" },
		{ "start", "usage: start GUEST\n" },
		{ "restart", "usage: restart GUEST\n" },
		{ "pause", "usage: pause GUEST\n" },
		{ "resume a b c d e f g h i j k", "usage: resume GUEST\n" },
		{ "info", "usage: info GUEST\n" },
		{ "console", "usage: console GUEST\n" },
		{ "list all x", "usage: list [STATE]\n" },
		{ "mem x", "usage: mem\n" },
		{ "cpus x", "usage: cpus\n" },
		{ "reboot now", "usage: reboot\n" },
		{ "halt now", "usage: halt\n" },
		{ "log x", "usage: log [LINES]\n" },
		{ "log 0", "usage: log [LINES]\n" },
		{ "log -1", "usage: log [LINES]\n" },
		{ "log 1 2", "usage: log [LINES]\n" },
		{ "foo", "unknown command 'foo'; type 'help' for the list\n" },
		{ "LIST", "unknown command 'LIST'; type 'help' for the list\n" },
		{ "  foo  bar ", "unknown command 'foo'; type 'help' for the list\n" },
	};
	char want[256];

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(want, sizeof(want), "%scloison> ", cases[i][1]);
		CHECK_STR(run(cases[i][0]), want);
	}
	CHECK_STR(calls(), "");
}

static void test_line_too_long(void)
{
	char big[201];
	const char *tail = "\nline too long (at most 128 characters)\ncloison> ";

	setup();
	memset(big, 'x', 200);
	big[200] = '\0';
	feed(big);
	fake.out_len = 0;
	feed("\r\n");
	CHECK_STR(fake.out, tail);
	/* The shell is fine afterwards */
	CHECK_STR(run("stop"), "usage: stop GUEST\ncloison> ");
}

static void test_ctrl_c_and_controls(void)
{
	setup();
	feed("stop al");
	fake.out_len = 0;
	feed("\x03");
	CHECK_STR(fake.out, "^C\ncloison> ");
	/* The echo was "li\b \bist"; the command ran */
	fake.out_len = 0;
	feed("\x01li\x7fist\r");
	CHECK(strncmp(fake.out, "li\b \bist\nID  NAME", 17) == 0);
}

static void test_history(void)
{
	const char *want = "list\b \b\b \b\b \b\b \binfo gamma\nGuest 2: gamma\n";

	setup();
	run("info gamma");
	run("list");
	fake.out_len = 0;
	feed("\x1b[A\x1b[A\r");
	CHECK(strncmp(fake.out, want, strlen(want)) == 0);
}

static void test_console(void)
{
	unsigned id = 99;

	setup();
	CHECK_STR(run("console alpha"),
		  "Connected to guest alpha console; press Ctrl-] to detach.\n[buffered]");
	CHECK_STR(calls(), "attach(0) ");
	CHECK(shell_attached(&sh, &id));
	CHECK_EQ(id, 0);
	/* Everything goes to the guest, untouched and unechoed, even Ctrl-C and escapes */
	fake.out_len = 0;
	fake.out[0] = '\0';
	feed("ls -l\r\n\x03\x1b[A\x7f");
	shell_input(&sh, 0);
	shell_input(&sh, 0xff);
	CHECK_STR(fake.out, "");
	CHECK_EQ(fake.input_len, 14);
	CHECK(memcmp(fake.input, "ls -l\r\n\x03\x1b[A\x7f\0\xff", 14) == 0);
	/* Ctrl-] detaches */
	shell_input(&sh, SHELL_DETACH_KEY);
	CHECK_STR(fake.out, "\nDetached from guest alpha.\ncloison> ");
	CHECK_STR(calls(), "attach(0) detach(0) ");
	CHECK(!shell_attached(&sh, &id));
	CHECK_EQ(fake.attached, -1);
	/* The shell is back: a later Ctrl-] is just ignored */
	shell_input(&sh, SHELL_DETACH_KEY);
	CHECK(strncmp(run("list"), "ID  NAME", 8) == 0);
	CHECK_EQ(fake.input_len, 14);
}

static void test_console_line_endings(void)
{
	setup();
	/* CRLF: the LF belongs to the command line, not the guest */
	feed("console 1\r\n");
	CHECK_EQ(fake.attached, 1);
	feed("\n");
	CHECK_EQ(fake.input_len, 1);
	CHECK_EQ(fake.input[0], '\n');
	shell_input(&sh, SHELL_DETACH_KEY);
	/* LF alone: the next LF is the guest's */
	fake.input_len = 0;
	feed("console 1\n\n");
	CHECK_EQ(fake.input_len, 1);
	shell_input(&sh, SHELL_DETACH_KEY);
	/* After detaching, LF is a new Enter, not the tail of a CRLF */
	fake.out_len = 0;
	feed("\n");
	CHECK_STR(fake.out, "\ncloison> ");
}

static void test_console_attach_fails(void)
{
	setup();
	fake.next_err = -E_NOTSUP;
	CHECK_STR(run("console gamma"),
		  "Connected to guest gamma console; press Ctrl-] to detach.\n"
		  "cannot attach to the console of guest gamma: not supported\n"
		  "cloison> ");
	CHECK(!shell_attached(&sh, NULL));
	CHECK_STR(run("console nope"), "no guest named 'nope' (see 'list')\ncloison> ");
}

static void test_log(void)
{
	static char big[SHELL_LOG_MAX + 100];

	setup();
	CHECK_STR(run("log"),
		  "[cpu0] Cloison starting\n"
		  "[cpu0] 4 CPUs, 2048 MiB\n"
		  "[alpha] hello ?[31mred?[0m\n"
		  "[cpu1] guest gamma stopped: exit code 42 (hypercall)\n"
		  "cloison> ");
	CHECK_STR(run("log 1"),
		  "[cpu1] guest gamma stopped: exit code 42 (hypercall)\n"
		  "cloison> ");
	CHECK_STR(run("log 3"),
		  "[cpu0] 4 CPUs, 2048 MiB\n"
		  "[alpha] hello ?[31mred?[0m\n"
		  "[cpu1] guest gamma stopped: exit code 42 (hypercall)\n"
		  "cloison> ");
	CHECK_EQ(strlen(run("log 100")), strlen(run("log")));
	/* A last line without its newline gets one */
	fake.log = "one\ntwo";
	fake.log_len = 7;
	CHECK_STR(run("log"), "one\ntwo\ncloison> ");
	CHECK_STR(run("log 1"), "two\ncloison> ");
	fake.log_len = 0;
	CHECK_STR(run("log"), "the log is empty\ncloison> ");
	/* More than fits: the newest part is shown, from its first whole line */
	memset(big, 'a', sizeof(big));
	for (size_t i = 10; i < sizeof(big); i += 50)
		big[i] = '\n';
	fake.log = big;
	fake.log_len = sizeof(big);
	/* The newest SHELL_LOG_MAX bytes start at 100, mid-line; the first whole line at 111 */
	run("log");
	CHECK_EQ(fake.out_len, 4 + SHELL_LOG_MAX - 11 + 1 + 9);
	CHECK(strspn(fake.out + 4, "a") == 49);
}

static void test_mem(void)
{
	setup();
	CHECK_STR(run("mem"),
		  "total       2 GiB\n"
		  "hypervisor  34 MiB\n"
		  "guests      224.5 MiB in 3 partitions\n"
		  "free        1790 MiB\n"
		  "\n"
		  "ID  GUEST  HOST RANGE                                 SIZE\n"
		  "0   alpha  0x0000000004000000-0x0000000007ffffff    64 MiB\n"
		  "1   beta   0x0000000008000000-0x000000000fffffff   128 MiB\n"
		  "2   gamma  0x0000000010000000-0x000000001207ffff  32.5 MiB\n"
		  "cloison> ");
	fake.nr_guests = 0;
	CHECK(strstr(run("mem"), "0   ?      0x0000000004000000") != NULL);
	fake.no_mem = true;
	CHECK_STR(run("mem"), "memory information is not available\ncloison> ");
}

static void test_cpus(void)
{
	setup();
	CHECK_STR(run("cpus"),
		  "CPU  APIC  STATE      IDLE  GUESTS\n"
		  "0    0     online   100.0%  -\n"
		  "1    2     online    37.7%  alpha 62.3%, beta 0.0%\n"
		  "2    4     online    99.5%  beta 0.0%, #7 0.5%\n"
		  "3    6     offline       -  -\n"
		  "4 CPUs, 3 online; 4 guests placed\n"
		  "cloison> ");
	fake.no_cpus = true;
	CHECK_STR(run("cpus"), "CPU information is not available\ncloison> ");
}

static void test_reboot_halt(void)
{
	setup();
	CHECK_STR(run("reboot"), "Rebooting.\ncloison> ");
	CHECK_STR(calls(), "reboot(0) ");
	CHECK_STR(run("halt"), "Halting: stopping all guests.\ncloison> ");
	CHECK_STR(calls(), "reboot(0) halt(0) ");
}

static void test_redraw(void)
{
	setup();
	feed("inf");
	fake.out_len = 0;
	shell_redraw(&sh);
	CHECK_STR(fake.out, "cloison> inf");
	feed("o 2\r");
	CHECK(strstr(fake.out, "Guest 2: gamma") != NULL);
	/* Nothing is drawn over a guest's console */
	run("console 2");
	fake.out_len = 0;
	fake.out[0] = '\0';
	shell_redraw(&sh);
	CHECK_STR(fake.out, "");
}

static void test_bad_snapshots(void)
{
	setup();
	/* Unterminated strings and an unknown state from the kernel do not leak or crash */
	memset(fake.guests[0].name, 'N', SHELL_NAME_MAX);
	memset(fake.guests[0].stop_reason, 'R', SHELL_TEXT_MAX);
	memset(fake.guests[0].image, 'I', SHELL_TEXT_MAX);
	memset(fake.guests[0].cmdline, 'C', SHELL_CMDLINE_MAX);
	fake.guests[0].state = (enum shell_guest_state)77;
	fake.guests[0].last_exit_reason = 0xffffffff;
	fake.guests[0].exits_total = 1;
	fake.guests[0].cpu_mask = ~0ULL;
	fake.guests[0].ram_bytes = ~0ULL;
	fake.guests[0].uptime_ms = ~0ULL;
	run("list");
	CHECK(strstr(fake.out, "stopped (RRRRRRRRRRRRRRRRRRRRR...)  0-63") != NULL);
	run("info 0");
	CHECK(strstr(fake.out, "unknown exit reason (reason 65535)") != NULL);
	CHECK(strstr(fake.out, "16383 EiB") == NULL);
	CHECK(strstr(fake.out, "15.9 EiB") != NULL);
	fake.nr_guests = 1000000;
	run("list");
	CHECK(strstr(fake.out, "cloison> ") != NULL);
}

static void test_output_in_pieces(void)
{
	setup();
	run("help");
	run("info 1");
	CHECK(fake.max_write <= SHELL_OUT_MAX);
}

/* xorshift64: the fuzz runs are the same every time */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Only printable ASCII, newlines and the editor's \b and \a may reach the terminal. */
static bool output_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c >= ' ' && c <= '~') && c != '\n' && c != '\b' && c != '\a')
			return false;
	}
	return true;
}

/* Feeds one byte and checks that an Enter at the prompt always ends in exactly one new prompt. */
static void fuzz_byte(uint8_t byte, unsigned *prompts_checked)
{
	bool was_attached = shell_attached(&sh, NULL);
	size_t before = fake.out_total, n;
	const char *tail;

	shell_input(&sh, byte);
	n = fake.out_total - before;
	if (n > fake.out_len)
		n = fake.out_len;
	tail = fake.out + fake.out_len - n;
	CHECK(output_clean(tail, n) || strstr(tail, "[buffered]"));
	if (!was_attached && !shell_attached(&sh, NULL) && (byte == '\r' || byte == '\x03') && n) {
		CHECK(n >= 10 && strcmp(fake.out + fake.out_len - 10, "\ncloison> ") == 0);
		CHECK(strstr(tail, SHELL_PROMPT) == fake.out + fake.out_len - 9);
		++*prompts_checked;
	}
	if (was_attached && byte == SHELL_DETACH_KEY)
		CHECK(n >= 10 && strcmp(fake.out + fake.out_len - 10, "\ncloison> ") == 0);
}

static void test_fuzz_random_bytes(void)
{
	unsigned prompts = 0;

	setup();
	for (unsigned i = 0; i < 200000 && !test_failed_checks; i++) {
		uint64_t r = rng();
		uint8_t byte = (uint8_t)r;

		/* Plenty of Enters and escapes, so that lines end and sequences are cut short */
		if ((r >> 8) % 8 == 0)
			byte = '\r';
		else if ((r >> 8) % 8 == 1)
			byte = 0x1b;
		fuzz_byte(byte, &prompts);
	}
	CHECK(prompts > 10000);
}

static void test_fuzz_commands(void)
{
	static const char *const words[] = {
		"help", "list", "info", "start", "stop", "restart", "pause", "resume", "console",
		"log", "mem", "cpus", "alpha", "beta", "gamma", "0", "1", "2", "3", "9", "x", "",
		"42", "99999999999", "-1", "\x1b[A", "\x1b[B", "\x1bOA", "\x7f", "\x15", "\x17",
		"\x03", "\x1b", "\x1b[", "\t", "\x1d", "\n", "\r\n",
	};
	unsigned prompts = 0, attaches = 0;

	setup();
	for (unsigned line = 0; line < 40000 && !test_failed_checks; line++) {
		unsigned nwords = 1 + (unsigned)(rng() % 3);

		for (unsigned w = 0; w < nwords; w++) {
			/* Mostly a command, then mostly a guest */
			unsigned pick = (unsigned)(rng() % ARRAY_SIZE(words));
			const char *word;

			if (w == 0 && rng() % 4)
				pick %= 12;
			else if (w == 1 && rng() % 4)
				pick = 12 + pick % 7;
			word = words[pick];

			for (unsigned k = (unsigned)(rng() % 3); k; k--)
				fuzz_byte(' ', &prompts);
			for (; *word; word++)
				fuzz_byte((uint8_t)*word, &prompts);
			if (rng() % 50 == 0)
				fuzz_byte((uint8_t)rng(), &prompts);
		}
		fuzz_byte('\r', &prompts);
		if (shell_attached(&sh, NULL)) {
			attaches++;
			fuzz_byte((uint8_t)rng(), &prompts);
			if (rng() % 4)
				fuzz_byte(SHELL_DETACH_KEY, &prompts);
		}
		/* Start over now and then, so that stopped guests run again */
		if (rng() % 1000 == 0 && !shell_attached(&sh, NULL))
			fake_reset();
	}
	CHECK(prompts > 20000);
	CHECK(attaches > 100);
	CHECK(strstr(fake.calls, "start(") != NULL || fake.calls[0] == '\0');
}

int main(void)
{
	RUN_TEST(test_prompt);
	RUN_TEST(test_help);
	RUN_TEST(test_list);
	RUN_TEST(test_list_states);
	RUN_TEST(test_info);
	RUN_TEST(test_info_syncs_registers);
	RUN_TEST(test_info_long_mode);
	RUN_TEST(test_info_stopped);
	RUN_TEST(test_guest_lookup);
	RUN_TEST(test_start);
	RUN_TEST(test_stop);
	RUN_TEST(test_restart);
	RUN_TEST(test_pause_resume);
	RUN_TEST(test_usage_errors);
	RUN_TEST(test_line_too_long);
	RUN_TEST(test_ctrl_c_and_controls);
	RUN_TEST(test_history);
	RUN_TEST(test_console);
	RUN_TEST(test_console_line_endings);
	RUN_TEST(test_console_attach_fails);
	RUN_TEST(test_log);
	RUN_TEST(test_mem);
	RUN_TEST(test_cpus);
	RUN_TEST(test_reboot_halt);
	RUN_TEST(test_list_filters);
	RUN_TEST(test_scrubbing_start_stop);
	RUN_TEST(test_sixty_four);
	RUN_TEST(test_redraw);
	RUN_TEST(test_bad_snapshots);
	RUN_TEST(test_output_in_pieces);
	RUN_TEST(test_fuzz_random_bytes);
	RUN_TEST(test_fuzz_commands);
	return test_any_failed;
}
