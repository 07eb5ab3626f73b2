"""`snddiag analyze BUNDLE...`: one bundle gives the normal report, many give a summary.

Many bundles are read and diagnosed in worker processes (all cores by default); each worker
gets the rules once, at start-up, and sends back only the verdict of each bundle.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from snddiag import __version__
from snddiag.bundle import MIB, BundleError, Limits
from snddiag.bundle.read import read_bundle
from snddiag.engine.load import Rule
from snddiag.pipeline import diagnose
from snddiag.report import ExitCode

SUMMARY_SCHEMA_VERSION = 1
STATUSES = ("ok", "warning", "error", "incomplete", "unreadable")
# A run's own precedence (snddiag.report.verdict): an error outranks a warning, and both
# outrank checks that could not run.
_PRECEDENCE = (ExitCode.ERROR, ExitCode.WARNING, ExitCode.INCOMPLETE, ExitCode.OK)

_worker_rules: list[Rule] = []
_worker_limits = Limits()


def analyze_one(path: str, rules: list[Rule], limits: Limits) -> dict[str, Any]:
    """One bundle's verdict as plain data: {path, status, exit_code, rules...} or {path, error}."""
    try:
        bundle = read_bundle(Path(path), limits)
    except BundleError as err:
        return {"path": path, "error": str(err)}
    document = diagnose(bundle.evidence, rules).document
    result: dict[str, Any] = {
        "path": path,
        "status": document["status"],
        "exit_code": document["exit_code"],
        "rules": [f["rule"] for f in document["findings"]],
        "not_checked": [n["rule"] for n in document["not_checked"]],
    }
    if bundle.diagnosis is not None:
        result["collected_status"] = bundle.diagnosis.get("status")
    return result


def _init_worker(rules: list[Rule], limits: Limits) -> None:
    global _worker_rules, _worker_limits
    _worker_rules, _worker_limits = rules, limits


def _work(path: str) -> dict[str, Any]:
    try:
        return analyze_one(path, _worker_rules, _worker_limits)
    except Exception as err:  # a bug on one bundle must not hide the others
        return {"path": path, "error": f"internal error: {err!r} (a bug in snddiag: report it)"}


def analyze_many(
    paths: Sequence[str], rules: list[Rule], limits: Limits, jobs: int = 0
) -> Iterator[dict[str, Any]]:
    """Each bundle's result, in the order given; `jobs` 0 means one worker per core."""
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    if workers <= 1:
        _init_worker(rules, limits)
        yield from (_work(p) for p in paths)
        return
    chunk = max(1, min(16, len(paths) // (workers * 8)))
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(rules, limits)) as pool:
        yield from pool.map(_work, paths, chunksize=chunk)


def overall_exit(results: Iterable[dict[str, Any]]) -> int:
    """3 if any bundle could not be read, else the worst verdict by a run's own precedence."""
    codes = set()
    for result in results:
        if "error" in result:
            return ExitCode.INCOMPLETE
        codes.add(int(result["exit_code"]))
    return next((int(c) for c in _PRECEDENCE if int(c) in codes), ExitCode.OK)


def build_summary(results: list[dict[str, Any]], rules: Sequence[Rule]) -> dict[str, Any]:
    severity = {r.rule_id: r.severity.value for r in rules}
    statuses = dict.fromkeys(STATUSES, 0)
    fired: dict[str, list[str]] = {}
    for result in results:
        status = "unreadable" if "error" in result else str(result["status"])
        statuses[status] = statuses.get(status, 0) + 1
        for rule_id in result.get("rules", ()):
            fired.setdefault(rule_id, []).append(result["path"])
    ordered = sorted(fired.items(), key=lambda item: (-len(item[1]), item[0]))
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "exit_code": overall_exit(results),
        "statuses": statuses,
        "rules": {
            rule_id: {"severity": severity.get(rule_id), "count": len(paths), "bundles": paths}
            for rule_id, paths in ordered
        },
        "bundles": results,
    }


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path by its shortest tail of components that still tells it from the others."""
    parts = {p: Path(p).parts for p in paths}
    depth = 1
    while depth < max((len(v) for v in parts.values()), default=1):
        tails = {p: v[-depth:] for p, v in parts.items()}
        if len(set(tails.values())) == len(tails):
            break
        depth += 1
    return {p: str(Path(*v[-depth:])) for p, v in parts.items()}


def render_summary(summary: dict[str, Any], *, color: bool | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    no_color = color is False or (color is None and "NO_COLOR" in os.environ)
    # Piped output has no width of its own; rich would assume 80 columns and fold paths.
    width = None if sys.stdout.isatty() else 160
    console = Console(file=sys.stdout, no_color=no_color, highlight=False, emoji=False, width=width)
    bundles = summary["bundles"]
    names = short_names([b["path"] for b in bundles])
    counts = ", ".join(f"{n} {s}" for s, n in summary["statuses"].items() if n)
    console.print(Text(f"snddiag: {len(bundles)} bundles: {counts}", style="bold"), soft_wrap=True)
    if summary["rules"]:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("rule", "severity", "bundles", "fired on"):
            table.add_column(column, no_wrap=column != "fired on", overflow="fold")
        for rule_id, item in summary["rules"].items():
            shown = [names[p] for p in item["bundles"][:5]]
            more = item["count"] - len(shown)
            table.add_row(
                Text(rule_id),
                Text(item["severity"] or "?"),
                Text(str(item["count"])),
                Text("\n".join(shown) + (f"\n(+{more} more)" if more > 0 else "")),
            )
        console.print(table)
    else:
        console.print(Text("no rule fired on any bundle"))
    unreadable = [b for b in bundles if "error" in b]
    if unreadable:
        console.print(Text("could not read:", style="bold red"))
        for item in unreadable:
            console.print(Text(f"  {item['path']}: {item['error']}"), soft_wrap=True)


def _limits(args: argparse.Namespace) -> Limits:
    if args.max_member_mb <= 0 or args.max_total_mb <= 0:
        raise BundleError("--max-member-mb and --max-total-mb must be positive")
    if args.jobs < 0:
        raise BundleError("--jobs must be 0 (all cores) or more")
    return Limits(args.max_member_mb * MIB, args.max_total_mb * MIB)


def _analyze_single(path: Path, args: argparse.Namespace, rules: list[Rule], limits: Limits) -> int:
    try:
        bundle = read_bundle(path, limits)
    except BundleError as err:
        print(f"snddiag: {path}: {err}", file=sys.stderr)
        return ExitCode.INCOMPLETE
    document = diagnose(bundle.evidence, rules).document
    collected = (bundle.diagnosis or {}).get("status")
    if collected is not None and collected != document["status"]:
        print(
            f"snddiag: note: when collected the verdict was '{collected}' (snddiag "
            f"{bundle.info.get('snddiag_version', '?')}); with these rules it is "
            f"'{document['status']}'",
            file=sys.stderr,
        )
    if args.json:
        from snddiag.report.json_doc import render_json

        sys.stdout.write(render_json(document))
    else:
        from snddiag.report.terminal import render_terminal

        render_terminal(document, sys.stdout, color=False if args.no_color else None)
    return int(document["exit_code"])


def analyze_bundles(args: argparse.Namespace, rules: list[Rule]) -> int:
    try:
        limits = _limits(args)
    except BundleError as err:
        print(f"snddiag: {err}", file=sys.stderr)
        return ExitCode.USAGE
    paths: list[Path] = list(args.bundles)
    if len(paths) == 1:
        return _analyze_single(paths[0], args, rules, limits)
    progress = sys.stderr.isatty() and len(paths) >= 20
    results: list[dict[str, Any]] = []
    try:
        for result in analyze_many([str(p) for p in paths], rules, limits, args.jobs):
            results.append(result)
            if progress and len(results) % 10 == 0:
                print(f"\rsnddiag: {len(results)}/{len(paths)} bundles", end="", file=sys.stderr)
    except BrokenProcessPool:
        print("snddiag: a worker process died (out of memory? try --jobs 1)", file=sys.stderr)
        return ExitCode.INCOMPLETE
    if progress:
        print("\r\033[K", end="", file=sys.stderr)
    summary = build_summary(results, rules)
    if args.json:
        import json

        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    else:
        render_summary(summary, color=False if args.no_color else None)
    return int(summary["exit_code"])
