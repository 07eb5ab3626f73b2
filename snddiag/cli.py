"""Command line: options -> pipeline -> exit code. No diagnosis logic lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from snddiag import __version__
from snddiag.report import ExitCode


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    common.add_argument(
        "--rules",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="also load the rules in DIR (repeatable; a rule here replaces one with its id)",
    )
    common.add_argument("--no-color", action="store_true", help="plain text output")
    common.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser = _Parser(
        prog="snddiag",
        description="Diagnose virtio sound (virtio-snd) in this Linux guest. Reads only.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"snddiag {__version__}")
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="read the files of a system mounted at DIR instead of / (no commands)",
    )
    parser.add_argument(
        "--play",
        action="store_true",
        help="also test the data path: play about a second of a quiet 440 Hz tone on the virtio "
        "card and record a second (makes a short sound)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    collect = sub.add_parser("collect", parents=[common], help="save the evidence snapshot")
    target = collect.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="FILE", help="bundle (.tar.gz), or - for stdout")
    target.add_argument("--dir", type=Path, metavar="DIR", help="snapshot directory")
    collect.add_argument("--no-redact", action="store_true", help="keep identifiers in the bundle")

    analyze = sub.add_parser("analyze", parents=[common], help="diagnose saved bundles offline")
    analyze.add_argument("bundles", nargs="*", type=Path, metavar="BUNDLE")
    analyze.add_argument(
        "--root",
        dest="snapshot_root",
        type=Path,
        metavar="DIR",
        help="an extracted snapshot directory instead of bundles",
    )
    analyze.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for many bundles (default: all cores)",
    )
    analyze.add_argument(
        "--max-member-mb",
        type=int,
        default=64,
        metavar="MB",
        help="largest member a bundle may hold",
    )
    analyze.add_argument(
        "--max-total-mb",
        type=int,
        default=256,
        metavar="MB",
        help="largest total size a bundle may unpack to",
    )

    rules = sub.add_parser("rules", help="list or check rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rules_sub.required = True
    rules_sub.add_parser("list", parents=[common], help="list the rules that would run")
    rules_sub.add_parser("check", parents=[common], help="validate every rule file")
    rules_sub.add_parser("facts", parents=[common], help="list the fact paths rules may use")

    explain = sub.add_parser("explain", parents=[common], help="show one rule in full")
    explain.add_argument("rule_id", metavar="RULE_ID")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as err:
        print(err, file=sys.stderr)
        print("try 'snddiag --help'", file=sys.stderr)
        return ExitCode.USAGE
    from snddiag import commands

    try:
        return commands.dispatch(args)
    except commands.CommandError as err:
        print(f"snddiag: {err}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        if getattr(args, "debug", False):
            raise
        print(
            f"snddiag: internal error: {err!r} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return ExitCode.INCOMPLETE


def main_entry() -> None:
    sys.exit(main())
