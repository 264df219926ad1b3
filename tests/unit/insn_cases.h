/* Expected decoder results, generated from objdump by tests/unit/gen_insn_cases.py. */
#ifndef CLOISON_TEST_INSN_CASES_H
#define CLOISON_TEST_INSN_CASES_H

#include <stdint.h>

enum { EXPECT_OK, EXPECT_NOTSUP, EXPECT_INVAL, EXPECT_ANYERR };

struct insn_case {
	uint8_t mode;     /* 16, 32 or 64 */
	uint8_t expect;   /* EXPECT_*: success or which error */
	uint8_t length;   /* objdump's length */
	uint8_t nbytes;   /* bytes[] holds the instruction and, for random cases, what followed it */
	uint8_t bytes[15];
	uint8_t read, write, size, reg, high8, reg_size, sign, has_imm;
	uint64_t imm;     /* masked to size */
	const char *text; /* objdump's disassembly */
};

extern const struct insn_case insn_cases[];
extern const unsigned insn_case_count;

#endif
