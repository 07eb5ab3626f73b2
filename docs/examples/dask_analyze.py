"""Analyze many snddiag bundles on a Dask cluster: `analyze_one` fanned out, one task a bundle.

    python3 docs/examples/dask_analyze.py BUNDLE_OR_DIRECTORY...

Starts a small local cluster (2 worker processes), diagnoses every bundle (a directory stands for
the *.tar.gz in it, in name order) with snddiag's default rules, and prints the summary that
`snddiag analyze --json` prints for the same bundles. For a real fleet, give `Client` the
address of your scheduler instead of a LocalCluster. See docs/library.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dask.distributed import Client, LocalCluster

from snddiag.bundle import Limits
from snddiag.bundle.analyze import analyze_one
from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.report.json_doc import render_json
from snddiag.report.summary import build_summary


def bundle_paths(names: list[str]) -> list[str]:
    paths: list[str] = []
    for name in names:
        path = Path(name)
        paths += sorted(map(str, path.glob("*.tar.gz"))) if path.is_dir() else [name]
    return paths


def main(names: list[str]) -> int:
    paths = bundle_paths(names)
    rules = load_rules(default_rule_dirs())  # loaded once here, shipped to each worker once
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        shared = client.scatter(rules, broadcast=True)
        # analyze_one never raises for a bad bundle: it returns {"status": "unreadable", ...}.
        # It runs unbounded in the worker: Limits' sizes apply, not its time or memory.
        futures = client.map(analyze_one, paths, rules=shared, limits=Limits())
        results = client.gather(futures)  # in the order of `paths`
        client_workers = client.scheduler_info()["workers"]
    summary = build_summary(results, rules)
    sys.stdout.write(render_json(summary))
    counts = ", ".join(f"{n} {status}" for status, n in summary["statuses"].items() if n)
    print(f"{len(results)} bundles on {len(client_workers)} workers: {counts}", file=sys.stderr)
    return int(summary["exit_code"])


if __name__ == "__main__":  # the workers are new processes that import this file
    sys.exit(main(sys.argv[1:]))
