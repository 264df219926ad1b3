"""Boot scenarios for the partitions (issue 3): several guests from a configuration file on one and
two CPUs, hostile guests, CPU shares by weight, a bad configuration, and CPU bring-up under QEMU.

The configurations are in tests/configs/. They all say `console = prefixed`, so each guest line
reaches the serial log as `[NAME] text`."""
import os
import re
from dataclasses import dataclass, field

from emu import Scenario, Expect, Absent, InOrder, Check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every run: the hypervisor itself never faults, and the run ends by powering off.
HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
]

# With two CPUs the one that finds no guest left may be either.
HEALTHY_SMP = [
    HEALTHY[0],
    Expect("powers-off-when-idle", r"^\[cpu\d+\] powering off"),
]

# A second banner would mean that a guest reset or re-initialised the machine.
ONE_BOOT = Absent("machine-never-restarted", r"(?s)partitioning hypervisor.*partitioning hypervisor")

COUNTER_REPORT = re.compile(r"^\[(\S+)\] counter: (\S+) count (\d+) tsc (\d+)$", re.MULTILINE)


def config_line(cfg, text, nth=1):
    """The 1-based number of the nth line of tests/configs/cfg that is exactly text (stripped).
    When there is none, a marker that no log line holds, so that the check using it fails and
    names what is missing instead of the whole run stopping at import."""
    with open(os.path.join(ROOT, "tests", "configs", cfg)) as f:
        found = [n for n, line in enumerate(f, 1) if line.strip() == text]
    if len(found) < nth:
        return f"<no line {nth} '{re.escape(text)}' in tests/configs/{cfg}>"
    return found[nth - 1]


def counter_series(serial, names):
    """(tsc, count) pairs of each counter's reports, in order; the guest and counter names agree."""
    series = {n: [] for n in names}
    for m in COUNTER_REPORT.finditer(serial):
        if m.group(2) in series and m.group(1) == m.group(2):
            series[m.group(2)].append((int(m.group(4)), int(m.group(3))))
    return series


def progress_over_common_window(serial, names):
    """How far each counter got over the TSC window in which all of them were reporting
    (interpolated linearly at the window's ends), or an error message."""
    series = counter_series(serial, names)
    for n, s in series.items():
        if len(s) < 2:
            return None, f"{n}: {len(s)} counter reports, need 2 or more"
    t0 = max(s[0][0] for s in series.values())
    t1 = min(s[-1][0] for s in series.values())
    if t1 <= t0:
        return None, f"the counters never reported over a common window (tsc {t0} >= {t1})"

    def count_at(s, t):
        for (ta, ca), (tb, cb) in zip(s, s[1:]):
            if ta <= t <= tb:
                return ca + (cb - ca) * (t - ta) / (tb - ta)
        return s[-1][1]

    return {n: count_at(s, t1) - count_at(s, t0) for n, s in series.items()}, f"tsc {t0}-{t1}"


@dataclass
class Share(Check):
    """CPU-mates' shares of their CPU, from `counter: NAME count C tsc T` reports: over the TSC
    window in which all of them were reporting, each one's progress divided by their total must be
    within tolerance (relative) of its weight's share."""
    name: str
    guests: tuple
    weights: tuple
    tolerance: float = 0.10

    def evaluate(self, serial):
        done, window = progress_over_common_window(serial, self.guests)
        if done is None:
            return False, window
        total, weight_sum = sum(done.values()), sum(self.weights)
        if total <= 0:
            return False, f"no progress over {window}"
        shares, ok = [], True
        for g, w in zip(self.guests, self.weights):
            got, want = done[g] / total, w / weight_sum
            shares.append(f"{g} {got:.3f} (want {want:.3f})")
            ok &= abs(got - want) <= self.tolerance * want
        return ok, ("" if ok else "shares off by more than "
                    f"{self.tolerance:.0%}: ") + ", ".join(shares) + f" over {window}"


@dataclass
class Parallel(Check):
    """A counter alone on its CPU keeps pace with CPU-mates of equal weight on another CPU: over
    their common window it gets at least min_ratio times their progress together. Had they all
    shared one CPU it would get 1/len(mates) of it; with a CPU of its own, about as much as they
    do together (less what the console CPU spends on the serial line)."""
    name: str
    alone: str
    mates: tuple
    min_ratio: float = 0.8

    def evaluate(self, serial):
        done, window = progress_over_common_window(serial, (self.alone,) + tuple(self.mates))
        if done is None:
            return False, window
        together = sum(done[m] for m in self.mates)
        if together <= 0 or any(done[m] <= 0 for m in self.mates):
            return False, f"a CPU-mate made no progress over {window}: {done}"
        ratio = done[self.alone] / together
        if ratio < self.min_ratio:
            return False, (f"{self.alone} progressed {ratio:.2f} times as much as "
                           f"{' + '.join(self.mates)} over {window} (want >= {self.min_ratio}; "
                           f"{1 / len(self.mates):.2f} if they shared one CPU)")
        return True, ""


@dataclass
class Count(Check):
    """Exactly n lines match pattern."""
    name: str
    pattern: str
    n: int

    def evaluate(self, serial):
        found = re.findall(self.pattern, serial, re.MULTILINE)
        if len(found) == self.n:
            return True, ""
        return False, f"{len(found)} matches of /{self.pattern}/, expected {self.n}"


MAP_GUEST = re.compile(r"^\[cpu0\]   guest (\S+) +0x([0-9a-f]+)-0x([0-9a-f]+) +(\d+) KiB  "
                       r"cpu(\d+), weight (\d+)(?:, EPT (?:1G|2M|4K) x\d+(?:, (?:2M|4K) x\d+)*)?"
                       r"(, not started)?$", re.MULTILINE)
MAP_IMAGE = re.compile(r"^\[cpu0\]   hypervisor +0x([0-9a-f]+)-0x([0-9a-f]+) +(\d+) KiB  image",
                       re.MULTILINE)


@dataclass
class PartitionMap(Check):
    """The boot's partition map lists exactly the expected guests, each {name: (KiB, cpu, weight,
    fixed host base or None)}, with ranges that match their sizes, are 2 MiB aligned, and overlap
    neither each other nor the hypervisor's image."""
    name: str
    guests: dict = field(default_factory=dict)

    def evaluate(self, serial):
        start = re.search(r"^\[cpu0\] partition map:$", serial, re.MULTILINE)
        if not start:
            return False, "no '[cpu0] partition map:' line"
        end = re.compile(r"^\[cpu0\]   free ", re.MULTILINE).search(serial, start.end())
        if not end:
            return False, "the partition map has no 'free' line"
        block = serial[start.end():end.start()]
        image = MAP_IMAGE.search(block)
        if not image:
            return False, "the partition map shows no hypervisor image range"
        ranges = [("hypervisor image", int(image.group(1), 16), int(image.group(2), 16))]
        seen = {}
        for m in MAP_GUEST.finditer(block):
            name, base, top = m.group(1), int(m.group(2), 16), int(m.group(3), 16)
            if name in seen:
                return False, f"guest {name} is listed twice"
            seen[name] = (base, top, int(m.group(4)), int(m.group(5)), int(m.group(6)))
            ranges.append((f"guest {name}", base, top))
        if set(seen) != set(self.guests):
            return False, f"map lists guests {sorted(seen)}, expected {sorted(self.guests)}"
        for name, (kib, cpu, weight, fixed) in self.guests.items():
            base, top, shown_kib, shown_cpu, shown_weight = seen[name]
            if top - base != kib * 1024 or shown_kib != kib:
                return False, f"guest {name}: 0x{base:x}-0x{top:x} shown as {shown_kib} KiB, expected {kib} KiB"
            if base % (2 << 20):
                return False, f"guest {name}: base 0x{base:x} is not 2 MiB aligned"
            if (shown_cpu, shown_weight) != (cpu, weight):
                return False, (f"guest {name}: cpu{shown_cpu}, weight {shown_weight}; "
                               f"expected cpu{cpu}, weight {weight}")
            if fixed is not None and base != fixed:
                return False, f"guest {name}: base 0x{base:x}, expected the fixed 0x{fixed:x}"
        ranges.sort(key=lambda r: r[1])
        for (a, _, a_top), (b, b_base, _) in zip(ranges, ranges[1:]):
            if b_base < a_top:
                return False, f"{a} and {b} overlap"
        return True, ""


def stopped(cpu, guest, how):
    return rf"^\[cpu{cpu}\] guest {guest} stopped: {how}$"


def exit_code(cpu, guest, code):
    return stopped(cpu, guest, rf"exit code {code} \(port 0xf4\)")


def ept_violation(guest, access, gpa):
    return (rf"^\[cpu\d+\] guest {guest} stopped: EPT violation: {access} at guest-physical {gpa} "
            r"\(outside the guest's RAM\), rip 0x[0-9a-f]+$")


# The first byte of Cloison's image at host-physical 0x200000 (the multiboot2 magic 0xe85250d6).
IMAGE_FIRST_BYTE = 0xd6

# The modules of the configuration-error scenarios, and the list an unknown image's message gives.
ERRORS_GUESTS = [("demo", "demo"), ("counter", "counter")]
ERRORS_MODULES = ", ".join([s.split()[0] for _, s in ERRORS_GUESTS] + ["config"])


def config_errors(name, cfg, errors, valid):
    """A scenario booting tests/configs/cfg: each guest of errors {name: the one error line it gets,
    after "[cpu0] error: "} is refused, and the guests of valid {name: (map entry, [patterns its
    run shows in order])} are mapped, start and finish."""
    return Scenario(
        name=name,
        guests=ERRORS_GUESTS,
        modules=[(f"tests/configs/{cfg}", "config")],
        timeout=120,
        checks=[
            Expect(f"error-{guest}", rf"^\[cpu0\] error: {line}$") for guest, line in errors.items()
        ] + [
            Count(f"one-error-for-{guest}", rf"^\[cpu0\] error: config:\d+: guest {guest}: ", 1)
            for guest in errors
        ] + [
            Count("no-other-error", r"^\[cpu0\] error: ", len(errors)),
            Expect("refusals-counted",
                   rf"^\[cpu0\] warning: config: {len(errors)} guests refused \(see the errors "
                   r"above\); the others start$"),
            PartitionMap("map-lists-the-valid-guests", {g: entry for g, (entry, _) in valid.items()}),
        ] + [
            InOrder(f"{guest}-runs", run) for guest, (_, run) in valid.items()
        ] + [
            Count(f"{guest}-started-once", rf"^\[cpu0\] guest {guest} stopped: ", 1) for guest in valid
        ] + [
            Absent("refused-guests-never-run",
                   rf"^\[({'|'.join(g for g in errors if g not in valid)})\] "),
        ] + HEALTHY,
    )


def counter_run(g):
    """A short counter's whole run (report=10000 reports=3), on cpu0."""
    return [rf"^\[{g}\] counter: {g} start report=10000 reports=3 tsc \d+$",
            rf"^\[{g}\] counter: {g} done$", exit_code(0, g, 0)]

SCENARIOS = [
    # Two CPUs: left and right (equal weights) and ports share cpu0; solo and lapic share cpu1.
    Scenario(
        name="smp-partitions",
        cpus=2,
        guests=[("counter", "counter"), ("ports", "ports"), ("lapic", "lapic")],
        modules=[("tests/configs/smp.cfg", "config")],
        timeout=180,
        checks=[
            Expect("cpu1-up", r"^\[cpu0\] smp: cpu1 \(APIC id 1\) is up$"),
            Expect("both-cpus-run", r"^\[cpu0\] smp: 2 of 2 CPUs running$"),
            Absent("no-config-error", r"^\[cpu0\] error: config"),
            PartitionMap("partition-map", {
                "left": (4096, 0, 256, 0x4000000), "right": (4096, 0, 256, 0x4400000),
                "ports": (2048, 0, 256, None), "solo": (4096, 1, 256, 0x4800000),
                "lapic": (2048, 1, 256, None)}),
            # Each guest stops on its own CPU, after its last words.
            InOrder("left-finishes-on-cpu0", [r"^\[left\] counter: left count 4000000 tsc \d+$",
                                              r"^\[left\] counter: left done$", exit_code(0, "left", 0)]),
            InOrder("right-finishes-on-cpu0", [r"^\[right\] counter: right count 4000000 tsc \d+$",
                                               r"^\[right\] counter: right done$", exit_code(0, "right", 0)]),
            InOrder("solo-finishes-on-cpu1", [r"^\[solo\] counter: solo count 8000000 tsc \d+$",
                                              r"^\[solo\] counter: solo done$", exit_code(1, "solo", 0)]),
            Parallel("cpus-run-in-parallel", "solo", ("left", "right")),
            Share("equal-weights-equal-shares", ("left", "right"), (256, 256)),
            # lapic (cpu1) tries to INIT and SIPI the other CPUs; cpu0's guests go on.
            Count("x2apic-icr-refused", r"^\[lapic\] lapic: x2APIC ICR write refused \(#GP\)", 2),
            Expect("x2apic-icr-gp-logged", r"^\[cpu1\] guest lapic: write of MSR 0x830 refused with #GP$"),
            Absent("x2apic-icr-never-accepted", r"lapic: x2APIC ICR write accepted"),
            InOrder("xapic-icr-stopped-by-ept", [
                r"^\[lapic\] lapic: writing xAPIC ICR at 0xfee00300 \(INIT to all others\)$",
                stopped(1, "lapic", r"EPT violation: write at guest-physical 0xfee00310 "
                                    r"\(outside the guest's RAM\), rip 0x[0-9a-f]+")]),
            Absent("lapic-never-survives", r"lapic: SURVIVED"),
            InOrder("cpu0-unaffected-by-lapic", [
                stopped(1, "lapic", r"EPT violation: .*"),
                r"^\[left\] counter: left count \d+ tsc \d+$",
                r"^\[right\] counter: right count \d+ tsc \d+$"]),
            Count("no-cpu-started-again", r"^\[cpu\d+\] smp: ", 2),
            ONE_BOOT,
            # ports (cpu0) pokes the PIC, PIT, CMOS, PCI and reset ports: reads all-ones, changes nothing.
            Expect("pic-reads-ones", r"^\[ports\] ports: PIC masks after: 0xff 0xff, IRR 0xff$"),
            Expect("pit-reads-ones", r"^\[ports\] ports: PIT channel 0 reprogrammed, counter reads 0xffff$"),
            Expect("cmos-reads-ones", r"^\[ports\] ports: CMOS written .*, reads back 0xff 0xff$"),
            Expect("pci-reads-ones",
                   r"^\[ports\] ports: PCI 0:0\.0 vendor/device 0xffffffff \(address reads 0xffffffff\)$"),
            InOrder("reset-ports-ignored", [r"^\[ports\] ports: writing the reset ports 0xcf9, 0x92, 0x64$",
                                            r"^\[ports\] ports: reset ports did nothing$",
                                            exit_code(0, "ports", 0)]),
            InOrder("host-goes-on-after-ports", [exit_code(0, "ports", 0),
                                                 r"^\[solo\] counter: solo count \d+ tsc \d+$",
                                                 r"^\[left\] counter: left count \d+ tsc \d+$",
                                                 r"^\[cpu\d+\] no runnable guest is left$"]),
        ] + HEALTHY_SMP,
    ),
    # Two CPUs, each switching between two memory hogs; a probe on cpu1 writes into cpu0's hog.
    Scenario(
        name="smp-memory",
        cpus=2,
        guests=[("memhog", "memhog"), ("probe", "probe")],
        modules=[("tests/configs/smp-memory.cfg", "config")],
        timeout=180,
        checks=[
            Expect("both-cpus-run", r"^\[cpu0\] smp: 2 of 2 CPUs running$"),
            PartitionMap("partition-map", {
                "hog0": (4096, 0, 256, 0x4000000), "hog2": (4096, 0, 256, 0x4400000),
                "hog1": (4096, 1, 256, 0x4800000), "hog3": (4096, 1, 256, 0x4c00000),
                "peek": (2048, 1, 256, None)}),
        ] + [
            InOrder(f"hog{n}-intact", [rf"^\[hog{n}\] memhog: hog{n} filling 0x[0-9a-f]+-0x00400000 ",
                                       rf"^\[hog{n}\] memhog: pattern intact after pass 2$",
                                       exit_code(n % 2, f"hog{n}", 0)])
            for n in range(4)
        ] + [
            Absent("no-corruption", r"memhog: CORRUPTED"),
            InOrder("cross-cpu-write-stopped", [r"^\[peek\] probe: writing at 0x04000000$",
                                                stopped(1, "peek", r"EPT violation: write at guest-physical "
                                                        r"0x4000000 \(outside the guest's RAM\), rip 0x[0-9a-f]+")]),
            Absent("probe-never-survives", r"probe: SURVIVED"),
            ONE_BOOT,
        ] + HEALTHY_SMP,
    ),
    # One CPU: two memory hogs side by side, and probes of what no guest may reach.
    Scenario(
        name="isolation-memory",
        guests=[("memhog", "memhog"), ("probe", "probe")],
        modules=[("tests/configs/isolation.cfg", "config")],
        timeout=180,
        checks=[
            Absent("no-config-error", r"^\[cpu0\] error: config"),
            Expect("hypervisor-image-at-2m", r"^\[cpu0\] memory: image 0x200000-0x[0-9a-f]+ "),
            PartitionMap("partition-map", {
                "hogA": (16384, 0, 256, 0x4000000), "hogB": (16384, 0, 256, 0x5000000),
                "past": (16384, 0, 256, None), "neighbour": (16384, 0, 256, None),
                "hvimage": (2048, 0, 256, None), "hvalias": (16384, 0, 256, None),
                "ioapic": (2048, 0, 256, None)}),
            InOrder("hogA-intact", [r"^\[hogA\] memhog: hogA filling 0x[0-9a-f]+-0x01000000 ",
                                    r"^\[hogA\] memhog: pattern intact after pass 2$",
                                    exit_code(0, "hogA", 0)]),
            InOrder("hogB-intact", [r"^\[hogB\] memhog: hogB filling 0x[0-9a-f]+-0x01000000 ",
                                    r"^\[hogB\] memhog: pattern intact after pass 2$",
                                    exit_code(0, "hogB", 0)]),
            Absent("no-corruption", r"memhog: CORRUPTED"),
            InOrder("past-ram-stopped", [r"^\[past\] probe: reading at 0x01000000$",
                                         ept_violation("past", "read", "0x1000000")]),
            # 0x5000000 is hogB's first host byte, written (the probe's own RAM ends at 16 MiB).
            InOrder("neighbour-stopped", [r"^\[neighbour\] probe: writing at 0x05000000$",
                                          ept_violation("neighbour", "write", "0x5000000")]),
            InOrder("hypervisor-image-stopped", [r"^\[hvimage\] probe: writing at 0x00200000$",
                                                 ept_violation("hvimage", "write", "0x200000")]),
            # Guest-physical 0x200000 inside a 16 MiB guest is its own zeroed frame.
            InOrder("hypervisor-image-invisible", [
                r"^\[hvalias\] probe: reading at 0x00200000$",
                r"^\[hvalias\] probe: SURVIVED value 0x00$",
                exit_code(0, "hvalias", 1)]),
            Absent("hypervisor-image-byte-never-read", rf"probe: SURVIVED value 0x{IMAGE_FIRST_BYTE:02x}"),
            InOrder("ioapic-stopped", [r"^\[ioapic\] probe: reading at 0xfec00000$",
                                       ept_violation("ioapic", "read", "0xfec00000")]),
            Absent("no-stray-probe-survives", r"^\[(past|neighbour|hvimage|ioapic)\] probe: SURVIVED"),
            ONE_BOOT,
        ] + HEALTHY,
    ),
    # One CPU: never-yielding counters with weights 256 and 512.
    Scenario(
        name="shares-weighted",
        guests=[("counter", "counter")],
        modules=[("tests/configs/shares.cfg", "config")],
        timeout=180,
        checks=[
            PartitionMap("partition-map", {"light": (2048, 0, 256, None), "heavy": (2048, 0, 512, None)}),
            Share("shares-follow-weights", ("light", "heavy"), (256, 512)),
            InOrder("light-not-starved", [r"^\[light\] counter: light count 6000000 tsc \d+$",
                                          exit_code(0, "light", 0)]),
            InOrder("heavy-finishes", [r"^\[heavy\] counter: heavy count 12000000 tsc \d+$",
                                       exit_code(0, "heavy", 0)]),
        ] + HEALTHY,
    ),
    # One CPU: configurations with one mistake per refused guest; the valid guests run.
    config_errors("config-errors-parse", "errors-parse.cfg", {
        "badkey": rf"config:{config_line('errors-parse.cfg', 'colour = blue')}: guest badkey: colour: unknown key",
        "badsize": (rf"config:{config_line('errors-parse.cfg', 'memory = 12Q')}: guest badsize: memory: "
                    r"bad size '12Q' \(expected a number with an optional K, M or G suffix\)"),
        "toolarge": (rf"config:{config_line('errors-parse.cfg', 'memory = 2048G')}: guest toolarge: memory: "
                     r"2048G is too large \(at most 1024G\)"),
        "good": (rf"config:{config_line('errors-parse.cfg', '[guest good]', 2)}: guest good: duplicate guest "
                 rf"name \(first defined on line {config_line('errors-parse.cfg', '[guest good]')}\)"),
    }, {
        "good": ((2048, 0, 256, None), [r"^\[good\] demo: command line: 'good'$", exit_code(0, "good", 42)]),
        "plain": ((2048, 0, 256, None), counter_run("plain")),
    }),
    config_errors("config-errors-plan", "errors-plan.cfg", {
        "noimage": (rf"config:{config_line('errors-plan.cfg', 'image = nosuch')}: guest noimage: image: no "
                    rf"GRUB module named 'nosuch' \(modules: {ERRORS_MODULES}\)"),
        "nocpu": (rf"config:{config_line('errors-plan.cfg', 'cpus = 3')}: guest nocpu: cpus: CPU 3 does not "
                  r"exist \(this machine has 1: 0\)"),
        "overlap": (rf"config:{config_line('errors-plan.cfg', 'address = 0x6800000')}: guest overlap: address: "
                    r"0x6800000 - 0x77fffff overlaps guest first \(0x6000000 - 0x6ffffff\)"),
        "huge": (rf"config:{config_line('errors-plan.cfg', 'memory = 1G')}: guest huge: memory: 1 GiB does "
                 r"not fit \(largest free range \d+ MiB\)"),
    }, {
        "first": ((16384, 0, 256, 0x6000000), counter_run("first")),
        "plain": ((2048, 0, 256, None), counter_run("plain")),
    }),
    # QEMU (TCG, no VT-x) with four CPUs: all are found and started, the map is printed, no guest runs.
    Scenario(
        name="qemu-smp4",
        emulator="qemu",
        qemu_cpu="Skylake-Client",
        cpus=4,
        guests=[("demo", "demo")],
        modules=[("tests/configs/qemu-smp4.cfg", "config")],
        timeout=60,
        checks=[
            Expect("madt-lists-4", r"^\[cpu0\] acpi: .*MADT lists 4 CPUs \(4 enabled\)"),
        ] + [
            Expect(f"cpu{n}-up", rf"^\[cpu0\] smp: cpu{n} \(APIC id {n}\) is up$") for n in (1, 2, 3)
        ] + [
            Expect("all-4-running", r"^\[cpu0\] smp: 4 of 4 CPUs running$"),
            Absent("no-cpu-timed-out", r"did not answer INIT-SIPI-SIPI"),
            Absent("no-config-error", r"^\[cpu0\] error: config"),
            PartitionMap("partition-map", {
                "q0": (2048, 0, 256, None), "q1": (2048, 1, 256, None),
                "q2": (4096, 2, 256, None), "q3": (2048, 3, 256, None)}),
            Expect("clear-refusal", r"^\[cpu0\] error: vmx: cannot run guests: CPUID.1:ECX.VMX\[bit 5\] is 0"),
            Absent("no-guest-runs", r"^\[q\d\] "),
        ] + HEALTHY,
    ),
]
