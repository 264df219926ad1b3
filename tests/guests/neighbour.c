/* neighbour: the bystander of the hostile console tests. Fills 64 KiB with a pattern of its own,
 * then every every=T TSC cycles checks the pattern and prints "neighbour: NAME line K ok tsc T";
 * after lines=N lines (0: for ever) prints "neighbour: NAME done N lines" and exits 0. A changed
 * pattern prints "neighbour: NAME CORRUPTED at I" and exits 3. Command line: NAME [lines=N]
 * [every=T] (defaults 20 and 2^24). Interrupts stay off. */
#include "tests/guests/lib/guest.h"

#define NEIGHBOUR_WORDS (65536 / 4)
#define NEIGHBOUR_NAME_MAX 32

static uint32_t area[NEIGHBOUR_WORDS];

static uint32_t pattern(uint32_t seed, uint32_t i)
{
	return (i * 2654435761u) ^ seed;
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[NEIGHBOUR_NAME_MAX];
	uint32_t lines = 20, every = 1u << 24, seed = 0x5eed;

	guest_boot("neighbour", magic);
	idt_init(0xee);
	cli();
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "neighbour", 10);
	if (cmdline_u32(cmdline, "lines", &lines) < 0 || cmdline_u32(cmdline, "every", &every) < 0 ||
	    every == 0) {
		printf("neighbour: bad lines= or every= in '%s'\n", cmdline);
		guest_exit(2);
	}
	for (const char *p = name; *p; p++)
		seed = seed * 31 + (uint8_t)*p;
	for (uint32_t i = 0; i < NEIGHBOUR_WORDS; i++)
		area[i] = pattern(seed, i);
	printf("neighbour: %s start tsc %llu\n", name, rdtsc());
	uint64_t next = rdtsc() + every;
	for (uint32_t line = 1; lines == 0 || line <= lines; line++) {
		while (rdtsc() < next)
			compiler_barrier();
		next += every;
		for (uint32_t i = 0; i < NEIGHBOUR_WORDS; i++) {
			if (area[i] != pattern(seed, i)) {
				printf("neighbour: %s CORRUPTED at %u\n", name, i);
				guest_exit(3);
			}
		}
		printf("neighbour: %s line %u ok tsc %llu\n", name, line, rdtsc());
	}
	printf("neighbour: %s done %u lines\n", name, lines);
	guest_exit(0);
}
