"""Emulator runs for the boot tests: build the scenario's ISO, boot it in Bochs or QEMU under a
hard timeout, and hand back the serial log. No fixed sleeps: a run ends when the hypervisor powers
the machine off (onidle=shutdown), or at its timeout, which the checks then report.

A scenario with a `session` is interactive: Bochs serves COM1 on a TCP port of its own, the
harness connects, records everything received to the serial log, types and waits as the session's
stages say (every wait bounded), and at the end types `halt` so the run ends itself. Each stage
becomes one check named after it; see Stage and the steps below it."""
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGA_BIOS = "/usr/share/vgabios/vgabios.bin"
OVMF = "/usr/share/ovmf/OVMF.fd"


class Check:
    def evaluate(self, serial):
        raise NotImplementedError


@dataclass
class Expect(Check):
    """A line matching pattern appears in the serial log."""
    name: str
    pattern: str

    def evaluate(self, serial):
        if re.search(self.pattern, serial, re.MULTILINE):
            return True, ""
        return False, f"expected /{self.pattern}/ in the serial log"


@dataclass
class Absent(Check):
    """Nothing matching pattern appears in the serial log."""
    name: str
    pattern: str

    def evaluate(self, serial):
        m = re.search(self.pattern, serial, re.MULTILINE)
        if not m:
            return True, ""
        line = serial[serial.rfind("\n", 0, m.start()) + 1:serial.find("\n", m.end())]
        return False, f"unexpected /{self.pattern}/: {line.strip()!r}"


@dataclass
class InOrder(Check):
    """The patterns match in this order."""
    name: str
    patterns: list

    def evaluate(self, serial):
        pos = 0
        for p in self.patterns:
            m = re.compile(p, re.MULTILINE).search(serial, pos)
            if not m:
                return False, f"expected /{p}/ after offset {pos} (order: {self.patterns})"
            pos = m.end()
        return True, ""


@dataclass
class Scenario:
    name: str
    guests: list = field(default_factory=list)  # (guest name under build/guests, module string)
    modules: list = field(default_factory=list)  # (path relative to the repo, module string)
    hv_args: str = "onidle=shutdown"
    emulator: str = "bochs"  # bochs | qemu | qemu-uefi
    cpus: int = 1
    megs: int = 256
    bochs_memory: str = ""  # Bochs `memory:` option instead of megs, e.g. "guest=6144, host=512"
    qemu_cpu: str = "qemu64"
    timeout: int = 120
    checks: list = field(default_factory=list)
    iso: str = ""  # boot this prebuilt ISO instead of building one (the benchmarks' native and KVM runs)
    session: list = field(default_factory=list)  # Stages typed on COM1 (Bochs only); each is a check
    bochs_extra: list = field(default_factory=list)  # more bochsrc lines, e.g. SERIAL_TIMING
    # QEMU only: a function (scenario, build, workdir) that makes the boot media and returns its
    # QEMU arguments, used instead of an ISO (cloison.efi's ESP, tests/boot_tests_efi.py)
    qemu_media: object = None

    def __post_init__(self):
        if self.session:
            if self.emulator not in ("bochs", "qemu", "qemu-uefi"):
                raise ValueError(f"scenario {self.name}: interactive sessions need Bochs or QEMU")
            for stage in self.session:
                if not isinstance(stage, Stage):
                    raise TypeError(f"scenario {self.name}: a session holds Stages, not {stage!r}")
            names = [stage.name for stage in self.session]
            if len(set(names)) != len(names):
                raise ValueError(f"scenario {self.name}: stage names repeat: {names}")
            self.checks = [StagePassed(name) for name in names] + list(self.checks)


@dataclass
class Run:
    serial: str
    serial_path: str
    summary: str
    ended_by_itself: bool


ANSI_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def as_terminal_shows(text):
    """What a terminal shows of console output, line by line: a carriage return moves back to
    the line's start, ESC [ K erases to its end, other escape sequences and bells are dropped."""
    lines = []
    for raw in text.split("\n"):
        shown, col = [], 0
        pos = 0
        while pos < len(raw):
            ch = raw[pos]
            m = ANSI_CSI.match(raw, pos)
            if m:
                if m.group().endswith("K"):
                    del shown[col:]
                pos = m.end()
                continue
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(0, col - 1)
            elif ch != "\x07":
                if col < len(shown):
                    shown[col] = ch
                else:
                    shown.append(ch)
                col += 1
            pos += 1
        lines.append("".join(shown))
    return "\n".join(lines)


def build_iso(scen, build, workdir):
    iso = os.path.join(workdir, f"{scen.name}.iso")
    args = [os.path.join(ROOT, "scripts", "mkiso.sh"), iso, os.path.join(build, "cloison.elf"), scen.hv_args]
    for guest, string in scen.guests:
        args += [os.path.join(build, "guests", f"{guest}.elf"), string]
    for path, string in scen.modules:
        if path.startswith("$BUILD/"):  # made by the build, e.g. the Linux guests' kernels
            path = os.path.join(build, path[len("$BUILD/"):])
        args += [path if os.path.isabs(path) else os.path.join(ROOT, path), string]
    subprocess.run(args, check=True, env=dict(os.environ, TMPDIR=workdir))
    return iso


def bochsrc(scen, iso, serial_path, log_path, com1=None):
    com1 = com1 or f"com1: enabled=1, mode=file, dev={serial_path}"
    return "\n".join([
        f"memory: {scen.bochs_memory}" if getattr(scen, "bochs_memory", "") else f"megs: {scen.megs}",
        f"cpu: model=corei7_skylake_x, count={scen.cpus}, ips=50000000",
        f"romimage: file={BOCHS_BIOS}",
        f"vgaromimage: file={VGA_BIOS}",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        "display_library: sdl2",
        com1,
        "clock: sync=none",
        f"log: {log_path}",
        "panic: action=fatal",
        "error: action=report",
        "info: action=ignore",
    ] + list(getattr(scen, "bochs_extra", [])) + [""])


def qemu_cmd(scen, iso, media, serial):
    """QEMU booting the ISO, or the scenario's own media, with COM1 on serial (a -serial value)."""
    cmd = ["qemu-system-x86_64"] + (media or ["-cdrom", iso]) + [
        "-serial", serial, "-display", "none", "-no-reboot", "-m", str(scen.megs),
        "-smp", str(scen.cpus), "-cpu", scen.qemu_cpu, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if scen.emulator == "qemu-uefi":
        cmd += ["-bios", OVMF]
    return cmd


def boot(scen, build, workdir):
    media = scen.qemu_media(scen, build, workdir) if scen.qemu_media else None
    iso = None if media else scen.iso or build_iso(scen, build, workdir)
    serial_path = os.path.join(workdir, f"{scen.name}.serial.log")
    emu_log = os.path.join(workdir, f"{scen.name}.emulator.log")
    if os.path.exists(serial_path):
        os.remove(serial_path)
    if scen.session:
        return _boot_session(scen, iso, serial_path, emu_log, workdir, media)
    env = dict(os.environ)
    if scen.emulator == "bochs":
        rc_path = os.path.join(workdir, f"{scen.name}.bochsrc")
        with open(rc_path, "w") as f:
            f.write(bochsrc(scen, iso, serial_path, emu_log))
        cmd_path = os.path.join(workdir, "bochs-continue.txt")
        with open(cmd_path, "w") as f:
            f.write("c\n")
        cmd = ["bochs", "-q", "-f", rc_path, "-rc", cmd_path]
        env["SDL_VIDEODRIVER"] = "dummy"
    else:
        cmd = qemu_cmd(scen, iso, media, f"file:{serial_path}")
    start = time.monotonic()
    with open(emu_log + ".stdout", "w") as out:
        try:
            proc = subprocess.run(["timeout", "--kill-after=5", str(scen.timeout)] + cmd,
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                  env=env, cwd=workdir, timeout=scen.timeout + 30)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = 124
    elapsed = time.monotonic() - start
    timed_out = status in (124, 137)
    serial = ""
    if os.path.exists(serial_path):
        with open(serial_path, "rb") as f:
            serial = as_terminal_shows(f.read().decode("utf-8", "replace"))
    summary = (f"{scen.emulator} killed at its {scen.timeout} s timeout" if timed_out
               else f"{scen.emulator} ended with status {status} after {elapsed:.1f} s")
    return Run(serial, serial_path, summary, not timed_out)


# Interactive sessions: COM1 as a TCP socket that the harness types on.

PROMPT = "cloison> "
# Ends every session: Ctrl-] detaches a guest console, Ctrl-C drops a half-typed line, then halt.
SESSION_END = b"\x1d\x03halt\r"
CONNECT_TIMEOUT = 30  # seconds for Bochs to open its COM1 port
SESSION_BOOTS_MAX = 8  # resets a session may cause
BOCHS_START_ATTEMPTS = 3  # a port taken in the meantime makes Bochs fail at once: take another


class Transcript(str):
    """The serial log as a terminal shows it (what the checks read), with the outcome of the
    interactive session: stages maps a stage's name to (ok, why); session_error says why no
    stage could run; emulator_log is Bochs's log file (see serial_timing)."""
    stages = None
    session_error = ""
    emulator_log = ""


# bochsrc line (Scenario.bochs_extra) that logs COM1's traffic with Bochs's tick count
SERIAL_TIMING = "debug: action=ignore, serial=report"
_SERIAL_EVENT = re.compile(rb"^(\d+)d\[SER +\] com1(?:: read byte \[0x([0-9a-f]{2})\]| register "
                           rb"write to +address: 0x03f8 = 0x([0-9a-f]{2}))$", re.MULTILINE)


class _LogFilter:
    """Bochs's log through a FIFO: COM1's debug lines (SERIAL_TIMING makes millions, one per
    register read) are kept only when serial_timing needs them; every other line is kept."""

    def __init__(self, path):
        self.path, self.fifo = path, path + ".fifo"
        if os.path.exists(self.fifo):
            os.remove(self.fifo)
        os.mkfifo(self.fifo)
        # Read-write: opening never blocks, and reads wait for Bochs instead of seeing EOF
        self.fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self.out = open(path, "wb")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _keep(self, lines):
        return [line for line in lines if b"d[SER" not in line or b"read byte" in line
                or b"address: 0x03f8" in line]

    def _run(self):
        rest = b""
        while True:
            ready = select.select([self.fd], [], [], 0.2)[0]
            try:
                data = os.read(self.fd, 1 << 20) if ready else b""
            except BlockingIOError:
                data = b""
            if not data:
                if self.stop.is_set():
                    break
                continue
            lines = (rest + data).split(b"\n")
            rest = lines.pop()
            kept = self._keep(lines)
            if kept:
                self.out.write(b"\n".join(kept) + b"\n")
        if rest:
            self.out.write(b"\n".join(self._keep([rest])) + b"\n")

    def close(self):
        """After Bochs has ended: takes what is left and removes the FIFO."""
        self.stop.set()
        self.thread.join(timeout=60)
        self.out.close()
        os.close(self.fd)
        os.remove(self.fifo)


def serial_timing(emulator_log):
    """COM1's traffic in a run with SERIAL_TIMING: (tick, "in", byte) when a byte typed on the
    socket reaches the UART, (tick, "out", byte) when the CPU writes one to its transmitter.
    Ticks are Bochs's: emulated instructions, ips of them an emulated second."""
    events = []
    with open(emulator_log, "rb") as f:
        for m in _SERIAL_EVENT.finditer(f.read()):
            if m.group(2) is not None:
                events.append((int(m.group(1)), "in", int(m.group(2), 16)))
            else:
                events.append((int(m.group(1)), "out", int(m.group(3), 16)))
    return events


@dataclass
class StagePassed(Check):
    """The session stage of this name ran and every step of it passed (added for each Stage)."""
    name: str

    def evaluate(self, serial):
        stages = getattr(serial, "stages", None)
        if stages is None:
            why = getattr(serial, "session_error", "") or "no interactive session ran"
            return False, f"session stage not run: {why}"
        if self.name not in stages:
            return False, "session stage not run"
        return stages[self.name]


class StepFailed(Exception):
    pass


def _pattern(pattern, vars_):
    """A step's pattern: a regex, or a function of the values earlier steps captured."""
    if not callable(pattern):
        return pattern
    try:
        return pattern(vars_)
    except KeyError as exc:
        raise StepFailed(f"needs {exc} from an earlier step, which did not capture it") from None


def _excerpt(text, limit=600):
    text = text if len(text) <= limit else "..." + text[-limit:]
    return repr(text)


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


class Stage:
    """A named part of a session: its steps (lists of steps are flattened) run in order and it
    passes when all of them do.
    A failed step ends the stage; the harness then types Ctrl-] Ctrl-C, waits for a prompt and
    goes on with the next stage (or gives up on the rest when no prompt comes)."""

    def __init__(self, name, *steps):
        self.name = name
        self.steps = list(_flatten(steps))
        for step in self.steps:
            if not isinstance(step, Step):
                raise TypeError(f"stage {name}: not a step: {step!r}")

    def __repr__(self):
        return f"Stage({self.name!r}, {len(self.steps)} steps)"


class Step:
    """One action of a session; run() raises StepFailed with the reason."""

    def run(self, sess):
        raise NotImplementedError


class Send(Step):
    """Types data (str, each character one byte, or bytes) on COM1."""

    def __init__(self, data):
        self.data = data.encode("latin-1") if isinstance(data, str) else bytes(data)

    def __repr__(self):
        return f"Send({self.data!r})"

    def run(self, sess):
        sess.send(self.data)


class ExpectOut(Step):
    """Waits at most timeout seconds until the output after the cursor, as a terminal shows it,
    matches pattern (re.MULTILINE: ^ and $ are line ends; end it with \\n to need a whole line),
    then moves the cursor past the match. last=True takes the last match of all that has
    arrived, not the first. since=MARK searches from that Mark instead of the cursor (for what
    may come before or after a command's reply); the cursor then only moves forward. Named
    groups are kept for later steps' patterns and Asserts."""

    def __init__(self, pattern, timeout=30, last=False, since=None):
        self.pattern, self.timeout, self.last, self.since = pattern, timeout, last, since

    def __repr__(self):
        return (f"ExpectOut({self.pattern if callable(self.pattern) else repr(self.pattern)}"
                f"{f', since={self.since!r}' if self.since else ''})")

    def run(self, sess):
        regex = re.compile(_pattern(self.pattern, sess.vars), re.MULTILINE)
        waited = sess.wait(regex, self.timeout, since=self.since)
        if waited is None:
            where = f"Mark({self.since!r})" if self.since else "the cursor"
            raise StepFailed(f"/{regex.pattern}/ not seen within {self.timeout} s; after {where} "
                             f"came: {_excerpt(sess.text_after(self.since))}")
        if self.last:
            sess.drain()
        text, base, line = sess.text_after(self.since, full=True)
        matches = list(regex.finditer(text, base))
        m = matches[-1] if self.last else matches[0]
        sess.vars.update({k: v for k, v in m.groupdict().items() if v is not None})
        sess.trace(f"matched {m.group()!r} after {waited:.2f} s")
        end_line = line + text.count("\n", 0, m.end())
        end_col = m.end() - (text.rfind("\n", 0, m.end()) + 1)
        if (end_line, end_col) > (sess.line, sess.col):
            sess.line, sess.col = end_line, end_col
            sess.prefix = sess.screen.line_text(end_line)[:end_col]


class Cmd(Step):
    """Types line and Enter and waits at most timeout seconds for the answer: the line must be
    echoed behind a clean prompt (echo: the regex for what follows the prompt; default the line
    itself, trailing blanks allowed), then comes the reply up to the next prompt. The reply must
    match each pattern, in order (\\A and \\Z are its ends), and none of absent. Named groups
    are kept.

    echo=False is for consoles where guest lines interleave with the shell's (prefixed mode): no
    echo is asked for, the patterns are awaited one after the other from where the line was
    typed, and the reply ends at the first prompt after the last of them.

    Type a Cmd at a settled prompt (after an earlier Cmd, or an ExpectOut of the prompt): output
    of earlier input still arriving would be taken for this line's answer."""

    def __init__(self, line, *patterns, absent=(), echo=None, timeout=30):
        self.line, self.patterns, self.absent = line, patterns, absent
        self.echo = re.escape(line) + r" *\n" if echo is None else echo
        self.timeout = timeout

    def __repr__(self):
        return f"Cmd({self.line!r})"

    def run(self, sess):
        start = time.monotonic()
        prompt = re.compile("^" + re.escape(PROMPT), re.MULTILINE)
        left = lambda: max(0.0, self.timeout - (time.monotonic() - start))  # noqa: E731
        sess.send(self.line.encode("latin-1") + b"\r")
        if self.echo is not False:
            # From the start of the cursor's line: the prompt may have been redrawn meanwhile
            echo = re.compile("^" + re.escape(PROMPT) + self.echo, re.MULTILINE)
            # Answered: the prompt's line ended and a prompt followed (no need to wait longer)
            answered = re.compile("^" + re.escape(PROMPT) + r".*\n[\s\S]*^" + re.escape(PROMPT),
                                  re.MULTILINE)
            waited = sess.wait(re.compile(f"(?:{echo.pattern})|(?:{answered.pattern})",
                                          re.MULTILINE), self.timeout, from_line_start=True)
            if not echo.search(sess.text_after_cursor(from_line_start=True)):
                how = "the prompt came back" if waited is not None else f"{self.timeout} s passed"
                raise StepFailed(f"the line was not echoed behind a clean prompt (/{echo.pattern}/;"
                                 f" {how}); the terminal shows: "
                                 f"{_excerpt(sess.text_after_cursor(from_line_start=True))}")
            text, _ = sess.text_after_cursor(with_base=True)
            sess.advance(text, echo.search(text).end())
            if sess.wait(prompt, left()) is None:
                raise StepFailed(f"no prompt came back within {self.timeout} s; the reply so far:"
                                 f" {_excerpt(sess.text_after_cursor())}")
        else:
            for p in self.patterns:
                regex = re.compile(_pattern(p, sess.vars), re.MULTILINE)
                if sess.wait(regex, left()) is None:
                    raise StepFailed(f"/{regex.pattern}/ not seen within {self.timeout} s; the "
                                     f"reply so far: {_excerpt(sess.text_after_cursor())}")
                text, base = sess.text_after_cursor(with_base=True)
                m = regex.search(text, base)
                sess.vars.update({k: v for k, v in m.groupdict().items() if v is not None})
            if sess.wait_after(prompt, self.patterns, left()) is None:
                raise StepFailed(f"no prompt came back within {self.timeout} s; the reply so far:"
                                 f" {_excerpt(sess.text_after_cursor())}")
        elapsed = time.monotonic() - start
        text, base = sess.text_after_cursor(with_base=True)
        end = sess.prompt_after(prompt, self.patterns if self.echo is False else (), text, base)
        reply = text[base:end.start()]
        sess.advance(text, end.end())
        sess.trace(f"reply after {elapsed:.2f} s: {reply!r}")
        sess.replies.append((self.line, elapsed))
        pos = 0
        for p in self.patterns:
            regex = re.compile(_pattern(p, sess.vars), re.MULTILINE)
            m = regex.search(reply, pos)
            if not m:
                raise StepFailed(f"expected /{regex.pattern}/ in the reply"
                                 f"{' after what matched before' if pos else ''}: {_excerpt(reply)}")
            sess.vars.update({k: v for k, v in m.groupdict().items() if v is not None})
            pos = m.end()
        for p in self.absent:
            regex = re.compile(_pattern(p, sess.vars), re.MULTILINE)
            if regex.search(reply):
                raise StepFailed(f"unexpected /{regex.pattern}/ in the reply: {_excerpt(reply)}")


class Mark(Step):
    """Names the cursor's place, for a later AbsentOut, Region or ExpectOut(since=...)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Mark({self.name!r})"

    def run(self, sess):
        sess.marks[self.name] = (sess.line, sess.col)


class Region(Step):
    """test(text) over the output between Mark(since) and the cursor, as a terminal shows it,
    returns True, or (ok, why)."""

    def __init__(self, what, since, test):
        self.what, self.since, self.test = what, since, test

    def __repr__(self):
        return f"Region({self.what!r}, since={self.since!r})"

    def run(self, sess):
        result = self.test(sess.region(self.since))
        ok, why = result if isinstance(result, tuple) else (result, "")
        if not ok:
            raise StepFailed(f"{self.what}: {why or 'false'}")


class AbsentOut(Step):
    """Nothing between Mark(since) and the cursor, as a terminal shows it, matches pattern."""

    def __init__(self, pattern, since):
        self.pattern, self.since = pattern, since

    def __repr__(self):
        return f"AbsentOut({self.pattern!r}, since={self.since!r})"

    def run(self, sess):
        region = sess.region(self.since)
        m = re.search(_pattern(self.pattern, sess.vars), region, re.MULTILINE)
        if m:
            raise StepFailed(f"unexpected {m.group()!r} since Mark({self.since!r}): "
                             f"{_excerpt(region)}")


class Assert(Step):
    """test(vars) over the values captured so far returns True, or (ok, why)."""

    def __init__(self, what, test):
        self.what, self.test = what, test

    def __repr__(self):
        return f"Assert({self.what!r})"

    def run(self, sess):
        try:
            result = self.test(sess.vars)
        except KeyError as exc:
            raise StepFailed(f"{self.what}: needs {exc} from an earlier step") from None
        ok, why = result if isinstance(result, tuple) else (result, "")
        if not ok:
            raise StepFailed(f"{self.what}: {why or 'false'}")
        if why:
            sess.trace(f"{self.what}: {why}")
            sess.notes.append(f"{self.what}: {why}")


class _Screen:
    """The console output received so far, rendered line by line as a terminal shows it; lines
    ended by a newline never change again, the last one can (a carriage return, an erase)."""

    def __init__(self):
        self.raw = bytearray()
        self.lines = []
        self.tail_start = 0  # where the unfinished last line starts in raw

    def feed(self, data):
        self.raw += data
        nl = self.raw.rfind(b"\n", self.tail_start)
        if nl >= 0:
            done = self.raw[self.tail_start:nl].decode("latin-1")
            self.lines += as_terminal_shows(done).split("\n")
            self.tail_start = nl + 1

    def tail(self):
        return as_terminal_shows(self.raw[self.tail_start:].decode("latin-1"))

    def line_text(self, index):
        return self.lines[index] if index < len(self.lines) else self.tail()

    def text_from(self, index):
        return "\n".join(self.lines[index:] + [self.tail()])


class _Session:
    """The harness's end of COM1: a cursor over the rendered output, what was typed, the values
    steps captured, and a trace of every step with wall-clock times."""

    def __init__(self, sock, serial_file, trace_file, deadline):
        self.sock, self.serial_file, self.trace_file = sock, serial_file, trace_file
        self.deadline = deadline
        self.start = time.monotonic()
        self.screen = _Screen()
        self.line, self.col, self.prefix = 0, 0, ""  # the cursor, and what stood before it
        self.vars, self.marks = {}, {}
        self.replies, self.notes = [], []
        self.eof = False

    def trace(self, text):
        self.trace_file.write(f"[{time.monotonic() - self.start:8.3f} s] {text}\n")
        self.trace_file.flush()

    def _receive(self, wait):
        """Reads what arrives within wait seconds (at most until the run's deadline)."""
        wait = max(0.0, min(wait, self.deadline - time.monotonic()))
        if self.eof or not select.select([self.sock], [], [], wait)[0]:
            return False
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            self.trace("the emulator closed COM1")
            return False
        self.serial_file.write(data)
        self.serial_file.flush()
        self.screen.feed(data)
        return True

    def drain(self):
        while self._receive(0):
            pass

    def send(self, data):
        self.trace(f"send {data!r}")
        if self.eof:
            raise StepFailed("cannot type: the emulator has closed COM1")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise StepFailed(f"cannot type: {exc}") from None

    def text_after_cursor(self, with_base=False, from_line_start=False):
        """The rendered text from the cursor's line; with_base, also where the cursor is in it
        (the line's start when that line was rewritten since, or with from_line_start)."""
        text = self.screen.text_from(self.line)
        base = self.col if text.startswith(self.prefix) and not from_line_start else 0
        return (text, base) if with_base else text[base:]

    def region(self, since):
        """The rendered text between Mark(since) and the cursor."""
        if since not in self.marks:
            raise StepFailed(f"no Mark({since!r}) before this step")
        line, col = self.marks[since]
        upto = sum(len(self.screen.line_text(i)) + 1 for i in range(line, self.line)) + self.col
        return self.screen.text_from(line)[col:upto]

    def prompt_after(self, prompt, patterns, text, base):
        """The first prompt in text after base and after each pattern matched in turn."""
        pos = base
        for p in patterns:
            m = re.compile(_pattern(p, self.vars), re.MULTILINE).search(text, pos)
            if not m:
                return None
            pos = m.end()
        return prompt.search(text, pos)

    def wait_after(self, prompt, patterns, timeout):
        """Like wait, for a prompt that follows the patterns."""
        start = time.monotonic()
        until = min(start + timeout, self.deadline)
        while True:
            text, base = self.text_after_cursor(with_base=True)
            if self.prompt_after(prompt, patterns, text, base):
                return time.monotonic() - start
            left = until - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self._receive(left)

    def advance(self, text, end):
        """Moves the cursor to offset end of text (as returned by text_after_cursor)."""
        newlines = text.count("\n", 0, end)
        self.line += newlines
        self.col = end - (text.rfind("\n", 0, end) + 1)
        self.prefix = self.screen.line_text(self.line)[:self.col]

    def text_after(self, since=None, full=False):
        """The rendered text after Mark(since), or after the cursor; full: (text from the line
        of that place, where the place is in it, that line's number)."""
        if since is None:
            text, base = self.text_after_cursor(with_base=True)
            line = self.line
        else:
            if since not in self.marks:
                raise StepFailed(f"no Mark({since!r}) before this step")
            line, base = self.marks[since]
            text = self.screen.text_from(line)
        return (text, base, line) if full else text[base:]

    def wait(self, regex, timeout, from_line_start=False, since=None):
        """Seconds until regex matches after the cursor (or Mark since), or None at the timeout
        or the end."""
        start = time.monotonic()
        until = min(start + timeout, self.deadline)
        while True:
            if since is not None:
                text, base, _ = self.text_after(since, full=True)
            else:
                text, base = self.text_after_cursor(with_base=True, from_line_start=from_line_start)
            if regex.search(text, base):
                return time.monotonic() - start
            left = until - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self._receive(left)

    def run_stage(self, stage):
        self.trace(f"stage {stage.name!r}")
        for number, step in enumerate(stage.steps, 1):
            self.trace(f"  step {number}: {step!r}")
            try:
                step.run(self)
            except StepFailed as exc:
                why = f"{exc}{' (the emulator had closed COM1)' if self.eof else ''}"
                self.trace(f"  step {number} FAILED: {why}")
                return False, f"step {number} {step!r}: {why}"
            except re.error as exc:
                return False, f"step {number} {step!r}: bad pattern: {exc}"
        return True, ""

    def resync(self):
        """After a failed step: back to a fresh prompt, if the shell still answers."""
        self.drain()
        self.line, self.col, self.prefix = len(self.screen.lines), 0, ""
        try:
            self.send(b"\x1d\x03")
        except StepFailed:
            return False
        # The prompt that follows Ctrl-C's "^C", not one that was already there
        fresh = re.compile(r"\^C\n(?:.*\n)*?" + re.escape(PROMPT), re.MULTILINE)
        if self.wait(fresh, 20, from_line_start=True) is None:
            return False
        text, _ = self.text_after_cursor(with_base=True)
        self.advance(text, fresh.search(text).end())
        return True

    def finish(self):
        """Types SESSION_END, unless the emulator is gone, and reads until it closes COM1."""
        if not self.eof:
            try:
                self.send(SESSION_END)
            except StepFailed:
                pass
        while not self.eof and time.monotonic() < self.deadline:
            self._receive(self.deadline - time.monotonic())


def _free_port():
    """A TCP port nobody listens on (one never connected, so not in TIME_WAIT)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connect(proc, port, deadline):
    """Connects to Bochs's COM1 once it listens; None when Bochs ended first or at deadline."""
    while time.monotonic() < deadline:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            pass
        try:
            proc.wait(timeout=0.05)  # poll interval of the retry; ends early if Bochs exits
            return None
        except subprocess.TimeoutExpired:
            pass
    return None


def _boot_session(scen, iso, serial_path, emu_log, workdir, media=None):
    """Runs Bochs (or QEMU) with COM1 on a socket, plays scen.session on it, returns the Run."""
    trace_path = os.path.join(workdir, f"{scen.name}.session.log")
    # Bochs's debugger takes over again at each reset ('reboot'): one 'continue' per boot
    cmd_path = os.path.join(workdir, f"{scen.name}.bochs-continue.txt")  # one per run: no races
    with open(cmd_path, "w") as f:
        f.write("c\n" * SESSION_BOOTS_MAX)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    start = time.monotonic()
    deadline = start + scen.timeout
    stages, session_error, notes = None, "", []
    log_filter = _LogFilter(emu_log) if SERIAL_TIMING in scen.bochs_extra else None
    bochs_log = log_filter.fifo if log_filter else emu_log
    with open(emu_log + ".stdout", "w") as out, open(serial_path, "wb") as serial_file, \
            open(trace_path, "w") as trace_file:
        sock = proc = None
        for attempt in range(BOCHS_START_ATTEMPTS):
            port = _free_port()
            rc_path = os.path.join(workdir, f"{scen.name}.bochsrc")
            with open(rc_path, "w") as f:
                f.write(bochsrc(scen, iso, serial_path, bochs_log,
                                com1=f"com1: enabled=1, mode=socket-server, dev=localhost:{port}"))
            out.write(f"--- attempt {attempt + 1}, COM1 on port {port}\n")
            out.flush()
            cmd = ["bochs", "-q", "-f", rc_path, "-rc", cmd_path]
            if scen.emulator != "bochs":  # QEMU waits for the client before it runs
                cmd = qemu_cmd(scen, iso, media, f"tcp:127.0.0.1:{port},server=on,wait=on")
            proc = subprocess.Popen(["timeout", "--kill-after=5", str(scen.timeout)] + cmd,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, cwd=workdir)
            sock = _connect(proc, port, min(deadline, time.monotonic() + CONNECT_TIMEOUT))
            if sock or proc.poll() is None:
                break
        if not sock:
            session_error = (f"could not connect to Bochs's COM1 (status {proc.poll()}; see "
                             f"{emu_log}.stdout)")
            if proc.poll() is None:
                proc.terminate()  # `timeout` passes it on to Bochs
        else:
            sess = _Session(sock, serial_file, trace_file, deadline)
            sess.trace(f"connected to COM1 on port {port} after {time.monotonic() - start:.1f} s")
            stages = {}
            alive = True
            for stage in scen.session:
                if not alive:
                    stages[stage.name] = (False, "not run: the shell stopped answering in an "
                                                 "earlier stage")
                    continue
                t0 = time.monotonic()
                stages[stage.name] = sess.run_stage(stage)
                sess.trace(f"stage {stage.name!r} {'passed' if stages[stage.name][0] else 'FAILED'}"
                           f" in {time.monotonic() - t0:.1f} s")
                if not stages[stage.name][0]:
                    alive = sess.resync()
            sess.finish()
            notes = sess.notes
            sock.close()
        try:
            status = proc.wait(timeout=max(1.0, deadline - time.monotonic() + 30))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                status = proc.wait()
    if log_filter:
        log_filter.close()
    elapsed = time.monotonic() - start
    timed_out = status in (124, 137) or status < 0
    with open(serial_path, "rb") as f:
        serial = Transcript(as_terminal_shows(f.read().decode("utf-8", "replace")))
    serial.stages, serial.session_error, serial.emulator_log = stages, session_error, emu_log
    summary = (f"{scen.emulator} killed at its {scen.timeout} s timeout" if timed_out
               else f"{scen.emulator} ended with status {status} after {elapsed:.1f} s")
    summary += f"; session trace {trace_path}"
    if notes:
        summary += "; " + "; ".join(notes)
    return Run(serial, serial_path, summary, not timed_out)
