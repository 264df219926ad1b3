/* Parsing of the hypervisor's command line and of number and size strings. */
#include "kernel/cmdline.h"
#include "kernel/lib.h"

bool cmdline_get(const char *cmdline, const char *key, char *value, size_t size)
{
	size_t key_len = strlen(key);
	const char *p = cmdline;

	while (*p) {
		const char *word = p;
		size_t len = 0;

		while (word[len] && word[len] != ' ')
			len++;
		if (len > key_len && word[key_len] == '=' && strncmp(word, key, key_len) == 0) {
			size_t vlen = len - key_len - 1;

			if (size) {
				if (vlen >= size)
					vlen = size - 1;
				memcpy(value, word + key_len + 1, vlen);
				value[vlen] = '\0';
			}
			return true;
		}
		p = word + len;
		while (*p == ' ')
			p++;
	}
	return false;
}

static bool parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	unsigned base = 10;
	uint64_t v = 0;
	bool any = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		any = true;
	}
	*sp = s;
	*out = v;
	return any;
}

bool parse_u64(const char *s, uint64_t *out)
{
	return parse_digits(&s, out) && *s == '\0';
}

bool parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mult = 1;

	if (!parse_digits(&s, &v))
		return false;
	switch (*s) {
	case 'k': case 'K': mult = KiB; s++; break;
	case 'm': case 'M': mult = MiB; s++; break;
	case 'g': case 'G': mult = GiB; s++; break;
	default: break;
	}
	if (*s == 'B' || *s == 'b') /* "16MB" reads as people mean it */
		s++;
	if (*s != '\0' || (v && mult > UINT64_MAX / v))
		return false;
	*out = v * mult;
	return true;
}
