/* Host tests for kernel/config.c: the example, every error message, syntax variants, fuzzing. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "kernel/config.h"
#include "kernel/plan.h"
#include "kernel/frame.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

#define MAX_REPORTS 64

static struct config cfg;
static char reports[MAX_REPORTS][CONFIG_MESSAGE_MAX];
static unsigned report_count;

/* Every message must be one line starting with "config:" */
static void collect(void *ctx, const char *message)
{
	(void)ctx;
	CHECK(strncmp(message, "config:", 7) == 0);
	CHECK(strchr(message, '\n') == NULL);
	CHECK(strlen(message) < CONFIG_MESSAGE_MAX);
	if (report_count < MAX_REPORTS)
		snprintf(reports[report_count], sizeof(reports[0]), "%s", message);
	report_count++;
}

static int parse_len(const char *text, size_t len)
{
	int err;

	report_count = 0;
	err = config_parse(text, len, &cfg, collect, NULL);
	CHECK_EQ(cfg.error_count, report_count);
	CHECK_EQ(err, report_count ? -E_INVAL : 0);
	return err;
}

static int parse(const char *text)
{
	return parse_len(text, strlen(text));
}

static const struct guest_config *guest(const char *name)
{
	for (unsigned i = 0; i < cfg.guest_count; i++)
		if (strcmp(cfg.guests[i].name, name) == 0)
			return &cfg.guests[i];
	return NULL;
}

/* Exactly one report, with this text, and only guest bad (may be NULL) refused. */
static void expect_one(const char *text, const char *message, const char *bad)
{
	parse(text);
	if (report_count != 1)
		for (unsigned i = 0; i < report_count && i < MAX_REPORTS; i++)
			printf("  reported: %s\n", reports[i]);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], message);
	for (unsigned i = 0; i < cfg.guest_count; i++)
		CHECK_EQ(cfg.guests[i].refused, bad && strcmp(cfg.guests[i].name, bad) == 0);
}

static const char example[] =
	"# Cloison guests for the demo machine\n"
	"[hypervisor]\n"
	"slice = 10ms            # base time slice\n"
	"console = buffered      ; kept per guest\n"
	"\n"
	"[guest alpha]\n"
	"image = alpha           # the GRUB module holding its Multiboot kernel\n"
	"cmdline = \"alpha forever\"  # default: the guest's name\n"
	"modules = initrd data   # further GRUB modules\n"
	"memory = 16M\n"
	"address = 0x10000000\n"
	"cpus = 1\n"
	"weight = 256\n"
	"autostart = yes\n"
	"console_buffer = 16K\n"
	"\n"
	"[guest beta]\n"
	"image = demo\n"
	"cmdline = \"beta \\\"quoted\\\" back\\\\slash # not a comment\"\n"
	"modules = data,initrd\n"
	"memory = 3M\n"
	"cpus = 2\n"
	"weight = 512\n"
	"autostart = off\n"
	"console_buffer = 1M\n"
	"\n"
	"[guest gamma-2_x]\n"
	"memory = 1G\n"
	"cpus = 0-0\n";

static const char *const example_modules[] = { "alpha", "demo", "initrd", "data", "gamma-2_x",
						"cloison.cfg" };

static const struct config_env example_env = {
	.cpu_count = 4,
	.module_names = example_modules,
	.module_count = ARRAY_SIZE(example_modules),
};

static void check_example(void)
{
	const struct guest_config *a = guest("alpha"), *b = guest("beta"), *g = guest("gamma-2_x");

	CHECK_EQ(report_count, 0);
	CHECK_EQ(cfg.slice_us, 10000);
	CHECK(!cfg.console_prefixed);
	CHECK_EQ(cfg.guest_count, 3);
	CHECK(a && b && g);
	if (!a || !b || !g)
		return;
	CHECK(a == &cfg.guests[0] && b == &cfg.guests[1] && g == &cfg.guests[2]);
	CHECK_STR(a->image, "alpha");
	CHECK_STR(a->cmdline, "alpha forever");
	CHECK_EQ(a->module_count, 2);
	CHECK_STR(a->modules[0], "initrd");
	CHECK_STR(a->modules[1], "data");
	CHECK_EQ(a->memory, 16 * MiB);
	CHECK_EQ(a->address, 0x10000000);
	CHECK_EQ(a->cpu_mask, 1u << 1);
	CHECK_EQ(a->weight, 256);
	CHECK(a->autostart);
	CHECK_EQ(a->console_buffer, 16 * KiB);
	CHECK_EQ(a->line, 6);
	CHECK_EQ(a->key_lines[CONFIG_KEY_MEMORY], 10);
	CHECK_EQ(a->key_lines[CONFIG_KEY_CONSOLE_BUFFER], 15);
	CHECK(!a->refused);

	CHECK_STR(b->image, "demo");
	CHECK_STR(b->cmdline, "beta \"quoted\" back\\slash # not a comment");
	CHECK_EQ(b->module_count, 2);
	CHECK_STR(b->modules[0], "data");
	CHECK_STR(b->modules[1], "initrd");
	CHECK_EQ(b->memory, 4 * MiB); /* rounded up to 2 MiB */
	CHECK_EQ(b->address, 0);
	CHECK_EQ(b->cpu_mask, 1u << 2);
	CHECK_EQ(b->weight, 512);
	CHECK(!b->autostart);
	CHECK_EQ(b->console_buffer, 1 * MiB);
	CHECK_EQ(b->line, 17);

	/* Defaults */
	CHECK_STR(g->image, "gamma-2_x");
	CHECK_STR(g->cmdline, "gamma-2_x");
	CHECK_EQ(g->module_count, 0);
	CHECK_EQ(g->memory, 1 * GiB);
	CHECK_EQ(g->cpu_mask, 1);
	CHECK_EQ(g->weight, 256);
	CHECK(g->autostart);
	CHECK_EQ(g->console_buffer, 16 * KiB);
	CHECK_EQ(g->line, 27);
	CHECK_EQ(g->key_lines[CONFIG_KEY_IMAGE], 0);
	CHECK_EQ(g->key_lines[CONFIG_KEY_CPUS], 29);
}

static void test_full_example(void)
{
	CHECK_EQ(parse(example), 0);
	check_example();
	report_count = 0;
	CHECK_EQ(config_validate(&cfg, &example_env, collect, NULL), 0);
	CHECK_EQ(report_count, 0);
	CHECK_EQ(cfg.error_count, 0);

	/* Without a report function the result is the same */
	CHECK_EQ(config_parse(example, strlen(example), &cfg, NULL, NULL), 0);
	report_count = 0;
	check_example();
}

static void test_defaults(void)
{
	config_defaults(&cfg);
	CHECK_EQ(cfg.slice_us, 10000);
	CHECK(!cfg.console_prefixed);
	CHECK_EQ(cfg.guest_count, 0);

	CHECK_EQ(parse(""), 0);
	CHECK_EQ(cfg.guest_count, 0);
	CHECK_EQ(parse_len(NULL, 0), 0);
	CHECK_EQ(parse("\n\n  \t\n# only comments\n; and these\n"), 0);
	CHECK_EQ(cfg.guest_count, 0);

	CHECK_EQ(parse("[guest a]\nmemory = 2049K\n"), 0);
	CHECK_EQ(cfg.guests[0].memory, 4 * MiB);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\n"), 0);
	CHECK_EQ(cfg.guests[0].memory, 2 * MiB);
	CHECK_EQ(parse("[guest a]\nmemory = 0x200000\n"), 0);
	CHECK_EQ(cfg.guests[0].memory, 2 * MiB);
	CHECK_EQ(parse("[guest a]\nmemory = 16MB\n"), 0);
	CHECK_EQ(cfg.guests[0].memory, 16 * MiB);
	CHECK_EQ(parse("[guest a]\nmemory = 1024G\n"), 0);
	CHECK_EQ(cfg.guests[0].memory, 1024 * GiB);

	CHECK_EQ(parse("[hypervisor]\nslice = 500us\nconsole = prefixed\n"), 0);
	CHECK_EQ(cfg.slice_us, 500);
	CHECK(cfg.console_prefixed);
	CHECK_EQ(parse("[hypervisor]\nslice = 2 ms\n"), 0);
	CHECK_EQ(cfg.slice_us, 2000);
	CHECK_EQ(parse("[hypervisor]\nslice = 1s\n"), 0);
	CHECK_EQ(cfg.slice_us, 1000000);
	CHECK_EQ(parse("[hypervisor]\nslice = 100US\n"), 0);
	CHECK_EQ(cfg.slice_us, 100);
}

static void test_values(void)
{
	static const struct {
		const char *text;
		bool autostart;
	} bools[] = {
		{ "yes", true }, { "no", false }, { "true", true }, { "false", false },
		{ "on", true }, { "off", false }, { "1", true }, { "0", false }, { "YES", true },
	};
	char text[128];

	for (unsigned i = 0; i < ARRAY_SIZE(bools); i++) {
		snprintf(text, sizeof(text), "[guest a]\nmemory = 2M\nautostart = %s\n", bools[i].text);
		CHECK_EQ(parse(text), 0);
		CHECK_EQ(cfg.guests[0].autostart, bools[i].autostart);
	}

	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncpus = 0,2\n"), 0);
	CHECK_EQ(cfg.guests[0].cpu_mask, 0x5);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncpus = 1-3\n"), 0);
	CHECK_EQ(cfg.guests[0].cpu_mask, 0xe);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncpus = 0, 4-5 31\n"), 0);
	CHECK_EQ(cfg.guests[0].cpu_mask, 0x80000031u);

	CHECK_EQ(parse("[guest a]\nmemory = 2M\nweight = 1\n"), 0);
	CHECK_EQ(cfg.guests[0].weight, 1);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\nweight = 65535\n"), 0);
	CHECK_EQ(cfg.guests[0].weight, 65535);

	CHECK_EQ(parse("[guest a]\nmemory = 2M\nconsole_buffer = 1K\n"), 0);
	CHECK_EQ(cfg.guests[0].console_buffer, 1024);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\naddress = 256M\n"), 0);
	CHECK_EQ(cfg.guests[0].address, 256 * MiB);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\naddress = any\n"), 0);
	CHECK_EQ(cfg.guests[0].address, 0);

	/* Empty command line and module list are allowed, quoted or not */
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncmdline = \"\"\nmodules = \"\"\n"), 0);
	CHECK_STR(cfg.guests[0].cmdline, "");
	CHECK_EQ(cfg.guests[0].module_count, 0);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncmdline =\n"), 0);
	CHECK_STR(cfg.guests[0].cmdline, "");
	CHECK_EQ(parse("[guest a]\nmemory = 2M\nmodules = , a ,b,, c\n"), 0);
	CHECK_EQ(cfg.guests[0].module_count, 3);
	CHECK_STR(cfg.guests[0].modules[2], "c");
	CHECK_EQ(parse("[guest a]\nmemory = 2M\nmodules = m1 m2 m3 m4 m5 m6 m7 m8\n"), 0);
	CHECK_EQ(cfg.guests[0].module_count, 8);
	CHECK_STR(cfg.guests[0].modules[7], "m8");
}

static void test_syntax_variants(void)
{
	CHECK_EQ(parse("  [ guest   a ]   # the first\n"
		       "\tmemory=2M;tight\n"
		       "   cmdline   =   \"x # y ; z\"   ; comment\n"
		       "image=\"img\"#c\n"
		       "\t; indented comment\n"
		       "  # another\n"
		       "[HYPERVISOR]\n"
		       "SLICE = 20ms\n"
		       "[Guest b]\n"
		       "Memory = 4M\n"
		       "cmdline = \"\\\\\"\n"
		       "modules = a#b\n"),
		 0);
	CHECK_EQ(cfg.guest_count, 2);
	CHECK_STR(cfg.guests[0].name, "a");
	CHECK_EQ(cfg.guests[0].memory, 2 * MiB);
	CHECK_STR(cfg.guests[0].cmdline, "x # y ; z");
	CHECK_STR(cfg.guests[0].image, "img");
	CHECK_EQ(cfg.slice_us, 20000);
	CHECK_STR(cfg.guests[1].name, "b");
	CHECK_EQ(cfg.guests[1].memory, 4 * MiB);
	CHECK_STR(cfg.guests[1].cmdline, "\\");
	CHECK_EQ(cfg.guests[1].module_count, 1);
	CHECK_STR(cfg.guests[1].modules[0], "a");

	/* Quotes inside a bare value are plain characters */
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncmdline = say \"hi\"\n"), 0);
	CHECK_STR(cfg.guests[0].cmdline, "say \"hi\"");

	/* A byte order mark, and repeated [hypervisor] sections */
	CHECK_EQ(parse("\xef\xbb\xbf[hypervisor]\nslice = 3ms\n[hypervisor]\nconsole = prefixed\n"), 0);
	CHECK_EQ(cfg.slice_us, 3000);
	CHECK(cfg.console_prefixed);

	/* Bytes above ASCII are kept in values */
	CHECK_EQ(parse("[guest a]\nmemory = 2M\ncmdline = caf\xc3\xa9\n"), 0);
	CHECK_STR(cfg.guests[0].cmdline, "caf\xc3\xa9");
}

static void test_line_endings(void)
{
	size_t n = strlen(example), m = 0;
	char *crlf = malloc(2 * n);

	for (size_t i = 0; i < n; i++) {
		if (example[i] == '\n')
			crlf[m++] = '\r';
		crlf[m++] = example[i];
	}
	CHECK_EQ(parse_len(crlf, m), 0);
	check_example();
	/* Without the last line ending */
	CHECK_EQ(parse_len(crlf, m - 2), 0);
	check_example();
	CHECK_EQ(parse_len(example, n - 1), 0);
	check_example();
	free(crlf);

	CHECK_EQ(parse("[guest a]\nmemory = 2M"), 0);
	CHECK_EQ(cfg.guests[0].memory, 2 * MiB);
	CHECK_EQ(parse("[guest a]\r\nmemory = \"4M\"\r"), 0);
	CHECK_EQ(cfg.guests[0].memory, 4 * MiB);
	/* Parsing stops at len, even in the middle of a line */
	CHECK_EQ(parse_len("[guest a]\nmemory = 2M\nweight = 55", 32), 0);
	CHECK_EQ(cfg.guests[0].weight, 5);
}

#define THREE(beta_8, beta_9)                                                                     \
	"[hypervisor]\nslice = 10ms\n\n[guest alpha]\nmemory = 16M\n\n[guest beta]\n" beta_8 "\n" \
	beta_9 "\n\n[guest gamma]\nmemory = 16M\n"

static void test_guest_errors(void)
{
	char text[1024], line[512];

	expect_one(THREE("memory = 12X", ""),
		   "config:8: guest beta: memory: bad size '12X' (expected a number with an optional K, M or G suffix)",
		   "beta");
	CHECK_EQ(cfg.guest_count, 3);
	CHECK_STR(cfg.guests[1].name, "beta");
	CHECK_EQ(cfg.guests[0].memory, 16 * MiB);
	CHECK_EQ(cfg.guests[2].memory, 16 * MiB);

	expect_one(THREE("memory = 16M", "colour = red"), "config:9: guest beta: colour: unknown key",
		   "beta");
	expect_one(THREE("memory = 16M", "slice = 1ms"),
		   "config:9: guest beta: slice: unknown key (it belongs in [hypervisor])", "beta");
	expect_one(THREE("memory = 16M", "foo"),
		   "config:9: guest beta: line not understood: 'foo' (expected key = value)", "beta");
	expect_one(THREE("memory = 16M", "= 5"),
		   "config:9: guest beta: line not understood: '= 5' (expected key = value)", "beta");
	expect_one(THREE("memory = 16M", "mem ory = 5"),
		   "config:9: guest beta: line not understood: 'mem ory = 5' (expected key = value)",
		   "beta");
	expect_one(THREE("memory = 16M", "memory = 32M"),
		   "config:9: guest beta: memory: duplicate key (first given on line 8)", "beta");
	expect_one(THREE("cpus = 1", ""), "config:7: guest beta: memory: missing (required)", "beta");
	expect_one(THREE("memory =", ""), "config:8: guest beta: memory: missing value", "beta");
	expect_one(THREE("memory = \"\"", ""), "config:8: guest beta: memory: missing value", "beta");
	expect_one(THREE("memory = 1M", ""), "config:8: guest beta: memory: 1M is too small (at least 2M)",
		   "beta");
	expect_one(THREE("memory = 2000G", ""),
		   "config:8: guest beta: memory: 2000G is too large (at most 1024G)", "beta");
	expect_one(THREE("memory = 99999999999999999999", ""),
		   "config:8: guest beta: memory: bad size '99999999999999999999' (expected a number with an optional K, M or G suffix)",
		   "beta");
	expect_one(THREE("memory = 16M", "cmdline = \"unterminated"),
		   "config:9: guest beta: cmdline: missing closing quote", "beta");
	expect_one(THREE("memory = 16M", "cmdline = \"ends in a backslash\\"),
		   "config:9: guest beta: cmdline: missing closing quote", "beta");
	expect_one(THREE("memory = 16M", "cmdline = \"a\\nb\""),
		   "config:9: guest beta: cmdline: unknown escape '\\n' in quotes (only \\\" and \\\\)",
		   "beta");
	expect_one(THREE("memory = 16M", "cmdline = \"a\" b"),
		   "config:9: guest beta: cmdline: text after the closing quote: 'b'", "beta");
	expect_one(THREE("memory = 16M", "image = \"a b\""),
		   "config:9: guest beta: image: 'a b' is not one word (modules are named by the first word of their GRUB string)",
		   "beta");
	expect_one(THREE("memory = 16M", "image = "),
		   "config:9: guest beta: image: missing value", "beta");
	expect_one(THREE("memory = 16M",
			 "image = 0123456789012345678901234567890123456789012345678901234567890123"),
		   "config:9: guest beta: image: module name too long: '0123456789012345678901234567890123456789...' (at most 63 characters)",
		   "beta");
	expect_one(THREE("memory = 16M", "modules = a b c d e f g h i"),
		   "config:9: guest beta: modules: more than 8 modules", "beta");
	expect_one(THREE("memory = 16M", "address = 0x10001000"),
		   "config:9: guest beta: address: 0x10001000 is not 2 MiB aligned", "beta");
	expect_one(THREE("memory = 16M", "address = 0"),
		   "config:9: guest beta: address: 0 is not allowed (write 'any' or leave it out to let the planner choose)",
		   "beta");
	expect_one(THREE("memory = 16M", "address = somewhere"),
		   "config:9: guest beta: address: bad address 'somewhere' (expected a number such as 0x10000000 or 256M, or any)",
		   "beta");
	expect_one(THREE("memory = 16M", "cpus = 1-"),
		   "config:9: guest beta: cpus: bad CPU list '1-' (expected e.g. 1, 0,2 or 1-3)", "beta");
	expect_one(THREE("memory = 16M", "cpus = 3-1"),
		   "config:9: guest beta: cpus: bad CPU list '3-1' (expected e.g. 1, 0,2 or 1-3)", "beta");
	expect_one(THREE("memory = 16M", "cpus = ,1"),
		   "config:9: guest beta: cpus: bad CPU list ',1' (expected e.g. 1, 0,2 or 1-3)", "beta");
	expect_one(THREE("memory = 16M", "cpus = 1x"),
		   "config:9: guest beta: cpus: bad CPU list '1x' (expected e.g. 1, 0,2 or 1-3)", "beta");
	expect_one(THREE("memory = 16M", "cpus = 64"),
		   "config:9: guest beta: cpus: CPU 64 is beyond the 64 CPUs Cloison supports", "beta");
	expect_one(THREE("memory = 16M", "weight = 0"),
		   "config:9: guest beta: weight: bad weight '0' (expected a number from 1 to 65535)",
		   "beta");
	expect_one(THREE("memory = 16M", "weight = 65536"),
		   "config:9: guest beta: weight: bad weight '65536' (expected a number from 1 to 65535)",
		   "beta");
	expect_one(THREE("memory = 16M", "autostart = maybe"),
		   "config:9: guest beta: autostart: bad value 'maybe' (expected yes or no)", "beta");
	expect_one(THREE("memory = 16M", "console_buffer = 512"),
		   "config:9: guest beta: console_buffer: 512 is out of range (1K to 1M)", "beta");
	expect_one(THREE("memory = 16M", "console_buffer = 2M"),
		   "config:9: guest beta: console_buffer: 2M is out of range (1K to 1M)", "beta");
	expect_one(THREE("memory = 16M", "console_buffer = lots"),
		   "config:9: guest beta: console_buffer: bad size 'lots' (expected a number with an optional K, M or G suffix)",
		   "beta");
	expect_one(THREE("memory = 16M", "\x01memory = 4M"),
		   "config:9: guest beta: control character 0x01 in the line: ignored", "beta");
	CHECK_EQ(cfg.guests[1].memory, 16 * MiB);

	/* A long line: one error, the line skipped, the next line read */
	memset(line, 'x', sizeof(line));
	memcpy(line, "cmdline = ", 10);
	line[300] = '\0';
	snprintf(text, sizeof(text), THREE("memory = 16M", "%s"), line);
	expect_one(text, "config:9: guest beta: line too long (300 characters, at most 255): ignored",
		   "beta");
	CHECK_STR(cfg.guests[1].cmdline, "beta");
	CHECK_EQ(cfg.guests[2].memory, 16 * MiB);
	/* 255 characters are fine */
	line[255] = '\0';
	snprintf(text, sizeof(text), THREE("memory = 16M", "%s"), line);
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(strlen(cfg.guests[1].cmdline), 245);
	/* A long comment is only a comment */
	memset(line, '#', 400);
	line[400] = '\0';
	snprintf(text, sizeof(text), THREE("memory = 16M", "%s"), line);
	CHECK_EQ(parse(text), 0);
}

static void test_nul_bytes(void)
{
	static const char text[] = "[guest a]\nmemory = 2M\0junk\n[guest b]\nmemory = 2M\n";

	parse_len(text, sizeof(text) - 1);
	CHECK_EQ(report_count, 2);
	CHECK_STR(reports[0], "config:2: guest a: control character 0x00 in the line: ignored");
	CHECK_STR(reports[1], "config:1: guest a: memory: missing (required)");
	CHECK(cfg.guests[0].refused);
	CHECK(!cfg.guests[1].refused);
	CHECK_EQ(cfg.guests[1].memory, 2 * MiB);

	/* A NUL inside a comment is harmless */
	CHECK_EQ(parse_len("# a\0b\n[guest a]\nmemory = 2M\n", 27), 0);
}

static void test_section_errors(void)
{
	char text[2048];
	size_t n = 0;

	expect_one("[hypervisor]\nslice = 10ms\n[gest beta]\nmemory = 2M\nbogus\n[guest gamma]\nmemory = 2M\n",
		   "config:3: unknown section 'gest beta' (expected [hypervisor] or [guest NAME])", NULL);
	CHECK_EQ(cfg.guest_count, 1);
	CHECK_STR(cfg.guests[0].name, "gamma");

	parse("[guest alpha]\nmemory = 16M\n[guest beta]\nmemory = 16M\n"
	      "[guest alpha]\nmemory = 2M\n[guest gamma]\nmemory = 2M\n");
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:5: guest alpha: duplicate guest name (first defined on line 1)");
	CHECK_EQ(cfg.guest_count, 4);
	CHECK(!cfg.guests[0].refused);
	CHECK_EQ(cfg.guests[0].memory, 16 * MiB);
	CHECK(!cfg.guests[1].refused);
	CHECK(cfg.guests[2].refused);
	CHECK_STR(cfg.guests[2].name, "alpha");
	CHECK(!cfg.guests[3].refused);

	expect_one("[guest a]\nmemory = 2M\n[guest b c]\nmemory = 2M\n[guest d]\nmemory = 2M\n",
		   "config:3: bad guest name 'b c' (allowed: letters, digits, '-' and '_', at most 31 characters)",
		   "b c");
	expect_one("[guest a]\nmemory = 2M\n[guest b.c]\nmemory = 2M\n",
		   "config:3: bad guest name 'b.c' (allowed: letters, digits, '-' and '_', at most 31 characters)",
		   "b.c");
	expect_one("[guest a]\nmemory = 2M\n[guest abcdefghijabcdefghijabcdefghij12]\nmemory = 2M\n",
		   "config:3: bad guest name 'abcdefghijabcdefghijabcdefghij12' (allowed: letters, digits, '-' and '_', at most 31 characters)",
		   "abcdefghijabcdefghijabcdefghij1");
	/* 31 characters are fine */
	CHECK_EQ(parse("[guest abcdefghijabcdefghijabcdefghij1]\nmemory = 2M\n"), 0);

	expect_one("[guest]\nmemory = 2M\n[guest a]\nmemory = 2M\n",
		   "config:1: guest section without a name (expected [guest NAME])", NULL);
	CHECK_EQ(cfg.guest_count, 1);
	expect_one("[guest a]\nmemory = 2M\n[guest b\nmemory = 2M\n",
		   "config:3: section header without ']': '[guest b' (expected [hypervisor] or [guest NAME])",
		   NULL);
	CHECK_EQ(cfg.guest_count, 1);
	expect_one("[guest a] more\nmemory = 2M\n[guest b]\nmemory = 2M\n",
		   "config:1: guest a: text after the section header: 'more'", "a");
	expect_one("[hypervisor] x\n[guest b]\nmemory = 2M\n",
		   "config:1: hypervisor: text after the section header: 'x'", NULL);

	expect_one("memory = 2M\n[guest a]\nmemory = 2M\n",
		   "config:1: memory: outside any section (expected after [hypervisor] or [guest NAME])",
		   NULL);
	expect_one("foo\n[guest a]\nmemory = 2M\n",
		   "config:1: line not understood: 'foo' (expected key = value)", NULL);

	/* MAX_GUESTS + 1 guests: the last is refused by number and its lines ignored */
	for (unsigned i = 0; i < MAX_GUESTS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[guest g%u]\nmemory = 2M\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus\n");
	expect_one(text, "config:129: guest 65 refused: at most 64 guests ([guest g64] and its keys are ignored)",
		   NULL);
	CHECK_EQ(cfg.guest_count, MAX_GUESTS);
}

static void test_hypervisor_errors(void)
{
	expect_one("[hypervisor]\nslice = 10\n[guest a]\nmemory = 2M\n",
		   "config:2: hypervisor: slice: bad time '10' (expected a number with us, ms or s, e.g. 10ms)",
		   NULL);
	CHECK_EQ(cfg.slice_us, 10000);
	expect_one("[hypervisor]\nslice = 5s\n",
		   "config:2: hypervisor: slice: 5s is out of range (100us to 1s)", NULL);
	CHECK_EQ(cfg.slice_us, 10000);
	expect_one("[hypervisor]\nslice = 99us\n",
		   "config:2: hypervisor: slice: 99us is out of range (100us to 1s)", NULL);
	expect_one("[hypervisor]\nslice = 99999999999999999999ms\n",
		   "config:2: hypervisor: slice: bad time '99999999999999999999ms' (expected a number with us, ms or s, e.g. 10ms)",
		   NULL);
	expect_one("[hypervisor]\nslice = 18446744073709551ms\n",
		   "config:2: hypervisor: slice: 18446744073709551ms is out of range (100us to 1s)", NULL);
	expect_one("[hypervisor]\nconsole = fancy\n",
		   "config:2: hypervisor: console: bad value 'fancy' (expected buffered or prefixed)", NULL);
	CHECK(!cfg.console_prefixed);
	expect_one("[hypervisor]\nmemory = 2M\n",
		   "config:2: hypervisor: memory: unknown key (it belongs in [guest NAME])", NULL);
	expect_one("[hypervisor]\ncolour = red\n", "config:2: hypervisor: colour: unknown key", NULL);
	/* A duplicate keeps the first value */
	expect_one("[hypervisor]\nslice = 2ms\n[hypervisor]\nslice = 3ms\n",
		   "config:4: hypervisor: slice: duplicate key (first given on line 2)", NULL);
	CHECK_EQ(cfg.slice_us, 2000);
}

static void test_several_errors(void)
{
	parse("[guest a]\nmemory = 2M\ncolour = red\nweight = heavy\n"
	      "[guest b]\nmemory = 2M\n"
	      "[guest c]\ncpus = 1\n");
	CHECK_EQ(report_count, 3);
	CHECK_STR(reports[0], "config:3: guest a: colour: unknown key");
	CHECK_STR(reports[1],
		  "config:4: guest a: weight: bad weight 'heavy' (expected a number from 1 to 65535)");
	CHECK_STR(reports[2], "config:7: guest c: memory: missing (required)");
	CHECK(cfg.guests[0].refused);
	CHECK(!cfg.guests[1].refused);
	CHECK(cfg.guests[2].refused);

	/* Unprintable bytes and long text are tamed in messages */
	parse("[guest a]\nmemory = \xff\xfe\nweight = "
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	CHECK_EQ(report_count, 2);
	CHECK_STR(reports[0],
		  "config:2: guest a: memory: bad size '?\?' (expected a number with an optional K, M or G suffix)");
	CHECK_STR(reports[1],
		  "config:3: guest a: weight: bad weight 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (expected a number from 1 to 65535)");
}

static void validate(const struct config_env *env)
{
	report_count = 0;
	config_validate(&cfg, env, collect, NULL);
}

static void test_validate(void)
{
	static const char *const names[] = { "alpha", "initrd" };
	static const struct config_env env = { 4, names, 2 };
	static const struct config_env one_cpu = { 1, names, 2 };
	static const struct config_env none = { 2, NULL, 0 };
	static const char text[] = "[guest alpha]\nmemory = 2M\nmodules = initrd\n"
				   "[guest beta]\nmemory = 2M\nimage = alpha\nmodules = initrd nope\n"
				   "[guest gamma]\nmemory = 2M\n"
				   "[guest delta]\nmemory = 2M\nimage = alpha\ncpus = 1,7\n"
				   "[guest eps]\nmemory = 2M\nimage = alpha\ncpus = 0-2,3\n"
				   "[guest zeta]\nmemory = 2M\nimage = alpha\ncpus = 3\n"
				   "[guest eta]\nmemory = 2M\nimage = missing\ncolour = red\n";

	CHECK_EQ(parse(text), -E_INVAL);
	CHECK_EQ(report_count, 1);
	CHECK_EQ(cfg.error_count, 1);
	validate(&env);
	CHECK_EQ(report_count, 3);
	CHECK_EQ(cfg.error_count, 4);
	CHECK_STR(reports[0],
		  "config:7: guest beta: modules: no GRUB module named 'nope' (modules: alpha, initrd)");
	CHECK_STR(reports[1],
		  "config:8: guest gamma: image: no GRUB module named 'gamma' (modules: alpha, initrd)");
	CHECK_STR(reports[2],
		  "config:13: guest delta: cpus: CPU 7 does not exist (this machine has 4: 0-3)");
	/* Several CPUs are several vCPUs (the image decides at boot whether it can start them). */
	CHECK(!guest("alpha")->refused);
	CHECK(guest("beta")->refused);
	CHECK(guest("gamma")->refused);
	CHECK(guest("delta")->refused);
	CHECK(!guest("eps")->refused);
	CHECK_EQ(guest("eps")->cpu_mask, 0xf);
	CHECK(!guest("zeta")->refused);
	CHECK(guest("eta")->refused);

	/* Validating again reports nothing new: refused guests are skipped */
	validate(&env);
	CHECK_EQ(report_count, 0);

	parse(text);
	validate(&one_cpu);
	CHECK_STR(reports[2], "config:13: guest delta: cpus: CPU 1 does not exist (this machine has 1: 0)");
	CHECK_STR(reports[3], "config:17: guest eps: cpus: CPU 1 does not exist (this machine has 1: 0)");
	CHECK_STR(reports[4], "config:21: guest zeta: cpus: CPU 3 does not exist (this machine has 1: 0)");

	parse("[guest a]\nmemory = 2M\n");
	validate(&none);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:1: guest a: image: no GRUB module named 'a' (modules: none)");

	CHECK_EQ(config_validate(&cfg, NULL, collect, NULL), -E_INVAL);
}

static void test_validate_long_module_list(void)
{
	static const char *const names[] = {
		"module-number-one", "module-number-two", "module-number-three", "module-number-four",
		"module-number-five", "module-number-six", "module-number-seven", "a\tb",
	};
	static const struct config_env env = { 1, names, ARRAY_SIZE(names) };

	parse("[guest a]\nmemory = 2M\n");
	validate(&env);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0],
		  "config:1: guest a: image: no GRUB module named 'a' (modules: module-number-one, module-number-two, module-number-three, module-number-four, ...)");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_sane(void)
{
	CHECK(cfg.guest_count <= MAX_GUESTS);
	CHECK(cfg.slice_us >= CONFIG_SLICE_MIN_US && cfg.slice_us <= CONFIG_SLICE_MAX_US);
	for (unsigned i = 0; i < cfg.guest_count; i++) {
		const struct guest_config *g = &cfg.guests[i];

		CHECK(strnlen(g->name, sizeof(g->name)) < sizeof(g->name));
		CHECK(strnlen(g->image, sizeof(g->image)) < sizeof(g->image));
		CHECK(strnlen(g->cmdline, sizeof(g->cmdline)) < sizeof(g->cmdline));
		CHECK(g->module_count <= CONFIG_MODULES_MAX);
		for (unsigned m = 0; m < CONFIG_MODULES_MAX; m++)
			CHECK(strnlen(g->modules[m], CONFIG_IMAGE_MAX) < CONFIG_IMAGE_MAX);
		if (g->refused)
			continue;
		CHECK(g->memory >= 2 * MiB && IS_ALIGNED(g->memory, 2 * MiB));
		CHECK(g->memory <= CONFIG_MEMORY_MAX);
		CHECK(IS_ALIGNED(g->address, 2 * MiB));
		CHECK(g->weight >= 1 && g->weight <= 65535);
		CHECK(g->console_buffer >= 1024 && g->console_buffer <= 1024 * 1024);
		CHECK(g->cpu_mask != 0);
		CHECK(g->name[0] != '\0');
	}
}

/* Parses, validates and plans text that lives in a buffer of exactly len bytes. */
static void fuzz_one(const char *data, size_t len)
{
	static const char *const names[] = { "alpha", "demo", "initrd", "data" };
	static const struct config_env env = { 4, names, ARRAY_SIZE(names) };
	char *buf = malloc(len ? len : 1);
	struct frame_pool pool;
	struct plan plan;
	unsigned errors;

	memcpy(buf, data, len);
	parse_len(buf, len);
	check_sane();
	errors = cfg.error_count;
	report_count = 0;
	config_validate(&cfg, &env, collect, NULL);
	CHECK_EQ(cfg.error_count - errors, report_count);

	frame_pool_init(&pool);
	frame_pool_add(&pool, 1 * MiB, 512 * MiB);
	frame_pool_reserve(&pool, 2 * MiB, 6 * MiB);
	errors = cfg.error_count;
	report_count = 0;
	plan_partition(&plan, &pool, &cfg, collect, NULL);
	CHECK_EQ(cfg.error_count - errors, report_count);
	for (unsigned i = 0; i < MAX_GUESTS; i++) {
		const struct plan_guest *a = &plan.guests[i];

		if (!a->ram_size)
			continue;
		CHECK(i < cfg.guest_count && !cfg.guests[i].refused);
		CHECK(a->ram_base >= 6 * MiB && a->ram_base + a->ram_size <= 512 * MiB);
		for (unsigned j = i + 1; j < MAX_GUESTS; j++) {
			const struct plan_guest *b = &plan.guests[j];

			CHECK(!b->ram_size || a->ram_base + a->ram_size <= b->ram_base ||
			      b->ram_base + b->ram_size <= a->ram_base);
		}
	}
	free(buf);
}

/* Multi-vCPU lists (issue: SMP guests) and the Linux lifecycle keys. */
static void test_vcpus_and_lifecycle(void)
{
	static const char *const names[] = { "vmlinuz", "initrd" };
	static const struct config_env env64 = { 64, names, 2 };

	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 1,3\n"), 0);
	CHECK_EQ(guest("a")->cpu_mask, 0xa);
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 2-3\n"), 0);
	CHECK_EQ(guest("a")->cpu_mask, 0xc);
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 1,1\n"), -E_INVAL);
	CHECK_STR(reports[0], "config:4: guest a: cpus: CPU 1 is listed twice in '1,1' (one vCPU per CPU)");
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 0-3, 2\n"), -E_INVAL);
	CHECK_STR(reports[0], "config:4: guest a: cpus: CPU 2 is listed twice in '0-3, 2' (one vCPU per CPU)");
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 0-16\n"), 0);
	validate(&env64);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:4: guest a: cpus: 17 CPUs listed: a guest has at most 16 vCPUs "
		  "(what its ACPI tables describe)");
	CHECK(guest("a")->refused);
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ncpus = 0-15\n"), 0);
	validate(&env64);
	CHECK_EQ(report_count, 0);
	/* initrd and the on_* actions */
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\ninitrd = initrd\nmemory = 2M\n"
		       "on_poweroff = restart\non_reboot = stop\non_crash = preserve\n"), 0);
	CHECK_STR(guest("a")->initrd, "initrd");
	CHECK_EQ(guest("a")->on_poweroff, GUEST_ACTION_RESTART);
	CHECK_EQ(guest("a")->on_reboot, GUEST_ACTION_STOP);
	CHECK_EQ(guest("a")->on_crash, GUEST_ACTION_PRESERVE);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\n"), 0);
	CHECK_EQ(guest("a")->on_poweroff, GUEST_ACTION_STOP);
	CHECK_EQ(guest("a")->on_reboot, GUEST_ACTION_RESTART);
	CHECK_EQ(guest("a")->on_crash, GUEST_ACTION_STOP);
	CHECK_EQ(parse("[guest a]\nmemory = 2M\non_poweroff = preserve\n"), -E_INVAL);
	CHECK_STR(reports[0], "config:3: guest a: on_poweroff: bad action 'preserve' (expected stop or restart)");
	CHECK_EQ(parse("[guest a]\nmemory = 2M\non_crash = explode\n"), -E_INVAL);
	CHECK_STR(reports[0], "config:3: guest a: on_crash: bad action 'explode' (expected stop, preserve or restart)");
	CHECK_EQ(parse("[guest a]\nimage = vmlinuz\nmemory = 2M\ninitrd = nothere\n"), 0);
	validate(&env64);
	CHECK_EQ(report_count, 1);
	CHECK_STR(reports[0], "config:4: guest a: initrd: no GRUB module named 'nothere' (modules: vmlinuz, initrd)");
}

static void test_fuzz(void)
{
	static const char specials[] = "[]=#;\"\\\n\r\t ,-0123456789KMGx\0\x7f\xff";
	size_t example_len = strlen(example);
	char *data = malloc(4096);
	unsigned placed_any = 0;

	/* Every prefix of the example, each in a buffer of exactly that size */
	for (size_t len = 0; len <= example_len; len++)
		fuzz_one(example, len);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len;

		switch (iter % 3) {
		case 0:
			/* Random bytes, mostly from the syntax's own characters */
			len = rng() % 600;
			for (size_t i = 0; i < len; i++)
				data[i] = rng() % 2 ? (char)rng()
						    : specials[rng() % (sizeof(specials) - 1)];
			break;
		default:
			/* Mutations and truncations of the valid example */
			memcpy(data, example, example_len);
			len = example_len;
			for (unsigned m = 1 + (unsigned)(rng() % 8); m--;) {
				size_t at = len ? rng() % len : 0;

				switch (rng() % 4) {
				case 0:
					data[at] = specials[rng() % (sizeof(specials) - 1)];
					break;
				case 1:
					if (len < 4000) {
						memmove(data + at + 1, data + at, len - at);
						data[at] = rng() % 2 ? (char)rng()
								     : specials[rng() % 10];
						len++;
					}
					break;
				case 2:
					if (len) {
						memmove(data + at, data + at + 1, len - at - 1);
						len--;
					}
					break;
				default:
					len = at;
					break;
				}
			}
			break;
		}
		fuzz_one(data, len);
		for (unsigned i = 0; i < cfg.guest_count; i++)
			placed_any += !cfg.guests[i].refused;
	}
	/* The mutations keep many guests intact, so the planner saw real work */
	CHECK(placed_any > 1000);
	free(data);
}

int main(void)
{
	RUN_TEST(test_full_example);
	RUN_TEST(test_defaults);
	RUN_TEST(test_values);
	RUN_TEST(test_syntax_variants);
	RUN_TEST(test_line_endings);
	RUN_TEST(test_guest_errors);
	RUN_TEST(test_nul_bytes);
	RUN_TEST(test_section_errors);
	RUN_TEST(test_hypervisor_errors);
	RUN_TEST(test_several_errors);
	RUN_TEST(test_validate);
	RUN_TEST(test_validate_long_module_list);
	RUN_TEST(test_vcpus_and_lifecycle);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
