/* Guest configuration file: line-by-line INI parser, per-key value checks, and validation. */
#include <stdarg.h>
#include "kernel/config.h"
#include "kernel/cmdline.h"
#include "kernel/fmt.h"
#include "kernel/lib.h"

#define CONFIG_QUOTE_MAX 40 /* user text quoted in a message is cut after this many characters */
#define CONFIG_QUOTE_SIZE (CONFIG_QUOTE_MAX + 4) /* and "..." and the NUL */

enum config_section {
	SECTION_NONE,       /* before the first header */
	SECTION_HYPERVISOR,
	SECTION_GUEST,
	SECTION_SKIP,       /* after a header that was reported: its lines are ignored */
};

struct config_parser {
	struct config *out;
	config_report_fn report;
	void *ctx;
	unsigned line;
	enum config_section section;
	struct guest_config *guest;            /* the open [guest] section */
	unsigned hypervisor_lines[CONFIG_KEY_COUNT]; /* where each key was given, 0 = not yet */
	unsigned guests_over;                  /* [guest] sections beyond MAX_GUESTS so far */
};

typedef void (*config_key_fn)(struct config_parser *p, const char *key, const char *value);

struct config_key_desc {
	const char *name;
	enum config_section section;
	bool may_be_empty;
	config_key_fn parse;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
	       c == '_';
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool str_case_equal(const char *a, const char *b)
{
	while (*a && to_lower(*a) == to_lower(*b))
		a++, b++;
	return to_lower(*a) == to_lower(*b);
}

/* Whether s starts with the word prefix, in any case, followed by a blank or the end. */
static bool starts_with_word(const char *s, const char *prefix)
{
	while (*prefix && to_lower(*s) == to_lower(*prefix))
		s++, prefix++;
	return !*prefix && (!*s || is_blank(*s));
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static char *find_char(char *s, char c)
{
	for (; *s; s++)
		if (*s == c)
			return s;
	return NULL;
}

/* Cuts trailing blanks off s in place. */
static void trim_right(char *s)
{
	size_t n = strlen(s);

	while (n && is_blank(s[n - 1]))
		s[--n] = '\0';
}

/* Copies user text for a message: bytes other than printable ASCII become '?', long text is cut. */
static const char *config_quote(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (n == CONFIG_QUOTE_MAX && n + 4 <= size) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	}
	buf[n] = '\0';
	return buf;
}

static void config_vreport(struct config *c, config_report_fn report, void *ctx, unsigned line,
			   const char *section, const char *key, const char *fmt, va_list ap)
{
	char what[CONFIG_MESSAGE_MAX], message[CONFIG_MESSAGE_MAX];

	c->error_count++;
	if (!report)
		return;
	fmt_vsnprintf(what, sizeof(what), fmt, ap);
	fmt_snprintf(message, sizeof(message), "config:%u: %s%s%s%s%s", line, section ? section : "",
		     section ? ": " : "", key ? key : "", key ? ": " : "", what);
	report(ctx, message);
}

/* Reports an error on the current line, in the current section (refusing its guest). */
static void __attribute__((format(printf, 3, 4)))
parser_error(struct config_parser *p, const char *key, const char *fmt, ...)
{
	char section[CONFIG_NAME_MAX + 8], name[CONFIG_QUOTE_SIZE];
	const char *where = NULL;
	va_list ap;

	if (p->section == SECTION_GUEST) {
		p->guest->refused = true;
		fmt_snprintf(section, sizeof(section), "guest %s",
			     config_quote(name, sizeof(name), p->guest->name));
		where = section;
	} else if (p->section == SECTION_HYPERVISOR) {
		where = "hypervisor";
	}
	va_start(ap, fmt);
	config_vreport(p->out, p->report, p->ctx, p->line, where, key, fmt, ap);
	va_end(ap);
}

/* Reads decimal digits at *s; false when there are none or on overflow. */
static bool read_decimal(const char **s, uint64_t *out)
{
	const char *q = *s;
	uint64_t v = 0;

	if (!is_digit(*q))
		return false;
	for (; is_digit(*q); q++) {
		unsigned d = (unsigned)(*q - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = q;
	*out = v;
	return true;
}

static bool parse_decimal(const char *s, uint64_t *out)
{
	return read_decimal(&s, out) && *s == '\0';
}

static void key_slice(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	const char *s = value;
	uint64_t n, unit;

	if (!read_decimal(&s, &n))
		goto bad;
	s = skip_blanks(s);
	if (str_case_equal(s, "us"))
		unit = 1;
	else if (str_case_equal(s, "ms"))
		unit = 1000;
	else if (str_case_equal(s, "s"))
		unit = 1000000;
	else
		goto bad;
	if (n > CONFIG_SLICE_MAX_US / unit || n * unit < CONFIG_SLICE_MIN_US) {
		parser_error(p, key, "%s is out of range (100us to 1s)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	p->out->slice_us = n * unit;
	return;
bad:
	parser_error(p, key, "bad time '%s' (expected a number with us, ms or s, e.g. 10ms)",
		     config_quote(quoted, sizeof(quoted), value));
}

static void key_console(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];

	if (str_case_equal(value, "buffered")) {
		p->out->console_prefixed = false;
	} else if (str_case_equal(value, "prefixed")) {
		p->out->console_prefixed = true;
	} else {
		parser_error(p, key, "bad value '%s' (expected buffered or prefixed)",
			     config_quote(quoted, sizeof(quoted), value));
	}
}

/* A module name: one word that fits, as GRUB module strings are matched by their first word. */
static bool check_module_name(struct config_parser *p, const char *key, const char *name)
{
	char quoted[CONFIG_QUOTE_SIZE];

	if (strlen(name) >= CONFIG_IMAGE_MAX) {
		parser_error(p, key, "module name too long: '%s' (at most %u characters)",
			     config_quote(quoted, sizeof(quoted), name), CONFIG_IMAGE_MAX - 1);
		return false;
	}
	for (const char *s = name; *s; s++) {
		if (is_blank(*s)) {
			parser_error(p, key,
				     "'%s' is not one word (modules are named by the first word of their GRUB string)",
				     config_quote(quoted, sizeof(quoted), name));
			return false;
		}
	}
	return true;
}

static void key_image(struct config_parser *p, const char *key, const char *value)
{
	if (!check_module_name(p, key, value))
		return;
	str_copy(p->guest->image, value, sizeof(p->guest->image));
}

static void key_cmdline(struct config_parser *p, const char *key, const char *value)
{
	if (strlen(value) >= CONFIG_CMDLINE_MAX) {
		parser_error(p, key, "value too long (at most %u characters)", CONFIG_CMDLINE_MAX - 1);
		return;
	}
	str_copy(p->guest->cmdline, value, sizeof(p->guest->cmdline));
}

static void key_modules(struct config_parser *p, const char *key, const char *value)
{
	char names[CONFIG_MODULES_MAX][CONFIG_IMAGE_MAX];
	char word[CONFIG_LINE_MAX + 1];
	unsigned count = 0;
	const char *s = value;

	for (;;) {
		size_t n = 0;

		while (is_blank(*s) || *s == ',')
			s++;
		if (!*s)
			break;
		while (s[n] && !is_blank(s[n]) && s[n] != ',')
			n++;
		memcpy(word, s, n);
		word[n] = '\0';
		s += n;
		if (count == CONFIG_MODULES_MAX) {
			parser_error(p, key, "more than %u modules", CONFIG_MODULES_MAX);
			return;
		}
		if (!check_module_name(p, key, word))
			return;
		str_copy(names[count++], word, sizeof(names[0]));
	}
	memcpy(p->guest->modules, names, count * sizeof(names[0]));
	p->guest->module_count = count;
}

static void key_memory(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	uint64_t bytes;

	if (!parse_size(value, &bytes)) {
		parser_error(p, key, "bad size '%s' (expected a number with an optional K, M or G suffix)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	if (bytes < CONFIG_MEMORY_ALIGN) {
		parser_error(p, key, "%s is too small (at least 2M)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	if (bytes > CONFIG_MEMORY_MAX) {
		parser_error(p, key, "%s is too large (at most 1024G)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	p->guest->memory = ALIGN_UP(bytes, (uint64_t)CONFIG_MEMORY_ALIGN);
}

static void key_address(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	uint64_t addr;

	if (str_case_equal(value, "any")) {
		p->guest->address = 0;
		return;
	}
	if (!parse_size(value, &addr)) {
		parser_error(p, key, "bad address '%s' (expected a number such as 0x10000000 or 256M, or any)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	if (addr == 0) {
		parser_error(p, key, "0 is not allowed (write 'any' or leave it out to let the planner choose)");
		return;
	}
	if (!IS_ALIGNED(addr, (uint64_t)CONFIG_MEMORY_ALIGN)) {
		parser_error(p, key, "0x%lx is not 2 MiB aligned", addr);
		return;
	}
	p->guest->address = addr;
}

/* "1", "0,2", "1-3", "0, 4-5": CPU numbers and ranges separated by commas or blanks. */
static void key_cpus(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	const char *s = value;
	uint64_t mask = 0;
	bool any = false;

	for (;;) {
		uint64_t first, last;

		while (is_blank(*s) || (any && *s == ','))
			s++;
		if (!*s)
			break;
		if (!read_decimal(&s, &first))
			goto bad;
		last = first;
		if (*s == '-') {
			s++;
			if (!read_decimal(&s, &last) || last < first)
				goto bad;
		}
		if (*s && !is_blank(*s) && *s != ',')
			goto bad;
		if (last >= CONFIG_CPUS_MAX) {
			parser_error(p, key, "CPU %lu is beyond the %u CPUs Cloison supports", last,
				     CONFIG_CPUS_MAX);
			return;
		}
		for (uint64_t cpu = first; cpu <= last; cpu++) {
			if (mask & (1ull << cpu)) {
				parser_error(p, key, "CPU %lu is listed twice in '%s' (one vCPU per CPU)",
					     cpu, config_quote(quoted, sizeof(quoted), value));
				return;
			}
			mask |= 1ull << cpu;
		}
		any = true;
	}
	if (!any)
		goto bad;
	p->guest->cpu_mask = mask;
	return;
bad:
	parser_error(p, key, "bad CPU list '%s' (expected e.g. 1, 0,2 or 1-3)",
		     config_quote(quoted, sizeof(quoted), value));
}

static void key_weight(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	uint64_t weight;

	if (!parse_decimal(value, &weight) || weight < 1 || weight > CONFIG_WEIGHT_MAX) {
		parser_error(p, key, "bad weight '%s' (expected a number from 1 to %u)",
			     config_quote(quoted, sizeof(quoted), value), CONFIG_WEIGHT_MAX);
		return;
	}
	p->guest->weight = (unsigned)weight;
}

static void key_autostart(struct config_parser *p, const char *key, const char *value)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	char quoted[CONFIG_QUOTE_SIZE];

	for (unsigned i = 0; i < ARRAY_SIZE(yes); i++) {
		if (str_case_equal(value, yes[i]) || str_case_equal(value, no[i])) {
			p->guest->autostart = str_case_equal(value, yes[i]);
			return;
		}
	}
	parser_error(p, key, "bad value '%s' (expected yes or no)",
		     config_quote(quoted, sizeof(quoted), value));
}

static void key_console_buffer(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];
	uint64_t bytes;

	if (!parse_size(value, &bytes)) {
		parser_error(p, key, "bad size '%s' (expected a number with an optional K, M or G suffix)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	if (bytes < CONFIG_CONSOLE_BUFFER_MIN || bytes > CONFIG_CONSOLE_BUFFER_MAX) {
		parser_error(p, key, "%s is out of range (1K to 1M)",
			     config_quote(quoted, sizeof(quoted), value));
		return;
	}
	p->guest->console_buffer = (uint32_t)bytes;
}

static void key_initrd(struct config_parser *p, const char *key, const char *value)
{
	if (!check_module_name(p, key, value))
		return;
	str_copy(p->guest->initrd, value, sizeof(p->guest->initrd));
}

/* stop | restart, and preserve where a crash leaves something to inspect. */
static void key_action(struct config_parser *p, const char *key, const char *value,
		       enum guest_action *out, bool preserve_allowed)
{
	char quoted[CONFIG_QUOTE_SIZE];

	if (str_case_equal(value, "stop"))
		*out = GUEST_ACTION_STOP;
	else if (str_case_equal(value, "restart"))
		*out = GUEST_ACTION_RESTART;
	else if (preserve_allowed && str_case_equal(value, "preserve"))
		*out = GUEST_ACTION_PRESERVE;
	else
		parser_error(p, key, "bad action '%s' (expected stop%s or restart)",
			     config_quote(quoted, sizeof(quoted), value), preserve_allowed ? ", preserve" : "");
}

static void key_on_poweroff(struct config_parser *p, const char *key, const char *value)
{
	key_action(p, key, value, &p->guest->on_poweroff, false);
}

static void key_on_reboot(struct config_parser *p, const char *key, const char *value)
{
	key_action(p, key, value, &p->guest->on_reboot, false);
}

static void key_on_crash(struct config_parser *p, const char *key, const char *value)
{
	key_action(p, key, value, &p->guest->on_crash, true);
}

static void key_platform(struct config_parser *p, const char *key, const char *value)
{
	char quoted[CONFIG_QUOTE_SIZE];

	if (str_case_equal(value, "pc"))
		p->guest->platform = GUEST_PLATFORM_PC;
	else if (str_case_equal(value, "none"))
		p->guest->platform = GUEST_PLATFORM_NONE;
	else
		parser_error(p, key, "bad platform '%s' (expected pc or none)",
			     config_quote(quoted, sizeof(quoted), value));
}

static const struct config_key_desc config_keys[CONFIG_KEY_COUNT] = {
	[CONFIG_KEY_SLICE] = { "slice", SECTION_HYPERVISOR, false, key_slice },
	[CONFIG_KEY_CONSOLE] = { "console", SECTION_HYPERVISOR, false, key_console },
	[CONFIG_KEY_IMAGE] = { "image", SECTION_GUEST, false, key_image },
	[CONFIG_KEY_CMDLINE] = { "cmdline", SECTION_GUEST, true, key_cmdline },
	[CONFIG_KEY_MODULES] = { "modules", SECTION_GUEST, true, key_modules },
	[CONFIG_KEY_MEMORY] = { "memory", SECTION_GUEST, false, key_memory },
	[CONFIG_KEY_ADDRESS] = { "address", SECTION_GUEST, false, key_address },
	[CONFIG_KEY_CPUS] = { "cpus", SECTION_GUEST, false, key_cpus },
	[CONFIG_KEY_WEIGHT] = { "weight", SECTION_GUEST, false, key_weight },
	[CONFIG_KEY_AUTOSTART] = { "autostart", SECTION_GUEST, false, key_autostart },
	[CONFIG_KEY_CONSOLE_BUFFER] = { "console_buffer", SECTION_GUEST, false, key_console_buffer },
	[CONFIG_KEY_INITRD] = { "initrd", SECTION_GUEST, false, key_initrd },
	[CONFIG_KEY_ON_POWEROFF] = { "on_poweroff", SECTION_GUEST, false, key_on_poweroff },
	[CONFIG_KEY_ON_REBOOT] = { "on_reboot", SECTION_GUEST, false, key_on_reboot },
	[CONFIG_KEY_ON_CRASH] = { "on_crash", SECTION_GUEST, false, key_on_crash },
	[CONFIG_KEY_PLATFORM] = { "platform", SECTION_GUEST, false, key_platform },
};

void config_refuse(struct config *c, struct guest_config *g, config_report_fn report, void *ctx,
		   const char *key, const char *fmt, ...)
{
	char section[CONFIG_NAME_MAX + 8], name[CONFIG_QUOTE_SIZE];
	unsigned line = g->line;
	va_list ap;

	for (unsigned i = 0; key && i < CONFIG_KEY_COUNT; i++)
		if (g->key_lines[i] && strcmp(config_keys[i].name, key) == 0)
			line = g->key_lines[i];
	g->refused = true;
	fmt_snprintf(section, sizeof(section), "guest %s", config_quote(name, sizeof(name), g->name));
	va_start(ap, fmt);
	config_vreport(c, report, ctx, line, section, key, fmt, ap);
	va_end(ap);
}

/* Finishes the open section: required keys and defaults that depend on the name. */
static void section_end(struct config_parser *p)
{
	struct guest_config *g = p->guest;

	if (p->section == SECTION_GUEST) {
		if (!g->key_lines[CONFIG_KEY_MEMORY])
			config_refuse(p->out, g, p->report, p->ctx, "memory", "missing (required)");
		if (!g->key_lines[CONFIG_KEY_IMAGE])
			str_copy(g->image, g->name, sizeof(g->image));
		if (!g->key_lines[CONFIG_KEY_CMDLINE])
			str_copy(g->cmdline, g->name, sizeof(g->cmdline));
	}
	p->section = SECTION_SKIP;
	p->guest = NULL;
}

static bool guest_name_valid(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (!is_name_char(name[n]))
			return false;
	return n > 0 && n < CONFIG_NAME_MAX;
}

static void guest_open(struct config_parser *p, const char *name)
{
	struct config *c = p->out;
	char quoted[CONFIG_QUOTE_SIZE];
	struct guest_config *g;

	if (c->guest_count == MAX_GUESTS) {
		p->guests_over++;
		parser_error(p, NULL, "guest %u refused: at most %u guests ([guest %s] and its keys are ignored)",
			     MAX_GUESTS + p->guests_over, MAX_GUESTS,
			     config_quote(quoted, sizeof(quoted), name));
		return;
	}
	g = &c->guests[c->guest_count++];
	memset(g, 0, sizeof(*g));
	str_copy(g->name, name, sizeof(g->name));
	g->cpu_mask = 1;
	g->weight = CONFIG_WEIGHT_DEFAULT;
	g->autostart = true;
	g->on_poweroff = GUEST_ACTION_STOP;
	g->on_reboot = GUEST_ACTION_RESTART;
	g->on_crash = GUEST_ACTION_STOP;
	g->console_buffer = CONFIG_CONSOLE_BUFFER_DEFAULT;
	g->line = p->line;

	/* Reported before the section opens: a bad name is no name to report under */
	if (!guest_name_valid(name)) {
		parser_error(p, NULL,
			     "bad guest name '%s' (allowed: letters, digits, '-' and '_', at most %u characters)",
			     config_quote(quoted, sizeof(quoted), name), CONFIG_NAME_MAX - 1);
		g->refused = true;
	}
	p->section = SECTION_GUEST;
	p->guest = g;
	if (g->refused)
		return;
	for (unsigned i = 0; i + 1 < c->guest_count; i++) {
		if (strcmp(c->guests[i].name, g->name) == 0) {
			parser_error(p, NULL, "duplicate guest name (first defined on line %u)",
				     c->guests[i].line);
			return;
		}
	}
}

/* "[hypervisor]" or "[guest NAME]", possibly followed by a comment. @pre line[0] == '[' */
static void parse_header(struct config_parser *p, char *line)
{
	char quoted[CONFIG_QUOTE_SIZE];
	char *close = find_char(line, ']');
	const char *inner, *rest;

	section_end(p);
	if (!close) {
		trim_right(line);
		parser_error(p, NULL, "section header without ']': '%s' (expected [hypervisor] or [guest NAME])",
			     config_quote(quoted, sizeof(quoted), line));
		return;
	}
	*close = '\0';
	inner = skip_blanks(line + 1);
	trim_right(line + 1);
	rest = skip_blanks(close + 1);

	if (str_case_equal(inner, "hypervisor")) {
		p->section = SECTION_HYPERVISOR;
	} else if (starts_with_word(inner, "guest")) {
		if (!*skip_blanks(inner + 5)) {
			parser_error(p, NULL, "guest section without a name (expected [guest NAME])");
			return;
		}
		guest_open(p, skip_blanks(inner + 5));
	} else {
		parser_error(p, NULL, "unknown section '%s' (expected [hypervisor] or [guest NAME])",
			     config_quote(quoted, sizeof(quoted), inner));
		return;
	}
	if (*rest && *rest != '#' && *rest != ';')
		parser_error(p, NULL, "text after the section header: '%s'",
			     config_quote(quoted, sizeof(quoted), rest));
}

/* Reads the value after '=' into value (at least as large as s): in double quotes with \" and \\
 * escapes, or bare up to a comment. Either may be followed by blanks and a comment. */
static bool parse_value(struct config_parser *p, const char *key, const char *s, char *value)
{
	size_t n = 0;

	s = skip_blanks(s);
	if (*s != '"') {
		while (*s && *s != '#' && *s != ';')
			value[n++] = *s++;
		value[n] = '\0';
		trim_right(value);
		return true;
	}
	for (s++; *s != '"'; s++) {
		if (!*s) {
			parser_error(p, key, "missing closing quote");
			return false;
		}
		if (*s == '\\') {
			s++;
			if (!*s) {
				parser_error(p, key, "missing closing quote");
				return false;
			}
			if (*s != '"' && *s != '\\') {
				parser_error(p, key, "unknown escape '\\%c' in quotes (only \\\" and \\\\)",
					     *s >= 0x20 && *s < 0x7f ? *s : '?');
				return false;
			}
		}
		value[n++] = *s;
	}
	value[n] = '\0';
	s = skip_blanks(s + 1);
	if (*s && *s != '#' && *s != ';') {
		char quoted[CONFIG_QUOTE_SIZE];

		parser_error(p, key, "text after the closing quote: '%s'",
			     config_quote(quoted, sizeof(quoted), s));
		return false;
	}
	return true;
}

static const struct config_key_desc *key_find(const char *name, enum config_section section)
{
	for (unsigned i = 0; i < CONFIG_KEY_COUNT; i++)
		if (config_keys[i].section == section && str_case_equal(config_keys[i].name, name))
			return &config_keys[i];
	return NULL;
}

/* "key = value", possibly followed by a comment. */
static void parse_assignment(struct config_parser *p, char *line)
{
	char quoted[CONFIG_QUOTE_SIZE], value[CONFIG_LINE_MAX + 1];
	const struct config_key_desc *desc;
	char *eq = find_char(line, '=');
	unsigned *lines;
	size_t key_len = 0;

	while (is_name_char(line[key_len]))
		key_len++;
	if (!eq || key_len == 0 || skip_blanks(line + key_len) != eq) {
		trim_right(line);
		parser_error(p, NULL, "line not understood: '%s' (expected key = value)",
			     config_quote(quoted, sizeof(quoted), line));
		return;
	}
	line[key_len] = '\0';
	config_quote(quoted, sizeof(quoted), line);

	if (p->section == SECTION_NONE) {
		parser_error(p, quoted, "outside any section (expected after [hypervisor] or [guest NAME])");
		return;
	}
	desc = key_find(line, p->section);
	if (!desc) {
		bool in_guest = p->section == SECTION_GUEST;

		if (key_find(line, in_guest ? SECTION_HYPERVISOR : SECTION_GUEST))
			parser_error(p, quoted, "unknown key (it belongs in %s)",
				     in_guest ? "[hypervisor]" : "[guest NAME]");
		else
			parser_error(p, quoted, "unknown key");
		return;
	}
	lines = p->section == SECTION_GUEST ? p->guest->key_lines : p->hypervisor_lines;
	if (lines[desc - config_keys]) {
		parser_error(p, desc->name, "duplicate key (first given on line %u)",
			     lines[desc - config_keys]);
		return;
	}
	lines[desc - config_keys] = p->line;
	if (!parse_value(p, desc->name, eq + 1, value))
		return;
	if (!value[0] && !desc->may_be_empty) {
		parser_error(p, desc->name, "missing value");
		return;
	}
	desc->parse(p, desc->name, value);
}

/* One line of len bytes, without its line ending; it may hold any bytes. */
static void parse_line(struct config_parser *p, const char *text, size_t len)
{
	char line[CONFIG_LINE_MAX + 1];
	size_t start = 0;

	while (start < len && is_blank(text[start]))
		start++;
	if (start == len || text[start] == '#' || text[start] == ';')
		return;
	/* The body of a section that was reported goes unread up to the next header */
	if (p->section == SECTION_SKIP && text[start] != '[')
		return;
	if (len > CONFIG_LINE_MAX) {
		parser_error(p, NULL, "line too long (%zu characters, at most %u): ignored", len,
			     CONFIG_LINE_MAX);
		return;
	}
	for (size_t i = start; i < len; i++) {
		unsigned char b = (unsigned char)text[i];

		if ((b < 0x20 && b != '\t') || b == 0x7f) {
			parser_error(p, NULL, "control character 0x%02x in the line: ignored", b);
			return;
		}
	}
	memcpy(line, text + start, len - start);
	line[len - start] = '\0';
	if (line[0] == '[')
		parse_header(p, line);
	else
		parse_assignment(p, line);
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->slice_us = CONFIG_SLICE_DEFAULT_US;
	c->console_prefixed = false;
}

int config_parse(const char *text, size_t len, struct config *out, config_report_fn report,
		 void *ctx)
{
	struct config_parser p = { .out = out, .report = report, .ctx = ctx };
	size_t pos = 0;

	config_defaults(out);
	if (!text)
		len = 0;
	/* A UTF-8 byte order mark, as some editors write */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		size_t start = pos, end;

		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;
		if (end > start && text[end - 1] == '\r')
			end--;
		p.line++;
		parse_line(&p, text + start, end - start);
	}
	section_end(&p);
	return out->error_count ? -E_INVAL : 0;
}

/* "alpha, beta, ..." for a message, cut to fit size. */
static void module_list(char *buf, size_t size, const struct config_env *env)
{
	char quoted[CONFIG_QUOTE_SIZE];
	size_t n = 0;

	buf[0] = '\0';
	if (!env->module_count) {
		str_copy(buf, "none", size);
		return;
	}
	for (unsigned i = 0; i < env->module_count; i++) {
		const char *name = env->module_names[i] ?
				   config_quote(quoted, sizeof(quoted), env->module_names[i]) : "?";
		size_t need = strlen(name) + (i ? 2 : 0);

		/* Leave room for ", ..." */
		if (n + need + 6 > size) {
			str_copy(buf + n, i ? ", ..." : "...", size - n);
			return;
		}
		n += (size_t)fmt_snprintf(buf + n, size - n, "%s%s", i ? ", " : "", name);
	}
}

static bool module_exists(const struct config_env *env, const char *name)
{
	for (unsigned i = 0; i < env->module_count; i++)
		if (env->module_names[i] && strcmp(env->module_names[i], name) == 0)
			return true;
	return false;
}

static void validate_guest(struct config *c, struct guest_config *g, const struct config_env *env,
			   config_report_fn report, void *ctx)
{
	char modules[96];
	unsigned cpus = 0;

	module_list(modules, sizeof(modules), env);
	if (!module_exists(env, g->image))
		config_refuse(c, g, report, ctx, "image", "no GRUB module named '%s' (modules: %s)",
			      g->image, modules);
	if (g->initrd[0] && !module_exists(env, g->initrd))
		config_refuse(c, g, report, ctx, "initrd", "no GRUB module named '%s' (modules: %s)",
			      g->initrd, modules);
	for (unsigned i = 0; i < g->module_count && i < CONFIG_MODULES_MAX; i++)
		if (!module_exists(env, g->modules[i]))
			config_refuse(c, g, report, ctx, "modules",
				      "no GRUB module named '%s' (modules: %s)", g->modules[i],
				      modules);

	for (unsigned cpu = 0; cpu < CONFIG_CPUS_MAX; cpu++) {
		if (!(g->cpu_mask & (1ull << cpu)))
			continue;
		if (cpu >= env->cpu_count) {
			if (env->cpu_count == 1)
				config_refuse(c, g, report, ctx, "cpus",
					      "CPU %u does not exist (this machine has 1: 0)", cpu);
			else
				config_refuse(c, g, report, ctx, "cpus",
					      "CPU %u does not exist (this machine has %u: 0-%u)", cpu,
					      env->cpu_count, env->cpu_count - 1);
			return;
		}
		cpus++;
	}
	if (cpus > CONFIG_VCPUS_MAX)
		config_refuse(c, g, report, ctx, "cpus",
			      "%u CPUs listed: a guest has at most %u vCPUs (what its ACPI tables describe)",
			      cpus, CONFIG_VCPUS_MAX);
}

int config_validate(struct config *c, const struct config_env *env, config_report_fn report,
		    void *ctx)
{
	unsigned errors = c->error_count;

	if (!env || (env->module_count && !env->module_names) || env->cpu_count == 0)
		return -E_INVAL;
	for (unsigned i = 0; i < c->guest_count && i < MAX_GUESTS; i++)
		if (!c->guests[i].refused)
			validate_guest(c, &c->guests[i], env, report, ctx);
	return c->error_count != errors ? -E_INVAL : 0;
}
