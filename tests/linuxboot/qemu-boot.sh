#!/bin/sh
# Boots a real kernel natively in QEMU (no VT-x needed) from exactly the guest memory that
# kernel/bzimage.c and drivers/virt/vacpi.c prepare: zero page, e820, command line, page tables,
# GDT, ACPI tables, kernel and initrd, entered at the 64-bit entry the way Cloison will enter it.
# No firmware boot_params are involved: what Linux sees of memory, CPUs and ACPI is ours.
# usage: tests/linuxboot/qemu-boot.sh BUILD VMLINUZ [CMDLINE]   (after make linux-guests)
# Prints the serial log; exit status 0 when the initramfs marker appeared.
set -eu
build=$1
kernel=$2
cmdline=${3:-console=ttyS0 cloison.test=poweroff}
here=$(dirname "$0")
dir=$build/linuxboot/$(basename "$kernel")
mkdir -p "$dir"
make -s BUILD="$build" "$build/unit/check_bzimage_real"
"$build/unit/check_bzimage_real" "$kernel" --initrd "$build/linux/initrd-busybox.cpio.gz" \
	--cmdline "$cmdline" --dump "$dir" >/dev/null
gcc -m32 -c -Wa,--defsym,RIP="$(cat "$dir/rip")" "$here/stub.S" -o "$dir/stub.o"
ld -m elf_i386 -nostdlib -static -z max-page-size=0x1000 -Ttext 0xc800000 -e _start \
	-o "$dir/stub.elf" "$dir/stub.o"
rm -f "$dir/serial.log"
timeout 120 qemu-system-x86_64 -m 512 -kernel "$dir/stub.elf" -initrd "$(cat "$dir/modules")" \
	-display none -serial "file:$dir/serial.log" -no-reboot || true
cat "$dir/serial.log"
grep -q 'cloison-guest: init up' "$dir/serial.log"
