"""`snddiag analyze`: bundles and snapshot directories diagnosed offline (commands.py holds the
other commands and what they share)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snddiag.commands import (
    CommandError,
    check_directory,
    load_rules_given,
    print_report,
)
from snddiag.report import ExitCode
from snddiag.report.escape import escape

if TYPE_CHECKING:
    from collections.abc import Iterator

    from snddiag.bundle import Limits
    from snddiag.bundle.analyze import BundleDiagnosis
    from snddiag.engine.model import Rule


def _refuse_directories(bundles: list[Path]) -> None:
    """A directory given as a bundle: a snapshot is read with --root, a system with snddiag's."""
    from snddiag.evidence import MANIFEST_NAME

    for path in bundles:
        if path.is_dir():
            hint = "analyze --root" if (path / MANIFEST_NAME).is_file() else "--root"
            raise CommandError(
                f"{path}: a directory, not a bundle: use `snddiag {hint} {path}`", ExitCode.USAGE
            )


def _where_snapshot_is(root: Path) -> str:
    """Where the snapshot is when `root` is one level above or below it (the folder that holds
    snapshots, or a snapshot's data/ folder): what to type instead, or ""."""
    import itertools

    from snddiag.evidence import MANIFEST_NAME

    if (root / MANIFEST_NAME).exists():
        return ""
    if (root.parent / MANIFEST_NAME).is_file():
        return f"; the snapshot is its parent: snddiag analyze --root {root.parent}"
    try:
        # A bounded look: a folder of many files is not searched.
        below = [p for p in itertools.islice(root.iterdir(), 1000) if (p / MANIFEST_NAME).is_file()]
    except OSError:
        return ""
    if len(below) == 1:
        return f"; it holds a snapshot: snddiag analyze --root {below[0]}"
    if below:
        first = sorted(below)[0]
        return f"; it holds {len(below)} snapshots: give one, e.g. snddiag analyze --root {first}"
    return ""


def analyze_command(args: argparse.Namespace) -> int:
    if args.jsonl and args.json:
        raise CommandError(
            "--jsonl and --json are two formats: give one (--jsonl: a line per bundle)",
            ExitCode.USAGE,
        )
    rules = load_rules_given(args)
    _refuse_directories(args.bundles)
    if args.snapshot_root is not None:
        check_directory("--root", args.snapshot_root)
        if args.bundles:
            raise CommandError("give bundles or --root DIR, not both", ExitCode.USAGE)
        if args.jsonl:
            raise CommandError("--jsonl is for bundles, not --root DIR", ExitCode.USAGE)
        return _analyze_snapshot(args.snapshot_root, args, rules)
    if not args.bundles:
        raise CommandError("analyze needs BUNDLE... or --root DIR", ExitCode.USAGE)
    if args.jsonl:
        return _analyze_lines(args.bundles, args, rules)
    if len(args.bundles) == 1:
        return _analyze_bundle(args.bundles[0], args, rules)
    return _analyze_bundles(args.bundles, args, rules)


def _limits(args: argparse.Namespace) -> Limits:
    from snddiag.bundle import MIB, Limits

    if args.max_member_mb <= 0 or args.max_total_mb <= 0:
        raise CommandError("--max-member-mb and --max-total-mb must be positive", ExitCode.USAGE)
    if args.jobs < 0:
        raise CommandError("--jobs must be 0 (all cores) or more", ExitCode.USAGE)
    if not args.timeout_s > 0 or args.max_memory_mb <= 0:
        raise CommandError("--timeout-s and --max-memory-mb must be positive", ExitCode.USAGE)
    return Limits(
        args.max_member_mb * MIB,
        args.max_total_mb * MIB,
        timeout_s=args.timeout_s,
        max_memory_bytes=args.max_memory_mb * MIB,
    )


def _diagnosed(
    path: Path, args: argparse.Namespace, rules: list[Rule], *, snapshot: bool
) -> BundleDiagnosis:
    """A bundle's or a snapshot directory's diagnosis from its bounded worker; what it could
    not read is 65, a bug of snddiag's on it 70."""
    from snddiag.bundle import BundleError, WorkerBugError
    from snddiag.bundle.analyze import diagnose_bundle, diagnose_snapshot

    diagnose = diagnose_snapshot if snapshot else diagnose_bundle
    try:
        return diagnose(path, rules, _limits(args))
    except BundleError as err:
        hint = _where_snapshot_is(path)
        raise CommandError(f"{path}: {err}{hint}", ExitCode.DATA_ERR) from err
    except WorkerBugError as err:
        raise CommandError(f"{path}: {err}", ExitCode.SOFTWARE) from err


def _analyze_snapshot(path: Path, args: argparse.Namespace, rules: list[Rule]) -> int:
    return print_report(_diagnosed(path, args, rules, snapshot=True).document, args)


def _analyze_bundle(path: Path, args: argparse.Namespace, rules: list[Rule]) -> int:
    found = _diagnosed(path, args, rules, snapshot=False)
    status = found.document["status"]
    if args.json and found.collected_status not in (None, status):
        # The text report says it in its header; JSON has it in `source`, and people watching
        # a script's run read it here. Both strings are the bundle's own, as a stranger wrote them.
        print(
            f"snddiag: note: when collected the verdict was '{escape(str(found.collected_status))}'"
            f" (snddiag {escape(found.collected_by)}); with these rules it is '{status}'",
            file=sys.stderr,
        )
    return print_report(found.document, args)


def _each_bundle(
    paths: list[Path], args: argparse.Namespace, rules: list[Rule], *, ordered: bool
) -> Iterator[dict[str, Any]]:
    """Each bundle's result from bounded workers, with a progress count on a terminal."""
    from snddiag.bundle.analyze import analyze_many

    limits = _limits(args)
    progress = sys.stderr.isatty() and len(paths) >= 20
    names = [str(p) for p in paths]
    # A worker that dies costs only its own bundle (bundle.workers): nothing to catch here.
    for count, result in enumerate(
        analyze_many(names, rules, limits, args.jobs, ordered=ordered), 1
    ):
        yield result
        if progress and count % 10 == 0:
            print(f"\rsnddiag: {count}/{len(paths)} bundles", end="", file=sys.stderr)
    if progress:
        print("\r\033[K", end="", file=sys.stderr)


def _analyze_bundles(paths: list[Path], args: argparse.Namespace, rules: list[Rule]) -> int:
    from snddiag.report.summary import build_summary

    results = list(_each_bundle(paths, args, rules, ordered=True))
    return print_report(build_summary(results, rules), args, many=True)


def _analyze_lines(paths: list[Path], args: argparse.Namespace, rules: list[Rule]) -> int:
    """--jsonl: a compact JSON line per bundle, written and flushed as each finishes (so in
    the order they finish, not the order given), then the summary's exit code."""
    import json

    from snddiag.evidence import well_formed
    from snddiag.report.summary import overall_exit

    results = []
    for result in _each_bundle(paths, args, rules, ordered=False):
        line = json.dumps(well_formed(result), separators=(",", ":"), allow_nan=False)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        results.append(result)
    return overall_exit(results)
