"""The VM-exit fast path (vmx/fastpath.c): every exit kind it handles, and some it hands on, run
many thousand times from 64-bit mode by tests/guests/exitloop.c, which checks all sixteen
registers after each exit and a memory pattern at the end. A fast path that loses or leaks a
register fails here, not in a benchmark."""
from emu import Scenario, Expect, Absent, InOrder

HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
]


KINDS = 19  # tests/guests/exitloop.c enum kind


def clean_run(name, rounds):
    exits = rounds * (KINDS - 1) + (rounds + 15) // 16  # the UART data write every 16th round
    return InOrder(f"{name}-registers-and-memory-intact", [
        rf"^\[{name}\] exitloop: {exits} exits in {KINDS} kinds, 0 register mismatches, memory intact$",
        rf"^\[cpu0\] guest {name} stopped: exit code 0 \(port 0xf4\)$"])


SCENARIOS = [
    # Alone on its CPU: the 1 ms timer exits land between the loads and the stores too.
    Scenario(
        name="fast-exits",
        guests=[("exitloop", "exitloop rounds=3000")],
        timeout=240,
        checks=[clean_run("exitloop", 3000),
                Absent("no-mismatch-line", r"exitloop: MISMATCH"),
                *HEALTHY],
    ),
    # Two copies with different patterns share CPU 0 (10 ms slices): every switch happens in
    # the middle of one of them, so a register carried from one guest to the other is caught.
    Scenario(
        name="fast-exits-shared",
        guests=[("exitloop", "loopA rounds=1500 seed=1"), ("exitloop", "loopB rounds=1500 seed=2")],
        timeout=240,
        checks=[clean_run("loopA", 1500), clean_run("loopB", 1500),
                Absent("no-mismatch-line", r"exitloop: MISMATCH"),
                *HEALTHY],
    ),
]
