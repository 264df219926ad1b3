"""Unmodified Linux guests: Debian's 6.1 and 6.12 cloud kernels with a busybox initramfs
(`make linux-guests`), booted by the 64-bit Linux boot protocol on Cloison's virtual PC."""
import re
from emu import Scenario, Expect, Absent, InOrder, Stage, Cmd, ExpectOut, Send, Mark, Assert, PROMPT

KERNELS = [("$BUILD/linux/vmlinuz-6.1", "vmlinuz-6.1"), ("$BUILD/linux/vmlinuz-6.12", "vmlinuz-6.12"),
           ("$BUILD/linux/initrd-busybox.cpio.gz", "initrd")]
BOOT = 300  # seconds of wall time for a Linux boot in Bochs (about 30 s alone on a CPU)
NO_FAULT = Absent("no-hypervisor-fault", r"PANIC|CPU exception")


def marker(name, version):
    return rf"^\[{name}\] cloison-guest: init up \(kernel {re.escape(version)}\.\d+"


def attach(name):
    return [Send(f"console {name}\r"),
            ExpectOut(rf"^Connected to guest {name} console; press Ctrl-\] to detach\.\n", timeout=20),
            Mark(name)]


def detach(name):
    return [Send("\x1d"), ExpectOut(rf"^Detached from guest {name}\.\n", timeout=20),
            ExpectOut("^" + re.escape(PROMPT), timeout=20)]


def seconds(hms):
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def uptime_of(name, var):
    return Cmd("list", rf"^\d+ +{name} +running +0 +\d+ MiB +(?P<{var}>\d\d:\d\d:\d\d) ", echo=False, timeout=20)


PAIR = [
    Stage("both-boot",
          ExpectOut(marker("web", "6.1"), timeout=BOOT),
          ExpectOut(marker("db", "6.12"), timeout=BOOT, since=None),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    Stage("web-answers",
          *attach("web"),
          Send("uname -a\r"),
          ExpectOut(r"^Linux \S+ 6\.1\.\d+\S* .*x86_64", timeout=60, since="web"),
          Send("cat /proc/interrupts\r"),
          ExpectOut(r"^ +4: +\d+ +IO-APIC +4-edge +ttyS0", timeout=60, since="web"),
          ExpectOut(r"^LOC: +\d+ +Local timer interrupts", timeout=60, since="web"),
          *detach("web")),
    Stage("db-answers",
          *attach("db"),
          Send("uname -r\r"),
          ExpectOut(r"^6\.12\.\d+\S*cloud-amd64", timeout=60, since="db"),
          *detach("db")),
    Stage("poweroff-restarts-web",
          uptime_of("db", "db_before"),
          *attach("web"),
          Send("poweroff\r"),
          ExpectOut(r"guest web stopped: powered off \(ACPI S5\); restarting", timeout=120, since="web"),
          ExpectOut(r"cloison-guest: init up \(kernel 6\.1\.", timeout=BOOT, since="web"),
          *detach("web"),
          uptime_of("db", "db_after"),
          Assert("db kept running while web restarted", lambda v: (
              seconds(v["db_after"]) > seconds(v["db_before"]), f"{v['db_before']} -> {v['db_after']}"))),
    Stage("reboot-stops-db",
          *attach("db"),
          Send("reboot\r"),
          ExpectOut(r"guest db stopped: reset itself", timeout=120, since="db"),
          ExpectOut(r"guest db: \d+ MiB scrubbed", timeout=120, since="db"),
          *detach("db"),
          Cmd("list", r"^\d+ +db +stopped \(reset itself\)", echo=False, timeout=20)),
]

CRASH = [
    Stage("panic-preserved",
          ExpectOut(r"guest oops kernel panic, then reset itself: RAM and registers kept", timeout=BOOT),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    Stage("preserved-is-inspectable",
          Cmd("info oops", r"state +crashed, kept for inspection: kernel panic, then reset itself",
              r"interrupts +\d+ injected: \d+ LAPIC timer", r"Registers:", r"rip=ffffffff",
              echo=False, timeout=20),
          Cmd("list", r"^0 +oops +crashed \(kernel panic\) ", echo=False, timeout=20),
          Cmd("resume oops", r"(cannot|not)", echo=False, timeout=20),
          Cmd("stop oops", r"Guest oops stopped\.", echo=False, timeout=20)),
]

SMP_BOOT = 900  # three emulated CPUs run about 5x slower than one

SMP = [
    Stage("smp-boots",
          ExpectOut(r"^\[cpu\d\] guest smp: vCPU 1 started at 0x[0-9a-f]+ \(SIPI\)", timeout=SMP_BOOT),
          ExpectOut(marker("smp", "6.1"), timeout=SMP_BOOT),
          ExpectOut("^" + re.escape(PROMPT), timeout=60)),
    Stage("two-cpus-inside",
          *attach("smp"),
          Send("nproc\r"),
          ExpectOut(r"^2\s*$", timeout=120, since="smp"),
          Send("grep -c ^processor /proc/cpuinfo\r"),
          ExpectOut(r"^2\s*$", timeout=120, since="smp"),
          # A process on each CPU, pinned there by busybox taskset
          Send("taskset -c 1 sh -c 'echo on-cpu1-$(cat /proc/self/stat | cut -d\\  -f39)'\r"),
          ExpectOut(r"^on-cpu1-1\s*$", timeout=120, since="smp"),
          Send("cat /proc/interrupts\r"),
          ExpectOut(r"^ +CPU0 +CPU1", timeout=120, since="smp"),
          ExpectOut(r"^RES: +\d+ +\d+ +Rescheduling interrupts", timeout=120, since="smp"),
          *detach("smp"),
          Cmd("info smp", r"CPUs +0-1", r"vCPU 0 +cpu0 ", r"vCPU 1 +cpu1 ", echo=False, timeout=60)),
    Stage("neighbour-intact", ExpectOut(r"^\[hog\] memhog: pattern intact after pass \d+", timeout=120)),
    Stage("restart-brings-both-back",
          Mark("restart"),
          Cmd("restart smp", r"Guest smp restarted\.", echo=False, timeout=120),
          ExpectOut(r"guest smp: vCPU 1 started at 0x[0-9a-f]+ \(SIPI\)", timeout=SMP_BOOT, since="restart"),
          ExpectOut(r"\[smp\] cloison-guest: init up", timeout=SMP_BOOT, since="restart")),
]

# `make run`'s demo (Makefile DEMO_MODULES, scripts/demo.cfg): web (6.1) on cpu0 and db (6.12) on
# cpu1 beside Multiboot guests, console buffered: each reaches its shell, seen through `console`.
DEMO_MODULES = KERNELS + [("$BUILD/guests/demo.elf", "demo"), ("$BUILD/guests/echo.elf", "echo"),
                          ("$BUILD/guests/counter.elf", "counter"), ("$BUILD/guests/hcall.elf", "hcall"),
                          ("scripts/demo.cfg", "config")]
DEMO = [
    Stage("prompt", ExpectOut("^" + re.escape(PROMPT), timeout=120)),
    Stage("web-reaches-its-shell",
          *attach("web"),
          ExpectOut(r"cloison-guest: init up \(kernel 6\.1\.", timeout=SMP_BOOT, since="web"),
          Send("uname -r\r"),
          ExpectOut(r"^6\.1\.\d+\S*cloud-amd64", timeout=120, since="web"),
          *detach("web")),
    Stage("db-reaches-its-shell",
          *attach("db"),
          ExpectOut(r"cloison-guest: init up \(kernel 6\.12\.", timeout=SMP_BOOT, since="db"),
          *detach("db")),
    Stage("list-shows-them",
          Cmd("list", r"^\d+ +web +running +0 ", r"^\d+ +db +running +1 ", r"^\d+ +alpha +running +0 ",
              echo=False, timeout=60)),
]

SCENARIOS = [
    Scenario(
        name="linux-demo",
        cpus=2,
        megs=512,
        modules=DEMO_MODULES,
        hv_args="",
        timeout=1800,
        session=DEMO,
        checks=[NO_FAULT, Absent("no-unhandled-exit", r"unhandled VM exit|unsupported MMIO|VM entry failed")],
    ),
    Scenario(
        name="linux-pair",
        modules=KERNELS + [("tests/configs/linux-pair.cfg", "config")],
        hv_args="",
        timeout=900,
        session=PAIR,
        checks=[
            NO_FAULT,
            Expect("loaded-by-the-boot-protocol",
                   r"^\[cpu0\] guest web: Linux boot protocol 2\.\d+: kernel at 0x[0-9a-f]+, initrd \d+ KiB"),
            Absent("no-unhandled-exit", r"unhandled VM exit|unsupported MMIO|VM entry failed"),
        ],
    ),
    Scenario(
        name="linux-smp",
        cpus=3,
        modules=KERNELS + [("tests/configs/linux-smp.cfg", "config")],
        guests=[("memhog", "memhog")],
        hv_args="",
        timeout=2400,
        session=SMP,
        checks=[
            NO_FAULT,
            Absent("no-unhandled-exit", r"unhandled VM exit|unsupported MMIO|VM entry failed"),
            Absent("neighbour-never-corrupted", r"memhog: .*(CHANGED|corrupt)"),
        ],
    ),
    Scenario(
        name="linux-crash",
        modules=KERNELS + [("tests/configs/linux-crash.cfg", "config")],
        guests=[("counter", "counter")],
        hv_args="",
        timeout=600,
        session=CRASH,
        checks=[
            NO_FAULT,
            Expect("too-small-refused", r"^\[cpu0\] error: guest tiny: Linux kernel 'vmlinuz-6.1' with initrd initrd does not load: .*"),
            Expect("missing-initrd-refused", r"^\[cpu0\] error: config:\d+: guest noinitrd: initrd: no GRUB module named 'missing'"),
            Expect("not-a-kernel-refused", r"^\[cpu0\] error: guest wrongimage: image 'initrd' is not a usable Multiboot kernel"),
            InOrder("neighbour-runs-after-the-panic", [
                r"guest oops kernel panic, then reset itself", r"^\[count\] counter: count count \d+"]),
        ],
    ),
]
