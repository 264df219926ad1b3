#!/bin/sh
# Fetches what the benchmarks' Linux KVM peer needs into BUILD/bench/peer: Debian's 6.1 cloud
# kernel (vmlinuz and the irqbypass, kvm and kvm-intel modules) and a static busybox. Downloads
# the .deb files with apt-get download and unpacks them with dpkg-deb -x: nothing is installed.
# usage: scripts/bench-peer.sh BUILD     Quiet and quick when everything is already there.
set -eu
dir=$1/bench/peer
[ -f "$dir/vmlinuz" ] && [ -f "$dir/busybox" ] && [ -f "$dir/kvm-intel.ko" ] && exit 0

latest_kernel() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
		awk '{ print $1 }' | sort -V | tail -n 1
}
pkg=$(latest_kernel)
if [ -z "$pkg" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -q >/dev/null
	pkg=$(latest_kernel)
fi
[ -n "$pkg" ] || { echo "bench-peer: no linux-image-6.1.0-*-cloud-amd64 package in the apt lists" >&2; exit 1; }

echo "bench-peer: fetching $pkg and busybox-static"
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg" busybox-static >/dev/null)
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
done
release=${pkg#linux-image-}
mods=$dir/root/lib/modules/$release/kernel
cp "$dir/root/boot/vmlinuz-$release" "$dir/vmlinuz.tmp"
cp "$mods/virt/lib/irqbypass.ko" "$mods/arch/x86/kvm/kvm.ko" "$mods/arch/x86/kvm/kvm-intel.ko" "$dir/"
cp "$dir/root/bin/busybox" "$dir/busybox"
echo "$pkg" > "$dir/kernel-package"
rm -rf "$dir/root" "$dir/debs"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "bench-peer: kernel $release ready in $dir"
