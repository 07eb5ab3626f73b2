"""Benchmark: `snddiag analyze` over many bundles, with the rule set multiplied.

    python3 benchmarks/bench_analyze.py [--bundles 1000] [--counts 10,100,1000]
                                        [--multipliers 1,4,16] [--snapshots DIR ...] [--smoke]

Makes --bundles bundles from the lab's captured guests (tests/fixtures/guests/*, or the
snapshot directories given), cycling through the scenarios and giving each bundle its own host
name, user and collection time so no two are alike; each is redacted, as `collect -o` does.
Then times the many-bundle analysis (read, verify, diagnose, summarize; all cores) over the
first N bundles for each count, with the shipped rules copied 1x, 4x, 16x under new ids, and
once on one core for comparison. Last, one end-to-end `snddiag analyze --json` run over all
bundles in a fresh interpreter. Prints bundles/second and how time grows with N and with rules.
Without captured guests it falls back to the seeded tree of tests/bundle (and says so).
--smoke runs every step on a handful of bundles, in seconds (the test suite runs it so that the
benchmark cannot break unseen); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from snddiag.bundle import Limits  # noqa: E402
from snddiag.bundle.analyze import analyze_many  # noqa: E402
from snddiag.bundle.read import read_bundle  # noqa: E402
from snddiag.bundle.write import build_bundle, write_tar  # noqa: E402
from snddiag.engine.load import Rule, default_rule_dirs, load_rules, rule_files  # noqa: E402
from snddiag.evidence import Entry, Evidence, Kind, Status, load_directory  # noqa: E402
from snddiag.pipeline import diagnose  # noqa: E402
from snddiag.records import replace  # noqa: E402
from snddiag.report.summary import build_summary  # noqa: E402

GUESTS = REPO / "tests" / "fixtures" / "guests"
HOSTNAME_KEY = "proc/sys/kernel/hostname"


def _snapshots(given: list[Path]) -> tuple[dict[str, Evidence], str]:
    dirs = given or sorted(p for p in GUESTS.iterdir() if (p / "manifest.json").is_file())
    if dirs:
        depth = 1
        while depth < len(dirs[0].parts) and len({d.parts[-depth] for d in dirs}) < len(dirs):
            depth += 1
        guests = {d.parts[-depth]: load_directory(d) for d in dirs}
        return guests, f"{len(dirs)} captured guests"
    from tests.bundle.seeded import seeded_evidence, without_sound_device

    root = Path(tempfile.mkdtemp(prefix="snddiag-bench-tree-"))
    try:
        seeded = seeded_evidence(root)
    finally:
        shutil.rmtree(root)
    variants = {
        "seeded-healthy": seeded,
        "seeded-no-device": without_sound_device(seeded),
        "seeded-no-server": seeded.without(["lib/psutil/"]),
        "seeded-no-modules": seeded.without(["proc/modules", "sys/module/"]),
    }
    return variants, "no captured guests: the seeded tree of tests/bundle, 4 variants"


def _varied(evidence: Evidence, number: int) -> Evidence:
    """The same guest under another name, user and time."""
    varied = Evidence(dict(evidence.entries), dict(evidence.meta))
    host = f"bench-guest-{number:04d}\n".encode()
    varied.add(Entry(HOSTNAME_KEY, Kind.FILE, Status.OK, data=host))
    varied.meta["user"] = f"tester{number % 37}"
    varied.meta["collected_at"] = f"2026-11-{1 + number % 28:02d}T12:{number % 60:02d}:00Z"
    old = evidence.get(HOSTNAME_KEY)
    if old is not None and old.ok and old.data.strip():
        for key, entry in evidence.entries.items():
            if entry.ok and old.data.strip() in entry.data and key != HOSTNAME_KEY:
                varied.entries[key] = replace(
                    entry, data=entry.data.replace(old.data.strip(), host.strip())
                )
    return varied


_maker: tuple[list[tuple[str, Evidence]], list[Rule], Path] | None = None


def _init_maker(guests: list[tuple[str, Evidence]], rules: list[Rule], directory: Path) -> None:
    global _maker
    _maker = (guests, rules, directory)


def _make_one(number: int) -> Path:
    assert _maker is not None
    guests, rules, directory = _maker
    name, evidence = guests[number % len(guests)]
    varied = _varied(evidence, number)
    document = diagnose(varied, rules).document
    built = build_bundle(varied, document, redact=True, created=1_764_000_000.0 + number)
    path = directory / f"{number:04d}-{name}.tar.gz"
    with open(path, "wb") as out:
        write_tar(built, out, 1_764_000_000 + number)
    return path


def make_bundles(
    guests: dict[str, Evidence], rules: list[Rule], count: int, directory: Path
) -> list[Path]:
    """`count` redacted bundles, the scenarios in turn, made on all cores."""
    ordered = sorted(guests.items())
    with ProcessPoolExecutor(initializer=_init_maker, initargs=(ordered, rules, directory)) as pool:
        return list(pool.map(_make_one, range(count), chunksize=16))


def multiplied_rules(copies: int, directory: Path) -> list[Rule]:
    """The shipped rules, `copies` times, each copy under its own id."""
    target = directory / f"rules-x{copies}"
    target.mkdir()
    for source_dir in default_rule_dirs():
        for path in rule_files(source_dir):
            text = path.read_text()
            rule_id = path.name.removesuffix(".yaml")
            for n in range(copies):
                new_id = rule_id if n == 0 else f"{rule_id}-copy{n}"
                pattern = rf"^id:\s*{re.escape(rule_id)}\s*$"
                renamed = re.sub(pattern, f"id: {new_id}", text, count=1, flags=re.M)
                (target / f"{new_id}.yaml").write_text(renamed)
    return load_rules([target])


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _time(
    paths: list[Path], rules: list[Rule], jobs: int, repeat: int
) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, CPU seconds, summary) of the best of `repeat` runs: other work on the
    machine only ever adds wall time. CPU seconds do not depend on that other work."""
    best = (float("inf"), float("inf"))
    summary: dict[str, object] = {}
    for _ in range(repeat):
        cpu = _cpu_seconds()
        started = time.perf_counter()
        results = list(analyze_many([str(p) for p in paths], rules, Limits(), jobs))
        summary = build_summary(results, rules)
        best = min(best, (time.perf_counter() - started, _cpu_seconds() - cpu))
    return best[0], best[1], summary


def _per_bundle(paths: list[Path], rules: list[Rule]) -> tuple[float, float]:
    """Mean milliseconds to read and verify one bundle, and to diagnose it, on one core."""
    read_s = diagnose_s = 0.0
    for path in paths:
        started = time.perf_counter()
        bundle = read_bundle(path)
        read_s += time.perf_counter() - started
        started = time.perf_counter()
        diagnose(bundle.evidence, rules)
        diagnose_s += time.perf_counter() - started
    return read_s * 1000 / len(paths), diagnose_s * 1000 / len(paths)


DISTRO_PYTHON = Path("/usr/bin/python3")


def _interpreters() -> list[str]:
    """This interpreter, and the distro's where it differs (what a guest's user runs, with the
    distro's own libraries; a Python built elsewhere may be slower or faster)."""
    found = [sys.executable]
    if DISTRO_PYTHON.exists() and DISTRO_PYTHON.resolve() != Path(sys.executable).resolve():
        found.append(str(DISTRO_PYTHON))
    return found


def _version_of(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() or "?"


def _end_to_end(python: str, paths: list[Path], repeat: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of the best of `repeat` runs of the command."""
    best = (float("inf"), float("inf"), -1)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(repeat):
        started = time.perf_counter()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [python, "-m", "snddiag", "analyze", "--json", *map(str, paths)],
            cwd=REPO, env=env, capture_output=True, check=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        best = min(best, (wall, cpu, done.returncode))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bundles", type=int, default=1000)
    parser.add_argument("--counts", default="10,100,1000")
    parser.add_argument("--multipliers", default="1,4,16")
    parser.add_argument("--snapshots", nargs="*", type=Path, default=[])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--keep", action="store_true", help="keep the bundles (path printed)")
    parser.add_argument("--smoke", action="store_true", help="every step on 6 bundles, fast")
    args = parser.parse_args()
    if args.smoke:
        args.bundles, args.counts, args.multipliers, args.repeat = 6, "3,6", "1,2", 1
    counts = [int(c) for c in args.counts.split(",")]
    multipliers = [int(m) for m in args.multipliers.split(",")]
    cores = os.cpu_count() or 1

    work = Path(tempfile.mkdtemp(prefix="snddiag-bench-"))
    try:
        guests, source = _snapshots(args.snapshots)
        base_rules = load_rules(default_rule_dirs())
        print(f"source: {source} ({', '.join(sorted(guests))})")
        print(
            f"host: {cores} cores, load average {os.getloadavg()[0]:.1f}, "
            f"Python {sys.version.split()[0]}, {len(base_rules)} rules"
        )
        bundle_dir = work / "bundles"
        bundle_dir.mkdir()
        started = time.perf_counter()
        paths = make_bundles(guests, base_rules, args.bundles, bundle_dir)
        made_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in paths)
        print(
            f"made {len(paths)} redacted bundles in {made_s:.1f} s on {cores} cores "
            f"({size / len(paths) / 1024:.1f} KiB each)"
        )
        rule_sets = {m: multiplied_rules(m, work) for m in multipliers}
        sample = paths[: min(50, len(paths))]
        for m, rules in rule_sets.items():
            read_ms, diagnose_ms = _per_bundle(sample, rules)
            print(
                f"one core, {len(rules):4d} rules ({m:2d}x): read+verify {read_ms:.2f} ms, "
                f"diagnose {diagnose_ms:.2f} ms per bundle"
            )
        print()
        print(f"best of {args.repeat} runs:")
        print(
            f"{'rules':>11} {'N':>6} {'jobs':>5} {'seconds':>8} {'bundles/s':>10} "
            f"{'CPU s':>7} {'bundles/CPU s':>14}"
        )
        rates: dict[tuple[int, int, int], float] = {}
        for m, rules in rule_sets.items():
            for n in counts:
                for jobs in sorted({cores, 1}, reverse=True):
                    if jobs == 1 and n != max(counts):
                        continue
                    seconds, cpu, summary = _time(paths[:n], rules, jobs, args.repeat)
                    rates[(m, n, jobs)] = n / seconds
                    assert sum(summary["statuses"].values()) == n  # type: ignore[attr-defined]
                    label = f"{len(rules)} ({m}x)"
                    print(
                        f"{label:>11} {n:>6} {jobs:>5} {seconds:>8.2f} {n / seconds:>10.0f} "
                        f"{cpu:>7.2f} {n / cpu:>14.0f}"
                    )
        print()
        top = max(counts)
        for m in multipliers:
            if (m, top, 1) in rates and cores > 1:
                speedup = rates[(m, top, cores)] / rates[(m, top, 1)]
                print(f"{m:2d}x rules: {cores} workers vs 1 at N={top}: {speedup:.2f}x")
        first = multipliers[0]
        for m in multipliers[1:]:
            ratio = rates[(first, top, cores)] / rates[(m, top, cores)]
            print(f"N={top}: {m}x rules take {ratio:.2f}x the time of {first}x")
        for n in counts[1:]:
            per = rates[(first, n, cores)] / rates[(first, counts[0], cores)]
            print(f"{first}x rules: throughput at N={n} is {per:.2f}x that at N={counts[0]}")

        for python in _interpreters():
            wall, cpu, code = _end_to_end(python, paths, args.repeat)
            print(
                f"end to end, {python} (Python {_version_of(python)}): snddiag analyze --json"
                f" over {len(paths)} bundles in a fresh interpreter, best of {args.repeat}:"
                f" {wall:.2f} s ({len(paths) / wall:.0f} bundles/s, exit {code}); CPU"
                f" {cpu:.2f} s ({cpu * 1000 / len(paths):.1f} ms a bundle, workers included)"
            )
        if args.keep:
            print(f"bundles kept in {bundle_dir}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
