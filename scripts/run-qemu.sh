#!/bin/sh
# Boots an ISO in QEMU with COM1 on this terminal. With /dev/kvm on an Intel host that offers
# nested VT-x it uses KVM and the host CPU; otherwise it runs under TCG, where there is no VT-x
# and Cloison boots to its clear refusal. usage: scripts/run-qemu.sh ISO [-uefi]
set -eu
iso=$1
shift
accel="-accel tcg -cpu Skylake-Client"
if [ -w /dev/kvm ] && grep -q vmx /proc/cpuinfo 2>/dev/null && \
   [ "$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null)" = "Y" ]; then
	accel="-enable-kvm -cpu host"
fi
bios=""
[ "${1:-}" = "-uefi" ] && bios="-bios /usr/share/ovmf/OVMF.fd"
echo "run-qemu: $accel; quit with Ctrl-A X"
# shellcheck disable=SC2086
exec qemu-system-x86_64 $accel $bios -m 512 -smp 2 -cdrom "$iso" -nographic -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
