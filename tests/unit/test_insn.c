/* Host tests for kernel/insn.c against binutils' view of each encoding, plus loads, stores and fuzz. */
#include <stdlib.h>

#include "tests/unit/test.h"
#include "tests/unit/insn_cases.h"
#include "kernel/lib.h"
#include "kernel/insn.h"

TEST_MAIN_GLOBALS;

/* Decodes from a heap copy of exactly avail bytes, so ASan reports any read past the end. */
static int decode_exact(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct mmio_insn *out)
{
	uint8_t *copy = malloc(avail ? avail : 1);
	int err;

	memcpy(copy, bytes, avail);
	err = insn_decode_mmio(copy, avail, mode, out);
	free(copy);
	return err;
}

static unsigned case_failures;

static void report_case(const struct insn_case *c, const char *what, int err)
{
	if (case_failures++ < 10) {
		printf("  mode %u %-50s %s (err %d):", c->mode, c->text, what, err);
		for (unsigned i = 0; i < c->nbytes; i++)
			printf(" %02x", c->bytes[i]);
		printf("\n");
	}
}

/* Every case objdump described (tests/unit/insn_cases.S, all prefix combinations, random encodings). */
static void test_objdump_cases(void)
{
	unsigned counts[4] = { 0 };

	CHECK(insn_case_count > 10000);
	for (unsigned i = 0; i < insn_case_count; i++) {
		const struct insn_case *c = &insn_cases[i];
		struct mmio_insn m;
		int err = decode_exact(c->bytes, c->nbytes, (enum insn_mode)c->mode, &m);

		counts[c->expect]++;
		switch (c->expect) {
		case EXPECT_NOTSUP:
			if (err != -E_NOTSUP)
				report_case(c, "expected -E_NOTSUP", err);
			else if (m.opcode_len == 0 || m.prefix_len >= c->nbytes ||
				 memcmp(m.opcode, c->bytes + m.prefix_len, m.opcode_len) != 0)
				report_case(c, "wrong opcode bytes for the log", err);
			continue;
		case EXPECT_INVAL:
			if (err != -E_INVAL)
				report_case(c, "expected -E_INVAL", err);
			continue;
		case EXPECT_ANYERR:
			if (err == 0)
				report_case(c, "expected an error", err);
			continue;
		}
		if (err != 0) {
			report_case(c, "expected success", err);
			continue;
		}
		if (m.length != c->length || m.read != c->read || m.write != c->write ||
		    m.size != c->size || m.has_imm != c->has_imm ||
		    (!c->has_imm && (m.reg != c->reg || m.reg_high8 != c->high8)) ||
		    m.reg_size != (c->has_imm ? c->size : c->reg_size) ||
		    m.extend != (c->sign ? INSN_EXT_SIGN : INSN_EXT_ZERO) ||
		    (c->has_imm && (m.imm & (c->size == 8 ? ~0ull : (1ull << (8 * c->size)) - 1)) != c->imm)) {
			report_case(c, "fields differ", err);
			printf("    got len %u r%u w%u size %u reg %u high8 %u reg_size %u ext %u imm %u/0x%" PRIx64 "\n",
			       m.length, m.read, m.write, m.size, m.reg, m.reg_high8, m.reg_size, m.extend,
			       m.has_imm, m.imm);
			continue;
		}
		/* The exact length decodes the same; every shorter prefix of it is truncated */
		if (decode_exact(c->bytes, c->length, (enum insn_mode)c->mode, &m) != 0 || m.length != c->length)
			report_case(c, "exact length fails", err);
		for (size_t k = 0; k < c->length; k++) {
			int e = decode_exact(c->bytes, k, (enum insn_mode)c->mode, &m);

			if (e != -E_TRUNC) {
				report_case(c, "shorter input not -E_TRUNC", e);
				break;
			}
		}
	}
	CHECK_EQ(case_failures, 0);
	printf("  %u cases: %u decoded, %u unsupported, %u invalid, %u other errors\n", insn_case_count,
	       counts[EXPECT_OK], counts[EXPECT_NOTSUP], counts[EXPECT_INVAL], counts[EXPECT_ANYERR]);
	CHECK(counts[EXPECT_OK] > 10000);
	CHECK(counts[EXPECT_NOTSUP] > 15);
	CHECK(counts[EXPECT_INVAL] > 20);
}

/* REX is only a prefix when it comes last, SDM Vol. 2A 2.2.1: objdump prints these as two lines. */
static void test_rex_not_last_is_ignored(void)
{
	static const uint8_t w_then_66[] = { 0x48, 0x66, 0x89, 0x00 };   /* rex.W; mov %ax,(%rax) */
	static const uint8_t r_then_seg[] = { 0x44, 0x2e, 0x89, 0x08 };  /* rex.R; mov %ecx,%cs:(%rax) */
	static const uint8_t b_then_67[] = { 0x41, 0x67, 0x88, 0x20 };   /* rex.B; mov %ah,(%eax) */
	static const uint8_t rex_rex[] = { 0x48, 0x44, 0x89, 0x08 };     /* only the last REX counts */
	struct mmio_insn m;

	CHECK_EQ(decode_exact(w_then_66, sizeof(w_then_66), INSN_MODE_64, &m), 0);
	CHECK_EQ(m.length, 4);
	CHECK_EQ(m.size, 2);
	CHECK_EQ(m.prefix_len, 2);
	CHECK_EQ(decode_exact(r_then_seg, sizeof(r_then_seg), INSN_MODE_64, &m), 0);
	CHECK_EQ(m.reg, 1);
	CHECK_EQ(m.size, 4);
	CHECK_EQ(decode_exact(b_then_67, sizeof(b_then_67), INSN_MODE_64, &m), 0);
	CHECK_EQ(m.reg, 0);
	CHECK(m.reg_high8);
	CHECK_EQ(decode_exact(rex_rex, sizeof(rex_rex), INSN_MODE_64, &m), 0);
	CHECK_EQ(m.reg, 9);
	CHECK_EQ(m.size, 4);
}

static void test_errors(void)
{
	static const uint8_t movups[] = { 0x0f, 0x10, 0x00 };
	static const uint8_t seg_movups[] = { 0x66, 0x2e, 0x0f, 0x10, 0x00 };
	static const uint8_t lone_0f[] = { 0x0f };
	static const uint8_t lock_mov[] = { 0xf0, 0x89, 0x00 };
	static const uint8_t rep_mov[] = { 0xf3, 0x89, 0x00 };
	static const uint8_t c6_reg1[] = { 0xc6, 0x08, 0x01 };
	static const uint8_t xabort[] = { 0xc6, 0xf8, 0x01 };
	static const uint8_t reg_only[] = { 0x8b, 0xc3 };
	uint8_t long_insn[20];
	struct mmio_insn m;

	CHECK_EQ(decode_exact(movups, sizeof(movups), INSN_MODE_64, &m), -E_NOTSUP);
	CHECK_EQ(m.opcode_len, 3);
	CHECK_EQ(m.opcode[0], 0x0f);
	CHECK_EQ(m.opcode[1], 0x10);
	CHECK_EQ(m.prefix_len, 0);
	CHECK_EQ(decode_exact(seg_movups, sizeof(seg_movups), INSN_MODE_32, &m), -E_NOTSUP);
	CHECK_EQ(m.prefix_len, 2);
	CHECK_EQ(m.opcode[0], 0x0f);
	CHECK_EQ(m.opcode[1], 0x10);
	CHECK_EQ(decode_exact(lone_0f, sizeof(lone_0f), INSN_MODE_64, &m), -E_TRUNC);
	CHECK_EQ(m.opcode_len, 1);
	CHECK_EQ(decode_exact(lock_mov, sizeof(lock_mov), INSN_MODE_64, &m), -E_INVAL);
	CHECK_EQ(decode_exact(rep_mov, sizeof(rep_mov), INSN_MODE_64, &m), -E_NOTSUP);
	CHECK_EQ(decode_exact(c6_reg1, sizeof(c6_reg1), INSN_MODE_64, &m), -E_NOTSUP);
	CHECK_EQ(decode_exact(xabort, sizeof(xabort), INSN_MODE_64, &m), -E_INVAL);
	CHECK_EQ(decode_exact(reg_only, sizeof(reg_only), INSN_MODE_16, &m), -E_INVAL);
	CHECK_EQ(decode_exact(movups, 0, INSN_MODE_64, &m), -E_TRUNC);
	CHECK_EQ(m.opcode_len, 0);
	CHECK_EQ(decode_exact(movups, sizeof(movups), (enum insn_mode)8, &m), -E_INVAL);

	/* 15 bytes is the limit whatever avail says, SDM Vol. 2A 2.3.11 */
	memset(long_insn, 0x66, sizeof(long_insn));
	CHECK_EQ(decode_exact(long_insn, sizeof(long_insn), INSN_MODE_64, &m), -E_INVAL);
	memset(long_insn, 0x2e, 13);
	long_insn[13] = 0x89;
	long_insn[14] = 0x00;
	CHECK_EQ(decode_exact(long_insn, 15, INSN_MODE_64, &m), 0);
	CHECK_EQ(m.length, 15);
	memset(long_insn, 0x2e, 14);
	long_insn[14] = 0x89;
	long_insn[15] = 0x00;
	CHECK_EQ(decode_exact(long_insn, 16, INSN_MODE_64, &m), -E_INVAL);
	CHECK_EQ(decode_exact(long_insn, 15, INSN_MODE_64, &m), -E_INVAL);
	CHECK_EQ(decode_exact(long_insn, 14, INSN_MODE_64, &m), -E_TRUNC);
}

static struct mmio_insn decoded(const uint8_t *bytes, size_t n, enum insn_mode mode)
{
	struct mmio_insn m;

	CHECK_EQ(decode_exact(bytes, n, mode, &m), 0);
	return m;
}

/* Register results after loads, SDM Vol. 1 3.4.1.1 and Vol. 2B MOVZX/MOVSX */
static void test_apply_load(void)
{
	static const uint8_t movl_eax[] = { 0x8b, 0x03 };             /* mov (%rbx),%eax */
	static const uint8_t movq_r15[] = { 0x4c, 0x8b, 0x3b };       /* mov (%rbx),%r15 */
	static const uint8_t movw_si[] = { 0x66, 0x8b, 0x30 };        /* mov (%rax),%si */
	static const uint8_t movb_ah[] = { 0x8a, 0x23 };              /* mov (%rbx),%ah */
	static const uint8_t movb_dil[] = { 0x40, 0x8a, 0x3b };       /* mov (%rbx),%dil */
	static const uint8_t movzbl[] = { 0x0f, 0xb6, 0x00 };         /* movzbl (%rax),%eax */
	static const uint8_t movzbw[] = { 0x66, 0x0f, 0xb6, 0x00 };   /* movzbw (%rax),%ax */
	static const uint8_t movsbq[] = { 0x48, 0x0f, 0xbe, 0x00 };   /* movsbq (%rax),%rax */
	static const uint8_t movswl[] = { 0x0f, 0xbf, 0x18 };         /* movswl (%rax),%ebx */
	static const uint8_t movsbw[] = { 0x66, 0x0f, 0xbe, 0x38 };   /* movsbw (%rax),%di */
	static const uint8_t movl_16[] = { 0x66, 0x8b, 0x14 };        /* 16-bit: mov (%si),%edx */
	const uint64_t old = 0x1122334455667788ull;
	struct mmio_insn m;

	m = decoded(movl_eax, sizeof(movl_eax), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0xdeadbeefcafef00dull), 0xcafef00dull);
	m = decoded(movq_r15, sizeof(movq_r15), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0xdeadbeefcafef00dull), 0xdeadbeefcafef00dull);
	m = decoded(movw_si, sizeof(movw_si), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0xabcd1234), 0x1122334455661234ull);
	m = decoded(movb_ah, sizeof(movb_ah), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x1ff), 0x112233445566ff88ull);
	m = decoded(movb_dil, sizeof(movb_dil), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x1ff), 0x11223344556677ffull);
	m = decoded(movzbl, sizeof(movzbl), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x80), 0x80);
	m = decoded(movzbw, sizeof(movzbw), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x80), 0x1122334455660080ull);
	m = decoded(movsbq, sizeof(movsbq), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x80), 0xffffffffffffff80ull);
	CHECK_EQ(insn_apply_load(&m, old, 0x17f), 0x7f);
	m = decoded(movswl, sizeof(movswl), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0x8001), 0xffff8001ull);
	m = decoded(movsbw, sizeof(movsbw), INSN_MODE_64);
	CHECK_EQ(insn_apply_load(&m, old, 0xfe), 0x112233445566fffeull);
	m = decoded(movl_16, sizeof(movl_16), INSN_MODE_16);
	CHECK_EQ(insn_apply_load(&m, old, 0x12345678), 0x12345678);
}

static void test_store_value(void)
{
	static const uint8_t movb_bh[] = { 0x88, 0x38 };                   /* mov %bh,(%rax) */
	static const uint8_t movb_dil[] = { 0x40, 0x88, 0x38 };            /* mov %dil,(%rax) */
	static const uint8_t movw_r9[] = { 0x66, 0x44, 0x89, 0x08 };       /* mov %r9w,(%rax) */
	static const uint8_t movl_r12[] = { 0x44, 0x89, 0x23 };            /* mov %r12d,(%rbx) */
	static const uint8_t movq_rsp[] = { 0x48, 0x89, 0x23 };            /* mov %rsp,(%rbx) */
	static const uint8_t movb_imm[] = { 0xc6, 0x00, 0x80 };            /* movb $0x80,(%rax) */
	static const uint8_t movw_imm[] = { 0x66, 0xc7, 0x00, 0x34, 0x92 }; /* movw $0x9234,(%rax) */
	static const uint8_t movl_imm[] = { 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80 };
	static const uint8_t movq_imm[] = { 0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80 };
	static const uint8_t xchg_ecx[] = { 0x87, 0x0b };                  /* xchg %ecx,(%rbx) */
	static const uint8_t movabs_rax[] = { 0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint64_t gpr[16];
	struct mmio_insn m;

	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x0101010101010101ull * (i + 1) + 0x8070605040302000ull;
	m = decoded(movb_bh, sizeof(movb_bh), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), (gpr[3] >> 8) & 0xff);
	m = decoded(movb_dil, sizeof(movb_dil), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[7] & 0xff);
	m = decoded(movw_r9, sizeof(movw_r9), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[9] & 0xffff);
	m = decoded(movl_r12, sizeof(movl_r12), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[12] & 0xffffffff);
	m = decoded(movq_rsp, sizeof(movq_rsp), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[4]);
	m = decoded(movb_imm, sizeof(movb_imm), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), 0x80);
	m = decoded(movw_imm, sizeof(movw_imm), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), 0x9234);
	m = decoded(movl_imm, sizeof(movl_imm), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), 0x80000000ull);
	m = decoded(movq_imm, sizeof(movq_imm), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), 0xffffffff80000000ull);
	m = decoded(movabs_rax, sizeof(movabs_rax), INSN_MODE_64);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[0]);

	/* XCHG: the store takes the old register, the load then replaces it */
	m = decoded(xchg_ecx, sizeof(xchg_ecx), INSN_MODE_64);
	CHECK(m.read && m.write);
	CHECK_EQ(insn_store_value(&m, gpr), gpr[1] & 0xffffffff);
	gpr[1] = insn_apply_load(&m, gpr[1], 0xfee00000);
	CHECK_EQ(gpr[1], 0xfee00000);
}

/* Random bytes: never a read past avail (ASan), and every success is self-consistent. */
static void test_fuzz(void)
{
	static const enum insn_mode modes[] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };
	static const uint8_t interesting[] = { 0x66, 0x67, 0xf0, 0xf3, 0x2e, 0x64, 0x40, 0x48, 0x4f,
					       0x0f, 0x88, 0x89, 0x8a, 0x8b, 0x86, 0x87, 0xc6, 0xc7,
					       0xa0, 0xa1, 0xa2, 0xa3, 0xb6, 0xb7, 0xbe, 0xbf, 0x04,
					       0x05, 0x24, 0x25, 0x44, 0x84 };
	unsigned ok = 0, bad = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (unsigned iter = 0; iter < 300000; iter++) {
		uint8_t bytes[20];
		size_t avail;
		enum insn_mode mode;
		struct mmio_insn m, again;
		int err;

		for (size_t i = 0; i < sizeof(bytes); i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			bytes[i] = (seed >> 40) & 1 ? interesting[(seed >> 48) % sizeof(interesting)]
						    : (uint8_t)(seed >> 32);
		}
		avail = (seed >> 20) % 21;
		mode = modes[(seed >> 8) % 3];
		err = decode_exact(bytes, avail, mode, &m);
		if (err == -E_NOTSUP || err == -E_INVAL || err == -E_TRUNC)
			continue;
		if (err != 0 || m.length == 0 || m.length > avail || m.length > INSN_MAX_LEN ||
		    !(m.read || m.write) || (m.size != 1 && m.size != 2 && m.size != 4 && m.size != 8) ||
		    m.reg > 15 || m.reg_size < m.size || (m.reg_high8 && (m.reg > 3 || m.size != 1)) ||
		    m.prefix_len >= m.length || (m.has_imm && m.read)) {
			bad++;
			continue;
		}
		/* The same bytes with more or exactly enough input give the same answer */
		if (decode_exact(bytes, m.length, mode, &again) != 0 || memcmp(&again, &m, sizeof(m)) != 0)
			bad++;
		if (decode_exact(bytes, m.length - 1u, mode, &again) != -E_TRUNC)
			bad++;
		ok++;
	}
	printf("  fuzz: %u decoded\n", ok);
	CHECK_EQ(bad, 0);
	CHECK(ok > 10000);
}

int main(void)
{
	RUN_TEST(test_objdump_cases);
	RUN_TEST(test_rex_not_last_is_ignored);
	RUN_TEST(test_errors);
	RUN_TEST(test_apply_load);
	RUN_TEST(test_store_value);
	RUN_TEST(test_fuzz);
	return test_any_failed;
}
