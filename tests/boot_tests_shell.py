"""The management shell driven through COM1 (issue 4): a scripted session using every command
against running guests, bad input, and answers while every guest spins. Each Stage of a session
is one check; see the interactive-session part of tests/emu.py. Configurations: tests/configs/shell*.cfg."""
import os
import random
import re
from dataclasses import dataclass, field

from emu import (Scenario, Check, Expect, Absent, InOrder, Stage, Send, ExpectOut, Cmd, Mark,
                 Region, AbsentOut, Assert, PROMPT, SERIAL_TIMING, serial_timing)

HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Expect("halt-powers-off", r"^\[cpu0\] powering off \(code 0\)$"),
]

COMMANDS = ["help", "list", "info", "start", "stop", "restart", "pause", "resume", "console", "log",
            "mem", "cpus", "reboot", "halt"]
GUEST_COMMANDS = ["info", "start", "stop", "restart", "pause", "resume", "console"]


def one_line(text):
    """A reply of exactly this one line."""
    return r"\A" + text + r"\n\Z"


def fmt_size(n):
    """The shell's sizes (kernel/shell_cmds.c shell_fmt_size): '8 MiB', '255.5 MiB'."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    u = len(units) - 1
    unit = 1 << (10 * u)
    while u > 0 and (n // unit == 0 or (n % unit and n // unit < 10)):
        unit >>= 10
        u -= 1
    tenth = (n % unit) * 10 // unit if u else 0
    return f"{n // unit}.{tenth} {units[u]}" if tenth else f"{n // unit} {units[u]}"


def boot_map(*names):
    """Waits for the boot partition map and keeps each guest's range as NAME_base, NAME_end."""
    return [ExpectOut(rf"^\[cpu0\]   guest {n} +0x(?P<{n}_base>[0-9a-f]+)-0x(?P<{n}_end>[0-9a-f]+) ")
            for n in names]


def host_range(v, name):
    base, end = int(v[f"{name}_base"], 16), int(v[f"{name}_end"], 16)
    return f"0x{base:016x}-0x{end - 1:016x}"


def attach(name):
    """Types 'console NAME' and waits for the banner; Mark(NAME) is where the guest's output
    (the replay of its buffer, then what it prints) begins."""
    return [Send(f"console {name}\r"),
            ExpectOut(rf"^Connected to guest {name} console; press Ctrl-\] to detach\.\n", timeout=20),
            Mark(name)]


def detach(name):
    return [Send("\x1d"), ExpectOut(rf"^Detached from guest {name}\.\n", timeout=20),
            ExpectOut("^" + re.escape(PROMPT), timeout=20)]


def ticks(text, what="echo"):
    return [int(n) for n in re.findall(rf"^{what}: tick (\d+)$", text, re.MULTILINE)]


def counts_from_one(what):
    """The guest's ticks in the region are 1, 2, 3, ... (one boot, nothing lost or repeated)."""
    def test(text):
        seen = ticks(text, what)
        if not seen or seen != list(range(1, len(seen) + 1)):
            return False, f"{what} ticks are {seen[:40]}"
        boots = len(re.findall(r"^(?:echo: ready|Hello from Cloison guest)$", text, re.MULTILINE))
        return boots == 1, f"{boots} boots in the replay"
    return test


def last_tick_before_detach(name, var):
    """The last 'echo: tick N' before 'Detached from guest NAME.' (the replay ends there)."""
    return ExpectOut(rf"^echo: tick (?P<{var}>\d+)\n(?:(?!echo: tick)[\s\S])*?"
                     rf"^Detached from guest {name}\.\n", timeout=20)


def guest_exit_then_prompt(name, code, since):
    """The guest's exit logged after Mark(since) (before or after the reply's prompt: the guest
    runs on), and the prompt the console draws again below it."""
    return ExpectOut(rf"^\[cpu0\] guest {name} stopped: exit code {code} \(port 0xf4\)\n"
                     rf"(?:.*\n)*?{re.escape(PROMPT)}", timeout=30, since=since)


def list_row(id_, name, state, cpus, mem, exits_var=None):
    exits = rf"(?P<{exits_var}>\d+)" if exits_var else r"\d+"
    uptime = r"-" if state.startswith("stopped") else r"\d\d:\d\d:\d\d"
    return rf"^{id_} +{name} +{state} +{cpus} +{re.escape(mem)} +{uptime} +{exits}\n"


def grew(a, b, at_least=1):
    return lambda v: (int(v[b]) - int(v[a]) >= at_least, f"{v[a]} -> {v[b]}")


# ---------------------------------------------------------------------------------------------
# The scripted session: every command, one CPU (tests/configs/shell.cfg: alpha demo forever,
# beta echo, gamma demo that exits 42, not started).

LIST_HEADER = r"^ID +NAME +STATE +CPUS +MEMORY +UPTIME +VM EXITS\n"

SESSION = [
    Stage("prompt",
          ExpectOut(r"^\[cpu0\] memory: (?P<usable_kib>\d+) KiB usable RAM", timeout=60),
          boot_map("alpha", "beta", "gamma"),
          ExpectOut(r"^\[cpu0\] console: the shell runs on cpu0, polling COM1 every 1000 us, "
                    r"every 20000 us when quiet; type 'help'\n", timeout=60),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    Stage("help",
          Cmd("help", r"\ACommands:\n",
              *[rf"^  {c} +(\[COMMAND\]|GUEST|\[LINES\]|\[STATE\])? +\S.*\n" for c in COMMANDS],
              r"^GUEST is a guest's name or numeric id \(see 'list'\)\.\n\Z")),
    Stage("help-command",
          [Cmd(f"help {c}", rf"\Ausage: {c}( GUEST| \[COMMAND\]| \[LINES\]| \[STATE\])?\n\S[^\n]*\n") for c in COMMANDS],
          Cmd("help pause", r"\Ausage: pause GUEST\nTakes a guest off its CPUs but keeps its state; "
              r"'resume' continues it where it was\.\n\Z"),
          Cmd("help nosuch", one_line(r"unknown command 'nosuch'; type 'help' for the list"))),
    Stage("list",
          Cmd("list", LIST_HEADER,
              list_row(0, "alpha", "running", 0, "8 MiB"),
              list_row(1, "beta", "running", 0, "4 MiB"),
              list_row(2, "gamma", r"stopped \(not started\)", 0, "4 MiB"),
              r"^3 guests: 2 running, 0 paused, 0 halted, 1 stopped; 16 MiB of guest RAM\n\Z")),
    # Attach to the echo guest: the banner, the replay of its buffer, a typed line echoed back,
    # Ctrl-] detaches; a line typed at the shell before never reached it.
    Stage("console",
          Cmd("hello-from-shell", one_line(r"unknown command 'hello-from-shell'; type 'help' for the list")),
          attach("beta"),
          ExpectOut(r"^echo: ready\n", timeout=20),
          ExpectOut(r"^echo: tick 3\n", timeout=30),
          Send("typed in console\r"),
          ExpectOut(r"^echo: got 'typed in console'\n", timeout=20),
          Send("second line\r"),
          ExpectOut(r"^echo: got 'second line'\n", timeout=20),
          AbsentOut(r"hello-from-shell", since="beta"),
          AbsentOut(r"^echo: got '(?!typed in console'|second line')", since="beta"),
          Region("the replay starts at the guest's boot", "beta",
                 lambda t: (t.startswith("echo: ready\n"), repr(t[:80]))),
          detach("beta"),
          Cmd("list", LIST_HEADER, list_row(1, "beta", "running", 0, "4 MiB"))),
    Stage("info",
          Cmd("info beta", r"\AGuest 1: beta\n",
              r"^  state +running\n",
              r"^  image +echo\n",
              r"^  cmdline +beta tick=4000000\n",
              r"^  CPUs +0\n",
              lambda v: rf"^  memory +4 MiB at host {host_range(v, 'beta')}\n",
              r"^  uptime +\d\d:\d\d:\d\d\n",
              r"^  scheduler +weight 256, \d+\.\d% of its CPUs, \d+ ticks run, \d+ switches\n",
              r"^  console +(?P<beta_buffered>\d+) bytes buffered, 0 dropped\n",
              r"^Registers:\n  eax=[0-9a-f]{8}  ebx=[0-9a-f]{8}  ecx=[0-9a-f]{8}  edx=[0-9a-f]{8}\n",
              r"^  eip=00[0-9a-f]{6}  eflags=[0-9a-f]{8}\n",
              r"^  cr0=[0-9a-f]{8}  cr3=[0-9a-f]{8}  cr4=[0-9a-f]{8}\n",
              r"^VM exits: [1-9]\d*\n",
              r"^  I/O instruction +[1-9]\d*\n",
              r"^Last exit: [A-Za-z].* \(reason \d+\), qualification 0x[0-9a-f]+\n\Z"),
          Assert("beta's buffered console output is counted", lambda v: int(v["beta_buffered"]) > 40),
          Cmd("info 1", r"\AGuest 1: beta\n", r"^  image +echo\n"),
          Cmd("info 2", r"\AGuest 2: gamma\n",
              r"^  state +stopped: not started \(autostart = no\)\n",
              r"^  cmdline +gamma\n",
              r"^  uptime +-\n",
              r"^Registers: none yet \(the guest has not run\)\n",
              r"^VM exits: none\n\Z")),
    # gamma (demo) runs, prints and exits with 42 on its own
    Stage("start",
          Mark("start"),
          Cmd("start gamma", r"\AGuest gamma started\.\n"),
          guest_exit_then_prompt("gamma", 42, "start")),
    # The log line above erased the prompt and the console redrew it: the redrawn prompt must
    # be empty, so what is typed next shows as typed.
    Stage("prompt-clean-after-guest-log",
          Cmd("help list", r"\Ausage: list \[STATE\]\n")),
    Stage("start-results",
          Cmd("list", list_row(2, "gamma", r"stopped \(exit 42\)", 0, "4 MiB")),
          Cmd("info gamma", r"^  state +stopped: exit code 42 \(port 0xf4\)\n", r"^VM exits: [1-9]"),
          Cmd("start alpha", one_line(r"guest alpha is already running")),
          Cmd("start 0", one_line(r"guest alpha is already running"))),
    # beta's 'echo: tick N' counter survives pause/resume: it makes no VM exit while paused
    # (alpha's exits grow meanwhile) and counts on from where it was.
    Stage("pause-resume",
          attach("beta"), ExpectOut(r"^echo: tick 3\n", timeout=30), detach("beta"),
          Cmd("pause beta", one_line(r"Guest beta paused\.")),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB", "alpha_x0"),
              list_row(1, "beta", "paused", 0, "4 MiB", "beta_x0")),
          Cmd("info beta", r"^  state +paused\n", r"^Registers:\n  eax="),
          Cmd("pause beta", one_line(r"guest beta is already paused")),
          Cmd("start beta", one_line(r"guest beta is paused; use 'resume beta'")),
          attach("beta"), ExpectOut(r"^echo: ready\n", timeout=20), Send("\x1d"),
          last_tick_before_detach("beta", "paused_at"),
          ExpectOut("^" + re.escape(PROMPT), timeout=20),
          attach("alpha"), ExpectOut(r"^demo: tick 2\n", timeout=30), detach("alpha"),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB", "alpha_x1"),
              list_row(1, "beta", "paused", 0, "4 MiB", "beta_x1")),
          Assert("beta made no VM exit while paused", lambda v: (v["beta_x0"] == v["beta_x1"],
                                                                 f"{v['beta_x0']} -> {v['beta_x1']}")),
          Assert("alpha ran meanwhile", grew("alpha_x0", "alpha_x1", 50)),
          Cmd("resume beta", one_line(r"Guest beta resumed\.")),
          Cmd("resume beta", one_line(r"guest beta is not paused")),
          Cmd("list", list_row(1, "beta", "running", 0, "4 MiB")),
          attach("beta"),
          ExpectOut(lambda v: rf"^echo: tick {int(v['paused_at']) + 2}\n", timeout=30),
          Region("ticks count on from 1 across the pause", "beta", counts_from_one("echo")),
          detach("beta")),
    # stop scrubs and stops; start boots afresh: the counter starts from 1 again
    Stage("stop-start",
          Cmd("stop beta", r"\A\[cpu0\] guest beta stopped: stop command\n", r"^Guest beta stopped\.\n\Z"),
          Cmd("list", list_row(1, "beta", r"stopped \(stop command\)", 0, "4 MiB")),
          Cmd("info beta", r"^  state +stopped: stop command\n", r"^  uptime +-\n"),
          Cmd("stop beta", one_line(r"guest beta is not running")),
          Cmd("pause beta", one_line(r"guest beta is not running")),
          Cmd("resume beta", one_line(r"guest beta is not paused")),
          Cmd("start beta", one_line(r"Guest beta started\.")),
          Cmd("list", list_row(1, "beta", "running", 0, "4 MiB")),
          attach("beta"),
          ExpectOut(r"^echo: tick 2\n", timeout=30),
          Region("the counter starts again from 1", "beta", counts_from_one("echo")),
          Region("none of the earlier run's ticks is replayed", "beta",
                 lambda t: (max(ticks(t)) < 10, f"ticks {ticks(t)}")),
          detach("beta")),
    Stage("restart",
          Cmd("restart alpha", r"\A\[cpu0\] guest alpha stopped: stop command\n",
              r"^Guest alpha restarted\.\n\Z"),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB")),
          attach("alpha"),
          ExpectOut(r"^demo: running forever\n", timeout=30),
          Region("alpha booted once, afresh", "alpha",
                 lambda t: (t.startswith("Hello from Cloison guest\n") and t.count("Hello from") == 1,
                            repr(t[:60]))),
          detach("alpha"),
          Mark("restart"),
          Cmd("restart gamma", r"\AGuest gamma restarted\.\n"),
          guest_exit_then_prompt("gamma", 42, "restart")),
    Stage("log",
          Cmd("log", r"\A\[cpu0\] Cloison 0\.1, a partitioning hypervisor",
              r"^\[cpu0\] console: the shell runs on cpu0",
              r"^\[cpu0\] guest gamma stopped: exit code 42",
              r"^\[cpu0\] guest beta stopped: stop command\n",
              r"^\[cpu0\] guest alpha stopped: stop command\n",
              r"^\[cpu0\] guest gamma stopped: exit code 42 \(port 0xf4\)\n\Z",
              absent=[r"^ID +NAME", r"^cloison>"]),
          Cmd("log 2", r"\A\[cpu0\] guest alpha stopped: stop command\n"
                       r"\[cpu0\] guest gamma stopped: exit code 42 \(port 0xf4\)\n\Z"),
          Cmd("log 1", one_line(r"\[cpu0\] guest gamma stopped: exit code 42 \(port 0xf4\)")),
          Cmd("log 0", one_line(r"usage: log \[LINES\]"))),
    Stage("mem",
          Cmd("mem",
              lambda v: rf"\Atotal +{re.escape(fmt_size(int(v['usable_kib']) * 1024))}\n",
              r"^hypervisor +\d+(\.\d)? [KM]iB\n",
              r"^guests +16 MiB in 3 partitions\n",
              r"^free +\d+(\.\d)? MiB\n",
              r"^\nID +GUEST +HOST RANGE +SIZE\n",
              lambda v: rf"^0 +alpha +{host_range(v, 'alpha')} +8 MiB\n",
              lambda v: rf"^1 +beta +{host_range(v, 'beta')} +4 MiB\n",
              lambda v: rf"^2 +gamma +{host_range(v, 'gamma')} +4 MiB\n\Z")),
    Stage("cpus",
          Cmd("cpus", r"\ACPU +APIC +STATE +IDLE +GUESTS\n",
              r"^0 +0 +online +\d+\.\d% +alpha \d+\.\d%, beta \d+\.\d%, gamma \d+\.\d%\n",
              r"^1 CPU, 1 online; 3 guests placed\n\Z")),
    # alpha and beta share cpu0, so the scheduler has put each on it many times by now
    Stage("info-counts-switches",
          Cmd("info alpha", r"^  scheduler +weight 256, \d+\.\d% of its CPUs, \d+ ticks run, "
                            r"[1-9]\d* switches\n")),
    Stage("halt",
          Send("halt\r"),
          ExpectOut(r"^Halting: stopping all guests\.\n", timeout=20),
          # The last bytes may not make it out of the UART before the machine is off
          ExpectOut(r"^\[cpu0\] powering off \(code 0\)", timeout=20)),
]

# ---------------------------------------------------------------------------------------------
# Bad input: every line gets one clear line back (or nothing), the prompt comes back clean and a
# valid command works after it.


def random_input(seed=4, size=600):
    """Random bytes with line ends among them, none of whose lines starts with a command name."""
    rng = random.Random(seed)
    while True:
        data = bytes(rng.choice(b"\r\n") if rng.random() < 0.04 else rng.randrange(256)
                     for _ in range(size))
        words = [re.split(rb"[^a-z]", line, maxsplit=1)[0] for line in re.split(rb"[\r\n]", data)]
        if not any(w.decode() in COMMANDS for w in words):
            return data + b"\x03"  # Ctrl-C ends a half line or escape sequence


ALLOWED_LINE = re.compile(r"^(cloison> .*|unknown command '[ -~]*'; type 'help' for the list|"
                          r"line too long \(at most 128 characters\)|)$")


def only_clear_lines(text):
    # The first line is the rest of the prompt's line the input began on
    bad = [line for line in text.split("\n")[1:] if not ALLOWED_LINE.match(line)]
    return not bad, f"unexpected lines {bad[:5]!r}"


CONTROL = "".join(chr(c) for c in range(1, 32) if c not in (3, 8, 10, 13, 21, 23, 27)) + "\x80\xfe\xff"

BAD_INPUT = [
    Stage("prompt", ExpectOut("^" + re.escape(PROMPT), timeout=60)),
    # First, while the history holds nothing a stray up-arrow could run again
    Stage("random-bytes",
          Mark("random"),
          Send(random_input()),
          # Everything before this line has been answered once its answer shows
          Send("end-of-random\r"),
          ExpectOut(r"^unknown command 'end-of-random'; type 'help' for the list\n", timeout=30),
          ExpectOut("^" + re.escape(PROMPT)),
          Region("each line answered with one clear line or ignored", "random", only_clear_lines),
          Cmd("list", LIST_HEADER)),
    Stage("unknown-command",
          Cmd("frobnicate", one_line(r"unknown command 'frobnicate'; type 'help' for the list")),
          Cmd("LIST", one_line(r"unknown command 'LIST'; type 'help' for the list")),
          Cmd("  list-all  now", one_line(r"unknown command 'list-all'; type 'help' for the list")),
          Cmd("list", LIST_HEADER)),
    Stage("missing-arguments",
          [Cmd(c, one_line(rf"usage: {c} GUEST")) for c in GUEST_COMMANDS],
          Cmd("list", LIST_HEADER)),
    Stage("extra-arguments",
          [Cmd(f"{c} x", one_line(rf"usage: {c}")) for c in ["mem", "cpus"]],
          Cmd("list x y", one_line(r"usage: list \[STATE\]")),
          Cmd("list x", one_line(r"list: unknown filter 'x' \(running, stopped, paused, halted or scrubbing\)")),
          Cmd("halt now", one_line(r"usage: halt")),
          Cmd("reboot now", one_line(r"usage: reboot")),
          Cmd("info alpha beta", one_line(r"usage: info GUEST")),
          Cmd("help list info", one_line(r"usage: help \[COMMAND\]")),
          Cmd("log 1 2", one_line(r"usage: log \[LINES\]")),
          Cmd("log many", one_line(r"usage: log \[LINES\]")),
          Cmd("log -1", one_line(r"usage: log \[LINES\]")),
          Cmd("stop " + " ".join(["alpha"] * 20), one_line(r"usage: stop GUEST")),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB"))),
    Stage("unknown-guest",
          Cmd("info nosuch", one_line(r"no guest named 'nosuch' \(see 'list'\)")),
          Cmd("stop alph", one_line(r"no guest named 'alph' \(see 'list'\)")),
          Cmd("start 7", one_line(r"no guest with id 7 \(see 'list'\)")),
          Cmd("pause 3", one_line(r"no guest with id 3 \(see 'list'\)")),
          Cmd("console 99999999999999999999",
              one_line(r"no guest with id 99999999999999999999 \(see 'list'\)")),
          Cmd("resume 'alpha'", one_line(r"no guest named ''alpha'' \(see 'list'\)")),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB"))),
    Stage("wrong-state",
          Cmd("start alpha", one_line(r"guest alpha is already running")),
          Cmd("resume alpha", one_line(r"guest alpha is not paused")),
          Cmd("stop gamma", one_line(r"guest gamma is not running")),
          Cmd("pause gamma", one_line(r"guest gamma is not running")),
          Cmd("pause alpha", one_line(r"Guest alpha paused\.")),
          Cmd("pause alpha", one_line(r"guest alpha is already paused")),
          Cmd("start alpha", one_line(r"guest alpha is paused; use 'resume alpha'")),
          Cmd("resume alpha", one_line(r"Guest alpha resumed\.")),
          Cmd("list", list_row(0, "alpha", "running", 0, "8 MiB"))),
    Stage("line-too-long",
          Cmd("x" * 200, one_line(r"line too long \(at most 128 characters\)"),
              echo=re.escape("x" * 128) + r"\n"),
          Cmd("help" + " " * 125, one_line(r"line too long \(at most 128 characters\)"),
              echo=r"help *\n"),
          Cmd("list" + " " * 124, LIST_HEADER),  # exactly 128 characters fit
          Cmd("list", LIST_HEADER)),
    Stage("control-characters",
          Cmd(CONTROL + "list", LIST_HEADER, echo=r"list\n"),
          Cmd("li" + CONTROL + "st", LIST_HEADER, echo=r"list\n"),
          Cmd("\x1b[2J\x1b[1;5C\x1bOP\x1b[15~list", LIST_HEADER, echo=r"list\n"),
          Cmd("list", LIST_HEADER)),
    Stage("line-editing",
          Cmd("lisx\x7ft", LIST_HEADER, echo=r"list *\n"),
          Cmd("nonsense words\x15help list", r"\Ausage: list \[STATE\]\n", echo=r"help list *\n"),
          Cmd("help bogus\x17list", r"\Ausage: list \[STATE\]\n", echo=r"help list *\n"),
          Cmd("\x1b[A", r"\Ausage: list \[STATE\]\n", echo=r"help list *\n"),
          Send("half typed\x03"),
          ExpectOut(r"half typed\^C\n"),
          ExpectOut("^" + re.escape(PROMPT)),
          Cmd("list", LIST_HEADER)),
    Stage("reboot",
          Send("reboot\r"),
          ExpectOut(r"^Rebooting\.\n", timeout=20),
          ExpectOut(r"^\[cpu0\] Cloison 0\.1, a partitioning hypervisor", timeout=60),
          ExpectOut("^" + re.escape(PROMPT), timeout=60),
          Cmd("list", LIST_HEADER, list_row(0, "alpha", "running", 0, "8 MiB"))),
]

# ---------------------------------------------------------------------------------------------
# Responsiveness on the console's own CPU (tests/configs/shell-responsive.cfg): two guests spin on
# cpu0 with interrupts off. Bochs logs when each typed byte reaches COM1 and when the CPU writes
# each byte out (emu.SERIAL_TIMING), so the answers are timed in emulated time.

ANSWER_MS_MAX = 5  # emulated; the console polls every 1 ms while in use (20 ms when quiet)
# Most commands look at every guest, so a guest running on another CPU must answer too
ANSWER_REMOTE_MS_MAX = 25


@dataclass
class AnswersWithin(Check):
    """Every line typed is answered (the CPU writes the first byte to COM1 after its Enter
    arrived) and each of its characters echoed within max_ms of emulated time; lines matching a
    pattern of slow (regex: ms), such as those that scrub a guest's RAM, get that bound instead
    (their last characters may be read with the Enter, and output waits while a command works).
    Keys typed to an attached guest are the guest's business. Bochs ticks at ips."""
    name: str
    max_ms: float
    slow: dict = field(default_factory=dict)
    ips: int = 50_000_000

    def evaluate(self, serial):
        path = getattr(serial, "emulator_log", "")
        if not path or not os.path.exists(path):
            return False, "no emulator log with COM1 timing"
        events = serial_timing(path)
        lines, echoes, over, typed, waits, attached = [], [], [], bytearray(), [], False
        for i, (tick, way, byte) in enumerate(events):
            if way != "in" or (attached and byte != 0x1d) or \
                    (not attached and not (byte == 0x0d or 0x20 <= byte < 0x7f)):
                continue
            out = next((t for t, w, _ in events[i + 1:] if w == "out"), None)
            if out is None:
                continue
            ms = (out - tick) * 1000 / self.ips
            if 0x20 <= byte < 0x7f:
                typed.append(byte)
                waits.append(ms)
                continue
            line = "Ctrl-]" if attached else typed.decode()
            attached = not attached and line.startswith("console ")
            bound = next((b for p, b in self.slow.items() if re.match(p, line)), self.max_ms)
            lines.append(ms)
            echoes += waits
            if ms > bound or max(waits, default=0) > bound:
                over.append(f"'{line}' answered after {ms:.2f} ms, its characters echoed after at "
                            f"most {max(waits, default=0):.2f} ms (bound {bound} ms)")
            typed.clear()
            waits = []
        if not lines:
            return False, "no typed line found in the COM1 timing"
        why = (f"{len(lines)} lines answered after at most {max(lines):.2f} ms (median "
               f"{sorted(lines)[len(lines) // 2]:.2f} ms), {len(echoes)} characters echoed after"
               f" at most {max(echoes, default=0):.2f} ms of emulated time")
        return not over, why + (f"; too slow: {over[:5]}" if over else "")


# start, stop and restart scrub the guest's RAM (2 MiB: about 5 ms of Bochs ticks each time),
# maybe on another CPU that has to be reached first
SLOW_COMMANDS = {r"(start|stop|restart) ": 100}

RESPONSIVE = [
    Stage("prompt",
          ExpectOut(r"^\[c0\] counter: c0 start report=\d+ reports=0 tsc \d+\n", timeout=60),
          ExpectOut(r"^\[s0\] spin: spinning\n", timeout=60),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    # Guest lines may land amid the shell's (prefixed mode): no echo is asked for
    Stage("commands-while-spinning",
          [Cmd("help list", r"^usage: list \[STATE\]\n", echo=False, timeout=10) for _ in range(3)],
          Cmd("list", LIST_HEADER, r"^0 +c0 +running ", r"^1 +s0 +running ", echo=False, timeout=10),
          Cmd("info c0", r"^  state +running\n", r"^Registers:\n", echo=False, timeout=10),
          Cmd("cpus", r"^0 +0 +online +\d+\.\d% +c0 \d+\.\d%, s0 \d+\.\d%\n", echo=False, timeout=10),
          Cmd("pause s0", r"^Guest s0 paused\.\n", echo=False, timeout=10),
          Cmd("resume s0", r"^Guest s0 resumed\.\n", echo=False, timeout=10),
          Cmd("restart s0", r"^Guest s0 restarted\.\n", echo=False, timeout=10),
          # In prefixed mode the log holds the guests' lines too
          Cmd("log 3", r"^\[cpu0\] guest s0 stopped: stop command\n", echo=False, timeout=10)),
]

# ---------------------------------------------------------------------------------------------
# Two CPUs (tests/configs/shell-smp.cfg): the console on cpu0 manages guests that spin on cpu1;
# every guest spins (s0 on cpu0; c1, and e1 polling its UART, on cpu1).

SMP_WAIT = 20  # seconds of wall time for an answer (two emulated CPUs run about 5x slower)


def smp_cmd(line, *patterns, **kw):
    return Cmd(line, *patterns, timeout=SMP_WAIT, **kw)


def regs_line(var):
    """The first line of a 32-bit guest's registers, kept as var."""
    return (rf"^Registers:\n(?P<{var}>  eax=[0-9a-f]{{8}}  ebx=[0-9a-f]{{8}}  ecx=[0-9a-f]{{8}}"
            rf"  edx=[0-9a-f]{{8}})\n")


SMP = [
    Stage("prompt",
          ExpectOut(r"^\[cpu0\] smp: 2 of 2 CPUs running\n", timeout=120),
          ExpectOut("^" + re.escape(PROMPT), timeout=60)),
    Stage("list-and-cpus",
          smp_cmd("list", LIST_HEADER,
                  list_row(0, "s0", "running", 0, "2 MiB"),
                  list_row(1, "c1", "running", 1, "2 MiB"),
                  list_row(2, "e1", "running", 1, "2 MiB"),
                  r"^3 guests: 3 running, 0 paused, 0 halted, 0 stopped; 6 MiB of guest RAM\n\Z"),
          smp_cmd("cpus", r"\ACPU +APIC +STATE +IDLE +GUESTS\n",
                  r"^0 +0 +online +\d+\.\d% +s0 \d+\.\d%\n",
                  r"^1 +1 +online +\d+\.\d% +c1 \d+\.\d%, e1 \d+\.\d%\n",
                  r"^2 CPUs, 2 online; 3 guests placed\n\Z")),
    Stage("info-remote",
          smp_cmd("info c1", r"\AGuest 1: c1\n", r"^  state +running\n", r"^  CPUs +1\n",
                  r"^Registers:\n  eax=[0-9a-f]{8}", r"^VM exits: [1-9]"),
          smp_cmd("info 2", r"\AGuest 2: e1\n", r"^  state +running\n", r"^  CPUs +1\n",
                  r"^  I/O instruction +[1-9]")),
    Stage("console-remote",
          attach("e1"),
          ExpectOut(r"^echo: tick 2\n", timeout=SMP_WAIT),
          Send("over to cpu1\r"),
          ExpectOut(r"^echo: got 'over to cpu1'\n", timeout=SMP_WAIT),
          detach("e1")),
    Stage("pause-resume-remote",
          smp_cmd("pause e1", one_line(r"Guest e1 paused\.")),
          smp_cmd("list", list_row(2, "e1", "paused", 1, "2 MiB", "e1_x0")),
          attach("e1"), ExpectOut(r"^echo: ready\n", timeout=SMP_WAIT), Send("\x1d"),
          last_tick_before_detach("e1", "paused_at"),
          ExpectOut("^" + re.escape(PROMPT), timeout=SMP_WAIT),
          # c1, alone on cpu1 now, never stops spinning: each look at it fetches its registers
          # from cpu1, so two looks differ
          smp_cmd("info c1", regs_line("regs_a")),
          smp_cmd("info c1", regs_line("regs_b")),
          Assert("c1's registers are fetched live", lambda v: (v["regs_a"] != v["regs_b"], v["regs_a"])),
          smp_cmd("list", list_row(2, "e1", "paused", 1, "2 MiB", "e1_x1")),
          Assert("e1 made no VM exit while paused", lambda v: (v["e1_x0"] == v["e1_x1"],
                                                               f"{v['e1_x0']} -> {v['e1_x1']}")),
          smp_cmd("resume e1", one_line(r"Guest e1 resumed\.")),
          attach("e1"),
          ExpectOut(lambda v: rf"^echo: tick {int(v['paused_at']) + 2}\n", timeout=SMP_WAIT),
          Region("ticks count on from 1 across the pause", "e1", counts_from_one("echo")),
          detach("e1")),
    Stage("stop-start-remote",
          smp_cmd("stop e1", r"^\[cpu1\] guest e1 stopped: stop command\n", r"^Guest e1 stopped\.\n\Z"),
          smp_cmd("list", list_row(2, "e1", r"stopped \(stop command\)", 1, "2 MiB")),
          smp_cmd("start e1", one_line(r"Guest e1 started\.")),
          attach("e1"),
          ExpectOut(r"^echo: tick 2\n", timeout=SMP_WAIT),
          Region("the counter starts again from 1", "e1", counts_from_one("echo")),
          detach("e1")),
    # c1 spins with interrupts off: only an exit the hypervisor forces takes it off cpu1
    Stage("pause-spinning-remote",
          smp_cmd("pause c1", one_line(r"Guest c1 paused\.")),
          smp_cmd("list", list_row(1, "c1", "paused", 1, "2 MiB")),
          smp_cmd("resume c1", one_line(r"Guest c1 resumed\."))),
    Stage("restart-spinning-remote",
          smp_cmd("restart c1", r"^\[cpu\d\] guest c1 stopped: stop command\n", r"^Guest c1 restarted\.\n\Z"),
          smp_cmd("list", list_row(0, "s0", "running", 0, "2 MiB"),
                  list_row(1, "c1", "running", 1, "2 MiB"),
                  list_row(2, "e1", "running", 1, "2 MiB"))),
]

# shell-regs (tests/configs/shell-regs.cfg): four spin guests, two per CPU, each with its own
# ESP and EBX (the mark). `info` has the CPU holding a vCPU copy its registers out of the VMCS,
# loading that VMCS when the vCPU waits for its CPU-mate and making the running one's current
# again; a look that read the wrong VMCS shows another mark, and a VMCS left current under the
# wrong vCPU stops that guest with exit code 13 (its ESP changes under it).
REGS_MARKS = {"a0": 0x1c1110, "b0": 0x1d2220, "c1": 0x1e3330, "d1": 0x1f4440}


def info_marked(name):
    mark = f"{REGS_MARKS[name]:08x}"
    return Cmd(f"info {name}", rf"^Guest \d: {name}\n", r"^  state +running\n",
               rf"^Registers:\n  eax=[0-9a-f]{{8}}  ebx={mark}  ecx=[0-9a-f]{{8}}  edx=[0-9a-f]{{8}}\n"
               rf"  esi=[0-9a-f]{{8}}  edi=[0-9a-f]{{8}}  ebp=[0-9a-f]{{8}}  esp={mark}\n",
               r"^VM exits: ", echo=False, timeout=SMP_WAIT)


REGS = [
    Stage("prompt",
          Mark("boot"),
          [ExpectOut(rf"^\[{n}\] spin: spinning, esp 0x{m:x}\n", since="boot", timeout=120)
           for n, m in REGS_MARKS.items()],
          ExpectOut("^" + re.escape(PROMPT), since="boot", timeout=60)),
    # Four rounds over the four guests: each is looked at both while it runs and while its
    # CPU-mate does, on the console's CPU (cpu0) and on the other (cpu1)
    *[Stage(f"info-cpu{c}-round-{r}", [info_marked(n) for n in REGS_MARKS if n.endswith(str(c))])
      for r in range(1, 5) for c in (0, 1)],
    Stage("all-still-spinning",
          Cmd("list", LIST_HEADER, *[list_row(i, n, "running", int(n[1]), "2 MiB")
                                     for i, n in enumerate(REGS_MARKS)],
              echo=False, timeout=SMP_WAIT)),
    Stage("halt",
          Send("halt\r"),
          ExpectOut(r"^Halting: stopping all guests\.\n", timeout=SMP_WAIT),
          ExpectOut(r"^\[cpu0\] powering off \(code 0\)", timeout=SMP_WAIT)),
]

SCENARIOS = [
    Scenario(
        name="shell-session",
        guests=[("demo", "demo"), ("echo", "echo")],
        modules=[("tests/configs/shell.cfg", "config")],
        hv_args="",  # the session ends with 'halt'
        timeout=120,
        session=SESSION,
        checks=HEALTHY + [Absent("no-error-logged", r"^\[cpu\d\] error:")],
    ),
    Scenario(
        name="shell-bad-input",
        guests=[("demo", "demo"), ("echo", "echo")],
        modules=[("tests/configs/shell.cfg", "config")],
        hv_args="",
        timeout=120,
        session=BAD_INPUT,
        checks=HEALTHY + [
            InOrder("reboot-boots-again", [r"^\[cpu0\] Cloison 0\.1", r"^Rebooting\.$",
                                           r"^\[cpu0\] Cloison 0\.1"]),
        ],
    ),
    Scenario(
        name="shell-responsive",
        guests=[("counter", "counter"), ("spin", "spin")],
        modules=[("tests/configs/shell-responsive.cfg", "config")],
        hv_args="",
        timeout=90,
        session=RESPONSIVE,
        bochs_extra=[SERIAL_TIMING],
        checks=HEALTHY + [
            AnswersWithin("answers-within-5ms", ANSWER_MS_MAX, SLOW_COMMANDS),
            Expect("prefixed-guest-lines", r"^\[c0\] counter: c0 start report=100000000 reports=0 tsc \d+$"),
            InOrder("restarted-guest-boots", [r"^Guest s0 restarted\.$", r"^\[s0\] spin: spinning$"]),
        ],
    ),
    Scenario(
        name="shell-regs",
        cpus=2,
        guests=[("spin", "spin")],
        modules=[("tests/configs/shell-regs.cfg", "config")],
        hv_args="",
        timeout=180,
        session=REGS,
        bochs_extra=[SERIAL_TIMING],
        # info's reply waits for the copies: the NMI to cpu1 and its exit are inside the bound
        checks=HEALTHY + [Absent("no-guest-saw-another-vmcs", r"esp changed|exit code 13"),
                          AnswersWithin("answers-within-25ms", ANSWER_REMOTE_MS_MAX)],
    ),
    Scenario(
        name="shell-smp",
        cpus=2,
        guests=[("spin", "spin"), ("counter", "counter"), ("echo", "echo")],
        modules=[("tests/configs/shell-smp.cfg", "config")],
        hv_args="",
        timeout=180,
        session=SMP,
        bochs_extra=[SERIAL_TIMING],
        checks=HEALTHY + [AnswersWithin("answers-within-25ms", ANSWER_REMOTE_MS_MAX, SLOW_COMMANDS)],
    ),
]
