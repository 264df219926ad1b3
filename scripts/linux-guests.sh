#!/bin/sh
# Fetches Debian's 6.1 and 6.12 cloud kernels and builds a busybox initramfs for Linux guests:
#   BUILD/linux/vmlinuz-6.1, BUILD/linux/vmlinuz-6.12, BUILD/linux/initrd-busybox.cpio.gz
# The .deb files come from the Debian archive with `apt-get download` and are unpacked with
# `dpkg-deb -x`: nothing is installed. Every output is written to a temporary name and renamed,
# so a failure leaves nothing half-written. Silent when everything is already there.
# usage: scripts/linux-guests.sh [BUILD]       (BUILD defaults to $BUILD, then build)
set -eu
BUILD=${1:-${BUILD:-build}}
out=$BUILD/linux
here=$(cd "$(dirname "$0")" && pwd)
initramfs_src=$here/initramfs
initrd=$out/initrd-busybox.cpio.gz
mtime=1700000000 # fixed timestamp of every archive entry, for a reproducible initramfs

say() { echo "linux-guests: $*"; }
die() { echo "linux-guests: error: $*" >&2; exit 1; }

# The initramfs is rebuilt when its sources are newer than it
initrd_fresh() {
	[ -f "$initrd" ] && [ -z "$(find "$initramfs_src" "$here/linux-guests.sh" -newer "$initrd" 2>/dev/null)" ]
}
if [ -f "$out/vmlinuz-6.1" ] && [ -f "$out/vmlinuz-6.12" ] && initrd_fresh; then
	exit 0
fi

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/linux-guests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
# Under root apt would drop to the _apt user, which cannot write our temp dir
apt_opts="-q -o APT::Sandbox::User=$(id -un)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
lists_updated=no

# Refreshes the apt lists once per run; false when already done or when it failed
update_lists() {
	[ "$lists_updated" = no ] || return 1
	lists_updated=yes
	say "refreshing the apt package lists (apt-get update)"
	$SUDO apt-get update -q >/dev/null || { echo "linux-guests: apt-get update failed" >&2; return 1; }
}

# The newest package whose name matches the extended regex $1 (lists refreshed once if none)
newest() {
	pkg=$(apt-cache search --names-only "$1" 2>/dev/null | awk '{ print $1 }' | sort -V | tail -n 1)
	if [ -z "$pkg" ] && update_lists >&2; then
		pkg=$(apt-cache search --names-only "$1" 2>/dev/null | awk '{ print $1 }' | sort -V | tail -n 1)
	fi
	[ -n "$pkg" ] || die "no package matching '$1' in the apt lists"
	echo "$pkg"
}

# Downloads package $1 into $tmp/$2 and unpacks it there; stale lists are refreshed once
fetch() {
	mkdir -p "$tmp/$2/deb" "$tmp/$2/root"
	size=$(apt-cache show "$1" 2>/dev/null | awk '/^Size:/ { printf "%.1f MiB", $2 / 1048576; exit }')
	say "downloading $1 (${size:-size unknown}) from the Debian archive"
	if ! (cd "$tmp/$2/deb" && apt-get download $apt_opts "$1" >/dev/null 2>"$tmp/$2/err"); then
		if update_lists && (cd "$tmp/$2/deb" && apt-get download $apt_opts "$1" >/dev/null 2>"$tmp/$2/err"); then
			:
		else
			sed 's/^/  /' "$tmp/$2/err" >&2
			die "could not download $1"
		fi
	fi
	dpkg-deb -x "$tmp/$2/deb/"*.deb "$tmp/$2/root" || die "could not unpack $1"
}

# Kernel $1 (6.1 or 6.12) from the newest package matching $2
kernel() {
	dest=$out/vmlinuz-$1
	[ -f "$dest" ] && return 0
	pkg=$(newest "$2")
	fetch "$pkg" "k$1"
	set -- "$1" "$pkg" "$tmp/k$1/root/boot/vmlinuz-"*
	[ -f "$3" ] || die "$2 holds no boot/vmlinuz-*"
	cp "$3" "$dest.tmp"
	mv "$dest.tmp" "$dest"
	echo "$2" > "$dest.package"
	say "$dest ready ($(basename "$3"), $(wc -c < "$dest") bytes)"
}

kernel 6.1 '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$'
kernel 6.12 '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$'

initrd_fresh && exit 0
bb=$out/busybox
if [ ! -f "$bb" ]; then
	pkg=$(newest '^busybox-static$')
	fetch "$pkg" bb
	cp "$tmp/bb/root/bin/busybox" "$bb.tmp"
	mv "$bb.tmp" "$bb"
fi

say "building $initrd"
root=$tmp/initramfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/root"
cp "$bb" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# One link per applet, where busybox says it belongs (bin/sh, sbin/init, usr/bin/...)
"$root/bin/busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] || [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
[ -L "$root/sbin/init" ] && [ -L "$root/bin/sh" ] || die "busybox lacks init or sh"
cp "$initramfs_src/init" "$root/init"
chmod 755 "$root/init"
cp "$initramfs_src/inittab" "$root/etc/inittab"
cp "$initramfs_src/profile" "$root/etc/profile"
# The kernel opens /dev/console for init before anything can mount devtmpfs
python3 "$initramfs_src/mkcpio.py" "$root" "$tmp/initrd.cpio.gz" --mtime "$mtime" \
	--node dev/console:c:5:1:600
mv "$tmp/initrd.cpio.gz" "$initrd"
say "$initrd ready ($(wc -c < "$initrd") bytes)"
