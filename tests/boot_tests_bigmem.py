"""The whole machine (issue 13): RAM above 4 GiB, dozens of guests, the scrub of a stopped guest's
RAM off the console's path, and restarts that never race the scrub (issue 12 item 7).
Configurations: tests/configs/bigmem-6g.cfg, many-guests.cfg, scrub.cfg, soak.cfg.

`SOAK_RESTARTS` (environment) sets the soak's restart count: 100 in `make check`, 1000 for
`make soak`."""
import os
import re

from emu import Scenario, Expect, Absent, InOrder, Stage, Send, ExpectOut, Cmd, Assert, Mark, PROMPT

HEALTHY = [Absent("no-hypervisor-fault", r"PANIC|CPU exception")]
POWERS_OFF = Expect("powers-off-when-idle", r"^\[cpu\d+\] powering off")
HALTS = Expect("halt-powers-off", r"^\[cpu0\] powering off \(code 0\)$")
NO_CORRUPTION = Absent("no-corruption", r"CORRUPTED")
SOAK_RESTARTS = int(os.environ.get("SOAK_RESTARTS", "100"))
MANY = 40


def guest_done(name):
    return [Expect(f"{name}-intact", rf"^\[{name}\] memhog: done$"),
            Expect(f"{name}-exit-0", rf"^\[cpu\d\] guest {name} stopped: exit code 0 ")]


def free_kib(v):
    return int(v["free"])


SCRUB = [
    Stage("first-run-filled",
          ExpectOut(r"^\[big\] memhog: filled \d+ pages\n", timeout=120),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    # The stop leaves big scrubbing; the start says it waits for the scrub, then loads the image.
    # big's first line may come before the prompt that ends the restart's reply: look from the Mark.
    Stage("restart-waits-for-scrub",
          Mark("restart"),
          Cmd("restart big", r"^Guest big's 512 MiB of RAM is still being scrubbed; waiting for it\.\n",
              r"^Guest big restarted\.\n", echo=False, timeout=60)),
    Stage("second-run-filled",
          ExpectOut(r"^\[big\] memhog: big filling 0x[0-9a-f]+-0x20000000 ", timeout=60, since="restart"),
          ExpectOut(r"^\[big\] memhog: filled \d+ pages\n", timeout=120),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    # A stop answers at once; `list` shows the scrub going on, and the scrub's end comes after
    Stage("stop-answers-while-scrubbing",
          Cmd("stop big", r"^Guest big stopped\.\n", echo=False, timeout=30),
          Cmd("list", r"^0 +big +scrubbing +0 +512 MiB ", r"^2 guests: 1 running, 0 paused, 0 halted, "
              r"0 stopped, 1 scrubbing; 520 MiB of guest RAM\n", echo=False, timeout=30),
          ExpectOut(r"^\[cpu0\] guest big: 512 MiB scrubbed in \d+ ticks\n", timeout=60)),
    Stage("start-after-scrub",
          Cmd("list stopped", r"^0 +big +stopped \(stop command\) ", echo=False, timeout=30),
          Cmd("start big", r"^Guest big started\.\n", absent=[r"still being scrubbed"], echo=False,
              timeout=30),
          ExpectOut(r"^\[big\] memhog: done\n", timeout=240),
          ExpectOut(r"^\[cpu0\] guest big stopped: exit code 0 ", timeout=30)),
]

# Two CPUs: big runs on cpu1, so its scrub runs there while the console (cpu0) restarts it
RACE = [
    Stage("filled",
          ExpectOut(r"^\[cpu0\] smp: 2 of 2 CPUs running\n", timeout=120),
          ExpectOut(r"^\[big\] memhog: filled \d+ pages\n", timeout=300),
          ExpectOut("^" + re.escape(PROMPT), timeout=60)),
    Stage("restarts",
          [Cmd("restart big", r"^Guest big restarted\.\n", echo=False, timeout=120) for _ in range(3)]),
    Stage("last-run-intact",
          ExpectOut(r"^\[big\] memhog: pattern intact after pass 1\n", timeout=600),
          ExpectOut(r"^\[big\] memhog: done\n", timeout=60),
          ExpectOut(r"^\[cpu1\] guest big stopped: exit code 0 ", timeout=60)),
]

SOAK = [
    Stage("prompt",
          ExpectOut(r"^\[cpu0\] console: ", timeout=60),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
    Stage("free-before",
          Cmd("mem", r"^free +(?P<free_before>[0-9.]+ [KMG]iB)\n", timeout=30)),
    Stage(f"restart-{SOAK_RESTARTS}-times",
          [Cmd("restart r", r"^Guest r restarted\.\n", absent=[r"error"], timeout=30)
           for _ in range(SOAK_RESTARTS)]),
    Stage("free-after",
          Cmd("mem", r"^free +(?P<free_after>[0-9.]+ [KMG]iB)\n", timeout=30),
          Assert("same free memory", lambda v: (v["free_before"] == v["free_after"],
                                                 f"{v['free_before']} before, {v['free_after']} after")),
          Cmd("list", r"^0 +r +running ", r"^1 +nb +running ", timeout=30)),
    Stage("neighbour-intact",
          Send("console nb\r"),
          ExpectOut(r"^Connected to guest nb console; press Ctrl-\] to detach\.\n", timeout=30),
          ExpectOut(r"^memhog: pattern intact after pass \d+\n", timeout=60),
          Send("\x1d"), ExpectOut(r"^Detached from guest nb\.\n", timeout=30),
          ExpectOut("^" + re.escape(PROMPT), timeout=30)),
]


def many_config_guests():
    return [f"g{i:02d}" for i in range(MANY)]


SCENARIOS = [
    Scenario(
        name="bigmem-6g",
        guests=[("memhog", "memhog"), ("probe", "probe")],
        modules=[("tests/configs/bigmem-6g.cfg", "config")],
        # host= is what Bochs allocates; beyond it Bochs 2.7 swaps blocks and was seen to lose
        # writes (the stack zeroed by a 1 GiB memset), so it covers all that the guests touch
        bochs_memory="guest=6144, host=2048",
        timeout=240,
        checks=HEALTHY + [POWERS_OFF, NO_CORRUPTION,
            Expect("ram-above-4g-in-pool",
                   r"^\[cpu0\] memory: identity map up to 0x180000000: \d+ 1 GiB and \d+ 2 MiB pages"),
            Expect("usable-includes-high-ram", r"^\[cpu0\] memory: 5\d{6} KiB usable RAM in the map"),
            Expect("high-placed-at-4g",
                   r"^\[cpu0\]   guest high +0x0100000000-0x0110000000 +262144 KiB  cpu0, weight 256, EPT 2M x128$"),
            Expect("huge-has-1g-ept-page",
                   r"^\[cpu0\]   guest huge +0x0140000000-0x0180000000 +1048576 KiB  cpu0, weight 256, EPT 1G x1$"),
            Expect("low-below-4g", r"^\[cpu0\]   guest low +0x0020000000-0x0024000000 +65536 KiB "),
            Expect("high-fills-whole-range", r"^\[high\] memhog: high filling 0x[0-9a-f]+-0x10000000 "),
            Expect("huge-reads-its-last-word", r"^\[huge\] probe: SURVIVED value 0x00$"),
        ] + guest_done("high") + guest_done("low"),
    ),
    Scenario(
        name="many-guests-40",
        cpus=2,
        guests=[("memhog", "memhog")],
        modules=[("tests/configs/many-guests.cfg", "config")],
        timeout=600,
        checks=HEALTHY + [POWERS_OFF, NO_CORRUPTION,
            Absent("none-refused", r"refused"),
            Expect("map-summary", rf"^\[cpu0\]   {MANY} guests, {2 * MANY} MiB of guest RAM, "),
            Expect("smp-2", r"^\[cpu0\] smp: 2 of 2 CPUs running$"),
        ] + [c for n in many_config_guests() for c in guest_done(n)],
    ),
    Scenario(
        name="scrub-console",
        guests=[("memhog", "memhog")],
        modules=[("tests/configs/scrub.cfg", "config")],
        megs=1024,
        hv_args="",
        timeout=600,
        session=SCRUB,
        checks=HEALTHY + [HALTS, NO_CORRUPTION],
    ),
    Scenario(
        name="scrub-restart-smp",
        cpus=2,
        guests=[("memhog", "memhog")],
        modules=[("tests/configs/scrub-smp.cfg", "config")],
        megs=512,
        hv_args="",
        timeout=900,
        session=RACE,
        checks=HEALTHY + [HALTS, NO_CORRUPTION,
                          InOrder("each-start-after-its-scrub",
                                  [r"^\[cpu1\] guest big: 128 MiB scrubbed in \d+ ticks$",
                                   r"^Guest big restarted\.$"] * 3)],
    ),
    Scenario(
        name="soak-restarts",
        guests=[("demo", "demo"), ("memhog", "memhog")],
        modules=[("tests/configs/soak.cfg", "config")],
        hv_args="",
        timeout=120 + SOAK_RESTARTS * 2,
        session=SOAK,
        checks=HEALTHY + [HALTS, NO_CORRUPTION,
                          Expect("restarts-wait-for-scrub",
                                 r"^Guest r's 4 MiB of RAM is still being scrubbed; waiting for it\.$"),
                          Absent("neighbour-kept-running", r"guest nb stopped")],
    ),
]
