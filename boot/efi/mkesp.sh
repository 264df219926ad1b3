#!/bin/sh
# Builds an EFI system partition tree for cloison.efi: EFI/BOOT/BOOTX64.EFI (the loader, booted by
# any UEFI firmware without a boot entry), EFI/cloison/cloison.efi (the same loader, for efibootmgr,
# GRUB's chainloader and the UEFI shell), EFI/cloison/cloison.elf, the modules under
# EFI/cloison/guests/, and the loader's configuration EFI/cloison/cloison.cfg naming them.
# usage: boot/efi/mkesp.sh OUTDIR LOADER.efi KERNEL 'HYPERVISOR ARGS' [FILE 'MODULE STRING']...
set -eu
out=$1 loader=$2 kernel=$3 args=$4
shift 4
rm -rf "$out"
mkdir -p "$out/EFI/BOOT" "$out/EFI/cloison/guests"
cp "$loader" "$out/EFI/BOOT/BOOTX64.EFI"
cp "$loader" "$out/EFI/cloison/cloison.efi"
cp "$kernel" "$out/EFI/cloison/cloison.elf"
cfg="$out/EFI/cloison/cloison.cfg"
{
	echo "# cloison.efi's configuration: which hypervisor, command line and modules to load."
	echo "# Paths are relative to this file's folder, or start at the partition's root with '\\'."
	echo "# Module strings are those of GRUB's module2 lines. Syntax: README.md, cloison.efi."
	echo "[global]"
	echo "default = cloison"
	echo
	echo "[cloison]"
	echo "hypervisor = cloison.elf${args:+ $args}"
	while [ $# -ge 2 ]; do
		file=$(basename "$1")
		if [ -e "$out/EFI/cloison/guests/$file" ]; then
			echo "mkesp: two modules named $file" >&2
			exit 1
		fi
		cp "$1" "$out/EFI/cloison/guests/$file"
		echo "module = guests/$file $2"
		shift 2
	done
} > "$cfg"
