/* Host tests for boot/efi/efi_cfg.c: the loader's config file (every error), its arguments,
 * paths and device paths. */
#include <stdlib.h>
#include "tests/unit/test.h"
#include "boot/efi/efi_cfg.h"
#include "kernel/lib.h"

TEST_MAIN_GLOBALS;

static struct efi_cfg cfg;
static char err[EFI_CFG_ERR_MAX];

static int parse(const char *text)
{
	return efi_cfg_parse(text, strlen(text), &cfg, err, sizeof(err));
}

/* Parsing fails and the message starts with want (line number included). */
#define CHECK_ERR(text, want)                                                            \
	do {                                                                             \
		CHECK(parse(text) < 0);                                                  \
		CHECK(strncmp(err, want, strlen(want)) == 0);                            \
		if (strncmp(err, want, strlen(want)) != 0)                               \
			printf("  %s:%d got: %s\n", __FILE__, __LINE__, err);            \
	} while (0)

static void test_issue_example(void)
{
	const struct efi_cfg_section *s;

	CHECK_EQ(parse("hypervisor = \\EFI\\cloison\\cloison.elf console=0x3f8,115200\n"
		       "module = \\EFI\\cloison\\guests\\demo.elf demo\n"
		       "module = \\EFI\\cloison\\cloison.cfg config\n"), 0);
	s = efi_cfg_select(&cfg, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(s->name, "global");
	CHECK_STR(s->hypervisor_path, "\\EFI\\cloison\\cloison.elf");
	CHECK_STR(s->hypervisor_args, "console=0x3f8,115200");
	CHECK_EQ(s->hypervisor_line, 1);
	CHECK_EQ(s->module_count, 2);
	CHECK_STR(s->modules[0].path, "\\EFI\\cloison\\guests\\demo.elf");
	CHECK_STR(s->modules[0].string, "demo");
	CHECK_STR(s->modules[1].string, "config");
	CHECK_EQ(s->modules[1].line, 3);
}

static const char *SECTIONS =
	"\xef\xbb\xbf# Cloison's loader configuration\r\n"
	"[global]\r\n"
	"default = full   ; the demo\r\n"
	"\r\n"
	"[full]\n"
	"  hypervisor=cloison.elf   console=0x3f8,115200 onidle=halt   # trailing comment\n"
	"\tmodule = guests/demo.elf   demo greeting=hi#not-a-comment\n"
	"module = guests.cfg config\n"
	"[ single ]\n"
	"hypervisor = \\EFI\\cloison\\cloison.elf\n"
	"module = guests/demo.elf demo\n"
	"[empty]\n";

static void test_sections_and_default(void)
{
	const struct efi_cfg_section *s;

	CHECK_EQ(parse(SECTIONS), 0);
	CHECK_EQ(cfg.section_count, 4);
	CHECK_STR(cfg.default_name, "full");
	CHECK_EQ(cfg.default_line, 3);
	s = efi_cfg_select(&cfg, "", err, sizeof(err));
	CHECK(s && strcmp(s->name, "full") == 0);
	if (!s)
		return;
	CHECK_EQ(s->line, 5);
	CHECK_STR(s->hypervisor_path, "cloison.elf");
	CHECK_STR(s->hypervisor_args, "console=0x3f8,115200 onidle=halt");
	CHECK_STR(s->modules[0].string, "demo greeting=hi#not-a-comment");
	CHECK_STR(s->modules[1].path, "guests.cfg");

	s = efi_cfg_select(&cfg, "single", err, sizeof(err));
	CHECK(s && strcmp(s->name, "single") == 0);
	CHECK(s && s->hypervisor_args[0] == '\0');
	CHECK(s && s->module_count == 1);
}

static void test_select_errors(void)
{
	CHECK_EQ(parse(SECTIONS), 0);
	CHECK(efi_cfg_select(&cfg, "nosuch", err, sizeof(err)) == NULL);
	CHECK_STR(err, "the argument names section [nosuch], which is not in the file");
	CHECK(efi_cfg_select(&cfg, "empty", err, sizeof(err)) == NULL);
	CHECK_STR(err, "[empty] has no 'hypervisor = PATH' line");
	CHECK(efi_cfg_select(&cfg, "global", err, sizeof(err)) == NULL);

	CHECK_EQ(parse("[global]\ndefault = gone\n[a]\nhypervisor = x.elf\n"), 0);
	CHECK(efi_cfg_select(&cfg, NULL, err, sizeof(err)) == NULL);
	CHECK_STR(err, "line 2: default: no section [gone] in the file");
	CHECK(efi_cfg_select(&cfg, "a", err, sizeof(err)) != NULL);

	CHECK_EQ(parse("default = b\n[b]\nmodule = m.elf m\n"), 0);
	CHECK(efi_cfg_select(&cfg, NULL, err, sizeof(err)) == NULL);
	CHECK_STR(err, "line 1: default: [b] has no 'hypervisor = PATH' line");

	CHECK_EQ(parse("# nothing but comments\n; here\n"), 0);
	CHECK(efi_cfg_select(&cfg, NULL, err, sizeof(err)) == NULL);
	CHECK_STR(err, "no section has a 'hypervisor = PATH' line");
	CHECK_EQ(parse(""), 0);
	CHECK(efi_cfg_select(&cfg, NULL, err, sizeof(err)) == NULL);
}

static void test_first_with_hypervisor(void)
{
	const struct efi_cfg_section *s;

	CHECK_EQ(parse("[a]\nmodule = x y\n[b]\nhypervisor = h.elf\n[c]\nhypervisor = i.elf\n"), 0);
	s = efi_cfg_select(&cfg, NULL, err, sizeof(err));
	CHECK(s && strcmp(s->name, "b") == 0);
	/* An explicit [global] after lines of the implicit one continues it */
	CHECK_EQ(parse("default = c\n[global]\n[c]\nhypervisor = i.elf\n"), 0);
	CHECK_EQ(cfg.section_count, 2);
	s = efi_cfg_select(&cfg, NULL, err, sizeof(err));
	CHECK(s && strcmp(s->name, "c") == 0);
}

static void test_every_error(void)
{
	char big[600];

	CHECK_ERR("[a\n", "line 1: section header without its closing ']'");
	CHECK_ERR("\n[]\n", "line 2: empty section name '[]'");
	CHECK_ERR("[a b]\n", "line 1: section name 'a b': use letters");
	CHECK_ERR("[a]\n[a]\n", "line 2: section [a] already began on line 1");
	CHECK_ERR("[global]\n[global]\n", "line 2: section [global] already began on line 1");
	CHECK_ERR("[abcdefghijabcdefghijabcdefghijab]\n", "line 1: section name longer than 31");
	CHECK_ERR("[a]\n[b]\n[c]\n[d]\n[e]\n[f]\n[g]\n[h]\n", "line 8: more than 8 sections");
	CHECK_ERR("hypervisor\n", "line 1: expected KEY = VALUE or [SECTION]");
	CHECK_ERR(" = x\n", "line 1: '=' without a key before it");
	CHECK_ERR("module =   # only a comment\n", "line 1: module: no value");
	CHECK_ERR("kernel = x.elf\n", "line 1: unknown key 'kernel' (expected hypervisor, module or default)");
	CHECK_ERR("Hypervisor = x.elf\n", "line 1: unknown key 'Hypervisor'");
	CHECK_ERR("hypervisor = a.elf\n\nhypervisor = b.elf\n",
		  "line 3: hypervisor: [global] already has one, on line 1");
	CHECK_ERR("module = demo.elf\n", "line 1: module: expected PATH STRING");
	CHECK_ERR("[x]\ndefault = y\n", "line 2: default: belongs in [global], not in [x]");
	CHECK_ERR("default = a\ndefault = b\n", "line 2: default: already given on line 1");
	CHECK_ERR("default = abcdefghijabcdefghijabcdefghijab\n", "line 1: default: section name longer");
	CHECK_ERR("a\0b\n", "line 1: expected KEY");
	CHECK(efi_cfg_parse("default = a\n\0\n", 14, &cfg, err, sizeof(err)) < 0);
	CHECK_STR(err, "line 2: NUL byte: this is not a text file");
	CHECK(efi_cfg_parse("\xff\xfeh\0", 4, &cfg, err, sizeof(err)) < 0);
	CHECK_STR(err, "line 1: the file is UTF-16; save it as ASCII or UTF-8");

	snprintf(big, sizeof(big), "hypervisor = %0256d\n", 0);
	CHECK_ERR(big, "line 1: hypervisor: path longer than 255");
	snprintf(big, sizeof(big), "hypervisor = x.elf %0256d\n", 0);
	CHECK_ERR(big, "line 1: hypervisor: command line longer than 255");
	snprintf(big, sizeof(big), "hypervisor = x.elf %0255d\n", 0);
	CHECK_EQ(parse(big), 0);
	snprintf(big, sizeof(big), "module = m.elf %0128d\n", 0);
	CHECK_ERR(big, "line 1: module: string longer than 127");
	snprintf(big, sizeof(big), "module = %0256d config\n", 0);
	CHECK_ERR(big, "line 1: module: path longer than 255");
}

static void test_too_many_modules(void)
{
	char text[4096];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "hypervisor = h.elf\n");
	for (int i = 0; i < EFI_CFG_MAX_MODULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module = m%d.elf m%d\n", i, i);
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(cfg.sections[0].module_count, EFI_CFG_MAX_MODULES);
	snprintf(text + n, sizeof(text) - n, "module = last.elf last\n");
	CHECK_ERR(text, "line 18: module: [global] has more than 16 modules");
}

static void test_file_too_long(void)
{
	size_t len = EFI_CFG_FILE_MAX + 1;
	char *text = malloc(len);

	memset(text, '\n', len);
	CHECK(efi_cfg_parse(text, len, &cfg, err, sizeof(err)) < 0);
	CHECK_STR(err, "line 1: the file is longer than 64 KiB");
	CHECK_EQ(efi_cfg_parse(text, len - 1, &cfg, err, sizeof(err)), 0);
	free(text);
}

/* Random bytes and random edits of a good file: never a crash, errors always name a line. */
static void test_fuzz(void)
{
	char text[512];
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = strlen(SECTIONS);
		int ret;

		memcpy(text, SECTIONS, len);
		for (int k = 0; k < 1 + round % 5; k++) {
			seed = seed * 1103515245 + 12345;
			text[(seed >> 8) % len] = (char)(seed >> 20);
		}
		ret = efi_cfg_parse(text, len, &cfg, err, sizeof(err));
		CHECK(ret == 0 || strncmp(err, "line ", 5) == 0);
		if (ret == 0)
			(void)efi_cfg_select(&cfg, NULL, err, sizeof(err));
	}
}

static void test_args(void)
{
	struct efi_args a;

	CHECK_EQ(efi_args_parse("", &a, err, sizeof(err)), 0);
	CHECK_STR(a.section, "");
	CHECK_STR(a.cfg_path, "");
	/* From the UEFI shell: the image name comes first */
	CHECK_EQ(efi_args_parse("fs0:\\EFI\\cloison\\CLOISON.EFI  single", &a, err, sizeof(err)), 0);
	CHECK_STR(a.section, "single");
	/* From a boot entry or GRUB: options only */
	CHECK_EQ(efi_args_parse(" -cfg=\\other.cfg full -- onidle=shutdown  guest_mem=8M ", &a, err,
				sizeof(err)), 0);
	CHECK_STR(a.cfg_path, "\\other.cfg");
	CHECK_STR(a.section, "full");
	CHECK_STR(a.extra, "onidle=shutdown  guest_mem=8M");
	/* Only the first word may be the image */
	CHECK(efi_args_parse("a b.efi", &a, err, sizeof(err)) < 0);
	CHECK_STR(err, "two section names: 'a' and 'b.efi'");
	CHECK(efi_args_parse("-x", &a, err, sizeof(err)) < 0);
	CHECK(strncmp(err, "unknown option '-x'", 19) == 0);
	CHECK(efi_args_parse("-cfg=", &a, err, sizeof(err)) < 0);
	CHECK(efi_args_parse("abcdefghijabcdefghijabcdefghijabc", &a, err, sizeof(err)) < 0);
	CHECK_STR(err, "section name longer than 31 characters");
}

static void test_args_from_ucs2(void)
{
	static const uint16_t good[] = { 'x', '.', 'e', 'f', 'i', '\t', 'a', 0, 'z' };
	static const uint16_t binary[] = { 0x0001, 0x8000, 0 };
	static const uint16_t unterminated[] = { 'a', 'b' };
	char out[16];

	CHECK(efi_args_from_ucs2(good, sizeof(good), out, sizeof(out)));
	CHECK_STR(out, "x.efi a");
	CHECK(efi_args_from_ucs2(unterminated, sizeof(unterminated), out, sizeof(out)));
	CHECK_STR(out, "ab");
	CHECK(!efi_args_from_ucs2(binary, sizeof(binary), out, sizeof(out)));
	CHECK_STR(out, "");
	CHECK(!efi_args_from_ucs2(good, 3, out, sizeof(out))); /* odd size */
	CHECK(!efi_args_from_ucs2(good, sizeof(good), out, 4)); /* does not fit */
	CHECK(efi_args_from_ucs2(NULL, 0, out, sizeof(out)) == false);
	CHECK(efi_args_from_ucs2(good, 0, out, sizeof(out)));
	CHECK_STR(out, "");
}

static void test_paths(void)
{
	char out[32];

	CHECK_EQ(efi_path_resolve("\\EFI\\cloison", "guests/demo.elf", out, sizeof(out)), 0);
	CHECK_STR(out, "\\EFI\\cloison\\guests\\demo.elf");
	CHECK_EQ(efi_path_resolve("\\", "a.cfg", out, sizeof(out)), 0);
	CHECK_STR(out, "\\a.cfg");
	CHECK_EQ(efi_path_resolve("", "a.cfg", out, sizeof(out)), 0);
	CHECK_STR(out, "\\a.cfg");
	CHECK_EQ(efi_path_resolve("\\EFI\\cloison", "/EFI/other/x.elf", out, sizeof(out)), 0);
	CHECK_STR(out, "\\EFI\\other\\x.elf");
	CHECK_EQ(efi_path_resolve("\\EFI\\cloison", "\\x", out, sizeof(out)), 0);
	CHECK_STR(out, "\\x");
	CHECK_EQ(efi_path_resolve("\\EFI\\cloison", "guests/a-long-name.elf", out, sizeof(out)),
		 -E_RANGE);
	CHECK_EQ(efi_path_resolve("\\EFI\\cloison", "\\0123456789012345678901234567890", out,
				  sizeof(out)), -E_RANGE);

	efi_path_dir("\\EFI\\BOOT\\BOOTX64.EFI", out, sizeof(out));
	CHECK_STR(out, "\\EFI\\BOOT");
	efi_path_dir("\\cloison.efi", out, sizeof(out));
	CHECK_STR(out, "\\");
	efi_path_dir("cloison.efi", out, sizeof(out));
	CHECK_STR(out, "");
}

/* Appends a device-path node (UEFI spec 10.3.1) with a UCS-2 string or raw payload. */
static size_t dp_node(uint8_t *buf, size_t off, uint8_t type, uint8_t sub, const char *str)
{
	size_t n = str ? (strlen(str) + 1) * 2 : 0;
	uint16_t len = (uint16_t)(4 + n);

	buf[off] = type;
	buf[off + 1] = sub;
	memcpy(buf + off + 2, &len, 2);
	for (size_t i = 0; str && i <= strlen(str); i++) {
		buf[off + 4 + 2 * i] = (uint8_t)str[i];
		buf[off + 5 + 2 * i] = 0;
	}
	return off + len;
}

static void test_devpath(void)
{
	uint8_t dp[256];
	char out[64];
	size_t n = 0;

	/* ConOut: a video instance, end of instance, a serial one: PciRoot/.../Uart/VenVt100 */
	n = dp_node(dp, n, 2, 1, NULL);    /* ACPI */
	n = dp_node(dp, n, 1, 1, NULL);    /* PCI */
	n = dp_node(dp, n, 0x7f, 1, NULL); /* end of this instance */
	n = dp_node(dp, n, 2, 1, NULL);
	n = dp_node(dp, n, 3, 14, NULL); /* UART */
	n = dp_node(dp, n, 3, 10, NULL); /* vendor */
	n = dp_node(dp, n, 0x7f, 0xff, NULL);
	CHECK(efi_devpath_has_uart(dp, n));
	CHECK(!efi_devpath_has_uart(dp, 12)); /* only the video instance */
	CHECK(!efi_devpath_has_uart(NULL, 0));
	/* A node claiming more bytes than there are ends the walk */
	dp[14] = 0xff;
	CHECK(!efi_devpath_has_uart(dp, n));

	n = 0;
	n = dp_node(dp, n, 4, 1, NULL); /* hard drive */
	n = dp_node(dp, n, 4, 4, "\\EFI\\cloison");
	n = dp_node(dp, n, 4, 4, "cloison.efi");
	n = dp_node(dp, n, 0x7f, 0xff, NULL);
	CHECK(efi_devpath_file(dp, n, out, sizeof(out)));
	CHECK_STR(out, "\\EFI\\cloison\\cloison.efi");
	CHECK(!efi_devpath_file(dp, n, out, 10)); /* does not fit */
	CHECK_STR(out, "");
	n = 0;
	n = dp_node(dp, n, 4, 4, "/EFI/BOOT/BOOTX64.EFI");
	CHECK(efi_devpath_file(dp, n, out, sizeof(out)));
	CHECK_STR(out, "\\EFI\\BOOT\\BOOTX64.EFI");
	n = dp_node(dp, 0, 4, 1, NULL);
	CHECK(!efi_devpath_file(dp, n, out, sizeof(out)));
}

int main(void)
{
	RUN_TEST(test_issue_example);
	RUN_TEST(test_sections_and_default);
	RUN_TEST(test_select_errors);
	RUN_TEST(test_first_with_hypervisor);
	RUN_TEST(test_every_error);
	RUN_TEST(test_too_many_modules);
	RUN_TEST(test_file_too_long);
	RUN_TEST(test_fuzz);
	RUN_TEST(test_args);
	RUN_TEST(test_args_from_ucs2);
	RUN_TEST(test_paths);
	RUN_TEST(test_devpath);
	return test_any_failed;
}
