#!/bin/sh
# Boots an ISO in Bochs (VT-x with EPT, headless) with COM1 attached to this terminal.
# usage: scripts/run-bochs.sh ISO [CPUS]    Quit with Ctrl-\ .
set -eu
iso=$1 cpus=${2:-2}
dir=$(mktemp -d "${TMPDIR:-/tmp}/cloison-run.XXXXXX")
port=$(python3 "$(dirname "$0")/free-port.py")
cat > "$dir/bochsrc" <<RC
megs: 512
cpu: model=corei7_skylake_x, count=$cpus, ips=50000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$(realpath "$iso"), status=inserted
boot: cdrom
display_library: sdl2
com1: enabled=1, mode=socket-server, dev=localhost:$port
clock: sync=none
log: $dir/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
RC
echo c > "$dir/continue"
SDL_VIDEODRIVER=dummy bochs -q -f "$dir/bochsrc" -rc "$dir/continue" </dev/null >"$dir/bochs.out" 2>&1 &
bochs_pid=$!
# Under set -e a failing command in the trap would end the script with status 1: after a halt,
# Bochs is already gone and kill fails, which made `make run` report an error for a clean quit.
cleanup() {
	kill "$bochs_pid" 2>/dev/null || true
	wait "$bochs_pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap 'status=$?; cleanup; exit $status' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "run-bochs: Bochs is booting $iso with $cpus CPUs; console below. Quit with Ctrl-\\ ."
# Bochs opens the socket after it starts; retry the connection for a few seconds. Once socat
# has been connected, the session is over however it ended (halt, Ctrl-\, the end of the
# input): a normal end, status 0. socat's own errors, if any, are shown.
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	if [ -t 0 ]; then
		socat -d -d -,raw,echo=0,escape=0x1c "TCP:localhost:$port" 2>"$dir/socat.err" || true
	else
		socat -d -d - "TCP:localhost:$port" 2>"$dir/socat.err" || true
	fi
	if grep -q "starting data transfer loop" "$dir/socat.err"; then
		grep " E " "$dir/socat.err" >&2 || true
		exit 0
	fi
	kill -0 $bochs_pid 2>/dev/null || { echo "run-bochs: Bochs stopped:"; tail -5 "$dir/bochs.out"; exit 1; }
	sleep 0.5
done
echo "run-bochs: could not connect to Bochs' COM1 on port $port"
exit 1
