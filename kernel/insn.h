/* Decoder for the x86 instructions a guest kernel uses to access MMIO: MOV, MOVZX, MOVSX, XCHG. */
#ifndef CLOISON_INSN_H
#define CLOISON_INSN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Longest legal x86 instruction; longer ones raise #GP, SDM Vol. 2A 2.3.11 */
#define INSN_MAX_LEN 15

/* The code size of the guest: from CS.L (64) and CS.D (32, else 16), SDM Vol. 3A 5.2.1 */
enum insn_mode {
	INSN_MODE_16 = 16,
	INSN_MODE_32 = 32,
	INSN_MODE_64 = 64,
};

/* How a load fills a register wider than the access (MOVZX/MOVSX; MOV uses INSN_EXT_ZERO). */
enum insn_extend {
	INSN_EXT_ZERO,
	INSN_EXT_SIGN,
};

/* What insn_decode_mmio found. A load reads `size` bytes into `reg`; a store writes `size` bytes
 * of `reg` (or of `imm`); XCHG does both, the read first. */
struct mmio_insn {
	uint8_t length;          /* bytes, prefixes included */
	bool read;               /* reads memory into reg */
	bool write;              /* writes reg or imm to memory */
	uint8_t size;            /* memory access size: 1, 2, 4 or 8 */
	uint8_t reg;             /* GPR in enum guest_gpr numbering, RAX = 0 .. R15 = 15 */
	bool reg_high8;          /* AH, CH, DH, BH: bits 15:8 of reg 0..3 (byte reg 4-7 without REX) */
	uint8_t reg_size;        /* operand size in the register: 1, 2, 4 or 8 */
	enum insn_extend extend; /* how a load widens from size to reg_size */
	bool has_imm;            /* the store writes imm, not reg */
	uint64_t imm;            /* sign-extended to 64 bits, as the CPU computes it */
	uint8_t prefix_len;      /* legacy and REX prefix bytes before the opcode */
	uint8_t opcode[4];       /* the first bytes from the opcode on (also on errors, for logs) */
	uint8_t opcode_len;      /* how many of opcode[] are valid */
};

/* Decodes the instruction at bytes[0..avail). Returns 0, or
 *   -E_NOTSUP: not one of the supported forms (out->opcode says which, for the log),
 *   -E_TRUNC:  avail ends before the instruction does (never reads past avail),
 *   -E_INVAL:  an encoding the CPU itself rejects (#UD/#GP: LOCK on MOV, longer than 15 bytes)
 *              or one with no memory operand (ModRM.mod = 3), which cannot cause an MMIO exit.
 * out->prefix_len, opcode[] and opcode_len are filled as far as decoding got, whatever the result. */
int insn_decode_mmio(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct mmio_insn *out);

/* The register's value after a load of `value` (the bytes read, low `size` bytes used) into a
 * register that held old_reg: 32-bit results zero the upper half, 8/16-bit ones keep the other
 * bits, AH..BH land in bits 15:8. SDM Vol. 1 3.4.1.1 */
uint64_t insn_apply_load(const struct mmio_insn *insn, uint64_t old_reg, uint64_t value);

/* The value a store writes, masked to insn->size: the immediate, or the register (AH..BH too).
 * gpr[] is indexed like enum guest_gpr; the caller puts RSP (kept in the VMCS) in gpr[4] if it
 * may be the source. For XCHG, call this before insn_apply_load changes the register. */
uint64_t insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[16]);

#endif
