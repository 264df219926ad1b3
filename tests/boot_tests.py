"""The boot scenarios: what each boots and what its serial log must (and must not) show."""
from emu import Scenario, Expect, Absent, InOrder

# Every run: the hypervisor itself never faults, and the run ends by powering off.
HEALTHY = [
    Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    Expect("powers-off-when-idle", r"^\[cpu0\] powering off"),
]

SCENARIOS = [
    Scenario(
        name="demo",
        guests=[("demo", "demo greeting=hello")],
        checks=[
            Expect("vmx-enabled", r"^\[cpu0\] vmx: EPT with 2 MiB pages"),
            Expect("partition-printed", r"^\[cpu0\]   guest demo +0x[0-9a-f]+-0x[0-9a-f]+ +16384 KiB  cpu0"),
            Expect("guest-prints", r"^\[demo\] Hello from Cloison guest$"),
            Expect("guest-gets-cmdline", r"^\[demo\] demo: command line: 'demo greeting=hello'$"),
            Expect("guest-gets-memory", r"^\[demo\] demo: mem_lower 639 KiB, mem_upper 15360 KiB$"),
            Expect("cpuid-signature", r"^\[demo\] demo: hypervisor signature: 'Cloison'"),
            InOrder("exit-code", [r"^\[demo\] demo: exiting with code 42$",
                                  r"^\[cpu0\] guest demo stopped: exit code 42 \(port 0xf4\)$"]),
        ] + HEALTHY,
    ),
    Scenario(
        name="faults",
        guests=[
            ("eptpast", "eptpast"),
            ("triple", "triple"),
            ("vmxon", "vmxon"),
            ("hcall", "hcall"),
            ("aout", "aout"),
            ("halt", "halt"),
            ("demo", "demo"),
        ],
        checks=[
            InOrder("ept-violation-past-ram", [
                r"^\[eptpast\] eptpast: writing at 0x01000000",
                r"^\[cpu0\] guest eptpast stopped: EPT violation: write at guest-physical 0x1000000 "
                r"\(outside the guest's RAM\)"]),
            Absent("ept-violation-stops-guest", r"eptpast: SURVIVED"),
            Expect("triple-fault-stops-guest", r"^\[cpu0\] guest triple stopped: triple fault"),
            Absent("triple-fault-no-survivor", r"triple: SURVIVED"),
            InOrder("vmxon-gets-ud", [r"^\[vmxon\] vmxon: #UD caught",
                                      r"^\[cpu0\] guest vmxon stopped: exit code 85 \(port 0xf4\)"]),
            Expect("unknown-hypercall-errors", r"^\[hcall\] hcall: unknown returned 0xffffffff"),
            Expect("unemulated-port-reads-ones", r"^\[hcall\] hcall: port 0x80 reads 0xff\b"),
            Expect("hypercall-exit", r"^\[cpu0\] guest hcall stopped: exit code 9 \(hypercall\)"),
            InOrder("aout-kludge-loads", [r"^\[aout\] aout: loaded via a.out kludge",
                                          r"^\[cpu0\] guest aout stopped: exit code 7 \(port 0xf4\)"]),
            Expect("hlt-halts-guest", r"^\[cpu0\] guest halt halted \(HLT with interrupts off"),
            Expect("others-run-on", r"^\[cpu0\] guest demo stopped: exit code 42 \(port 0xf4\)"),
        ] + HEALTHY,
    ),
    Scenario(
        name="bad-image",
        guests=[("demo", "demo")],
        modules=[("linker.ld", "notakernel")],
        checks=[
            Expect("refused-with-reason",
                   r"^\[cpu0\] error: guest notakernel: image 'notakernel' is not a usable Multiboot kernel: .+"),
            Expect("others-start", r"^\[cpu0\] guest demo stopped: exit code 42"),
        ] + HEALTHY,
    ),
    Scenario(
        name="qemu-no-vtx-intel",
        emulator="qemu",
        qemu_cpu="Skylake-Client",
        guests=[("demo", "demo")],
        timeout=60,
        checks=[
            Expect("clear-refusal", r"^\[cpu0\] error: vmx: cannot run guests: CPUID.1:ECX.VMX\[bit 5\] is 0"),
            Expect("stays-up", r"^\[cpu0\] powering off"),
            Absent("no-guest-started", r"^\[demo\]"),
        ] + HEALTHY[:1],
    ),
    Scenario(
        name="qemu-no-vtx-amd",
        emulator="qemu",
        guests=[("demo", "demo")],
        timeout=60,
        checks=[
            Expect("clear-refusal", r"^\[cpu0\] error: vmx: cannot run guests: not an Intel CPU \(CPUID vendor AuthenticAMD\)"),
        ] + HEALTHY,
    ),
    Scenario(
        name="qemu-uefi",
        emulator="qemu-uefi",
        qemu_cpu="Skylake-Client",
        guests=[("demo", "demo")],
        timeout=90,
        checks=[
            Expect("boots-under-uefi", r"^\[cpu0\] Cloison .*partitioning hypervisor"),
            Expect("memory-map", r"^\[cpu0\] memory: \d+ KiB usable RAM"),
            Expect("acpi-rsdp-found", r"^\[cpu0\] boot: .* ACPI RSDP v2"),
            Expect("clear-refusal", r"^\[cpu0\] error: vmx: cannot run guests: CPUID.1:ECX.VMX\[bit 5\] is 0"),
        ] + HEALTHY,
    ),
    # The benchmark guest (tests/bench/bench.c, `make bench`) runs briefly and prints well-formed
    # figures; how good they are is `make bench`'s business, not a pass/fail here.
    Scenario(
        name="bench-quick",
        guests=[("bench", "bench quick")],
        checks=[
            InOrder("bench-runs", [
                r"\[bench\] bench: begin mode=micro env=cloison quick=1$",
                r"\[bench\] bench: start handoff_to_first=\d+ handoff_to_entry=\d+ "
                r"boot_tsc=0x[0-9a-f]+ first_tsc=0x[0-9a-f]+$",
                r"\[bench\] bench: cpuid_rtt median=\d+ min=\d+ max=\d+ n=32 overhead=\d+ leaf=0$",
                r"\[bench\] bench: vmcall_rtt median=\d+ min=\d+ max=\d+ n=32 overhead=\d+ nr=2 ret=0x0$",
                r"\[bench\] bench: uart_lsr_read median=\d+ min=\d+ max=\d+ n=32 overhead=\d+ port=0x3fd$",
                r"\[bench\] bench: uart_tx_write median=\d+ min=\d+ max=\d+ n=32 overhead=\d+ port=0x3f8$",
                r"\[bench\] bench: work median=\d+ min=\d+ max=\d+ n=2 bytes=4194304 unit_bytes=4096 "
                r"check=0x[0-9a-f]+$",
                r"\[bench\] bench: end status=ok$",
                r"\[cpu0\] guest bench stopped: exit code 0 \(port 0xf4\)$"]),
            Absent("well-formed-lines", r"\[bench\] bench: (?![a-z_0-9]+(?: [a-z_0-9]+=[0-9A-Za-z_.]+)*$)"),
            Absent("no-bench-error", r"\[bench\] bench: (?:error|skip)"),
        ] + HEALTHY,
    ),
    Scenario(
        name="fpu-isolation",
        guests=[("fpu", "fpuA rounds=8"), ("fpu", "fpuB rounds=8")],
        checks=[
            InOrder("fpuA-keeps-its-xmm0", [r"^\[fpuA\] fpu: fpuA loaded xmm0 ",
                                            r"^\[fpuA\] fpu: fpuA xmm0 intact after 8 rounds$",
                                            r"^\[cpu0\] guest fpuA stopped: exit code 0 "]),
            InOrder("fpuB-keeps-its-xmm0", [r"^\[fpuB\] fpu: fpuB loaded xmm0 ",
                                            r"^\[fpuB\] fpu: fpuB xmm0 intact after 8 rounds$",
                                            r"^\[cpu0\] guest fpuB stopped: exit code 0 "]),
            Absent("no-state-leak", r"xmm0 CHANGED"),
        ] + HEALTHY,
    ),
]
