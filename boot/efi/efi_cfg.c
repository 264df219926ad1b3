/* cloison.efi's configuration file, its arguments, and the paths and device paths it reads. */
#include "boot/efi/efi_cfg.h"
#include "kernel/lib.h"
#include "kernel/fmt.h"

#define CFG_GLOBAL "global"

static bool cfg_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool cfg_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* [start, end) trimmed of blanks at both ends. */
static void cfg_trim(const char **start, const char **end)
{
	while (*start < *end && cfg_blank(**start))
		(*start)++;
	while (*end > *start && cfg_blank((*end)[-1]))
		(*end)--;
}

/* Copies [start, end) into dst; false when it does not fit. */
static bool cfg_copy(char *dst, size_t size, const char *start, const char *end)
{
	size_t n = (size_t)(end - start);

	if (n >= size)
		return false;
	memcpy(dst, start, n);
	dst[n] = '\0';
	return true;
}

static bool cfg_is(const char *start, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - start) == n && memcmp(start, word, n) == 0;
}

/* A value's trailing comment: '#' or ';' after a blank. */
static const char *cfg_comment(const char *start, const char *end)
{
	for (const char *p = start + 1; p < end; p++)
		if ((*p == '#' || *p == ';') && cfg_blank(p[-1]))
			return p;
	return end;
}

struct cfg_parser {
	struct efi_cfg *cfg;
	struct efi_cfg_section *section;
	unsigned line;
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 2, 3))) static int cfg_error(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = fmt_snprintf(p->err, p->err_size, "line %u: ", p->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->err_size)
		fmt_vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -E_INVAL;
}

static struct efi_cfg_section *cfg_find(struct efi_cfg *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->section_count; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	return NULL;
}

static int cfg_header(struct cfg_parser *p, const char *start, const char *end)
{
	struct efi_cfg_section *s;
	char name[EFI_CFG_NAME_MAX];

	if (end[-1] != ']')
		return cfg_error(p, "section header without its closing ']'");
	start++;
	end--;
	cfg_trim(&start, &end);
	if (start == end)
		return cfg_error(p, "empty section name '[]'");
	if (!cfg_copy(name, sizeof(name), start, end))
		return cfg_error(p, "section name longer than %d characters", EFI_CFG_NAME_MAX - 1);
	for (const char *c = name; *c; c++)
		if (!cfg_name_char(*c))
			return cfg_error(p, "section name '%s': use letters, digits, '-', '_' and '.'",
					 name);
	s = cfg_find(p->cfg, name);
	if (s && strcmp(name, CFG_GLOBAL) == 0 && s->line == 0) {
		s->line = p->line; /* the explicit [global] after lines of the implicit one */
		p->section = s;
		return 0;
	}
	if (s)
		return cfg_error(p, "section [%s] already began on line %u", name, s->line);
	if (p->cfg->section_count >= EFI_CFG_MAX_SECTIONS)
		return cfg_error(p, "more than %d sections", EFI_CFG_MAX_SECTIONS);
	s = &p->cfg->sections[p->cfg->section_count++];
	str_copy(s->name, name, sizeof(s->name));
	s->line = p->line;
	p->section = s;
	return 0;
}

/* Splits "PATH REST" at the first blank. */
static void cfg_split(const char *start, const char *end, const char **path_end,
		      const char **rest)
{
	const char *p = start;

	while (p < end && !cfg_blank(*p))
		p++;
	*path_end = p;
	while (p < end && cfg_blank(*p))
		p++;
	*rest = p;
}

static int cfg_hypervisor(struct cfg_parser *p, const char *start, const char *end)
{
	struct efi_cfg_section *s = p->section;
	const char *path_end, *rest;

	if (s->has_hypervisor)
		return cfg_error(p, "hypervisor: [%s] already has one, on line %u", s->name,
				 s->hypervisor_line);
	cfg_split(start, end, &path_end, &rest);
	if (!cfg_copy(s->hypervisor_path, sizeof(s->hypervisor_path), start, path_end))
		return cfg_error(p, "hypervisor: path longer than %d characters", EFI_CFG_PATH_MAX - 1);
	if (!cfg_copy(s->hypervisor_args, sizeof(s->hypervisor_args), rest, end))
		return cfg_error(p, "hypervisor: command line longer than %d characters",
				 EFI_CFG_ARGS_MAX - 1);
	s->has_hypervisor = true;
	s->hypervisor_line = p->line;
	return 0;
}

static int cfg_module(struct cfg_parser *p, const char *start, const char *end)
{
	struct efi_cfg_section *s = p->section;
	struct efi_cfg_module *m;
	const char *path_end, *rest;

	if (s->module_count >= EFI_CFG_MAX_MODULES)
		return cfg_error(p, "module: [%s] has more than %d modules", s->name,
				 EFI_CFG_MAX_MODULES);
	cfg_split(start, end, &path_end, &rest);
	if (rest == end)
		return cfg_error(p, "module: expected PATH STRING (the string names the module, "
				    "e.g. 'demo' or 'config')");
	m = &s->modules[s->module_count];
	if (!cfg_copy(m->path, sizeof(m->path), start, path_end))
		return cfg_error(p, "module: path longer than %d characters", EFI_CFG_PATH_MAX - 1);
	if (!cfg_copy(m->string, sizeof(m->string), rest, end))
		return cfg_error(p, "module: string longer than %d characters", EFI_CFG_STRING_MAX - 1);
	m->line = p->line;
	s->module_count++;
	return 0;
}

static int cfg_default(struct cfg_parser *p, const char *start, const char *end)
{
	if (strcmp(p->section->name, CFG_GLOBAL) != 0)
		return cfg_error(p, "default: belongs in [global], not in [%s]", p->section->name);
	if (p->cfg->default_line)
		return cfg_error(p, "default: already given on line %u", p->cfg->default_line);
	if (!cfg_copy(p->cfg->default_name, sizeof(p->cfg->default_name), start, end))
		return cfg_error(p, "default: section name longer than %d characters",
				 EFI_CFG_NAME_MAX - 1);
	p->cfg->default_line = p->line;
	return 0;
}

static int cfg_line(struct cfg_parser *p, const char *start, const char *end)
{
	const char *eq, *key_end, *value;

	cfg_trim(&start, &end);
	if (start == end || *start == '#' || *start == ';')
		return 0;
	if (*start == '[')
		return cfg_header(p, start, cfg_comment(start, end));
	for (eq = start; eq < end && *eq != '='; eq++)
		;
	if (eq == end)
		return cfg_error(p, "expected KEY = VALUE or [SECTION]");
	key_end = eq;
	value = eq + 1;
	end = cfg_comment(value, end);
	cfg_trim(&start, &key_end);
	cfg_trim(&value, &end);
	if (start == key_end)
		return cfg_error(p, "'=' without a key before it");
	if (value == end)
		return cfg_error(p, "%.*s: no value", (int)(key_end - start), start);
	if (cfg_is(start, key_end, "hypervisor"))
		return cfg_hypervisor(p, value, end);
	if (cfg_is(start, key_end, "module"))
		return cfg_module(p, value, end);
	if (cfg_is(start, key_end, "default"))
		return cfg_default(p, value, end);
	return cfg_error(p, "unknown key '%.*s' (expected hypervisor, module or default)",
			 (int)(key_end - start), start);
}

int efi_cfg_parse(const char *text, size_t len, struct efi_cfg *cfg, char *err, size_t err_size)
{
	struct cfg_parser p = { .cfg = cfg, .line = 1, .err = err, .err_size = err_size };
	const char *end = text + len, *line = text;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (err_size)
		err[0] = '\0';
	str_copy(cfg->sections[0].name, CFG_GLOBAL, sizeof(cfg->sections[0].name));
	cfg->section_count = 1;
	p.section = &cfg->sections[0];
	if (len >= 2 && (((uint8_t)text[0] == 0xff && (uint8_t)text[1] == 0xfe) ||
			 ((uint8_t)text[0] == 0xfe && (uint8_t)text[1] == 0xff)))
		return cfg_error(&p, "the file is UTF-16; save it as ASCII or UTF-8");
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		line += 3; /* UTF-8 byte order mark */
	if (len > EFI_CFG_FILE_MAX)
		return cfg_error(&p, "the file is longer than %d KiB", EFI_CFG_FILE_MAX / 1024);
	while (line < end) {
		const char *eol = line;

		while (eol < end && *eol != '\n') {
			if (*eol == '\0')
				return cfg_error(&p, "NUL byte: this is not a text file");
			eol++;
		}
		ret = cfg_line(&p, line, eol > line && eol[-1] == '\r' ? eol - 1 : eol);
		if (ret)
			return ret;
		line = eol + 1;
		p.line++;
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) static void sel_error(char *err, size_t size,
							    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

const struct efi_cfg_section *efi_cfg_select(const struct efi_cfg *cfg, const char *name, char *err,
					     size_t err_size)
{
	unsigned line = 0; /* of default=, when that is what named the section */

	if (!name || !name[0]) {
		name = cfg->default_line ? cfg->default_name : NULL;
		line = cfg->default_line;
	}
	if (name) {
		const struct efi_cfg_section *s = NULL;

		for (unsigned i = 0; i < cfg->section_count; i++)
			if (strcmp(cfg->sections[i].name, name) == 0)
				s = &cfg->sections[i];
		if (!s && line)
			sel_error(err, err_size, "line %u: default: no section [%s] in the file", line,
				  name);
		else if (!s)
			sel_error(err, err_size, "the argument names section [%s], which is not in the "
				  "file", name);
		else if (!s->has_hypervisor && line)
			sel_error(err, err_size, "line %u: default: [%s] has no 'hypervisor = PATH' line",
				  line, name);
		else if (!s->has_hypervisor)
			sel_error(err, err_size, "[%s] has no 'hypervisor = PATH' line", name);
		return s && s->has_hypervisor ? s : NULL;
	}
	for (unsigned i = 0; i < cfg->section_count; i++)
		if (cfg->sections[i].has_hypervisor)
			return &cfg->sections[i];
	sel_error(err, err_size, "no section has a 'hypervisor = PATH' line");
	return NULL;
}

static void args_word(const char **p, const char **start, const char **end)
{
	while (cfg_blank(**p))
		(*p)++;
	*start = *p;
	while (**p && !cfg_blank(**p))
		(*p)++;
	*end = *p;
}

static bool args_is_image(const char *start, const char *end)
{
	static const char ext[] = ".efi";
	size_t n = (size_t)(end - start);

	if (n < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		char c = start[n - 4 + i];

		if ((c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c) != ext[i])
			return false;
	}
	return true;
}

int efi_args_parse(const char *options, struct efi_args *out, char *err, size_t err_size)
{
	const char *p = options, *start, *end;
	bool first = true;

	memset(out, 0, sizeof(*out));
	if (err_size)
		err[0] = '\0';
	for (;;) {
		args_word(&p, &start, &end);
		if (start == end)
			return 0;
		/* The UEFI shell passes the image's own name first; boot entries and GRUB do not */
		if (first && args_is_image(start, end)) {
			first = false;
			continue;
		}
		first = false;
		if (cfg_is(start, end, "--")) {
			while (cfg_blank(*p))
				p++;
			end = p + strlen(p);
			cfg_trim(&p, &end);
			if (!cfg_copy(out->extra, sizeof(out->extra), p, end)) {
				sel_error(err, err_size, "options after '--' longer than %d characters",
					  EFI_CFG_ARGS_MAX - 1);
				return -E_RANGE;
			}
			return 0;
		}
		if ((size_t)(end - start) > 5 && memcmp(start, "-cfg=", 5) == 0) {
			if (!cfg_copy(out->cfg_path, sizeof(out->cfg_path), start + 5, end)) {
				sel_error(err, err_size, "-cfg=: path longer than %d characters",
					  EFI_CFG_PATH_MAX - 1);
				return -E_RANGE;
			}
			continue;
		}
		if (*start == '-') {
			sel_error(err, err_size, "unknown option '%.*s' (expected -cfg=PATH, a section "
				  "name, or -- and hypervisor options)", (int)(end - start), start);
			return -E_INVAL;
		}
		if (out->section[0]) {
			sel_error(err, err_size, "two section names: '%s' and '%.*s'", out->section,
				  (int)(end - start), start);
			return -E_INVAL;
		}
		if (!cfg_copy(out->section, sizeof(out->section), start, end)) {
			sel_error(err, err_size, "section name longer than %d characters",
				  EFI_CFG_NAME_MAX - 1);
			return -E_RANGE;
		}
	}
}

bool efi_args_from_ucs2(const uint16_t *options, size_t size, char *out, size_t out_size)
{
	size_t n = size / 2, o = 0;

	if (!out_size)
		return false;
	out[0] = '\0';
	if (!options || size % 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint16_t c;

		memcpy(&c, options + i, sizeof(c));
		if (c == 0)
			break;
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c < 0x20 || c > 0x7e || o + 1 >= out_size) {
			out[0] = '\0';
			return false;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

int efi_path_resolve(const char *dir, const char *path, char *out, size_t out_size)
{
	size_t o = 0;

	if (!out_size)
		return -E_RANGE;
	if (path[0] != '\\' && path[0] != '/') {
		for (const char *d = dir; *d; d++) {
			if (o + 1 >= out_size)
				return -E_RANGE;
			out[o++] = *d == '/' ? '\\' : *d;
		}
		if (o == 0 || out[o - 1] != '\\') {
			if (o + 1 >= out_size)
				return -E_RANGE;
			out[o++] = '\\';
		}
	}
	for (const char *s = path; *s; s++) {
		if (o + 1 >= out_size)
			return -E_RANGE;
		out[o++] = *s == '/' ? '\\' : *s;
	}
	out[o] = '\0';
	return 0;
}

void efi_path_dir(const char *path, char *out, size_t out_size)
{
	const char *last = NULL;

	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			last = p;
	if (!last) {
		if (out_size)
			out[0] = '\0';
		return;
	}
	if (last == path)
		last++; /* the root keeps its separator */
	if (out_size) {
		size_t n = MIN((size_t)(last - path), out_size - 1);

		memcpy(out, path, n);
		out[n] = '\0';
	}
}

/* Device path nodes, UEFI spec 10.3.1: type, subtype, 16-bit length including the header */
#define DP_TYPE_MESSAGING 3
#define DP_TYPE_MEDIA 4
#define DP_TYPE_END 0x7f
#define DP_SUB_UART 14
#define DP_SUB_FILE_PATH 4
#define DP_SUB_END_ENTIRE 0xff
#define DP_HEADER 4

/* Calls visit for each node until the end of the entire path or a malformed node. */
static void devpath_walk(const void *path, size_t size,
			 bool (*visit)(void *ctx, const uint8_t *node, uint16_t len), void *ctx)
{
	const uint8_t *p = path;
	size_t off = 0;

	while (path && off + DP_HEADER <= size) {
		uint16_t len = (uint16_t)(p[off + 2] | p[off + 3] << 8);

		if (len < DP_HEADER || len > size - off)
			return;
		if (p[off] == DP_TYPE_END && p[off + 1] == DP_SUB_END_ENTIRE)
			return;
		if (!visit(ctx, p + off, len))
			return;
		off += len;
	}
}

static bool devpath_uart_visit(void *ctx, const uint8_t *node, uint16_t len)
{
	(void)len;
	if (node[0] == DP_TYPE_MESSAGING && node[1] == DP_SUB_UART) {
		*(bool *)ctx = true;
		return false;
	}
	return true;
}

bool efi_devpath_has_uart(const void *path, size_t size)
{
	bool found = false;

	devpath_walk(path, size, devpath_uart_visit, &found);
	return found;
}

struct devpath_file {
	char *out;
	size_t size, len;
	bool ok, any;
};

static bool devpath_file_visit(void *ctx, const uint8_t *node, uint16_t len)
{
	struct devpath_file *f = ctx;

	if (node[0] != DP_TYPE_MEDIA || node[1] != DP_SUB_FILE_PATH)
		return true;
	f->any = true;
	/* Nodes after the first continue the path: add a separator unless one is there */
	if (f->len && f->out[f->len - 1] != '\\' && len > DP_HEADER + 1 && node[DP_HEADER] != '\\') {
		if (f->len + 1 >= f->size)
			return f->ok = false;
		f->out[f->len++] = '\\';
	}
	for (uint16_t i = DP_HEADER; i + 1 < len; i += 2) {
		uint16_t c = (uint16_t)(node[i] | node[i + 1] << 8);

		if (c == 0)
			break;
		if (c < 0x20 || c > 0x7e || f->len + 1 >= f->size)
			return f->ok = false;
		f->out[f->len++] = c == '/' ? '\\' : (char)c;
	}
	f->out[f->len] = '\0';
	return true;
}

bool efi_devpath_file(const void *path, size_t size, char *out, size_t out_size)
{
	struct devpath_file f = { .out = out, .size = out_size, .ok = true };

	if (!out_size)
		return false;
	out[0] = '\0';
	devpath_walk(path, size, devpath_file_visit, &f);
	if (!f.ok || !f.any)
		out[0] = '\0';
	return f.ok && f.any;
}
