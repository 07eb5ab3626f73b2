"""Benchmark: what `--play` adds to a diagnosis, in the lab guest with QEMU's none backend.

    python3 benchmarks/bench_play.py [--runs N] [--smoke]

Boots the lab's play-none guest (healthy-pci with `-audiodev none`; tests/guest, needs
tests/guest/setup-lab) and runs, in that one boot, `snddiag --json` and `snddiag --play --json`
N times each, alternately, and prints their median and best wall time, peak RSS, and the median
difference: the cost of playing and recording a second each. The guest runs under TCG, so the
diagnosis itself is slower than on real hardware; the audio's two seconds are not.
`--smoke` runs the commands once on this host, no guest (benchmarks/here.py): the test suite
runs it so that the benchmark cannot break unseen; its figures mean nothing.
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
from tests.guest.scenarios import PLAY_SCENARIOS  # noqa: E402

MEASURE = '"$PYTHON" "$REPO/benchmarks/measure.py" 1'
VARIANTS = {
    "diagnosis": '"$PYTHON" -m snddiag --json',
    "play": '"$PYTHON" -m snddiag --play --json',
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="once, on this host, no guest")
    args = parser.parse_args()
    if args.smoke:
        args.runs = 1
    guest = next(s for s in PLAY_SCENARIOS if s.name == "play-none")
    # One run to fill the guest's caches (a cold first run took twice as long), then the two
    # alternately, so that a change in the host's load touches both alike.
    commands = {"warm-up": '"$PYTHON" -m snddiag --json >/dev/null'}
    commands |= {
        f"{name}-{n}": f"{MEASURE} {command}"
        for n in range(args.runs)
        for name, command in VARIANTS.items()
    }
    if args.smoke:
        from benchmarks.here import run_here

        run = run_here(guest, commands)
    else:
        run = run_in_guest(guest, commands)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    peak: dict[str, float] = dict.fromkeys(VARIANTS, 0.0)
    for key, result in run.commands.items():
        if key == "warm-up":
            continue
        if result.exit_code != 0:
            print(f"{key} failed in the guest: {result.stderr}", file=sys.stderr)
            return 1
        measured = json.loads(result.stdout)
        name = key.rsplit("-", 1)[0]
        times[name].append(measured["median_s"])
        peak[name] = max(peak[name], measured["peak_rss_mib"])
    for name, values in times.items():
        label = "snddiag --play" if name == "play" else "snddiag"
        print(
            f"{label:15} median {statistics.median(values):.3f} s  best {min(values):.3f} s  "
            f"peak RSS {peak[name]:.1f} MiB  ({len(values)} runs)"
        )
    added = [p - d for d, p in zip(times["diagnosis"], times["play"])]
    pairs = ", ".join(f"{a:.2f}" for a in added)
    print(f"--play adds: median {statistics.median(added):.3f} s (per pair: {pairs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
