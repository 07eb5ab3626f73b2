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


def analyze_command(args: argparse.Namespace) -> int:
    from snddiag.evidence import EvidenceError, load_directory
    from snddiag.pipeline import diagnose
    from snddiag.report.json_doc import meta_source, with_source

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
        try:
            evidence = load_directory(args.snapshot_root)
        except EvidenceError as err:
            raise CommandError(f"{args.snapshot_root}: {err}", ExitCode.DATA_ERR) from err
        document = diagnose(evidence, rules).document
        source = meta_source("snapshot", str(args.snapshot_root), evidence.meta)
        return print_report(with_source(document, source), args)
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


def _analyze_bundle(path: Path, args: argparse.Namespace, rules: list[Rule]) -> int:
    from snddiag.bundle import BundleError
    from snddiag.bundle.analyze import diagnose_bundle

    limits = _limits(args)
    try:
        found = diagnose_bundle(path, rules, limits)
    except BundleError as err:
        raise CommandError(f"{path}: {err}", ExitCode.DATA_ERR) from err
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

    from snddiag.report.summary import overall_exit

    results = []
    for result in _each_bundle(paths, args, rules, ordered=False):
        sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        results.append(result)
    return overall_exit(results)
