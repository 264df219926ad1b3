#!/bin/sh
# Builds a GRUB (BIOS + UEFI) ISO that boots Cloison with the given guests.
# usage: scripts/mkiso.sh OUT.iso KERNEL 'HYPERVISOR ARGS' [GUEST.elf 'MODULE STRING']...
# Each guest's module string starts with its name; the rest is its command line.
set -eu
out=$1 kernel=$2 args=$3
shift 3
stage=$(mktemp -d "${TMPDIR:-/tmp}/cloison-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub" "$stage/boot/guests"
# Without its debug sections (build/cloison.elf keeps them for gdb): GRUB then reads 160 KiB
# instead of nearly 1 MiB from the boot medium, which a machine (and Bochs) pays at every boot.
objcopy --strip-debug "$kernel" "$stage/boot/cloison.elf"
{
	echo 'set timeout=0'
	echo 'set default=0'
	echo 'menuentry "Cloison" {'
	echo "	multiboot2 /boot/cloison.elf $args"
	n=0
	while [ $# -ge 2 ]; do
		n=$((n + 1))
		file=$(basename "$1")
		cp "$1" "$stage/boot/guests/$n-$file"
		echo "	module2 /boot/guests/$n-$file $2"
		shift 2
	done
	echo '	boot'
	echo '}'
} > "$stage/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$stage" >/dev/null 2>&1 || {
	echo "mkiso: grub-mkrescue failed for $out (are grub-pc-bin, grub-efi-amd64-bin, xorriso, mtools installed? run scripts/install-deps.sh)" >&2
	exit 1
}
