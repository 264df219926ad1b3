"""Guests with several vCPUs: IPIs stay inside the guest that sends them."""
from emu import Scenario, Expect, Absent, InOrder

SCENARIOS = [
    Scenario(
        name="smp-ipi-isolation",
        cpus=3,
        guests=[("ipi", "ipi"), ("memhog", "memhog")],
        modules=[("tests/configs/smp-ipi.cfg", "config")],
        timeout=300,
        checks=[
            Expect("two-vcpus-on-cpus-0-1", r"^\[cpu0\]   guest ipi +0x[0-9a-f]+-0x[0-9a-f]+ +8192 KiB  cpu0-1,"),
            InOrder("own-ap-started-by-broadcast", [
                r"^\[ipi\] ipi: lapic id 0, version 0x50014$",
                r"^\[cpu1\] guest ipi: vCPU 1 started at 0x9000 \(SIPI\)$"]),
            Expect("every-ipi-sent-x2apic-refused",
                   r"^\[ipi\] ipi: sent \d+ IPIs, x2APIC ICR refused \(vector 13\), 1 NMI to itself$"),
            Expect("ipi-guest-exits", r"^\[cpu\d\] guest ipi stopped: exit code 0 \(port 0xf4\)$"),
            Expect("neighbour-intact", r"^\[hog\] memhog: pattern intact after pass 6$"),
            Expect("neighbour-exits-0", r"^\[cpu2\] guest hog stopped: exit code 0 \(port 0xf4\)$"),
            Absent("neighbour-never-disturbed", r"memhog: .*(CHANGED|mismatch|corrupt)|guest hog stopped: (?!exit code 0)"),
            Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
            Expect("powers-off-when-idle", r"^\[cpu\d\] powering off"),
        ],
    ),
]
