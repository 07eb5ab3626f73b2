"""Run a command N times; print its median and best wall time and its peak RSS, as JSON.

Used inside a lab guest by bench_diagnosis.py; stdlib only, so it measures the command and not
itself. Peak RSS is the largest `ru_maxrss` of any one run (each run is a fresh child).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    runs = int(argv[0])
    command = argv[1:]
    times = []
    peak_kib = 0
    for _ in range(runs):
        started = time.perf_counter()
        pid = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
        _pid, _status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - started)
        peak_kib = max(peak_kib, usage.ru_maxrss)
    print(
        json.dumps(
            {
                "command": command,
                "runs": runs,
                "median_s": round(statistics.median(times), 4),
                "best_s": round(min(times), 4),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
