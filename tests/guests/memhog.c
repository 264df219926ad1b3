/* memhog: fills all of its RAM above its own image with a pattern of its own (from its name),
 * then verifies it pass after pass. Two side by side prove that neither reaches the other.
 * Command line: NAME [passes=K] (default 3; 0 = for ever). Exit 0 when intact, 1 when not. */
#include "tests/guests/lib/guest.h"

#define MEMHOG_PAGE 4096u
#define MEMHOG_DEFAULT_PASSES 3
#define MEMHOG_NAME_MAX 32
#define MEMHOG_ADDR_MIX 0x9e3779b1u /* spreads addresses so no two words of a page match */

extern char __bss_end[]; /* guest.ld: the end of the image, stack included */

static uint32_t name_seed(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

/* The word that belongs at addr: another guest, or another page of this one, has other words. */
static uint32_t pattern_at(uint32_t seed, uint32_t addr)
{
	return seed ^ (addr * MEMHOG_ADDR_MIX);
}

/* The first byte above the image and any modules, page aligned. */
static uint32_t hog_start(const struct mb_info *mbi)
{
	uint32_t start = (uint32_t)__bss_end;

	if (mbi->flags & MB_INFO_MODS) {
		const struct mb_module *mods = (const struct mb_module *)mbi->mods_addr;
		for (uint32_t i = 0; i < mbi->mods_count; i++)
			if (mods[i].mod_end > start)
				start = mods[i].mod_end;
	}
	return (start + MEMHOG_PAGE - 1) & ~(MEMHOG_PAGE - 1);
}

static void fill(uint32_t seed, uint32_t start, uint32_t end)
{
	for (uint32_t page = start; page < end; page += MEMHOG_PAGE) {
		volatile uint32_t *w = (volatile uint32_t *)page;
		for (uint32_t i = 0; i < MEMHOG_PAGE / 4; i++)
			w[i] = pattern_at(seed, page + 4 * i);
	}
}

static void verify(uint32_t seed, uint32_t start, uint32_t end)
{
	for (uint32_t page = start; page < end; page += MEMHOG_PAGE) {
		volatile uint32_t *w = (volatile uint32_t *)page;
		for (uint32_t i = 0; i < MEMHOG_PAGE / 4; i++) {
			uint32_t want = pattern_at(seed, page + 4 * i), got = w[i];
			if (got != want) {
				printf("memhog: CORRUPTED at 0x%08x: expected 0x%08x, found 0x%08x\n",
				       page + 4 * i, want, got);
				guest_exit(1);
			}
		}
	}
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[MEMHOG_NAME_MAX];
	uint32_t passes = MEMHOG_DEFAULT_PASSES;

	guest_boot("memhog", magic);
	idt_init(0xee);
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "memhog", 7);
	if (cmdline_u32(cmdline, "passes", &passes) < 0) {
		printf("memhog: bad passes= value in '%s'\n", cmdline);
		guest_exit(2);
	}
	if (!(mbi->flags & MB_INFO_MEMORY)) {
		printf("memhog: no memory information\n");
		guest_exit(2);
	}
	/* Everything needed from the information block is read now: it may lie in the range. */
	uint32_t start = hog_start(mbi);
	uint32_t end = (mbi->mem_upper + 1024) * 1024;
	uint32_t seed = name_seed(name);
	if (start >= end) {
		printf("memhog: no RAM above the image (0x%08x >= 0x%08x)\n", start, end);
		guest_exit(2);
	}
	printf("memhog: %s filling 0x%08x-0x%08x (%u KiB) with seed 0x%08x\n", name, start, end,
	       (end - start) / 1024, seed);
	fill(seed, start, end);
	printf("memhog: filled %u pages\n", (end - start) / MEMHOG_PAGE);
	for (uint32_t pass = 1; passes == 0 || pass <= passes; pass++) {
		verify(seed, start, end);
		printf("memhog: pattern intact after pass %u\n", pass);
	}
	printf("memhog: done\n");
	guest_exit(0);
}
