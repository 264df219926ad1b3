/* flood: prints lines=N numbered lines (default 5000) as fast as its UART takes them, framed by
 * "flood: NAME start tsc T" and "flood: NAME done N lines tsc T", then exits 0: N + 2 lines in
 * all, which the console either shows or counts in its notices. Command line: NAME [lines=N]. */
#include "tests/guests/lib/guest.h"

#define FLOOD_NAME_MAX 32

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[FLOOD_NAME_MAX];
	uint32_t lines = 5000;

	guest_boot("flood", magic);
	idt_init(0xee);
	cli();
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "flood", 6);
	if (cmdline_u32(cmdline, "lines", &lines) < 0) {
		printf("flood: bad lines= in '%s'\n", cmdline);
		guest_exit(2);
	}
	printf("flood: %s start tsc %llu\n", name, rdtsc());
	for (uint32_t i = 1; i <= lines; i++)
		printf("flood: %s line %u the quick brown fox jumps over the lazy dog\n", name, i);
	printf("flood: %s done %u lines tsc %llu\n", name, lines, rdtsc());
	guest_exit(0);
}
