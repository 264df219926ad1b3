/* The management shell: input routing, tokenizing, dispatch, help and the output helpers. */
#include <stdarg.h>
#include "kernel/shell.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

void shell_flush(struct shell *sh)
{
	if (sh->out_len) {
		sh->ops->write(sh->ops->ctx, sh->out, sh->out_len);
		sh->out_len = 0;
	}
}

static void shell_putc(void *ctx, char c)
{
	struct shell *sh = ctx;

	if (sh->out_len == sizeof(sh->out))
		shell_flush(sh);
	sh->out[sh->out_len++] = c;
}

void shell_write(struct shell *sh, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		shell_putc(sh, s[i]);
}

void shell_printf(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(shell_putc, sh, fmt, ap);
	va_end(ap);
}

static void shell_edit_write(void *ctx, const char *s, size_t n)
{
	shell_write(ctx, s, n);
}

static void shell_prompt(struct shell *sh)
{
	shell_write(sh, SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
}

bool shell_parse_uint(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 99999999)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

static bool shell_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

unsigned shell_guest_count(struct shell *sh)
{
	unsigned n = sh->ops->guest_count(sh->ops->ctx);

	return MIN(n, (unsigned)SHELL_MAX_GUESTS);
}

/* Takes a snapshot and makes it safe to print whatever the kernel left in it. */
bool shell_guest_get(struct shell *sh, unsigned id, struct shell_guest *g)
{
	if (!sh->ops->guest_get(sh->ops->ctx, id, g))
		return false;
	g->id = id;
	g->name[sizeof(g->name) - 1] = '\0';
	g->image[sizeof(g->image) - 1] = '\0';
	g->cmdline[sizeof(g->cmdline) - 1] = '\0';
	g->stop_reason[sizeof(g->stop_reason) - 1] = '\0';
	if ((unsigned)g->state > SHELL_GUEST_SCRUBBING)
		g->state = SHELL_GUEST_STOPPED;
	return true;
}

bool shell_find_guest(struct shell *sh, const char *arg)
{
	unsigned count = shell_guest_count(sh), id;

	if (shell_parse_uint(arg, &id) && id < count && shell_guest_get(sh, id, &sh->guest))
		return true;
	for (id = 0; id < count; id++)
		if (shell_guest_get(sh, id, &sh->guest) && strcmp(sh->guest.name, arg) == 0)
			return true;
	if (shell_all_digits(arg))
		shell_printf(sh, "no guest with id %s (see 'list')\n", arg);
	else
		shell_printf(sh, "no guest named '%s' (see 'list')\n", arg);
	return false;
}

/* Splits at blanks in place; returns the number of words, of which argv holds the first max. */
static unsigned shell_split(char *s, char **argv, unsigned max)
{
	unsigned argc = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return argc;
		if (argc < max)
			argv[argc] = s;
		argc++;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static const struct shell_cmd *shell_lookup(const char *name)
{
	for (unsigned i = 0; i < shell_cmd_count; i++)
		if (strcmp(shell_cmds[i].name, name) == 0)
			return &shell_cmds[i];
	return NULL;
}

static void shell_unknown(struct shell *sh, const char *name)
{
	shell_printf(sh, "unknown command '%s'; type 'help' for the list\n", name);
}

static void shell_usage(struct shell *sh, const struct shell_cmd *cmd)
{
	shell_printf(sh, "usage: %s%s%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args);
}

void shell_cmd_help(struct shell *sh, unsigned argc, char **argv)
{
	const struct shell_cmd *cmd;
	int width = 0;

	if (argc == 2) {
		cmd = shell_lookup(argv[1]);
		if (!cmd) {
			shell_unknown(sh, argv[1]);
			return;
		}
		shell_usage(sh, cmd);
		shell_printf(sh, "%s\n", cmd->detail);
		return;
	}
	for (unsigned i = 0; i < shell_cmd_count; i++) {
		int w = (int)(strlen(shell_cmds[i].name) + 1 + strlen(shell_cmds[i].args));

		width = MAX(width, w);
	}
	shell_printf(sh, "Commands:\n");
	for (unsigned i = 0; i < shell_cmd_count; i++) {
		cmd = &shell_cmds[i];
		shell_printf(sh, "  %s %-*s  %s\n", cmd->name, width - (int)strlen(cmd->name) - 1,
			     cmd->args, cmd->summary);
	}
	shell_printf(sh, "GUEST is a guest's name or numeric id (see 'list').\n");
}

static void shell_execute(struct shell *sh, const char *line)
{
	char *argv[SHELL_ARGS_MAX];
	const struct shell_cmd *cmd;
	unsigned argc;

	str_copy(sh->args_buf, line, sizeof(sh->args_buf));
	argc = shell_split(sh->args_buf, argv, SHELL_ARGS_MAX);
	if (argc == 0)
		return;
	cmd = shell_lookup(argv[0]);
	if (!cmd) {
		shell_unknown(sh, argv[0]);
		return;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		shell_usage(sh, cmd);
		return;
	}
	cmd->run(sh, argc, argv);
}

void shell_attach(struct shell *sh, unsigned id, const char *name)
{
	sh->attached = true;
	sh->attached_id = id;
	str_copy(sh->attached_name, name, sizeof(sh->attached_name));
}

static void shell_attached_input(struct shell *sh, uint8_t byte)
{
	bool after_cr = sh->attach_after_cr;

	sh->attach_after_cr = false;
	if (byte == SHELL_DETACH_KEY) {
		sh->ops->console_detach(sh->ops->ctx, sh->attached_id);
		sh->attached = false;
		line_edit_reset(&sh->edit);
		shell_printf(sh, "\nDetached from guest %s.\n", sh->attached_name);
		shell_prompt(sh);
		return;
	}
	/* The LF of the CRLF that ended the 'console' line is not the guest's */
	if (after_cr && byte == '\n')
		return;
	sh->ops->console_input(sh->ops->ctx, sh->attached_id, byte);
}

void shell_init(struct shell *sh, const struct shell_ops *ops)
{
	memset(sh, 0, sizeof(*sh));
	sh->ops = ops;
	line_edit_init(&sh->edit, shell_edit_write, sh);
	shell_prompt(sh);
	shell_flush(sh);
}

void shell_input(struct shell *sh, uint8_t byte)
{
	if (sh->attached) {
		shell_attached_input(sh, byte);
		shell_flush(sh);
		return;
	}
	switch (line_edit_feed(&sh->edit, byte)) {
	case LINE_EDIT_LINE:
		shell_execute(sh, line_edit_line(&sh->edit));
		if (sh->attached)
			sh->attach_after_cr = byte == '\r';
		else
			shell_prompt(sh);
		break;
	case LINE_EDIT_CANCEL:
		shell_prompt(sh);
		break;
	case LINE_EDIT_TOO_LONG:
		shell_printf(sh, "line too long (at most %u characters)\n", LINE_EDIT_MAX);
		shell_prompt(sh);
		break;
	case LINE_EDIT_NONE:
		break;
	}
	shell_flush(sh);
}

void shell_redraw(struct shell *sh)
{
	if (sh->attached)
		return;
	shell_prompt(sh);
	line_edit_redraw(&sh->edit);
	shell_flush(sh);
}

bool shell_attached(const struct shell *sh, unsigned *id)
{
	if (sh->attached && id)
		*id = sh->attached_id;
	return sh->attached;
}
