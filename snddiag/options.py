"""The command line's whole grammar, with argparse: every command, its options and its help.

cli.parse_args reads a plain diagnosis's few options itself and comes here for anything else
(a command, --help, a mistake): a run in a small guest then imports no argparse.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from snddiag import __version__
from snddiag.cli import UsageError


def _columns() -> int:
    """shutil.get_terminal_size().columns, without importing shutil (and with it bz2 and lzma,
    0.05 s of a run in a small guest): argparse asks for it each time it checks an option."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or _columns() - 2)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _common_options(*, after_command: bool) -> _Parser:
    """The options every command takes, before or after its name alike. After the command
    they default to nothing at all: a sub-parser's defaults would overwrite what was given
    before the command (`snddiag --json analyze B` must print JSON)."""
    unset: Any = argparse.SUPPRESS if after_command else False
    common = _Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=unset, help="print one JSON document on stdout"
    )
    common.add_argument(
        "--rules",
        action="append",
        type=Path,
        # After the command, DIRs are collected apart and joined to those given before it.
        dest="rules_after_command" if after_command else "rules",
        default=argparse.SUPPRESS if after_command else [],
        metavar="DIR",
        help="also load the rules in DIR (repeatable; a rule here replaces one with its id)",
    )
    common.add_argument("--no-color", action="store_true", default=unset, help="plain text output")
    common.add_argument(
        "--debug", action="store_true", default=unset, help="show tracebacks of internal errors"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    before = _common_options(after_command=False)
    parser = _Parser(
        prog="snddiag",
        description="Diagnose virtio sound (virtio-snd) in this Linux guest. Reads only.",
        parents=[before],
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
        "card and record a second (makes a short sound), then open, start, drain and close the "
        "playback stream over and over (the lifecycle stress)",
    )
    parser.add_argument(
        "--no-stress",
        action="store_true",
        help="with --play: skip the lifecycle stress (a few seconds shorter)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_options(after_command=True)
    collect = sub.add_parser("collect", parents=[common], help="save the evidence snapshot")
    target = collect.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="FILE", help="bundle (.tar.gz), or - for stdout")
    target.add_argument("--dir", type=Path, metavar="DIR", help="snapshot directory")
    collect.add_argument(
        "--no-redact",
        action="store_true",
        help="keep identifiers (host names, addresses, serials...) in the bundle or snapshot",
    )

    analyze = sub.add_parser("analyze", parents=[common], help="diagnose saved bundles offline")
    analyze.add_argument("bundles", nargs="*", type=Path, metavar="BUNDLE")
    analyze.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON line per bundle on stdout, written as each finishes (not with --json)",
    )
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
    analyze.add_argument(
        "--timeout-s",
        type=float,
        default=30.0,
        metavar="S",
        help="wall time one bundle may take (default: 30)",
    )
    analyze.add_argument(
        "--max-memory-mb",
        type=int,
        default=512,
        metavar="MB",
        help="memory one bundle's worker may add (default: 512)",
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
