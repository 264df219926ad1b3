#!/bin/sh
# Builds the benchmarks' GRUB ISOs that boot without Cloison.
# usage: scripts/bench-iso.sh native OUT.iso GUEST.elf 'ARGS'      the guest under GRUB's `multiboot`
#        scripts/bench-iso.sh linux OUT.iso VMLINUZ INITRD 'ARGS'  a Linux kernel and its initramfs
set -eu
kind=$1 out=$2
stage=$(mktemp -d "${TMPDIR:-/tmp}/cloison-bench-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
{
	echo 'set timeout=0'
	echo 'set default=0'
	case $kind in
	native)
		cp "$3" "$stage/boot/bench.elf"
		echo 'menuentry "bench, native" {'
		echo "	multiboot /boot/bench.elf $4"
		;;
	linux)
		cp "$3" "$stage/boot/vmlinuz"
		cp "$4" "$stage/boot/initrd"
		echo 'menuentry "bench, Linux KVM peer" {'
		echo "	linux /boot/vmlinuz $5"
		echo '	initrd /boot/initrd'
		;;
	*)
		echo "bench-iso: unknown kind '$kind' (native or linux)" >&2
		exit 2
		;;
	esac
	echo '	boot'
	echo '}'
} > "$stage/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$stage" >/dev/null 2>&1 || {
	echo "bench-iso: grub-mkrescue failed for $out (run scripts/install-deps.sh)" >&2
	exit 1
}
