#!/bin/sh
# Installs the Debian packages Cloison's build, run and tests need, without asking.
# Quiet and quick when everything is already there.
set -eu
PACKAGES="gcc make binutils python3 socat \
bochs bochsbios vgabios bochs-sdl \
grub-pc-bin grub-common grub-efi-amd64-bin xorriso mtools \
qemu-system-x86 ovmf gnu-efi"
[ -n "${EXTRA_PACKAGES:-}" ] && PACKAGES="$PACKAGES $EXTRA_PACKAGES"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "install-deps: done"
