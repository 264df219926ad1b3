/* dregs: keeps patterns of its own in DR0-DR3, DR6, DR7, IA32_DEBUGCTL and the syscall MSRs
 * (STAR, LSTAR, CSTAR, FMASK, TSC_AUX) while it spins, and checks them after every round and
 * after exits, so two copies sharing a CPU prove that these registers are the guest's own:
 * switched between CPU-mates (DR0-3, DR6, the syscall MSRs) and saved/loaded by VM exit and entry
 * (DR7, DEBUGCTL). The breakpoints point at addresses the guest never touches.
 * Command line: NAME [rounds=R]. Prints "dregs: NAME debug registers and syscall MSRs intact after
 * R rounds" and exits 0, or "dregs: NAME DRn CHANGED ..." (or MSR) and exits 1. */
#include "tests/guests/lib/guest.h"

#define MSR_DEBUGCTL 0x1d9u
#define DEBUGCTL_BTF (1u << 1)
#define ROUND_SPINS 2000000u

/* STAR, LSTAR, CSTAR, FMASK, TSC_AUX: values without reserved bits (FMASK, TSC_AUX: 32 bits) */
static const uint32_t syscall_msrs[] = { 0xc0000081u, 0xc0000082u, 0xc0000083u, 0xc0000084u,
					 0xc0000103u };
static const char *const syscall_names[] = { "STAR", "LSTAR", "CSTAR", "FMASK", "TSC_AUX" };

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	char name[32];
	uint32_t rounds = 10, seed = 0x6a09e667u, want[6], got[6];
	uint64_t debugctl = 0, msr_want[5], msr;
	bool have_debugctl, have_msr[5];

	guest_boot("dregs", magic);
	idt_init(0xee);
	const char *cmdline = guest_cmdline(mbi);
	if (!cmdline_name(cmdline, name, sizeof(name)))
		memcpy(name, "dregs", 6);
	if (cmdline_u32(cmdline, "rounds", &rounds) < 0 || rounds == 0) {
		printf("dregs: bad rounds= in '%s'\n", cmdline);
		guest_exit(2);
	}
	for (const char *p = name; *p; p++)
		seed = seed * 31 + (uint8_t)*p;
	/* Breakpoint addresses far above the guest's RAM, 4-byte aligned. */
	for (int i = 0; i < 4; i++)
		want[i] = 0x80000000u | ((seed * (uint32_t)(i + 7)) & 0x7ffffffcu);
	/* DR6: B0-B3 and BS are writable flags; the rest read as the fixed ones. */
	want[4] = 0xffff0ff0u | (seed & 0xfu) | (1u << 14);
	/* DR7: L0-L3 per name, write breakpoints of 4 bytes, GE; bit 10 reads as 1. */
	want[5] = 0x400u | (1u << 9) | ((seed >> 4) & 0x55u) | 0xdddd0000u;
	write_dr0(want[0]);
	write_dr1(want[1]);
	write_dr2(want[2]);
	write_dr3(want[3]);
	write_dr6(want[4]);
	write_dr7(want[5]);
	have_debugctl = wrmsr_safe(MSR_DEBUGCTL, DEBUGCTL_BTF);
	for (int i = 0; i < 5; i++) {
		msr_want[i] = (seed * (uint32_t)(i + 13)) & 0x7ffffff0u;
		have_msr[i] = wrmsr_safe(syscall_msrs[i], msr_want[i]);
	}
	printf("dregs: %s set dr0 %08x dr1 %08x dr2 %08x dr3 %08x dr6 %08x dr7 %08x debugctl %s\n",
	       name, want[0], want[1], want[2], want[3], want[4], want[5],
	       have_debugctl ? "BTF" : "refused");
	for (uint32_t r = 1; r <= rounds; r++) {
		busy_wait(ROUND_SPINS);
		cpuid(0, 0); /* a VM exit and entry */
		got[0] = read_dr0();
		got[1] = read_dr1();
		got[2] = read_dr2();
		got[3] = read_dr3();
		got[4] = read_dr6();
		got[5] = read_dr7();
		for (int i = 0; i < 6; i++) {
			if (got[i] != want[i]) {
				printf("dregs: %s DR%d CHANGED in round %u: %08x, wrote %08x\n", name,
				       i < 4 ? i : i == 4 ? 6 : 7, r, got[i], want[i]);
				guest_exit(1);
			}
		}
		if (have_debugctl && (!rdmsr_safe(MSR_DEBUGCTL, &debugctl) || debugctl != DEBUGCTL_BTF)) {
			printf("dregs: %s DEBUGCTL CHANGED in round %u: %x\n", name, r, (uint32_t)debugctl);
			guest_exit(1);
		}
		for (int i = 0; i < 5; i++) {
			if (have_msr[i] && (!rdmsr_safe(syscall_msrs[i], &msr) || msr != msr_want[i])) {
				printf("dregs: %s MSR %s CHANGED in round %u: %x, wrote %x\n", name,
				       syscall_names[i], r, (uint32_t)msr, (uint32_t)msr_want[i]);
				guest_exit(1);
			}
		}
	}
	for (int i = 0; i < 5; i++)
		if (!have_msr[i])
			printf("dregs: %s MSR %s refused\n", name, syscall_names[i]);
	printf("dregs: %s debug registers and syscall MSRs intact after %u rounds\n", name, rounds);
	guest_exit(0);
}
