/* libFuzzer target: console bytes into the shell over a fake kernel; bad output aborts. */
#include <stdlib.h>
#include <string.h>
#include "kernel/shell.h"
#include "kernel/lib.h"
#include "vmx/vmcs.h"

#define FUZZ_GUESTS 3

static struct shell_guest guests[FUZZ_GUESTS];
static unsigned nr_guests;
static int next_err;
static int attached = -1;
static char out_tail[64]; /* the newest output, to find the prompt */
static size_t out_total;
static bool out_bad;

static void fuzz_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (n > SHELL_OUT_MAX)
		out_bad = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* What the shell prints is printable ASCII, newlines and the editor's \b and \a */
		if (!(c >= ' ' && c <= '~') && c != '\n' && c != '\b' && c != '\a')
			out_bad = true;
		memmove(out_tail, out_tail + 1, sizeof(out_tail) - 2);
		out_tail[sizeof(out_tail) - 2] = (char)c;
	}
	out_total += n;
}

static unsigned fuzz_guest_count(void *ctx)
{
	(void)ctx;
	return nr_guests;
}

static bool fuzz_guest_get(void *ctx, unsigned id, struct shell_guest *out)
{
	(void)ctx;
	if (id >= nr_guests)
		return false;
	*out = guests[id];
	return true;
}

static int fuzz_set_state(unsigned id, enum shell_guest_state state)
{
	int err = next_err;

	if (id >= nr_guests)
		abort();
	next_err = 0;
	if (err)
		return err;
	guests[id].state = state;
	return 0;
}

static int fuzz_start(void *ctx, unsigned id)
{
	(void)ctx;
	return fuzz_set_state(id, SHELL_GUEST_RUNNING);
}

static int fuzz_stop(void *ctx, unsigned id)
{
	(void)ctx;
	return fuzz_set_state(id, SHELL_GUEST_STOPPED);
}

static int fuzz_pause(void *ctx, unsigned id)
{
	(void)ctx;
	return fuzz_set_state(id, SHELL_GUEST_PAUSED);
}

static int fuzz_resume(void *ctx, unsigned id)
{
	(void)ctx;
	return fuzz_set_state(id, SHELL_GUEST_RUNNING);
}

static int fuzz_attach(void *ctx, unsigned id)
{
	int err = fuzz_set_state(id, guests[id].state);

	(void)ctx;
	if (!err)
		attached = (int)id;
	return err;
}

static void fuzz_console_input(void *ctx, unsigned id, uint8_t byte)
{
	(void)ctx;
	(void)byte;
	if ((int)id != attached)
		abort();
}

static void fuzz_detach(void *ctx, unsigned id)
{
	(void)ctx;
	if ((int)id != attached)
		abort();
	attached = -1;
}

static size_t fuzz_log_read(void *ctx, char *buf, size_t size)
{
	static const char log[] = "[cpu0] Cloison\n[alpha] \x1b[2J\x01\xff text\n[cpu1] partial";
	size_t n = MIN(sizeof(log) - 1, size);

	(void)ctx;
	memcpy(buf, log + sizeof(log) - 1 - n, n);
	return n;
}

static bool fuzz_cpu_get(void *ctx, unsigned cpu, struct shell_cpu *out)
{
	(void)ctx;
	if (cpu >= 3)
		return false;
	memset(out, 0xff, sizeof(*out)); /* garbage the shell must clamp */
	out->id = cpu;
	out->online = cpu != 2;
	return true;
}

static bool fuzz_mem_get(void *ctx, struct shell_mem *out)
{
	(void)ctx;
	memset(out, 0xff, sizeof(*out));
	return true;
}

static void fuzz_nothing(void *ctx)
{
	(void)ctx;
}

static const struct shell_ops fuzz_ops = {
	.write = fuzz_write,
	.guest_count = fuzz_guest_count,
	.guest_get = fuzz_guest_get,
	.guest_start = fuzz_start,
	.guest_stop = fuzz_stop,
	.guest_pause = fuzz_pause,
	.guest_resume = fuzz_resume,
	.console_attach = fuzz_attach,
	.console_input = fuzz_console_input,
	.console_detach = fuzz_detach,
	.log_read = fuzz_log_read,
	.cpu_get = fuzz_cpu_get,
	.mem_get = fuzz_mem_get,
	.reboot = fuzz_nothing,
	.halt = fuzz_nothing,
};

/* The first byte shapes the fake: how many guests, their states, whether an operation fails. */
static void fuzz_setup(uint8_t shape)
{
	static const char *const names[FUZZ_GUESTS] = { "alpha", "beta", "7" };

	memset(guests, 0, sizeof(guests));
	for (unsigned i = 0; i < FUZZ_GUESTS; i++) {
		struct shell_guest *g = &guests[i];

		str_copy(g->name, names[i], sizeof(g->name));
		g->state = (enum shell_guest_state)((shape >> (2 * i)) & 3);
		g->exited = i == 2;
		g->exit_code = -1;
		str_copy(g->stop_reason, i ? "EPT violation: write at 0x1000" : "",
			 sizeof(g->stop_reason));
		g->cpu_mask = ~0ULL >> i;
		g->ram_bytes = ~0ULL >> (i * 20);
		g->uptime_ms = ~0ULL / (i + 1);
		g->exits_total = ~0ULL;
		for (unsigned r = 0; r < SHELL_EXIT_REASONS; r++)
			g->exits[r] = (uint64_t)r * 1000003 * i;
		g->last_exit_reason = i == 1 ? 0xffffffffu : EXIT_REASON_EPT_VIOLATION;
		g->regs_valid = i != 0;
		g->long_mode = i == 2;
	}
	nr_guests = shape & 0x40 ? FUZZ_GUESTS : shape % 4;
	next_err = shape & 0x80 ? -E_NOMEM : 0;
	attached = -1;
	out_total = 0;
	out_bad = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shell sh;

	if (size == 0)
		return 0;
	fuzz_setup(data[0]);
	shell_init(&sh, &fuzz_ops);
	for (size_t i = 1; i < size; i++) {
		bool was_attached = shell_attached(&sh, NULL);

		shell_input(&sh, data[i]);
		if (out_bad)
			abort();
		/* Enter or Ctrl-C at the prompt, or leaving a console, ends in a fresh prompt */
		if (shell_attached(&sh, NULL) || (was_attached ? data[i] != SHELL_DETACH_KEY :
							    data[i] != '\r' && data[i] != 0x03))
			continue;
		if (strcmp(out_tail + sizeof(out_tail) - 1 - 10, "\ncloison> ") != 0)
			abort();
	}
	return 0;
}
