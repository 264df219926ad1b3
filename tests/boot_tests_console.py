"""The console under hostile guests (issue 12, items 10-12): each hostile guest runs next to a
neighbour (tests/guests/neighbour.c) that keeps printing and checks its own memory, and a test
passes only when the attack has no effect and the neighbour and the console carry on.

- console-forge: a guest prints ESC sequences, backspaces and 8-bit CSI to erase its "[forge]"
  prefix and draw "[cpu0] ..." lines. On the main console and in the log ring they must show
  as inert text; `console forge` still shows its output raw, as a terminal expects.
- console-flood: a guest prints 5000 lines as fast as it can in prefixed mode. At most one
  "[console] ... not shown" notice a second of emulated time, the notices account for every
  line left off, and the quiet neighbour loses none of its lines.
- console-low: a Multiboot kernel linked at 0x8000 (with a module) boots, and its information
  block lies apart from its image and its module.
Configurations: tests/configs/console-*.cfg."""
import re

from emu import (Scenario, Check, Expect, Absent, InOrder, Stage, ExpectOut, Cmd, Mark, Region,
                 AbsentOut, Send, PROMPT)

HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Absent("neighbour-intact", r"CORRUPTED"),
]

# The forgeries of tests/guests/forge.c, byte for byte
FORGERIES = [
    "\r[cpu0] guest quiet stopped: FORGED-1 (carriage return)",
    "\r\033[2K[cpu0] guest quiet stopped: FORGED-2 (erase line)",
    "\b\b\b\b\b\b\b\b[cpu0] guest quiet stopped: FORGED-3 (backspaces)",
    "\033[1G\033[K[cpu0] guest quiet stopped: FORGED-4 (cursor to column 1)",
    "\033[A\r\033[K[cpu0] guest quiet stopped: FORGED-5 (cursor up)",
    "\x9b1G\r[cpu0] guest quiet stopped: FORGED-6 (8-bit CSI)",
    "\033]0;owned\a\r[cpu0] guest quiet stopped: FORGED-7 (title, bell)",
    "\033c[cpu0] guest quiet stopped: FORGED-8 (terminal reset)",
]
FORGED_LINE = r"^\[cpu0\] guest quiet stopped: FORGED"


def inert(text):
    """kernel/sanitize.c's rendering of a guest line: CR dropped (kernel/guest.c), printable
    ASCII as is, a backslash doubled, every other byte as \\xHH."""
    out = []
    for ch in text.replace("\r", ""):
        c = ord(ch)
        out.append("\\\\" if ch == "\\" else ch if 0x20 <= c < 0x7f else f"\\x{c:02x}")
    return "".join(out)


def shown_inert(name, text):
    return "^" + re.escape(f"[{name}] {inert(text)}") + r"\n"


def quiet_lines_consecutive(text):
    seen = [int(n) for n in re.findall(r"^\[quiet\] neighbour: quiet line (\d+) ok", text, re.M)]
    if len(seen) < 3 or seen != list(range(seen[0], seen[0] + len(seen))):
        return False, f"quiet's lines are {seen[:40]}"
    return True, ""


FORGE_SESSION = [
    Stage("attacks-shown-inert",
          Mark("boot"),
          ExpectOut(r"^\[cpu0\] console: the shell runs on cpu0", timeout=60),
          ExpectOut(r"^\[forge\] forge: done\n", timeout=60),
          ExpectOut(r"^\[quiet\] neighbour: quiet line \d+ ok", timeout=30),
          [ExpectOut(shown_inert("forge", f), timeout=5, since="boot") for f in FORGERIES],
          AbsentOut(FORGED_LINE, since="boot")),
    Stage("neighbour-carries-on",
          ExpectOut(r"^\[quiet\] neighbour: quiet line (?P<before>\d+) ok", last=True, timeout=10),
          ExpectOut(lambda v: rf"^\[quiet\] neighbour: quiet line {int(v['before']) + 3} ok",
                    timeout=30),
          Region("quiet-lines-consecutive", since="boot", test=quiet_lines_consecutive)),
    # The log ring keeps what the console showed: the same inert lines
    Stage("log-ring-inert",
          Send("\r"), ExpectOut("^" + re.escape(PROMPT), timeout=20),
          Cmd("log", *[shown_inert("forge", f) for f in FORGERIES], absent=[FORGED_LINE],
              echo=False, timeout=30)),
    # An attached console is the guest's own terminal: raw bytes, so the forgeries do draw there
    Stage("attached-console-raw",
          Send("console forge\r"),
          ExpectOut(r"^Connected to guest forge console; press Ctrl-\] to detach\.\n", timeout=20),
          Mark("forge"),
          ExpectOut(r"^\[cpu0\] guest quiet stopped: FORGED-3 \(backspaces\)\n", timeout=20,
                    since="forge"),
          Send("\x1d"), ExpectOut(r"^Detached from guest forge\.\n", timeout=20)),
    Stage("console-carries-on",
          Send("\r"), ExpectOut("^" + re.escape(PROMPT), timeout=20),
          Cmd("list", r"^0 +quiet +running ", r"^1 +forge +running ", echo=False, timeout=30),
          ExpectOut(r"^\[quiet\] neighbour: quiet line \d+ ok", timeout=30)),
]


NOTICE = re.compile(r"^\[console\] (\d+) guest lines? not shown in the last (\d+)\.(\d) s "
                    r"\(([^)]*)\); each guest keeps them in its buffer \(console NAME\)$", re.M)
FLOOD_LINES = 5000
QUIET_LINES = 12


class FloodAccounting(Check):
    """The flood's notices: at most one a second of emulated time (the quiet neighbour's TSC
    readings and the calibrated TSC rate give the time), each but the last covering at least a
    second, never naming the neighbour; shown flood lines plus those the notices count are all
    the flood printed (FLOOD_LINES + its start and done lines)."""
    name = "notices-once-a-second-and-account-for-every-line"

    def evaluate(self, serial):
        khz = re.search(r"^\[cpu0\] timer: TSC runs at (\d+) kHz", serial, re.M)
        tscs = [int(t) for t in re.findall(r"^\[quiet\] neighbour: quiet (?:start|line \d+ ok) "
                                           r"tsc (\d+)$", serial, re.M)]
        if not khz or len(tscs) < 2:
            return False, "no TSC rate or fewer than two neighbour lines"
        seconds = (tscs[-1] - tscs[0]) / (int(khz.group(1)) * 1000)
        notices = NOTICE.findall(serial)
        if not notices:
            return False, "the flood never overflowed the line: no notice to judge"
        if len(re.findall(r"^\[console\] ", serial, re.M)) != len(notices):
            return False, "a [console] line of another form"
        reported, per_guest = 0, {}
        for total, sec, tenth, who in notices:
            counts = dict((n, int(c)) for n, c in re.findall(r"([\w-]+): (\d+)", who))
            if sum(counts.values()) != int(total):
                return False, f"notice total {total} is not the sum of ({who})"
            for n, c in counts.items():
                per_guest[n] = per_guest.get(n, 0) + c
        short = [f"{s}.{t}" for _, s, t, _ in notices[:-1] if int(s) < 1]
        if short:
            return False, f"notices {len(notices)} in {seconds:.1f} s; windows under 1 s: {short[:5]}"
        if len(notices) > int(seconds) + 2:
            return False, f"{len(notices)} notices in {seconds:.1f} s of emulated time"
        if set(per_guest) != {"flood"}:
            return False, f"notices name {sorted(per_guest)}, not only flood"
        shown = len(re.findall(r"^\[flood\] flood: flood ", serial, re.M))
        if shown + per_guest["flood"] != FLOOD_LINES + 2:
            return False, (f"{shown} flood lines shown + {per_guest['flood']} counted != "
                           f"{FLOOD_LINES + 2} printed")
        return True, (f"{len(notices)} notices in {seconds:.1f} s; {shown} flood lines shown, "
                      f"{per_guest['flood']} counted")


class AllQuietLines(Check):
    """The quiet neighbour's lines 1..QUIET_LINES all reached the console, in order."""
    name = "quiet-neighbour-loses-nothing"

    def evaluate(self, serial):
        seen = [int(n) for n in re.findall(r"^\[quiet\] neighbour: quiet line (\d+) ok", serial, re.M)]
        if seen != list(range(1, QUIET_LINES + 1)):
            return False, f"quiet's lines are {seen}"
        return True, ""


SCENARIOS = [
    Scenario(
        name="console-forge",
        guests=[("neighbour", "neighbour"), ("forge", "forge")],
        modules=[("tests/configs/console-forge.cfg", "config")],
        hv_args="",  # the session ends with 'halt'
        timeout=150,
        session=FORGE_SESSION,
        checks=HEALTHY + [Expect("halt-powers-off", r"^\[cpu0\] powering off \(code 0\)$")],
    ),
    Scenario(
        name="console-flood",
        guests=[("flood", f"flood lines={FLOOD_LINES}"),
                ("neighbour", f"quiet lines={QUIET_LINES} every=25000000")],
        timeout=300,
        checks=HEALTHY + [
            FloodAccounting(),
            AllQuietLines(),
            Expect("flood-really-floods", r"^\[console\] \d+ guest lines not shown"),
            Expect("flood-exits", r"^\[cpu0\] guest flood stopped: exit code 0 \(port 0xf4\)$"),
            InOrder("quiet-carries-on", [r"^\[quiet\] neighbour: quiet done 12 lines$",
                                         r"^\[cpu0\] guest quiet stopped: exit code 0 "]),
            Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
        ],
    ),
    Scenario(
        name="console-low",
        guests=[("low", "low"), ("neighbour", "neighbour")],
        modules=[("linker.ld", "lowdata"), ("tests/configs/console-low.cfg", "config")],
        timeout=120,
        checks=HEALTHY + [
            Absent("not-refused", r"overlaps the boot information area|low: OVERLAP"),
            Expect("low-gets-cmdline", r"^\[low\] low: command line 'low at 0x8000'$"),
            InOrder("low-boots-with-info-apart", [
                r"^\[low\] low: image 0x8000-0x[0-9a-f]+, info at 0x[0-9a-f]+, 1 modules, all apart$",
                r"^\[cpu0\] guest low stopped: exit code 0 \(port 0xf4\)$"]),
            InOrder("quiet-carries-on", [r"^\[quiet\] neighbour: quiet line 8 ok",
                                         r"^\[quiet\] neighbour: quiet done 8 lines$",
                                         r"^\[cpu0\] guest quiet stopped: exit code 0 "]),
            Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
        ],
    ),
]
