/* fpu: keeps a pattern of its own in XMM0 while it spins, and checks it after each round, so two
 * copies sharing a CPU prove that the hypervisor switches x87/SSE state between CPU-mates.
 * Command line: NAME [rounds=R] (default 20). Prints "fpu: NAME xmm0 intact after R rounds" and
 * exits 0, or "fpu: NAME xmm0 CHANGED ..." and exits 1. */
#include "tests/guests/lib/guest.h"

#define FPU_NAME_MAX 32
#define FPU_ROUND_SPINS 2000000u

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[FPU_NAME_MAX];
	uint32_t rounds = 20, seed = 0x9e3779b9u, want[4], got[4];

	guest_boot("fpu", magic);
	idt_init(0xee);
	cli();
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "fpu", 4);
	if (cmdline_u32(cmdline, "rounds", &rounds) < 0 || rounds == 0) {
		printf("fpu: bad rounds= in '%s'\n", cmdline);
		guest_exit(2);
	}
	for (const char *p = name; *p; p++)
		seed = seed * 31 + (uint8_t)*p;
	for (int i = 0; i < 4; i++)
		want[i] = seed ^ (0x01010101u * (uint32_t)(i + 1));
	sse_enable();
	xmm0_load(want);
	printf("fpu: %s loaded xmm0 %08x%08x%08x%08x\n", name, want[3], want[2], want[1], want[0]);
	for (uint32_t r = 1; r <= rounds; r++) {
		busy_wait(FPU_ROUND_SPINS);
		xmm0_store(got);
		if (memcmp(got, want, sizeof(want)) != 0) {
			printf("fpu: %s xmm0 CHANGED in round %u: %08x%08x%08x%08x\n", name, r, got[3],
			       got[2], got[1], got[0]);
			guest_exit(1);
		}
	}
	printf("fpu: %s xmm0 intact after %u rounds\n", name, rounds);
	guest_exit(0);
}
