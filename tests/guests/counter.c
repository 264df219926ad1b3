/* counter: CPU-bound with interrupts off, never yielding: counts, and every report=N counts
 * prints "counter: NAME count C tsc T" (T = RDTSC, decimal) so a test can compare the shares of
 * CPU-mates. Command line: NAME [report=N] [reports=R] (defaults 1048576 and 20; reports=0
 * runs for ever). Ends with "counter: NAME done" and exit 0 on port 0xf4. */
#include "tests/guests/lib/guest.h"

#define COUNTER_DEFAULT_REPORT (1u << 20)
#define COUNTER_DEFAULT_REPORTS 20u
#define COUNTER_NAME_MAX 32

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[COUNTER_NAME_MAX];
	uint32_t report = COUNTER_DEFAULT_REPORT, reports = COUNTER_DEFAULT_REPORTS;
	uint64_t count = 0;

	guest_boot("counter", magic);
	idt_init(0xee);
	cli();
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "counter", 8);
	if (cmdline_u32(cmdline, "report", &report) < 0 || report == 0 ||
	    cmdline_u32(cmdline, "reports", &reports) < 0) {
		printf("counter: bad report= or reports= in '%s'\n", cmdline);
		guest_exit(2);
	}
	printf("counter: %s start report=%u reports=%u tsc %llu\n", name, report, reports, rdtsc());
	for (uint32_t r = 1; reports == 0 || r <= reports; r++) {
		for (uint32_t i = 0; i < report; i++)
			compiler_barrier(); /* keep every iteration */
		count += report;
		printf("counter: %s count %llu tsc %llu\n", name, count, rdtsc());
	}
	printf("counter: %s done\n", name);
	guest_exit(0);
}
