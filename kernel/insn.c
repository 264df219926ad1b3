/* Decoder for MMIO instructions: prefixes, opcode, ModRM/SIB/displacement, immediate. */
#include "kernel/insn.h"
#include "kernel/lib.h"

/* REX bits, SDM Vol. 2A 2.2.1 */
#define REX_B 0x1
#define REX_X 0x2
#define REX_R 0x4
#define REX_W 0x8

/* Decoder state while walking the bytes; `pos` is the next byte to read. */
struct insn_cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
};

/* Whether n more bytes may be read: never past 15 bytes (#GP, SDM Vol. 2A 2.3.11), never past avail. */
static int insn_need(const struct insn_cursor *c, size_t n)
{
	if (c->pos + n > INSN_MAX_LEN)
		return -E_INVAL;
	if (c->pos + n > c->avail)
		return -E_TRUNC;
	return 0;
}

/* Little-endian immediate of n bytes, sign-extended to 64 bits, SDM Vol. 2A 2.1.4 */
static uint64_t insn_read_signed(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	if (n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ull << (8 * n);
	return v;
}

static uint64_t insn_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Bytes after ModRM for its memory operand (SIB, displacement): SDM Vol. 2A 2.1.5 Tables 2-1..2-3 */
static int insn_skip_modrm_memory(struct insn_cursor *c, uint8_t modrm, unsigned addr_size)
{
	unsigned mod = modrm >> 6, rm = modrm & 7, disp = 0;
	int err;

	if (addr_size == 2) {
		/* 16-bit addressing has no SIB; mod 0 with rm 6 is a bare disp16, Table 2-1 */
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 6))
			disp = 2;
	} else {
		if (rm == 4) {
			/* SIB follows; base 5 with mod 0 means disp32 and no base, Table 2-3 */
			err = insn_need(c, 1);
			if (err)
				return err;
			if (mod == 0 && (c->bytes[c->pos] & 7) == 5)
				disp = 4;
			c->pos++;
		}
		/* mod 0 rm 5: disp32, RIP-relative in 64-bit mode, SDM Vol. 2A 2.2.1.6 */
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 5))
			disp = 4;
	}
	err = insn_need(c, disp);
	if (err)
		return err;
	c->pos += disp;
	return 0;
}

/* Fills the opcode bytes the log shows: as many as there are, up to four. */
static void insn_note_opcode(struct mmio_insn *out, const struct insn_cursor *c)
{
	size_t n = c->avail - c->pos;

	if (n > sizeof(out->opcode))
		n = sizeof(out->opcode);
	memcpy(out->opcode, c->bytes + c->pos, n);
	out->opcode_len = (uint8_t)n;
	out->prefix_len = (uint8_t)c->pos;
}

int insn_decode_mmio(const uint8_t *bytes, size_t avail, enum insn_mode mode, struct mmio_insn *out)
{
	struct insn_cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	bool opsize_prefix = false, addrsize_prefix = false, lock = false, rep = false;
	bool rex_present = false, byte_op = false, movx = false, has_modrm = true;
	unsigned rex = 0, op_size, addr_size, imm_len = 0;
	uint8_t op, op2 = 0, modrm = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
		return -E_INVAL;

	/* Legacy prefixes in any order, then REX last; a REX followed by another prefix is ignored, SDM Vol. 2A 2.1.1, 2.2.1 */
	for (;;) {
		err = insn_need(&c, 1);
		if (err)
			return err;
		op = bytes[c.pos];
		if (mode == INSN_MODE_64 && (op & 0xf0) == 0x40) {
			rex = op & 0xf;
			rex_present = true;
			c.pos++;
			continue;
		}
		switch (op) {
		case 0x66:
			opsize_prefix = true;
			break;
		case 0x67:
			addrsize_prefix = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			break;
		case 0xf0:
			lock = true;
			break;
		case 0xf2: case 0xf3:
			rep = true;
			break;
		default:
			goto opcode;
		}
		rex = 0;
		rex_present = false;
		c.pos++;
	}

opcode:
	insn_note_opcode(out, &c);
	c.pos++;
	if (op == 0x0f) {
		err = insn_need(&c, 1);
		if (err)
			return err;
		op2 = bytes[c.pos++];
	}

	/* Operand size from mode, 66 and REX.W (W wins); address size from mode and 67, SDM Vol. 2A 2.2.1.2, Vol. 1 3.6 */
	if (mode == INSN_MODE_64) {
		op_size = (rex & REX_W) ? 8 : opsize_prefix ? 2 : 4;
		addr_size = addrsize_prefix ? 4 : 8;
	} else if (mode == INSN_MODE_32) {
		op_size = opsize_prefix ? 2 : 4;
		addr_size = addrsize_prefix ? 2 : 4;
	} else {
		op_size = opsize_prefix ? 4 : 2;
		addr_size = addrsize_prefix ? 4 : 2;
	}

	switch (op) {
	case 0x88: case 0x89: /* MOV r/m, r */
		out->write = true;
		byte_op = op == 0x88;
		break;
	case 0x8a: case 0x8b: /* MOV r, r/m */
		out->read = true;
		byte_op = op == 0x8a;
		break;
	case 0x86: case 0x87: /* XCHG r/m, r: a locked read, then a write */
		out->read = out->write = true;
		byte_op = op == 0x86;
		break;
	case 0xc6: case 0xc7: /* MOV r/m, imm (/0) */
		out->write = true;
		out->has_imm = true;
		byte_op = op == 0xc6;
		imm_len = byte_op ? 1 : op_size == 2 ? 2 : 4;
		break;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3: /* MOV AL/rAX <-> moffs, SDM Vol. 2B MOV */
		out->read = op <= 0xa1;
		out->write = !out->read;
		byte_op = !(op & 1);
		has_modrm = false;
		break;
	case 0x0f:
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return -E_NOTSUP;
		/* MOVZX/MOVSX r, r/m8 or r/m16 */
		out->read = true;
		movx = true;
		out->extend = (op2 & 0x08) ? INSN_EXT_SIGN : INSN_EXT_ZERO;
		break;
	default:
		return -E_NOTSUP;
	}
	if (rep)
		return -E_NOTSUP;
	/* LOCK is #UD except on read-modify-write forms such as XCHG, SDM Vol. 2B LOCK */
	if (lock && !(op == 0x86 || op == 0x87))
		return -E_INVAL;

	if (movx) {
		out->size = (op2 & 1) ? 2 : 1;
		out->reg_size = (uint8_t)op_size;
	} else {
		out->size = byte_op ? 1 : (uint8_t)op_size;
		out->reg_size = out->size;
	}

	if (has_modrm) {
		err = insn_need(&c, 1);
		if (err)
			return err;
		modrm = bytes[c.pos++];
		/* A register operand touches no memory, so it cannot be what exited */
		if ((modrm >> 6) == 3)
			return -E_INVAL;
		if ((op == 0xc6 || op == 0xc7) && ((modrm >> 3) & 7) != 0)
			return -E_NOTSUP;
		err = insn_skip_modrm_memory(&c, modrm, addr_size);
		if (err)
			return err;
		if (!out->has_imm) {
			unsigned r = ((modrm >> 3) & 7) | ((rex & REX_R) ? 8 : 0);

			/* Byte registers 4-7 are AH, CH, DH, BH unless a REX prefix is present, SDM Vol. 2A 2.2.1.2 */
			if (byte_op && !movx && !rex_present && r >= 4) {
				out->reg = (uint8_t)(r - 4);
				out->reg_high8 = true;
			} else {
				out->reg = (uint8_t)r;
			}
		}
	} else {
		/* moffs is as wide as the address: 8 bytes in 64-bit mode without 67, SDM Vol. 2A 2.2.1.4 */
		err = insn_need(&c, addr_size);
		if (err)
			return err;
		c.pos += addr_size;
		out->reg = 0;
	}

	if (imm_len) {
		err = insn_need(&c, imm_len);
		if (err)
			return err;
		out->imm = insn_read_signed(bytes + c.pos, imm_len);
		c.pos += imm_len;
	}
	out->length = (uint8_t)c.pos;
	/* Only the instruction's own bytes, whatever followed it in the buffer */
	if (out->opcode_len > out->length - out->prefix_len) {
		out->opcode_len = (uint8_t)(out->length - out->prefix_len);
		memset(out->opcode + out->opcode_len, 0, sizeof(out->opcode) - out->opcode_len);
	}
	return 0;
}

uint64_t insn_apply_load(const struct mmio_insn *insn, uint64_t old_reg, uint64_t value)
{
	uint64_t v = value & insn_mask(insn->size);

	if (insn->extend == INSN_EXT_SIGN && insn->size < 8 && ((v >> (8 * insn->size - 1)) & 1))
		v |= ~insn_mask(insn->size);
	/* 32-bit results zero bits 63:32; 8- and 16-bit results leave the rest, SDM Vol. 1 3.4.1.1 */
	switch (insn->reg_size) {
	case 8:
		return v;
	case 4:
		return v & 0xffffffffull;
	case 2:
		return (old_reg & ~0xffffull) | (v & 0xffff);
	default:
		if (insn->reg_high8)
			return (old_reg & ~0xff00ull) | ((v & 0xff) << 8);
		return (old_reg & ~0xffull) | (v & 0xff);
	}
}

uint64_t insn_store_value(const struct mmio_insn *insn, const uint64_t gpr[16])
{
	uint64_t v;

	if (insn->has_imm)
		v = insn->imm;
	else
		v = gpr[insn->reg & 15] >> (insn->reg_high8 ? 8 : 0);
	return v & insn_mask(insn->size);
}
