"""cloison.efi (boot/efi/) under QEMU with OVMF: the firmware boots EFI/BOOT/BOOTX64.EFI from a FAT
ESP (a directory QEMU shows as a FAT disk), the loader starts Cloison through its multiboot2 entry,
and Cloison (TCG: no VT-x) refuses clearly with its shell up; a broken loader config gives one
error line and hands back to the firmware, which moves on to its next boot option (its shell)."""
import os
import re
import subprocess

from emu import ROOT, PROMPT, Scenario, Expect, Absent, InOrder, Stage, Send, ExpectOut, Cmd

# The demo of `make efi` (Makefile DEMO_MODULES): guest images and scripts/demo.cfg as `config`.
DEMO = [("linux/vmlinuz-6.1", "vmlinuz-6.1"), ("linux/vmlinuz-6.12", "vmlinuz-6.12"),
        ("linux/initrd-busybox.cpio.gz", "initrd"),
        ("guests/demo.elf", "demo"), ("guests/echo.elf", "echo"), ("guests/counter.elf", "counter"),
        ("guests/hcall.elf", "hcall"), ("scripts/demo.cfg", "config")]


def esp(loader_cfg=None, hv_args="console=0x3f8,115200"):
    """Scenario.qemu_media: a fresh ESP tree for this run (boot/efi/mkesp.sh), its loader config
    replaced by loader_cfg when given, shown to QEMU as a FAT hard disk."""
    def media(scen, build, workdir):
        out = os.path.join(workdir, f"{scen.name}.esp")
        args = [os.path.join(ROOT, "boot", "efi", "mkesp.sh"), out, os.path.join(build, "cloison.efi"),
                os.path.join(build, "cloison.elf"), hv_args]
        for path, string in DEMO:
            args += [os.path.join(build, path) if path.startswith(("guests/", "linux/")) else os.path.join(ROOT, path),
                     string]
        subprocess.run(args, check=True)
        if loader_cfg is not None:
            with open(os.path.join(out, "EFI", "cloison", "cloison.cfg"), "w") as f:
                f.write(loader_cfg)
        # No network: OVMF would try PXE before its shell
        return ["-drive", f"file=fat:rw:{out},format=raw", "-net", "none"]
    return media


LOADER = r"cloison\.efi: "
BOOTS = Scenario(
    name="efi-esp-demo",
    emulator="qemu-uefi",
    qemu_cpu="Skylake-Client",
    cpus=2,
    megs=512,
    timeout=150,
    qemu_media=esp(),
    session=[
        Stage("firmware-starts-loader",
              ExpectOut(LOADER + r"Cloison's UEFI loader, started as \\EFI\\BOOT\\BOOTX64\.EFI\n", timeout=100),
              ExpectOut(LOADER + r"booting \[cloison\]: \\EFI\\cloison\\cloison\.elf console=0x3f8,115200 "
                        r"\(8 modules\)\n"),
              ExpectOut(LOADER + r"entering Cloison at 0x[0-9a-f]+; boot information at 0x[0-9a-f]+\n")),
        Stage("shell-up", ExpectOut("^" + re.escape(PROMPT), timeout=60)),
        # Without VT-x no guest is created: the shell still answers
        Stage("list-answers", Cmd("list", r"\Ano guests\n\Z")),
        Stage("halt-powers-off", Send("halt\r"), ExpectOut(r"^\[cpu0\] powering off", timeout=20)),
    ],
    checks=[
        Expect("loader-named", r"^\[cpu0\] boot: loader 'cloison\.efi', command line 'console=0x3f8,115200'$"),
        Expect("modules-and-rsdp", r"^\[cpu0\] boot: \d+ memory map entries, 8 modules, ACPI RSDP v2$"),
        Expect("config-read", r"^\[cpu0\] config: reading module 'config'"),
        Expect("clear-refusal", r"^\[cpu0\] error: vmx: cannot run guests: CPUID.1:ECX.VMX\[bit 5\] is 0"),
        InOrder("partition-map", [r"^\[cpu0\] partition map:$",
                                  r"^\[cpu0\]   hypervisor +0x0*200000-0x[0-9a-f]+ +\d+ KiB  image"]),
        Expect("partition-web", r"^\[cpu0\]   guest web +0x[0-9a-f]+-0x[0-9a-f]+ +131072 KiB  cpu0, weight 256"),
        Expect("partition-db", r"^\[cpu0\]   guest db +0x[0-9a-f]+-0x[0-9a-f]+ +131072 KiB  cpu1, weight 256"),
        Expect("partition-alpha", r"^\[cpu0\]   guest alpha +0x[0-9a-f]+-0x[0-9a-f]+ +16384 KiB  cpu0, weight 256"),
        Expect("partition-beta", r"^\[cpu0\]   guest beta +0x[0-9a-f]+-0x[0-9a-f]+ +8192 KiB  cpu1, weight 128"),
        Expect("partition-delta", r"^\[cpu0\]   guest delta +0x[0-9a-f]+-0x[0-9a-f]+ +4096 KiB  cpu0, .*not started$"),
        Absent("no-loader-error", LOADER + "error"),
        Absent("no-hypervisor-fault", r"PANIC|CPU exception"),
    ],
)

BAD_CONFIG = """[global]
default = cloison

[cloison]
hypervisor = cloison.elf console=0x3f8,115200
kernel = guests/demo.elf demo
"""

BROKEN = Scenario(
    name="efi-bad-config",
    emulator="qemu-uefi",
    qemu_cpu="Skylake-Client",
    megs=256,
    timeout=150,
    qemu_media=esp(BAD_CONFIG),
    session=[
        Stage("error-line",
              ExpectOut(LOADER + r"error: \\EFI\\cloison\\cloison\.cfg: line 6: unknown key 'kernel' "
                        r"\(expected hypervisor, module or default\)\n", timeout=100)),
        # A key ends the 5 s pause at once, and the firmware's boot manager hears the failure
        Stage("key-returns-to-firmware", Send("\r"),
              ExpectOut(r"BdsDxe: failed to start Boot\d+ .*: Invalid Parameter", timeout=4)),
        Stage("firmware-moves-on", ExpectOut(r"Shell> ", timeout=60), Send("reset -s\r")),
    ],
    checks=[
        Absent("cloison-not-entered", r"entering Cloison|^\[cpu0\] Cloison"),
        Absent("one-error-line", LOADER + r"error: .*\n(?:.*\n)*?" + LOADER + "error: "),
    ],
)

SCENARIOS = [BOOTS, BROKEN]
