"""Command line: options -> pipeline -> exit code. No diagnosis logic lives here.

Whatever happens, the run ends with one line at most and a documented exit code (README, "Exit
codes"): Ctrl-C is 130, a closed output pipe ends it quietly, a bug is 70, never a traceback
without --debug.
"""

from __future__ import annotations

# The C module, not `signal`: that one imports enum first, and a Ctrl-C there would be a
# traceback. Nothing is imported before the handler is in place.
_signal = __import__("_signal")


def _interrupted_now(signum: int, frame: object) -> None:
    # Ctrl-C while the modules below load (or after the run, while Python shuts down): no
    # KeyboardInterrupt can be caught there, and there is nothing to clean up. main() puts
    # Python's own handler back for the run itself.
    import os

    os.write(2, b"snddiag: interrupted\n")
    os._exit(130)


if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_now)

import argparse  # noqa: E402 - after the handler: Ctrl-C while importing is a clean exit
import contextlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from snddiag import __version__  # noqa: E402
from snddiag.report import ExitCode  # noqa: E402


class UsageError(Exception):
    pass


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


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line; without `commands`, none of the commands' own parsers (the
    command is still a choice, of none)."""
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
    if commands:
        _add_commands(sub)
    return parser


def _add_commands(sub: Any) -> None:
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


def parse_args(args_list: Sequence[str]) -> argparse.Namespace:
    """The options, wherever they stand: before the command or after it."""
    # Without a word that is not an option (no command, no option's value) nor a request for
    # help, no command's parser can be reached: a plain `snddiag --json` builds none of them.
    words = any(not a.startswith("-") for a in args_list)
    helps = any(a.startswith(("-h", "--h")) for a in args_list)  # --he is --help too
    args = build_parser(commands=words or helps).parse_args(args_list)
    args.rules = [*args.rules, *getattr(args, "rules_after_command", [])]
    return args


def _say(line: str) -> None:
    """One line on stderr, escaped: it may quote a bundle, a rule file or a path."""
    from snddiag.report.escape import escape

    with contextlib.suppress(OSError):  # stderr itself is gone: only the exit code is left
        print(f"snddiag: {escape(line)}", file=sys.stderr, flush=True)


def _fail(message: str, code: int, as_json: bool) -> int:
    """Report snddiag's own failure: one line on stderr, and with --json a document on stdout."""
    _say(message)
    if as_json and code >= ExitCode.USAGE:
        from snddiag.report import render_error_json

        with contextlib.suppress(OSError):
            sys.stdout.write(render_error_json(message, code))
            sys.stdout.flush()
    return code


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that the final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


def _occupy_closed_streams() -> None:
    """Started with stdin, stdout or stderr closed (`>&-`): the descriptor gets /dev/null opened
    read-only, so that no file snddiag opens later takes its number (a report would be written
    into it), and every write to it fails (EBADF): a result that cannot be written is 74."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            devnull = os.open(os.devnull, os.O_RDONLY)
        except OSError:
            continue
        if devnull != fd:
            os.dup2(devnull, fd)
            os.close(devnull)
        if getattr(sys, name) is None and fd:
            setattr(sys, name, open(fd, "w", encoding="utf-8", closefd=False))  # noqa: SIM115


def _tolerant_streams() -> None:
    """Any output encoding works: what it cannot encode is written as `\\xb7`, not an error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(OSError, ValueError):
                reconfigure(errors="backslashreplace")


def _run(args_list: list[str]) -> int:
    as_json = "--json" in args_list
    try:
        args = parse_args(args_list)
    except UsageError as err:
        from snddiag.usage import usage_hint

        hint = usage_hint(args_list)
        if hint is not None:
            return _fail(hint, ExitCode.USAGE, as_json)
        # "snddiag analyze: ..." from argparse; _say names snddiag itself.
        code = _fail(str(err).removeprefix("snddiag").lstrip(": "), ExitCode.USAGE, as_json)
        _say("try 'snddiag --help'")
        return code
    try:
        from snddiag import commands
    except ImportError as err:
        return _missing_library(err, args)
    try:
        code = commands.dispatch(args)
        sys.stdout.flush()
        return code
    except ImportError as err:
        return _missing_library(err, args)
    except commands.CommandError as err:
        return _fail(str(err), err.code, args.json)
    except BrokenPipeError:
        # `snddiag | head -1`: the reader has what it wanted; nothing to say.
        _silence_stdout()
        return ExitCode.IO_ERROR
    except OSError as err:
        if args.debug:
            raise
        where = f" {err.filename}" if err.filename else " the output"
        return _fail(f"I/O error on{where}: {err.strerror or err}", ExitCode.IO_ERROR, args.json)
    except Exception as err:
        return _internal_error(err, args)


def _internal_error(err: Exception, args: argparse.Namespace) -> int:
    if args.debug:
        raise err
    return _fail(
        f"internal error: {err!r} (a bug in snddiag; run with --debug for the traceback)",
        ExitCode.SOFTWARE,
        args.json,
    )


def _missing_library(err: ImportError, args: argparse.Namespace) -> int:
    """A library of snddiag's that is not installed is the user's to install (exit 69); any
    other import failure is a bug."""
    from snddiag.needs import install_hint, missing_library

    lib = missing_library(err)
    if lib is None:
        return _internal_error(err, args)
    # The JSON document needs no rich: say so where that is what is missing.
    without = "snddiag --json works without it" if lib.module == "rich" and not args.json else ""
    return _fail(install_hint(lib, without=without), ExitCode.MISSING_LIBRARY, args.json)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        _occupy_closed_streams()
        _tolerant_streams()
        return _run(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        _say("interrupted")
        return ExitCode.INTERRUPTED


def main_entry() -> None:
    code = main()
    try:
        sys.stdout.flush()
    except OSError:
        _silence_stdout()
    # The work is done and said; a Ctrl-C while Python shuts down is one line too.
    _signal.signal(_signal.SIGINT, _interrupted_now)
    sys.exit(code)
