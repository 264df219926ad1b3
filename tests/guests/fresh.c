/* fresh: checks that it starts from the architectural reset state (SDM Vol. 3A 9.1.1 Table 9-1)
 * in every register Cloison switches — x87 control word, MXCSR, XMM0-7, CR2, DR0-DR3, DR6, DR7,
 * the syscall MSRs, TSC_AUX, XCR0 — then dirties them all and exits, so that a `start` after
 * its stop (when it was the last guest on its CPU) proves nothing of the old run survives.
 * Prints "fresh: clean start" or "fresh: DIRTY <register> ..." lines, then exits 0. */
#include "tests/guests/lib/guest.h"

#define CR4_OSXSAVE (1u << 18)

static const uint32_t msrs[] = { 0xc0000081u, 0xc0000082u, 0xc0000083u, 0xc0000084u,
				 0xc0000102u, 0xc0000103u };
static const char *const msr_names[] = { "STAR", "LSTAR", "CSTAR", "FMASK", "KERNEL_GS_BASE",
					 "TSC_AUX" };
static unsigned dirty;

static void expect(const char *what, uint32_t got, uint32_t want)
{
	if (got != want) {
		printf("fresh: DIRTY %s = 0x%x (reset value 0x%x)\n", what, got, want);
		dirty++;
	}
}

static void xmm_store(unsigned i, uint32_t v[4])
{
	switch (i) {
	case 0: __asm__ volatile("movdqu %%xmm0, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 1: __asm__ volatile("movdqu %%xmm1, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 2: __asm__ volatile("movdqu %%xmm2, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 3: __asm__ volatile("movdqu %%xmm3, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 4: __asm__ volatile("movdqu %%xmm4, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 5: __asm__ volatile("movdqu %%xmm5, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	case 6: __asm__ volatile("movdqu %%xmm6, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	default: __asm__ volatile("movdqu %%xmm7, %0" : "=m"(*(uint32_t(*)[4])v)); break;
	}
}

static void check_reset_state(void)
{
	uint64_t v;
	uint32_t x[4];
	char what[16];

	expect("FCW", fpu_control_word(), 0x37f);
	expect("MXCSR", mxcsr_read(), 0x1f80);
	for (unsigned i = 0; i < 8; i++) {
		xmm_store(i, x);
		what[0] = 'X'; what[1] = 'M'; what[2] = 'M'; what[3] = (char)('0' + i); what[4] = 0;
		expect(what, x[0] | x[1] | x[2] | x[3], 0);
	}
	expect("CR2", read_cr2(), 0);
	expect("DR0", read_dr0(), 0);
	expect("DR1", read_dr1(), 0);
	expect("DR2", read_dr2(), 0);
	expect("DR3", read_dr3(), 0);
	expect("DR6", read_dr6(), 0xffff0ff0u);
	expect("DR7", read_dr7(), 0x400);
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		if (!rdmsr_safe(msrs[i], &v))
			v = 0xdeadu;
		expect(msr_names[i], (uint32_t)v | (uint32_t)(v >> 32), 0);
	}
	if (cpuid(1, 0).ecx & (1u << 26)) {
		write_cr4_safe(read_cr4() | CR4_OSXSAVE);
		expect("XCR0", (uint32_t)xgetbv(0), 1);
	}
}

static void dirty_everything(void)
{
	uint32_t pattern[4] = { 0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u };

	fpu_control_word_write(0x27f);
	mxcsr_write(0x1f00);
	xmm0_load(pattern);
	__asm__ volatile("movdqu %0, %%xmm7" ::"m"(pattern));
	write_cr2(0xc2c2c2c2u);
	write_dr0(0xd0d0d0d0u);
	write_dr1(0xd1d1d1d0u);
	write_dr2(0xd2d2d2d0u);
	write_dr3(0xd3d3d3d0u);
	write_dr6(0xffff0ff0u | 0xf);
	write_dr7(0x400u | 0x1u | 0xd0000u);
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		wrmsr_safe(msrs[i], i == 3 ? 0x300u : 0x5a5a0000u + i);
	if (cpuid(1, 0).ecx & (1u << 26))
		xsetbv_safe(0, 3);
}

/* STAR, LSTAR, CSTAR, FMASK and TSC_AUX writes exit to Cloison, which keeps them per vCPU: what
 * was written reads back, and a value the CPU refuses faults (#GP) and changes nothing. */
static void check_msr_writes(void)
{
	static const struct { uint32_t msr; uint64_t value; const char *what; } refused[] = {
		{ 0xc0000082u, 0x0000800000000000ull, "non-canonical LSTAR" },
		{ 0xc0000083u, 0x8000000000000000ull, "non-canonical CSTAR" },
		{ 0xc0000084u, 1ull << 32, "FMASK bit 32" },
		{ 0xc0000103u, 1ull << 40, "TSC_AUX bit 40" },
	};
	unsigned bad = 0;
	uint64_t v;

	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		if (!rdmsr_safe(msrs[i], &v) || v != (i == 3 ? 0x300u : 0x5a5a0000u + i)) {
			printf("fresh: MSR BAD %s reads 0x%x after the write\n", msr_names[i], (uint32_t)v);
			bad++;
		}
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (wrmsr_safe(refused[i].msr, refused[i].value)) {
			printf("fresh: MSR BAD %s accepted\n", refused[i].what);
			bad++;
		}
	if (!rdmsr_safe(0xc0000082u, &v) || v != 0x5a5a0001u) {
		printf("fresh: MSR BAD LSTAR changed by a refused write\n");
		bad++;
	}
	if (!bad)
		printf("fresh: MSR writes ok\n");
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	(void)mbi;
	guest_boot("fresh", magic);
	idt_init(0xee);
	sse_enable();
	check_reset_state();
	if (!dirty)
		printf("fresh: clean start\n");
	dirty_everything();
	check_msr_writes();
	printf("fresh: registers dirtied; exiting\n");
	guest_exit(0);
}
