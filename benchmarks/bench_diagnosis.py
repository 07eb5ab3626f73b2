"""Benchmark: one full diagnosis in the healthy lab guest, beside ALSA's alsa-info, same boot.

    python3 benchmarks/bench_diagnosis.py [--runs N]

Boots the lab's healthy-pci guest (tests/guest; needs tests/guest/setup-lab), then runs, in
that one boot: `snddiag --json` and `alsa-info --stdout --no-upload`, each N times, and prints
their median and best wall time and peak RSS. The guest runs under TCG, so absolute times are
slower than on real hardware; the ratio is what this measures. Goals: snddiag no slower than
alsa-info, peak RSS under 30 MiB. Also prints snddiag's import time for its heavy libraries.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.guest.lab import run_in_guest  # noqa: E402
from tests.guest.scenarios import SCENARIOS  # noqa: E402

ALSA_INFO = "$(command -v alsa-info || command -v alsa-info.sh || echo /usr/sbin/alsa-info)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    healthy = next(s for s in SCENARIOS if s.name == "healthy-pci")
    measure = f'"$PYTHON" "$REPO/benchmarks/measure.py" {args.runs}'
    commands = {
        "snddiag": f'{measure} "$PYTHON" -m snddiag --json',
        "alsa-info": f"{measure} {ALSA_INFO} --stdout --no-upload",
        "imports": '"$PYTHON" -X importtime -m snddiag --json 2>&1 >/dev/null'
        " | grep -E ' (rich|pyudev|psutil|yaml)$' || true",
    }
    run = run_in_guest(healthy, commands)
    results = {}
    for name in ("snddiag", "alsa-info"):
        result = run.commands[name]
        if result.exit_code != 0:
            print(f"{name} failed in the guest: {result.stderr}", file=sys.stderr)
            return 1
        results[name] = json.loads(result.stdout)
    for name, result in results.items():
        print(
            f"{name:10} median {result['median_s']:.3f} s  best {result['best_s']:.3f} s  "
            f"peak RSS {result['peak_rss_mib']:.1f} MiB  ({result['runs']} runs)"
        )
    ratio = results["snddiag"]["median_s"] / results["alsa-info"]["median_s"]
    print(f"snddiag / alsa-info median time: {ratio:.2f}")
    print("import times (us, cumulative) in the guest:")
    print(run.commands["imports"].stdout.rstrip() or "  (none of rich, pyudev, psutil imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
