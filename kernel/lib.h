/* Freestanding string and memory helpers; the host unit tests use libc's. */
#ifndef CLOISON_LIB_H
#define CLOISON_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef HOST_TEST
#include <string.h>
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

/* Little-endian loads and stores at any alignment: the boot formats Cloison reads and writes
 * (multiboot, bzImage, ELF, UEFI memory maps) are little-endian byte streams. */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define KiB (1024UL)
#define MiB (1024UL * 1024)
#define GiB (1024UL * 1024 * 1024)
#define PAGE_SIZE 4096UL

/* Negative error codes returned by set-up code, explained by err_name(). */
enum {
	E_OK = 0,
	E_INVAL = 1,    /* malformed input */
	E_RANGE = 2,    /* value or address out of range */
	E_NOMEM = 3,    /* allocator exhausted */
	E_EXIST = 4,    /* already present or mapped */
	E_NOENT = 5,    /* not found */
	E_TRUNC = 6,    /* input shorter than it claims */
	E_NOTSUP = 7,   /* valid but not supported by Cloison or the CPU */
	E_FULL = 8,     /* fixed-size table full */
	E_TIMEOUT = 9,  /* another CPU did not answer in time */
};
const char *err_name(int err);

#endif
