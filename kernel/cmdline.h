/* Hypervisor command-line options: key=value words, and size strings with K/M/G suffixes. */
#ifndef CLOISON_CMDLINE_H
#define CLOISON_CMDLINE_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

/* Copies the value of the first `key=value` word into value; false when the key is absent. */
bool cmdline_get(const char *cmdline, const char *key, char *value, size_t size);
/* "16M", "512K", "1G", "4096": bytes in *out; false on junk, an unknown suffix or overflow. */
bool parse_size(const char *s, uint64_t *out);
/* Decimal or 0x-prefixed hexadecimal; false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);

#endif
