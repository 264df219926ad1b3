/* xsave: enables XSAVE the way a kernel does (CR4.OSXSAVE, then XSETBV) and tries every XCR0
 * rule of the SDM (Vol. 2C XSETBV): valid values load and read back, invalid ones and ECX != 0
 * give #GP, CPUID.1:ECX.OSXSAVE follows CR4. Then it keeps its own XCR0 and a YMM/XMM pattern
 * while a CPU-mate with another XCR0 runs, checking both after every round.
 * Command line: NAME [xcr0=V] [rounds=R]. Prints "xsave: NAME rules ok" and
 * "xsave: NAME xcr0 0xV and registers intact after R rounds", exits 0; any deviation exits 1. */
#include "tests/guests/lib/guest.h"

#define CR4_OSXSAVE (1u << 18)
#define ROUND_SPINS 2000000u

static unsigned failures;

static void try_xsetbv(const char *name, uint32_t index, uint64_t value, bool ok_expected)
{
	bool ok = xsetbv_safe(index, value);

	if (ok != ok_expected || (!ok && guest_last_fault_vector != 13)) {
		printf("xsave: %s XSETBV(%u, 0x%x) %s, expected %s\n", name, index, (uint32_t)value,
		       ok ? "accepted" : "faulted", ok_expected ? "success" : "#GP");
		failures++;
	}
	if (ok && index == 0 && xgetbv(0) != value) {
		printf("xsave: %s XCR0 reads 0x%x after XSETBV 0x%x\n", name, (uint32_t)xgetbv(0),
		       (uint32_t)value);
		failures++;
	}
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[32];
	uint32_t rounds = 10, want_xcr0 = 3, seed = 0x3c6ef372u, want[4], got[4];
	struct cpuid_regs leaf1, leafd;

	guest_boot("xsave", magic);
	idt_init(0xee);
	sse_enable();
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "xsave", 6);
	cmdline_u32(cmdline, "rounds", &rounds);
	cmdline_u32(cmdline, "xcr0", &want_xcr0);
	leaf1 = cpuid(1, 0);
	if (!(leaf1.ecx & (1u << 26))) {
		printf("xsave: %s CPUID says no XSAVE\n", name);
		guest_exit(3);
	}
	if (leaf1.ecx & (1u << 27)) {
		printf("xsave: %s CPUID.OSXSAVE set before CR4.OSXSAVE\n", name);
		failures++;
	}
	if (!write_cr4_safe(read_cr4() | CR4_OSXSAVE)) {
		printf("xsave: %s CR4.OSXSAVE refused\n", name);
		guest_exit(1);
	}
	if (!(cpuid(1, 0).ecx & (1u << 27))) {
		printf("xsave: %s CPUID.OSXSAVE clear after CR4.OSXSAVE\n", name);
		failures++;
	}
	leafd = cpuid(0xd, 0);
	if (xgetbv(0) != 1) {
		printf("xsave: %s XCR0 starts at 0x%x, not 1\n", name, (uint32_t)xgetbv(0));
		failures++;
	}
	try_xsetbv(name, 0, 0x3, true);
	if (leafd.eax & 4)
		try_xsetbv(name, 0, 0x7, true);
	try_xsetbv(name, 0, 0x0, false);      /* x87 must stay on */
	try_xsetbv(name, 0, 0x2, false);
	try_xsetbv(name, 0, 0x5, false);      /* AVX without SSE */
	try_xsetbv(name, 0, 0x203, false);    /* PKRU: not offered */
	try_xsetbv(name, 0, 1ull << 40, false);
	try_xsetbv(name, 1, 0x3, false);      /* only XCR0 exists */
	if ((leafd.eax & want_xcr0) != want_xcr0) {
		printf("xsave: %s CPUID.0xD offers 0x%x, cannot use 0x%x\n", name, leafd.eax, want_xcr0);
		guest_exit(3);
	}
	try_xsetbv(name, 0, want_xcr0, true);
	if (failures)
		guest_exit(1);
	printf("xsave: %s rules ok (CPUID.0xD offers 0x%x, %u-byte area)\n", name, leafd.eax,
	       leafd.ecx);
	for (const char *p = name; *p; p++)
		seed = seed * 31 + (uint8_t)*p;
	for (int i = 0; i < 4; i++)
		want[i] = seed ^ (0x01010101u * (uint32_t)(i + 3));
	xmm0_load(want);
	if (want_xcr0 & 4) /* the upper half of YMM0 too */
		__asm__ volatile("vinsertf128 $1, %%xmm0, %%ymm0, %%ymm0" ::: "memory");
	for (uint32_t r = 1; r <= rounds; r++) {
		busy_wait(ROUND_SPINS);
		cpuid(0, 0);
		if (xgetbv(0) != want_xcr0) {
			printf("xsave: %s XCR0 CHANGED in round %u: 0x%x\n", name, r, (uint32_t)xgetbv(0));
			guest_exit(1);
		}
		if (want_xcr0 & 4) {
			__asm__ volatile("vextractf128 $1, %%ymm0, %%xmm1" ::: "memory");
			__asm__ volatile("movdqu %%xmm1, %0" : "=m"(*(uint32_t(*)[4])got));
		} else {
			xmm0_store(got);
		}
		if (memcmp(got, want, sizeof(want)) != 0) {
			printf("xsave: %s %s CHANGED in round %u\n", name, want_xcr0 & 4 ? "YMM0 upper half" :
			       "XMM0", r);
			guest_exit(1);
		}
	}
	printf("xsave: %s xcr0 0x%x and registers intact after %u rounds\n", name, want_xcr0, rounds);
	guest_exit(0);
}
