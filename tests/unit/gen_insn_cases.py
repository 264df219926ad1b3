#!/usr/bin/env python3
"""Builds the expected results for tests/unit/test_insn.c from binutils, not from the decoder.

Two sources of instructions, both described by `objdump -M suffix`:
  - the hand-written list in tests/unit/insn_cases.S, assembled by gcc/gas;
  - random encodings of the supported opcodes (random prefixes, ModRM, SIB, displacements,
    immediates; fixed seed), one per 32-byte slot of a raw binary, so objdump says how long each is.
From objdump's text (mnemonic, AT&T operands) this script derives what the decoder must report:
the length, read/write, the access size, the register and its width, sign extension, the
immediate; or the error class for forms that are unsupported, invalid or have no memory operand.

usage: gen_insn_cases.py insn_cases.S out.c
"""
import os
import random
import re
import subprocess
import sys
import tempfile

EXPECT_OK, EXPECT_NOTSUP, EXPECT_INVAL, EXPECT_ANYERR = 0, 1, 2, 3
MODES = {64: ("i386:x86-64", "x86-64"), 32: ("i386", "i386"), 16: ("i8086", "i8086")}
SIZES = {"b": 1, "w": 2, "l": 4, "q": 8}
RANDOM_PER_MODE = 2000
SLOT = 32
CANDIDATE = 15

REGS = {}
for n, name in enumerate("rax rcx rdx rbx rsp rbp rsi rdi".split()):
    REGS[name] = (n, False, 8)
    REGS["e" + name[1:]] = (n, False, 4)
    REGS[name[1:]] = (n, False, 2)
for n, name in enumerate("al cl dl bl spl bpl sil dil".split()):
    REGS[name] = (n, False, 1)
for n, name in enumerate("ah ch dh bh".split()):
    REGS[name] = (n, True, 1)
for n in range(8, 16):
    REGS["r%d" % n] = (n, False, 8)
    REGS["r%dd" % n] = (n, False, 4)
    REGS["r%dw" % n] = (n, False, 2)
    REGS["r%db" % n] = (n, False, 1)

PREFIX_WORDS = {"lock", "data16", "data32", "addr16", "addr32", "cs", "ds", "es", "ss", "fs", "gs",
                "rep", "repz", "repnz", "repe", "repne"}


def split_operands(text):
    ops, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            ops.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        ops.append(cur.strip())
    return ops


def describe(text):
    """Expected decoder result for one objdump line's text: a dict of struct insn_case fields."""
    text = text.split("#")[0].strip()
    if "(bad)" in text:
        return {"expect": EXPECT_ANYERR}
    words = text.split(None, 1)
    prefixes = []
    while words and (words[0] in PREFIX_WORDS or words[0].startswith("rex")):
        prefixes.append(words[0])
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words:
        return None
    mnem = re.sub(r"\.s$", "", words[0])  # objdump marks the swapped register-register form
    ops = split_operands(words[1]) if len(words) > 1 else []
    mov = re.fullmatch(r"(?:mov|movabs)([bwlq])", mnem)
    xchg = re.fullmatch(r"xchg([bwlq])", mnem)
    movx = re.fullmatch(r"mov([zs])([bw])([wlq])", mnem)
    if not (mov or xchg or movx):
        return {"expect": EXPECT_NOTSUP}
    if any(p.startswith("rep") for p in prefixes):
        return {"expect": EXPECT_NOTSUP}
    mem = [i for i, o in enumerate(ops) if not o.startswith("$") and not re.fullmatch(r"%\w+", o)]
    if len(mem) != 1 or len(ops) != 2:
        return {"expect": EXPECT_ANYERR}  # register-only forms cannot cause an MMIO exit
    if "lock" in prefixes and not xchg:
        return {"expect": EXPECT_INVAL}  # LOCK MOV is #UD
    other = ops[1 - mem[0]]
    case = {"expect": EXPECT_OK, "read": 0, "write": 0, "reg": 0, "high8": 0, "sign": 0,
            "has_imm": 0, "imm": 0}
    if other.startswith("$"):
        case["has_imm"] = 1
        case["imm"] = int(other[1:], 16)
    else:
        name = other[1:]
        if name not in REGS:
            return {"expect": EXPECT_NOTSUP}  # segment or control register
        case["reg"], case["high8"], case["reg_size"] = REGS[name]
    if movx:
        case["read"] = 1
        case["sign"] = 1 if movx.group(1) == "s" else 0
        case["size"] = SIZES[movx.group(2)]
        assert case["reg_size"] == SIZES[movx.group(3)], text
    else:
        case["size"] = SIZES[(mov or xchg).group(1)]
        case.setdefault("reg_size", case["size"])
        assert case["reg_size"] == case["size"], text
        if xchg:
            case["read"] = case["write"] = 1
        elif mem[0] == 0:
            case["read"] = 1
        else:
            case["write"] = 1
    if case["has_imm"]:
        case["imm"] &= (1 << (8 * case["size"])) - 1
    return case


LINE = re.compile(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$")


def objdump(args):
    out = subprocess.run(["objdump", "-M", "suffix", "--insn-width=16"] + args, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            yield int(m.group(1), 16), bytes.fromhex(m.group(2).replace(" ", "")), m.group(3)


def hand_cases(src, tmp):
    obj = os.path.join(tmp, "insn_cases.o")
    subprocess.run([os.environ.get("CC", "gcc"), "-c", src, "-o", obj], check=True)
    cases = []
    for mode, (_, dis) in MODES.items():
        for _, raw, text in objdump(["-d", "-M", dis, "-j", ".text.c%d" % mode, obj]):
            case = describe(text)
            if case is None:
                continue
            case.update(mode=mode, length=len(raw), bytes=raw, text=text)
            cases.append(case)
    return cases


def random_candidate(rng, mode):
    """Prefixes, a supported opcode and a ModRM, then random bytes up to 15: objdump sorts it out."""
    op = rng.choice([[0x88], [0x89], [0x8a], [0x8b], [0x86], [0x87], [0xc6], [0xc7],
                     [0xa0], [0xa1], [0xa2], [0xa3],
                     [0x0f, 0xb6], [0x0f, 0xb7], [0x0f, 0xbe], [0x0f, 0xbf]])
    pre = [rng.choice([0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65])
           for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4]))]
    if op[0] in (0x86, 0x87) and rng.random() < 0.4 or rng.random() < 0.03:
        pre.insert(rng.randrange(len(pre) + 1), 0xf0)
    if mode == 64 and rng.random() < 0.6:
        pre.append(0x40 | rng.randrange(16))
    body = pre + op
    if op[0] not in (0xa0, 0xa1, 0xa2, 0xa3):
        mod = 3 if rng.random() < 0.03 else rng.randrange(3)
        reg = 0 if op[0] in (0xc6, 0xc7) else rng.randrange(8)
        body.append(mod << 6 | reg << 3 | rng.randrange(8))
    body += [rng.randrange(256) for _ in range(CANDIDATE - len(body))]
    return bytes(body[:CANDIDATE])


def systematic_candidates(rng, mode):
    """Every subset of 66, 67, a segment override and LOCK, in two orders, with each REX form,
    before each supported opcode and three ModRM shapes (SIB, disp32 or RIP-relative, disp8)."""
    legacy = [0x66, 0x67, 0x64, 0xf0]
    rexes = [None, 0x40, 0x41, 0x42, 0x44, 0x48, 0x4f] if mode == 64 else [None]
    for bits in range(16):
        subset = [p for i, p in enumerate(legacy) if bits >> i & 1]
        for order in (subset, subset[::-1]) if len(subset) > 1 else (subset,):
            for rex in rexes:
                for op in ([0x88], [0x89], [0x8a], [0x8b], [0x86], [0x87], [0xc6], [0xc7],
                           [0xa0], [0xa1], [0xa2], [0xa3],
                           [0x0f, 0xb6], [0x0f, 0xb7], [0x0f, 0xbe], [0x0f, 0xbf]):
                    if 0xf0 in order and op[0] not in (0x86, 0x87):
                        continue
                    pre = order + ([rex] if rex is not None else [])
                    for modrm in ((0x04, 0x4c, 0x05, 0x46) if op[0] not in range(0xa0, 0xa4)
                                  else (None,)):
                        if modrm is not None and op[0] in (0xc6, 0xc7):
                            modrm &= 0xc7  # C6/C7 are MOV only with ModRM.reg 0
                        body = pre + op + ([modrm] if modrm is not None else [])
                        body += [rng.randrange(256) for _ in range(CANDIDATE - len(body))]
                        yield bytes(body[:CANDIDATE])


def random_cases(tmp):
    rng = random.Random(0xC1015011)
    cases = []
    for mode, (machine, _) in MODES.items():
        candidates = list(systematic_candidates(rng, mode))
        candidates += [random_candidate(rng, mode) for _ in range(RANDOM_PER_MODE)]
        blob = b"".join(c + b"\x90" * (SLOT - CANDIDATE) for c in candidates)
        path = os.path.join(tmp, "random%d.bin" % mode)
        with open(path, "wb") as f:
            f.write(blob)
        for addr, raw, text in objdump(["-D", "-b", "binary", "-m", machine, path]):
            if addr % SLOT:
                continue
            case = describe(text)
            if case is None:
                continue
            if len(raw) > CANDIDATE:
                case = {"expect": EXPECT_INVAL}  # would run past 15 bytes
            case.update(mode=mode, length=len(raw), bytes=blob[addr:addr + CANDIDATE],
                        text=text)
            cases.append(case)
    return cases


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    src, out = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        cases = hand_cases(src, tmp) + random_cases(tmp)
    lines = ["/* Generated by tests/unit/gen_insn_cases.py from objdump output; do not edit. */",
             '#include "tests/unit/insn_cases.h"', "", "const struct insn_case insn_cases[] = {"]
    for c in cases:
        raw = c["bytes"][:CANDIDATE]
        lines.append("\t{ %d, %d, %d, %d, { %s }, %d, %d, %d, %d, %d, %d, %d, %d, 0x%xull, %s }," % (
            c["mode"], c["expect"], c["length"], len(raw),
            ", ".join("0x%02x" % b for b in raw),
            c.get("read", 0), c.get("write", 0), c.get("size", 0), c.get("reg", 0),
            c.get("high8", 0), c.get("reg_size", 0), c.get("sign", 0), c.get("has_imm", 0),
            c.get("imm", 0), c_string(" ".join(c["text"].split()))))
    lines += ["};", "const unsigned insn_case_count = sizeof(insn_cases) / sizeof(insn_cases[0]);", ""]
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
