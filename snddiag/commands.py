"""What each subcommand does, in terms of collect -> pipeline -> report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snddiag.report import ExitCode

# Each command imports what it uses (rules, evidence, facts, reports) when it runs: `collect`,
# `--version` and the like start without the YAML loader and the fact model.
if TYPE_CHECKING:
    from snddiag.engine.load import Rule


class CommandError(Exception):
    def __init__(self, message: str, code: int = ExitCode.INCOMPLETE) -> None:
        super().__init__(message)
        self.code = code


def _rule_dirs(args: argparse.Namespace) -> list[Path]:
    from snddiag.engine.load import default_rule_dirs

    return [*default_rule_dirs(), *args.rules]


def _rules(args: argparse.Namespace) -> list[Rule]:
    from snddiag.engine.load import RuleFileError, load_rules

    try:
        return load_rules(_rule_dirs(args))
    except RuleFileError as err:
        raise CommandError(str(err), ExitCode.USAGE) from err


def _report(document: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        from snddiag.report.json_doc import render_json

        sys.stdout.write(render_json(document))
    else:
        from snddiag.report.terminal import render_terminal

        render_terminal(document, sys.stdout, color=False if args.no_color else None)
    return int(document["exit_code"])


def diagnose_live(args: argparse.Namespace) -> int:
    from snddiag.collect import collect
    from snddiag.pipeline import diagnose

    rules = _rules(args)
    root = args.root or Path("/")
    if args.root is not None and not args.root.is_dir():
        raise CommandError(f"--root {args.root}: not a directory", ExitCode.USAGE)
    evidence = collect(root, live=args.root is None)
    return _report(diagnose(evidence, rules).document, args)


def collect_command(args: argparse.Namespace) -> int:
    from snddiag.collect import collect
    from snddiag.evidence import save_directory

    if args.dir is not None and args.dir.exists() and any(args.dir.iterdir()):
        raise CommandError(f"{args.dir} exists and is not empty; give a new directory")
    evidence = collect()
    if args.dir is not None:
        try:
            save_directory(evidence, args.dir)
        except OSError as err:
            raise CommandError(f"cannot write {args.dir}: {err.strerror}") from err
        print(f"snddiag: snapshot written to {args.dir}", file=sys.stderr)
        return ExitCode.OK
    from snddiag.bundle.write import write_bundle
    from snddiag.pipeline import diagnose

    rules = _rules(args)
    outcome = diagnose(evidence, rules)
    return write_bundle(
        evidence, outcome.document, args.output, redact=not args.no_redact, rules=rules
    )


def analyze_command(args: argparse.Namespace) -> int:
    from snddiag.evidence import EvidenceError, load_directory
    from snddiag.pipeline import diagnose

    rules = _rules(args)
    if args.snapshot_root is not None:
        if args.bundles:
            raise CommandError("give bundles or --root DIR, not both", ExitCode.USAGE)
        try:
            evidence = load_directory(args.snapshot_root)
        except EvidenceError as err:
            raise CommandError(f"{args.snapshot_root}: {err}") from err
        return _report(diagnose(evidence, rules).document, args)
    if not args.bundles:
        raise CommandError("analyze needs BUNDLE... or --root DIR", ExitCode.USAGE)
    from snddiag.bundle.analyze import analyze_bundles

    return analyze_bundles(args, rules)


def rules_command(args: argparse.Namespace) -> int:
    dirs = _rule_dirs(args)
    if args.rules_command == "check":
        from snddiag.engine.load import check_rules

        problems = check_rules(dirs)
        for problem in problems:
            print(problem, file=sys.stderr)
        count = sum(1 for _ in _all_rule_files(dirs))
        print(f"{count} rule files checked, {len(problems)} problem(s)", file=sys.stderr)
        return ExitCode.USAGE if problems else ExitCode.OK
    if args.rules_command == "facts":
        return _facts_command(args)
    rules = _rules(args)
    if args.json:
        import json

        listing = [
            {"rule": r.rule_id, "severity": r.severity.value, "title": r.title, "file": str(r.path)}
            for r in rules
        ]
        print(json.dumps(listing, indent=2))
    else:
        for rule in rules:
            print(f"{rule.rule_id:32} {rule.severity.value:8} {rule.title}")
    return ExitCode.OK


def _facts_command(args: argparse.Namespace) -> int:
    """Every fact path rules may use: its type, what it means, and what None means."""
    from snddiag.engine.paths import FACTS_BY_PATH, MAPPING_PATHS

    listing = [
        {
            "fact": info.path + (".<name>" if info.path in MAPPING_PATHS else ""),
            "type": info.type_name,
            "meaning": info.doc.meaning if info.doc else "",
            "none": info.doc.unread if info.doc else "",
        }
        for info in FACTS_BY_PATH.values()
    ]
    if args.json:
        import json

        print(json.dumps(listing, indent=2))
        return ExitCode.OK
    for item in listing:
        print(f"{item['fact']}  ({item['type']})")
        print(f"    {item['meaning']}")
        print(f"    None: {item['none']}")
    return ExitCode.OK


def _all_rule_files(dirs: list[Path]) -> list[Path]:
    from snddiag.engine.load import rule_files

    return [p for d in dirs if d.is_dir() for p in rule_files(d)]


def explain_command(args: argparse.Namespace) -> int:
    rules = {r.rule_id: r for r in _rules(args)}
    rule = rules.get(args.rule_id)
    if rule is None:
        raise CommandError(f"no rule '{args.rule_id}' (see 'snddiag rules list')", ExitCode.USAGE)
    print(f"{rule.rule_id} ({rule.severity.value}): {rule.title}")
    print(f"file: {rule.path}")
    print()
    print(rule.explain)
    if rule.remediation:
        print()
        print("Remediation (steps are chosen by distro, architecture and VMM at run time):")
        for number, step in enumerate(rule.remediation, start=1):
            filters = "; ".join(f"{k}={','.join(v)}" for k, v in step.filters)
            label = step.side + (f" · {step.tool}" if step.tool else "")
            print(f"  {number}. [{label}] {step.text}" + (f"  (when {filters})" if filters else ""))
    for reference in rule.references:
        print(f"See: {reference}")
    return ExitCode.OK


def dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        return diagnose_live(args)
    handlers = {
        "collect": collect_command,
        "analyze": analyze_command,
        "rules": rules_command,
        "explain": explain_command,
    }
    return handlers[args.command](args)
