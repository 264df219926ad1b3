"""Emulator runs for the boot tests: build the scenario's ISO, boot it in Bochs or QEMU under a
hard timeout, and hand back the serial log. No fixed sleeps: a run ends when the hypervisor powers
the machine off (onidle=shutdown), or at its timeout, which the checks then report."""
import os
import re
import shutil
import subprocess
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
    qemu_cpu: str = "qemu64"
    timeout: int = 120
    checks: list = field(default_factory=list)
    iso: str = ""  # boot this prebuilt ISO instead of building one (the benchmarks' native and KVM runs)


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
        args += [path if os.path.isabs(path) else os.path.join(ROOT, path), string]
    subprocess.run(args, check=True, env=dict(os.environ, TMPDIR=workdir))
    return iso


def bochsrc(scen, iso, serial_path, log_path, com1=None):
    com1 = com1 or f"com1: enabled=1, mode=file, dev={serial_path}"
    return "\n".join([
        f"megs: {scen.megs}",
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
        "",
    ])


def boot(scen, build, workdir):
    iso = scen.iso or build_iso(scen, build, workdir)
    serial_path = os.path.join(workdir, f"{scen.name}.serial.log")
    emu_log = os.path.join(workdir, f"{scen.name}.emulator.log")
    if os.path.exists(serial_path):
        os.remove(serial_path)
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
        cmd = ["qemu-system-x86_64", "-cdrom", iso, "-serial", f"file:{serial_path}", "-display", "none",
               "-no-reboot", "-m", str(scen.megs), "-smp", str(scen.cpus), "-cpu", scen.qemu_cpu,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if scen.emulator == "qemu-uefi":
            cmd += ["-bios", OVMF]
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
