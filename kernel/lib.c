/* Freestanding memory and string helpers (the host tests take libc's instead). */
#include "kernel/lib.h"

#ifndef HOST_TEST
#include "kernel/x86.h"

/* Quadwords for the aligned bulk: scrubbing a partition is 8 times fewer iterations. */
void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	size_t head = (size_t)(-(uintptr_t)d & 7);

	if (n >= 64) {
		rep_stosb(d, (uint8_t)c, head);
		rep_stosq(d + head, 0x0101010101010101ull * (uint8_t)c, (n - head) / 8);
		d += head + (n - head) / 8 * 8;
		n = (n - head) % 8;
	}
	rep_stosb(d, (uint8_t)c, n);
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	rep_movsb(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
#endif

size_t str_copy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
