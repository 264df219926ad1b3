#!/usr/bin/env python3
"""Cloison's test runner: host unit tests, then boot tests in Bochs (VT-x) and QEMU (no VT-x, UEFI).

Every emulator run has a hard timeout and ends itself (the hypervisor powers off when no guest can
run: `onidle=shutdown`). Results come from the serial log only. Prints one line per test and ends
with `N passed, N failed`.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402
import importlib  # noqa: E402

# Each tests/boot_tests*.py module contributes its SCENARIOS.
SCENARIOS = []
for _mod in sorted(f[:-3] for f in os.listdir(os.path.dirname(os.path.abspath(__file__)))
                   if f.startswith("boot_tests") and f.endswith(".py")):
    SCENARIOS += importlib.import_module(_mod).SCENARIOS


def run_unit(build):
    """Runs each host unit-test program; each `ok NAME` / `FAIL NAME` line is one test."""
    results = []
    unit_dir = os.path.join(build, "unit")
    for prog in sorted(os.listdir(unit_dir)):
        path = os.path.join(unit_dir, prog)
        if not prog.startswith("test_") or not os.access(path, os.X_OK):
            continue
        try:
            proc = subprocess.run([path], capture_output=True, text=True, timeout=300)
            out = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            results.append((f"unit/{prog}", False, "timed out after 300 s"))
            continue
        seen = 0
        for line in proc.stdout.splitlines():
            if line.startswith("ok "):
                results.append((f"unit/{prog}/{line[3:]}", True, ""))
                seen += 1
            elif line.startswith("FAIL "):
                name, _, why = line[5:].partition(": ")
                results.append((f"unit/{prog}/{name}", False, why))
                seen += 1
        if proc.returncode != 0 and not any(not ok for n, ok, _ in results if n.startswith(f"unit/{prog}/")):
            results.append((f"unit/{prog}", False, f"exit status {proc.returncode}: {out[-2000:]}"))
        elif seen == 0:
            results.append((f"unit/{prog}", False, "ran no test"))
    return results


def run_scenario(scenario, build, workdir):
    """Boots one scenario and evaluates its checks against the serial log."""
    start = time.monotonic()
    run = emu.boot(scenario, build, workdir)
    elapsed = time.monotonic() - start
    results = []
    for check in scenario.checks:
        ok, why = check.evaluate(run.serial)
        if not ok:
            why = f"{why} [{run.summary}; serial log {run.serial_path}]"
        results.append((f"boot/{scenario.name}/{check.name}", ok, why))
    return results, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default="build")
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--only", help="run only boot scenarios whose name contains this")
    parser.add_argument("--no-unit", action="store_true")
    args = parser.parse_args()

    build = os.path.abspath(args.build)
    workdir = os.path.join(build, "tests")
    os.makedirs(workdir, exist_ok=True)
    results = [] if args.no_unit else run_unit(build)
    for name, ok, why in results:
        print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + why}", flush=True)

    scenarios = [s for s in SCENARIOS if not args.only or args.only in s.name]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_scenario, s, build, workdir): s for s in scenarios}
        for fut in concurrent.futures.as_completed(futures):
            scen = futures[fut]
            try:
                scen_results, elapsed = fut.result()
            except Exception as exc:  # a harness failure is a failed test, not a crash
                scen_results, elapsed = [(f"boot/{scen.name}", False, f"harness error: {exc!r}")], 0
            for name, ok, why in scen_results:
                print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + why}", flush=True)
            print(f"  ({scen.name}: {elapsed:.1f} s)", flush=True)
            results.extend(scen_results)

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
