/* exitloop: every exit kind the fast path handles, and a few it hands on, many thousand times
 * each, from 64-bit mode so that all sixteen general-purpose registers are checked. Each round
 * loads every register with a fresh pattern, runs one exiting instruction, stores every register,
 * and the 32-bit code checks that the registers the instruction defines hold the right answer
 * and every other one kept its pattern. The 1 ms preemption-timer exits land anywhere in between.
 * At the end a memory pattern written before the loop is checked too.
 * Prints "exitloop: N exits in K kinds, M register mismatches, memory intact|CORRUPT" and exits 0
 * only when nothing was wrong. Command line: rounds=N (default 2000), seed=N (the patterns). */
#include "tests/guests/lib/guest.h"

#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define MSR_MTRRCAP 0xfeu
#define MSR_MTRR_DEF_TYPE 0x2ffu
#define MEM_BASE 0x400000u /* 4 MiB: a pattern the exits must leave alone */
#define MEM_WORDS (0x100000u / 8)
#define MAX_REPORTS 8

enum gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, NGPR };
static const char *const gpr_names[NGPR] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* The kinds, in the order of the 64-bit jump table below. */
enum kind {
	K_CPUID0, K_CPUID1, K_CPUID7, K_CPUID_HV, K_CPUID4_1, K_CPUID_EXT, K_CPUID8, K_CPUID_STI,
	K_VMCALL_NOP, K_VMCALL_BAD, K_IN_LSR, K_OUT_SCR, K_IN_SCR, K_OUT_THR, K_RDMSR, K_WRMSR,
	K_OUT_UNEMULATED, K_IN_WORD, K_IN_DWORD, NKINDS,
};
static const char *const kind_names[NKINDS] = {
	"cpuid 0", "cpuid 1", "cpuid 7", "cpuid 0x40000000", "cpuid 4.1", "cpuid 0x80000000",
	"cpuid 8", "sti; cpuid 0", "vmcall nop", "vmcall unknown", "inb lsr", "outb scr", "inb scr",
	"outb thr", "rdmsr", "wrmsr", "outb 0x80", "inw 0x3fc", "inl 0x3fc",
};

/* The CPUID kinds' leaf and subleaf. The exit stub answers a leaf asked before from the vCPU's
 * cache (kernel/cpuid_cache.h): a subleaf other than 0; 0x80000000 and 8, which share a slot and
 * so replace each other every round (a miss each time); leaf 1, never cached; and a CPUID in
 * STI's shadow, whose blocking the stub must end. */
#define NCPUID (K_CPUID_STI + 1)
static const uint32_t cpuid_leaf[NCPUID] = { 0, 1, 7, 0x40000000u, 4, 0x80000000u, 8, 0 };
static const uint32_t cpuid_subleaf[NCPUID] = { 0, 0, 0, 0, 1, 0, 0, 0 };

/* Read and written by the 64-bit code (RIP-relative, so no register is needed to reach them). */
uint64_t before[NGPR], after[NGPR];
uint32_t kind64;


#define LOAD_ALL                                                                                  \
	"	movq before+8*1(%rip), %rcx\n	movq before+8*2(%rip), %rdx\n"                    \
	"	movq before+8*3(%rip), %rbx\n	movq before+8*5(%rip), %rbp\n"                    \
	"	movq before+8*6(%rip), %rsi\n	movq before+8*7(%rip), %rdi\n"                    \
	"	movq before+8*8(%rip), %r8\n	movq before+8*9(%rip), %r9\n"                     \
	"	movq before+8*10(%rip), %r10\n	movq before+8*11(%rip), %r11\n"                   \
	"	movq before+8*12(%rip), %r12\n	movq before+8*13(%rip), %r13\n"                   \
	"	movq before+8*14(%rip), %r14\n	movq before+8*15(%rip), %r15\n"                   \
	"	movq before(%rip), %rax\n"
#define KIND(label, insn) label ":\n" LOAD_ALL "	" insn "\n	jmp 3f\n"

/* exit_round(): from 32-bit compatibility mode to 64-bit code that runs kind64's instruction
 * between LOAD_ALL and the stores, and back. @pre IA-32e mode active */
void exit_round(void);
__asm__(".text\n"
	".globl exit_round\n"
	"exit_round:\n"
	"	pushl %ebx\n	pushl %esi\n	pushl %edi\n	pushl %ebp\n"
	"	ljmp $0x18, $1f\n"
	".code64\n"
	"1:	movl kind64(%rip), %eax\n"
	"	leaq kinds(%rip), %rbx\n"
	"	jmp *(%rbx,%rax,8)\n"
	KIND("k_cpuid0", "cpuid") KIND("k_cpuid1", "cpuid") KIND("k_cpuid7", "cpuid")
	KIND("k_cpuid_hv", "cpuid") KIND("k_cpuid4_1", "cpuid") KIND("k_cpuid_ext", "cpuid")
	KIND("k_cpuid8", "cpuid") KIND("k_cpuid_sti", "sti\n	cpuid\n	cli") KIND("k_vmcall_nop", "vmcall") KIND("k_vmcall_bad", "vmcall")
	KIND("k_in_lsr", "inb %dx, %al") KIND("k_out_scr", "outb %al, %dx") KIND("k_in_scr", "inb %dx, %al")
	KIND("k_out_thr", "outb %al, %dx") KIND("k_rdmsr", "rdmsr") KIND("k_wrmsr", "wrmsr")
	KIND("k_out_80", "outb %al, %dx") KIND("k_in_word", "inw %dx, %ax") KIND("k_in_dword", "inl %dx, %eax")
	"3:	movq %rax, after(%rip)\n	movq %rcx, after+8*1(%rip)\n"
	"	movq %rdx, after+8*2(%rip)\n	movq %rbx, after+8*3(%rip)\n"
	"	movq %rsp, after+8*4(%rip)\n	movq %rbp, after+8*5(%rip)\n"
	"	movq %rsi, after+8*6(%rip)\n	movq %rdi, after+8*7(%rip)\n"
	"	movq %r8, after+8*8(%rip)\n	movq %r9, after+8*9(%rip)\n"
	"	movq %r10, after+8*10(%rip)\n	movq %r11, after+8*11(%rip)\n"
	"	movq %r12, after+8*12(%rip)\n	movq %r13, after+8*13(%rip)\n"
	"	movq %r14, after+8*14(%rip)\n	movq %r15, after+8*15(%rip)\n"
	"	pushq $0x08\n"
	"	leaq 2f(%rip), %rax\n"
	"	pushq %rax\n"
	"	lretq\n"
	"	.balign 8\n"
	/* 64-bit entries as two longs: a 32-bit ELF has no 64-bit relocation (the guest is below 4 GiB) */
	"kinds:	.long k_cpuid0, 0, k_cpuid1, 0, k_cpuid7, 0, k_cpuid_hv, 0, k_cpuid4_1, 0\n"
	"	.long k_cpuid_ext, 0, k_cpuid8, 0, k_cpuid_sti, 0, k_vmcall_nop, 0\n"
	"	.long k_vmcall_bad, 0, k_in_lsr, 0, k_out_scr, 0, k_in_scr, 0, k_out_thr, 0\n"
	"	.long k_rdmsr, 0, k_wrmsr, 0, k_out_80, 0, k_in_word, 0, k_in_dword, 0\n"
	".code32\n"
	"2:	popl %ebp\n	popl %edi\n	popl %esi\n	popl %ebx\n"
	"	ret\n");

static uint64_t seed = 0x9e3779b97f4a7c15ull;

static uint64_t next_pattern(void)
{
	/* xorshift64: every register gets a different 64-bit value in every round */
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static uint32_t mismatches;
static uint64_t expect[NGPR];
static uint16_t defined; /* registers the instruction sets: their value is in expect[] */

static void report(enum kind k, uint32_t round, unsigned reg)
{
	if (mismatches++ < MAX_REPORTS)
		printf("exitloop: MISMATCH round %u %s: %s = 0x%llx, expected 0x%llx\n", round,
		       kind_names[k], gpr_names[reg], after[reg], expect[reg]);
}

static void define(unsigned reg, uint64_t value)
{
	defined |= (uint16_t)(1u << reg);
	expect[reg] = value;
}

/* The answers every round must give again: the first round of each kind, checked by value too. */
static struct cpuid_regs ref_cpuid[NKINDS];
static uint64_t ref_msr_lo, ref_msr_hi;
static bool have_ref_msr;

static uint8_t uart_mcr;

static uint8_t scratch_value(uint32_t round)
{
	return (uint8_t)(round * 7 + 3);
}

static void setup_round(enum kind k, uint32_t round)
{
	for (unsigned r = 0; r < NGPR; r++)
		before[r] = next_pattern();
	defined = 0;
	switch (k) {
	case K_CPUID0: case K_CPUID1: case K_CPUID7: case K_CPUID_HV: case K_CPUID4_1:
	case K_CPUID_EXT: case K_CPUID8: case K_CPUID_STI: {
		struct cpuid_regs r = ref_cpuid[k];

		/* Bits 63:32 keep their pattern: CPUID reads EAX and ECX only */
		before[RAX] = (before[RAX] & ~0xffffffffull) | cpuid_leaf[k];
		before[RCX] = (before[RCX] & ~0xffffffffull) | cpuid_subleaf[k];
		/* CPUID zero-extends its four results into the 64-bit registers, SDM Vol. 2A CPUID */
		define(RAX, r.eax);
		define(RBX, r.ebx);
		define(RCX, r.ecx);
		define(RDX, r.edx);
		break;
	}
	case K_VMCALL_NOP:
		before[RAX] = HC_NOP;
		define(RAX, 0);
		break;
	case K_VMCALL_BAD:
		before[RAX] = 0x777;
		define(RAX, HC_ERR_UNKNOWN);
		break;
	case K_IN_LSR:
		before[RDX] = 0x3fd;
		/* Transmitter empty and idle; only AL changes, SDM Vol. 2A IN */
		define(RAX, (before[RAX] & ~0xffull) | 0x60);
		break;
	case K_OUT_SCR:
		before[RDX] = 0x3ff;
		before[RAX] = (before[RAX] & ~0xffull) | scratch_value(round);
		break;
	case K_IN_SCR:
		before[RDX] = 0x3ff;
		/* The scratch register holds what this round's outb wrote */
		define(RAX, (before[RAX] & ~0xffull) | scratch_value(round));
		break;
	case K_OUT_THR:
		before[RDX] = 0x3f8;
		before[RAX] = (before[RAX] & ~0xffull) | '.';
		break;
	case K_RDMSR:
		before[RCX] = MSR_MTRRCAP;
		if (have_ref_msr) {
			define(RAX, ref_msr_lo);
			define(RDX, ref_msr_hi);
		} else {
			defined |= (1u << RAX) | (1u << RDX);
		}
		break;
	case K_WRMSR:
		before[RCX] = MSR_MTRR_DEF_TYPE;
		before[RAX] = 0x6; /* write-back default, MTRRs off */
		before[RDX] = 0;
		break;
	case K_OUT_UNEMULATED:
		before[RDX] = 0x80;
		break;
	case K_IN_WORD:
		before[RDX] = 0x3fc; /* MCR and LSR: only AX changes */
		define(RAX, (before[RAX] & ~0xffffull) | 0x6000u | uart_mcr);
		break;
	case K_IN_DWORD:
		before[RDX] = 0x3fc; /* MCR, LSR, MSR, SCR; IN EAX zero-extends into RAX */
		defined |= 1u << RAX;
		break;
	default:
		break;
	}
}

static void check_round(enum kind k, uint32_t round)
{
	if (k == K_RDMSR && !have_ref_msr) {
		/* The first answer is the reference; RDMSR zero-extends EDX:EAX, SDM Vol. 2B RDMSR */
		ref_msr_lo = expect[RAX] = after[RAX];
		ref_msr_hi = expect[RDX] = after[RDX];
		have_ref_msr = true;
		if ((after[RAX] >> 32) || (after[RDX] >> 32))
			report(k, round, after[RAX] >> 32 ? RAX : RDX);
	}
	if (k == K_IN_DWORD) {
		/* IN EAX zero-extends into RAX; byte 1 is the LSR */
		expect[RAX] = (uint64_t)(uint32_t)after[RAX];
		expect[RAX] = (expect[RAX] & ~0xff00ull) | 0x6000u;
	}
	for (unsigned r = 0; r < NGPR; r++) {
		if (r == RSP)
			continue; /* the guest's own stack pointer, untouched by the round */
		if (!((defined >> r) & 1))
			expect[r] = before[r];
		if (after[r] != expect[r])
			report(k, round, r);
	}
}

void guest_main(uint32_t magic, const struct mb_info *mbi)
{
	uint32_t rounds = 2000, exits = 0, seed_arg;
	uint64_t *mem = (uint64_t *)MEM_BASE;
	bool mem_ok = true;

	guest_boot("exitloop", magic);
	idt_init(0xee);
	cli();
	cmdline_u32(guest_cmdline(mbi), "rounds", &rounds);
	if (cmdline_u32(guest_cmdline(mbi), "seed", &seed_arg) == 1)
		seed ^= (uint64_t)seed_arg << 32 | seed_arg;
	/* The reference answers, asked from 32-bit mode before the loop */
	for (unsigned k = 0; k < NCPUID; k++)
		ref_cpuid[k] = cpuid(cpuid_leaf[k], cpuid_subleaf[k]);
	for (uint32_t i = 0; i < MEM_WORDS; i++)
		mem[i] = (uint64_t)i * 0x9e3779b97f4a7c15ull ^ 0x5a5a;
	uart_mcr = inb(0x3fc);
	long_mode_enter();
	for (uint32_t round = 0; round < rounds; round++) {
		for (unsigned k = 0; k < NKINDS; k++) {
			if (k == K_OUT_THR && round % 16)
				continue; /* a dot every 16 rounds is enough console output */
			setup_round((enum kind)k, round);
			kind64 = k;
			exit_round();
			check_round((enum kind)k, round);
			exits++;
		}
		if (round % (16 * 64) == 16 * 63)
			uart_putc('\n');
	}
	write_cr0(read_cr0() & ~CR0_PG); /* back to legacy protected mode */
	for (uint32_t i = 0; i < MEM_WORDS; i++)
		if (mem[i] != ((uint64_t)i * 0x9e3779b97f4a7c15ull ^ 0x5a5a))
			mem_ok = false;
	printf("\nexitloop: %u exits in %u kinds, %u register mismatches, memory %s\n", exits, NKINDS,
	       mismatches, mem_ok ? "intact" : "CORRUPT");
	guest_exit(mismatches || !mem_ok ? 1 : 0);
}
