"""Benchmark: snddiag's start-up and one full diagnosis in the healthy lab guest, same boot.

    python3 benchmarks/bench_diagnosis.py [--runs N] [--source] [--scenario NAME]

Boots the lab's healthy-pci guest (or NAME: session-healthy runs a desktop session's PipeWire,
whose questions a diagnosis adds) (tests/guest; needs tests/guest/setup-lab), then, in that one
boot, runs N rounds of these, one of each a round, and reports the median and best wall time,
the peak RSS and the median, over rounds, of each command's time minus the interpreter's:

- `python3 -c pass`: the interpreter's own start-up, the floor for any Python tool;
- `python3 -c 'import snddiag.cli, snddiag.commands'`: the entry every command imports;
- `python3 -m snddiag --json`: one full live diagnosis;
- `alsa-info --stdout --no-upload`: ALSA's own collector, for scale (timed apart, N times);

then the median time of each phase of a diagnosis (benchmarks/phases.py: entry, rules load,
collect, facts, rules run, report), the slowest evidence sources, and the import times of the
heavy libraries. By default snddiag runs from a copy in the guest's /tmp compiled to bytecode,
as pip installs it; `--source` runs it from the read-only checkout the lab shares, where Python
finds no bytecode and compiles every module on each run (as the guest tests do). The guest runs
under TCG on a shared host, so absolute times vary from boot to boot; compare lines of one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.guest.lab import run_in_guest  # noqa: E402
from tests.guest.scenarios import BY_NAME  # noqa: E402

ALSA_INFO = "$(command -v alsa-info || command -v alsa-info.sh || echo /usr/sbin/alsa-info)"
INSTALLED = "/tmp/snddiag-bench"
# Set up the installed copy: the package and its rules, compiled as pip does on install.
INSTALL = (
    f'mkdir -p {INSTALLED} && cp -r "$REPO/snddiag" "$REPO/rules" {INSTALLED}/'
    f' && "$PYTHON" -m compileall -q {INSTALLED}/snddiag'
)
HEAVY = ("yaml", "rich", "pyudev", "psutil", "jsonschema", "snddiag.cli", "snddiag.commands")
TIMED = {
    "python3 -c pass": '"$PYTHON" -c pass',
    "import entry": '"$PYTHON" -c "import snddiag.cli, snddiag.commands"',
    "snddiag --json": '"$PYTHON" -m snddiag --json',
}


def guest_commands(runs: int, source: bool) -> dict[str, str]:
    env = "" if source else f"PYTHONPATH={INSTALLED} "
    measure = f'{env}"$PYTHON" "$REPO/benchmarks/measure.py"'
    commands = {} if source else {"install": INSTALL}
    # One untimed run first: the share's files and the kernel's caches are warm for every line.
    commands["warm-up"] = f'{env}"$PYTHON" -m snddiag --json >/dev/null; true'
    # Rounds, each timing every command once: a shared host's load drifts over minutes, and
    # a round's commands see about the same load (their differences are paired per round).
    one_round = "; ".join(
        [f"{measure} 1 {command} || exit 1" for command in TIMED.values()]
        + [f'{env}"$PYTHON" "$REPO/benchmarks/phases.py" || exit 1']
    )
    for number in range(runs):  # a command each: the lab times every command out on its own
        commands[f"round-{number}"] = one_round
    commands["alsa-info"] = f"{measure} {runs} {ALSA_INFO} --stdout --no-upload"
    pattern = "|".join(name.replace(".", r"\.") for name in HEAVY)
    commands["imports"] = (
        f'{env}"$PYTHON" -X importtime -m snddiag --json 2>&1 >/dev/null'
        f" | grep -E ' ({pattern})$' || true"
    )
    return commands


def _median_of(records: list[dict[str, float]]) -> dict[str, float]:
    names = {name for record in records for name in record}
    medians = {name: statistics.median(r.get(name, 0.0) for r in records) for name in names}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--source", action="store_true", help="run from the read-only checkout, no bytecode"
    )
    parser.add_argument("--scenario", default="healthy-pci", choices=sorted(BY_NAME))
    args = parser.parse_args()
    commands = guest_commands(args.runs, args.source)
    run = run_in_guest(BY_NAME[args.scenario], commands, timeout_s=1200)
    for name, result in run.commands.items():
        if result.exit_code != 0:
            print(f"{name} failed in the guest: {result.stderr[-2000:]}", file=sys.stderr)
            return 1
    how = "from the checkout, no bytecode" if args.source else "installed, with bytecode"
    print(f"{args.scenario} guest, kernel {run.kernel_release}, {args.runs} runs each, {how}")
    rounds = [
        [json.loads(line) for line in result.stdout.splitlines()]
        for name, result in run.commands.items()
        if name.startswith("round-")
    ]
    for number, label in enumerate(TIMED):
        times = [r[number]["median_s"] for r in rounds]
        over = [r[number]["median_s"] - r[0]["median_s"] for r in rounds]
        extra = f"  +{statistics.median(over):.3f} s over python3 -c pass" if number else ""
        print(
            f"  {label:16} median {statistics.median(times):.3f} s  best {min(times):.3f} s  "
            f"peak RSS {max(r[number]['peak_rss_mib'] for r in rounds):.1f} MiB{extra}"
        )
    alsa = json.loads(run.commands["alsa-info"].stdout)
    print(f"  {'alsa-info':16} median {alsa['median_s']:.3f} s  best {alsa['best_s']:.3f} s")
    records = [r[-1] for r in rounds]
    phases = [r["phases"] for r in records]
    print("phases of one diagnosis (median s, in-process, imports counted where first needed):")
    order = list(phases[0])
    medians = _median_of(phases)
    print("  " + "  ".join(f"{name} {medians[name]:.3f}" for name in order))
    print(f"  total {sum(medians.values()):.3f}")
    print("slowest sources (median s, Entry.duration_s):")
    for key, seconds in list(_median_of([r["sources"] for r in records]).items())[:6]:
        print(f"  {seconds:.3f}  {key}")
    print("import times (us: self | cumulative) in the guest:")
    print(run.commands["imports"].stdout.rstrip() or "  (none of the heavy modules imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
