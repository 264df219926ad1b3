"""CPU-state isolation: hostile guests that write the registers a guest can reach (CR8, debug
registers, XCR0 and the XSAVE state, performance counters, WBINVD, CPUID's topology and feature
bits), each next to neighbours that keep running and check their own state. Every check here
failed before the state was isolated (issue: hardening)."""
from emu import Scenario, Expect, Absent, InOrder, Stage, Cmd, ExpectOut, Mark, PROMPT
import re

HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
]


def stopped(name, code):
    return rf"^\[cpu0\] guest {name} stopped: exit code {code} \(port 0xf4\)$"


SCENARIOS = [
    # All on cpu0, the console's CPU: a CR8 of 15 reaching the local APIC would stop the console
    # tick, so no line after the attack would ever be printed and the run would not power off.
    Scenario(
        name="cpu-state-isolation",
        guests=[("cr8", "cr8"), ("counter", "neighbour report=400000 reports=12"),
                ("dregs", "dregsA rounds=6"), ("dregs", "dregsB rounds=6"),
                ("xsave", "xsaveA xcr0=7 rounds=6"), ("xsave", "xsaveB xcr0=3 rounds=6"),
                ("hostres", "hostres"), ("features", "features")],
        timeout=240,
        checks=[
            Expect("cr8-is-the-guests-own", r"^\[cr8\] cr8: before 0x0, after writing 0xf reads 0xf$"),
            Expect("efer-lme-with-paging-refused",
                   r"^\[cr8\] cr8: EFER.LME change with paging on refused \(vector 13\)$"),
            InOrder("console-carries-on-after-cr8", [
                r"^\[cr8\] cr8: before 0x0", r"^\[cr8\] cr8: tick 20$", stopped("cr8", 0)]),
            InOrder("neighbour-runs-on", [
                r"^\[cr8\] cr8: before 0x0", r"^\[neighbour\] counter: neighbour done$",
                stopped("neighbour", 0)]),
            InOrder("dregsA-keeps-its-debug-registers", [
                r"^\[dregsA\] dregs: dregsA set dr0 \w+ .* debugctl BTF$",
                r"^\[dregsA\] dregs: dregsA debug registers and syscall MSRs intact after 6 rounds$",
                stopped("dregsA", 0)]),
            InOrder("dregsB-keeps-its-debug-registers", [
                r"^\[dregsB\] dregs: dregsB debug registers and syscall MSRs intact after 6 rounds$",
                stopped("dregsB", 0)]),
            Absent("no-debug-register-changed", r"dregs: \w+ (DR\d|DEBUGCTL|MSR \w+) (CHANGED|refused)"),
            InOrder("xsaveA-xcr0-rules-and-state", [
                r"^\[xsaveA\] xsave: xsaveA rules ok",
                r"^\[xsaveA\] xsave: xsaveA xcr0 0x7 and registers intact after 6 rounds$",
                stopped("xsaveA", 0)]),
            InOrder("xsaveB-xcr0-rules-and-state", [
                r"^\[xsaveB\] xsave: xsaveB rules ok",
                r"^\[xsaveB\] xsave: xsaveB xcr0 0x3 and registers intact after 6 rounds$",
                stopped("xsaveB", 0)]),
            Absent("no-xsetbv-deviation", r"xsave: \w+ (XSETBV|XCR0|CPUID|CR4|YMM0|XMM0)"),
            Expect("wbinvd-is-harmless", r"^\[hostres\] hostres: WBINVD returned$"),
            Expect("rdpmc-refused", r"^\[hostres\] hostres: RDPMC 0 refused \(vector 13\)$"),
            Expect("rdpmc-fixed-refused", r"^\[hostres\] hostres: RDPMC fixed 0 refused \(vector 13\)$"),
            Expect("topology-one-thread", r"^\[hostres\] hostres: leaf 0xB.0 eax 0 ebx 1 ecx 0x100 edx 0$"),
            Expect("topology-one-core", r"^\[hostres\] hostres: leaf 0xB.1 eax 0 ebx 1 ecx 0x201 edx 0$"),
            Expect("caches-not-shared-with-host-cores", r"^\[hostres\] hostres: leaf 4.0 level 1 cores 1 sharing 1$"),
            Absent("no-host-core-count", r"hostres: leaf 4\.\d level \d cores ([2-9]|\d\d)"),
            Expect("leaf1-one-cpu-no-mca",
                   r"^\[hostres\] hostres: leaf 1 apic id 0, logical 1, HTT 0, MCE 0, MCA 0$"),
            InOrder("hostres-finishes", [r"^\[hostres\] hostres: done$", stopped("hostres", 0)]),
            InOrder("every-advertised-feature-backed", [
                r"^\[features\] features: \d+ advertised features, all backed$", stopped("features", 0)]),
            Absent("no-unbacked-feature", r"features: .* advertised but"),
        ] + HEALTHY,
    ),
    # fresh is the last guest on its CPU when it stops; `start` must still give it reset state.
    Scenario(
        name="restart-fresh-state",
        guests=[("fresh", "fresh")],
        hv_args="",
        timeout=90,
        session=[
            Stage("first-run-clean",
                  ExpectOut(r"^\[fresh\] fresh: clean start\n", timeout=60),
                  ExpectOut(r"^\[cpu0\] guest fresh stopped: exit code 0 \(port 0xf4\)\n", timeout=30),
                  ExpectOut("^" + re.escape(PROMPT), timeout=30)),
            Stage("second-run-clean",
                  Mark("start"),
                  Cmd("start fresh", r"Guest fresh started\.", echo=False, timeout=20),
                  ExpectOut(r"^\[fresh\] fresh: (clean start|DIRTY)", timeout=30, since="start"),
                  ExpectOut(r"^\[cpu0\] guest fresh stopped: exit code 0 \(port 0xf4\)\n", timeout=30,
                            since="start")),
        ],
        checks=[
            Absent("nothing-dirty", r"fresh: DIRTY"),
            Expect("two-clean-starts", r"fresh: clean start[\s\S]*fresh: clean start"),
            Expect("msr-writes-kept-and-checked", r"fresh: MSR writes ok[\s\S]*fresh: MSR writes ok"),
            Absent("no-bad-msr-write", r"fresh: MSR BAD"),
            Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
        ],
    ),
    # An exception injected into a real-mode vCPU carries no error code (VM entry refuses one).
    Scenario(
        name="realmode-exception",
        cpus=2,
        guests=[("realmode", "realmode")],
        modules=[("tests/configs/realmode.cfg", "config")],
        timeout=180,
        checks=[
            Expect("ap-started-in-real-mode", r"^\[cpu1\] guest realmode: vCPU 1 started at 0x9000 \(SIPI\)$"),
            Expect("gp-through-the-ivt", r"^\[realmode\] realmode: AP took #GP in real mode and went on$"),
            Absent("no-failed-entry", r"VM entry (of vCPU \d+ )?failed"),
            Expect("exits-0", r"^\[cpu\d\] guest realmode stopped: exit code 0 \(port 0xf4\)$"),
        ] + HEALTHY[:1] + [Expect("powers-off-when-idle", r"^\[cpu\d\] powering off")],
    ),
]
