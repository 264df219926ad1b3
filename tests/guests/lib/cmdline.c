/* Reading the guest's command line: its words, flags, and key=value numbers. */
#include "tests/guests/lib/guest.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *guest_cmdline(const struct mb_info *mbi)
{
	if (mbi && (mbi->flags & MB_INFO_CMDLINE) && mbi->cmdline)
		return (const char *)mbi->cmdline;
	return "";
}

/* Finds word number index; *len gets its length. */
static const char *cmdline_find_word(const char *cmdline, unsigned index, size_t *len)
{
	const char *p = cmdline;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			return NULL;
		const char *start = p;
		while (*p && !is_space(*p))
			p++;
		if (index-- == 0) {
			*len = (size_t)(p - start);
			return start;
		}
	}
}

bool cmdline_word(const char *cmdline, unsigned index, char *buf, size_t size)
{
	size_t len;
	const char *w = cmdline_find_word(cmdline, index, &len);

	if (!w || size == 0)
		return false;
	if (len > size - 1)
		len = size - 1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	return true;
}

bool cmdline_name(const char *cmdline, char *buf, size_t size)
{
	size_t len;
	const char *w = cmdline_find_word(cmdline, 0, &len);

	if (!w)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '/') { /* a loader's image path first (GRUB, QEMU -kernel): skip it */
			size_t next_len;
			const char *next = cmdline_find_word(cmdline, 1, &next_len);
			for (size_t j = 0; next && j < next_len; j++)
				if (next[j] == '=')
					next = NULL;
			if (!next)
				return false;
			w = next;
			len = next_len;
			break;
		}
	}
	if (size == 0)
		return false;
	if (len > size - 1)
		len = size - 1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	return true;
}

bool cmdline_flag(const char *cmdline, const char *flag)
{
	size_t len, flag_len = strlen(flag);
	const char *w;

	for (unsigned i = 0; (w = cmdline_find_word(cmdline, i, &len)) != NULL; i++)
		if (len == flag_len && memcmp(w, flag, len) == 0)
			return true;
	return false;
}

bool parse_u32(const char *s, size_t len, uint32_t *value)
{
	uint32_t base = 10, v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		uint32_t digit;
		if (c >= '0' && c <= '9')
			digit = (uint32_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = (uint32_t)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = (uint32_t)(c - 'A' + 10);
		else
			return false;
		if (v > (0xffffffffu - digit) / base)
			return false; /* overflow */
		v = v * base + digit;
	}
	*value = v;
	return true;
}

int cmdline_u32(const char *cmdline, const char *key, uint32_t *value)
{
	size_t len, key_len = strlen(key);
	const char *w;

	for (unsigned i = 0; (w = cmdline_find_word(cmdline, i, &len)) != NULL; i++) {
		if (len > key_len && memcmp(w, key, key_len) == 0 && w[key_len] == '=')
			return parse_u32(w + key_len + 1, len - key_len - 1, value) ? 1 : -1;
	}
	return 0;
}
