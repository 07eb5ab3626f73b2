"""What each subcommand does, in terms of collect -> pipeline -> report."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snddiag.report import ExitCode
from snddiag.report.escape import escape

# Each command imports what it uses (rules, evidence, facts, reports) when it runs: `collect`,
# `--version` and the like start without the YAML loader and the fact model.
if TYPE_CHECKING:
    import argparse

    from snddiag.bundle.write import Written
    from snddiag.engine.model import Rule
    from snddiag.evidence import Evidence


class CommandError(Exception):
    """A one-line reason for the user (cli escapes it: it may quote a bundle or a path)."""

    def __init__(self, message: str, code: int = ExitCode.INCOMPLETE) -> None:
        super().__init__(message)
        self.code = code


def _refuse_snapshot(root: Path) -> None:
    """--root DIR reads a system's files; a snapshot directory is read by analyze --root."""
    from snddiag.evidence import MANIFEST_NAME

    if (root / MANIFEST_NAME).is_file():
        raise CommandError(
            f"--root {root}: this is a snapshot ({MANIFEST_NAME}): "
            f"use `snddiag analyze --root {root}`",
            ExitCode.USAGE,
        )


def check_directory(option: str, path: Path | None) -> None:
    """A directory given on the command line: a usage error when missing or something else."""
    if path is not None and not path.is_dir():
        what = "not a directory" if path.exists() else "no such directory"
        raise CommandError(f"{option} {path}: {what}", ExitCode.USAGE)


def _rule_dirs(args: argparse.Namespace) -> list[Path]:
    from snddiag.engine.rule_dirs import default_rule_dirs

    for directory in args.rules:
        check_directory("--rules", directory)
    return [*default_rule_dirs(), *args.rules]


def load_rules_given(args: argparse.Namespace) -> list[Rule]:
    from snddiag.engine.compiled import load_rules
    from snddiag.engine.model import RuleFileError

    try:
        return load_rules(_rule_dirs(args))
    except RuleFileError as err:
        raise CommandError(str(err), ExitCode.DATA_ERR) from err


def print_report(document: dict[str, Any], args: argparse.Namespace, *, many: bool = False) -> int:
    """Print a diagnosis, or with `many` the summary of many bundles, as JSON or text."""
    color = False if args.no_color else None
    if args.json:
        from snddiag.report.json_doc import render_json

        sys.stdout.write(render_json(document))
    elif many:
        from snddiag.report.summary import render_summary

        render_summary(document, sys.stdout, color=color)
    else:
        from snddiag.report.terminal import render_terminal

        render_terminal(document, sys.stdout, color=color)
    return int(document["exit_code"])


def diagnose_live(args: argparse.Namespace) -> int:
    from snddiag.collect import collect
    from snddiag.pipeline import diagnose
    from snddiag.report.json_doc import meta_source, with_source

    play = _play(args)  # a usage error before any other check
    rules = load_rules_given(args)
    root = args.root or Path("/")
    check_directory("--root", args.root)
    if args.root is not None:
        _refuse_snapshot(args.root)
    evidence = collect(root, live=args.root is None, play=play, stress=not args.no_stress)
    document = diagnose(evidence, rules).document
    source = meta_source("live", str(root), evidence.meta)
    return print_report(with_source(document, source), args)


def _play(args: argparse.Namespace) -> bool:
    """--play: only for a live diagnosis of this machine (its devices make the sound)."""
    if args.play and args.root is not None:
        raise CommandError(
            "--play tests this machine's card; it cannot run with --root", ExitCode.USAGE
        )
    if args.no_stress and not args.play:
        raise CommandError("--no-stress goes with --play", ExitCode.USAGE)
    return bool(args.play)


def _check_new_directory(directory: Path) -> None:
    """--dir must name nothing yet, or an empty directory (not a link to one)."""
    from snddiag.collect.tree import describe

    try:
        mode = os.lstat(directory).st_mode
        crowded = stat.S_ISDIR(mode) and any(directory.iterdir())
    except FileNotFoundError:
        return
    except OSError as err:
        code = ExitCode.CANNOT_CREATE
        raise CommandError(f"cannot write {directory}: {err.strerror}", code) from err
    if not stat.S_ISDIR(mode):
        raise CommandError(
            f"cannot write {directory}: it is {describe(mode)}; give a new directory",
            ExitCode.CANNOT_CREATE,
        )
    if crowded:
        raise CommandError(
            f"{directory} exists and is not empty; give a new directory", ExitCode.CANNOT_CREATE
        )


def collect_command(args: argparse.Namespace) -> int:
    """Collect this system, or with --root the tree at DIR (its files only, as a diagnosis does)."""
    from snddiag.collect import collect

    if args.json and args.output == "-":
        raise CommandError(
            "collect -o - writes the bundle to stdout, so --json cannot: use -o FILE --json",
            ExitCode.USAGE,
        )
    check_directory("--root", args.root)
    if args.dir is not None:
        _check_new_directory(args.dir)
    # Loaded before collecting, so that a bad rule file stops the run at once.
    rules = load_rules_given(args) if args.dir is None else []
    evidence = collect(args.root or Path("/"), live=args.root is None)
    if args.dir is not None:
        # Redacted as a bundle is (--no-redact keeps identifiers); it records no diagnosis.
        redaction = _save_snapshot(evidence, args.dir, redact=not args.no_redact)
        summary: dict[str, Any] = {
            "output": str(args.dir),
            "written_as": "directory",
            "entries": len(evidence),
            "redaction": redaction,
            "verdict": None,
        }
    else:
        written = _save_bundle(evidence, rules, args)
        summary = {
            "output": written.output,
            "written_as": "bundle",
            "entries": written.entries,
            "redaction": written.redaction,
            "verdict": {"status": written.status, "exit_code": written.exit_code},
        }
    if args.json:
        from snddiag.report.command_json import render_collect

        sys.stdout.write(render_collect(**summary))
    return ExitCode.OK


def _save_snapshot(evidence: Evidence, directory: Path, *, redact: bool) -> dict[str, Any]:
    """Write the snapshot directory; what redaction replaced (the manifest's `redaction` of a
    bundle)."""
    from snddiag.bundle.output import code_for
    from snddiag.bundle.redact import redact_evidence
    from snddiag.bundle.write import redaction_note
    from snddiag.evidence import save_directory

    redaction: dict[str, Any] = {"enabled": redact}
    if redact:
        evidence, redactor = redact_evidence(evidence)
        redaction["classes"] = redactor.summary()
    try:
        save_directory(evidence, directory)
    except OSError as err:
        raise CommandError(f"cannot write {directory}: {err.strerror}", code_for(err)) from err
    print(
        f"snddiag: snapshot written to {directory} ({len(evidence)} entries, "
        f"{redaction_note(redaction)})",
        file=sys.stderr,
    )
    return redaction


def _save_bundle(evidence: Evidence, rules: list[Rule], args: argparse.Namespace) -> Written:
    """The bundle of the evidence and its diagnosis with these rules (-o FILE or -)."""
    from snddiag.bundle.output import OutputError
    from snddiag.bundle.write import save_bundle
    from snddiag.pipeline import diagnose

    outcome = diagnose(evidence, rules)
    try:
        return save_bundle(
            evidence, outcome.document, args.output, redact=not args.no_redact, rules=rules
        )
    except OutputError as err:
        raise CommandError(str(err), err.code) from err


def rules_command(args: argparse.Namespace) -> int:
    dirs = _rule_dirs(args)
    if args.rules_command == "check":
        return _check_command(dirs, args)
    if args.rules_command == "facts":
        return _facts_command(args)
    rules = load_rules_given(args)
    if args.json:
        from snddiag.report.command_json import render_rule_list

        sys.stdout.write(render_rule_list(rules))
    else:
        for rule in rules:
            print(f"{rule.rule_id:32} {rule.severity.value:8} {rule.layer:10} {escape(rule.title)}")
    return ExitCode.OK


def _check_command(dirs: list[Path], args: argparse.Namespace) -> int:
    """`rules check`: every problem as `file:line: problem` on stderr (with --json also as a
    document on stdout); 65 when there is any."""
    from snddiag.engine.load import check_rules

    problems = check_rules(dirs)
    for problem in problems:
        print(escape(str(problem)), file=sys.stderr)
    count = sum(1 for _ in _all_rule_files(dirs))
    print(f"{count} rule files checked, {len(problems)} problem(s)", file=sys.stderr)
    if args.json:
        from snddiag.report.command_json import render_rule_check

        sys.stdout.write(render_rule_check(count, problems))
    return ExitCode.DATA_ERR if problems else ExitCode.OK


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
        from snddiag.report.command_json import render_fact_list

        sys.stdout.write(render_fact_list(listing))
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
    rules = {r.rule_id: r for r in load_rules_given(args)}
    rule = rules.get(args.rule_id)
    if rule is None:
        raise CommandError(f"no rule '{args.rule_id}' (see 'snddiag rules list')", ExitCode.USAGE)
    if args.json:
        from snddiag.report.explain import render_explain_json

        sys.stdout.write(render_explain_json(rule))
        return ExitCode.OK
    from snddiag.report.explain import render_explain

    render_explain(rule, sys.stdout, color=False if args.no_color else None)
    return ExitCode.OK


def dispatch(args: argparse.Namespace) -> int:
    if args.command is None:
        return diagnose_live(args)
    if args.play or args.no_stress:
        raise CommandError(
            f"--play goes with the diagnosis only; {args.command} never plays", ExitCode.USAGE
        )
    from snddiag.offline import analyze_command

    handlers = {
        "collect": collect_command,
        "analyze": analyze_command,
        "rules": rules_command,
        "explain": explain_command,
    }
    return handlers[args.command](args)
