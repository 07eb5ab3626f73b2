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

import contextlib  # noqa: E402 - after the handler: Ctrl-C while importing is a clean exit
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any, cast  # noqa: E402

from snddiag.report import ExitCode  # noqa: E402

if TYPE_CHECKING:
    import argparse


class UsageError(Exception):
    pass


def parse_args(args_list: Sequence[str]) -> argparse.Namespace:
    """The options, wherever they stand: before the command or after it."""
    plain = _plain_diagnosis(args_list)
    if plain is not None:
        return plain
    from snddiag.options import build_parser

    args = build_parser().parse_args(args_list)
    args.rules = [*args.rules, *getattr(args, "rules_after_command", [])]
    return args


# A plain diagnosis's options, read without argparse (and the gettext and locale it imports:
# a tenth of a run in a small guest). Anything else, a mistake included, goes to argparse.
_FLAGS = {
    "--json": "json",
    "--no-color": "no_color",
    "--debug": "debug",
    "--play": "play",
    "--no-stress": "no_stress",
}
_WITH_A_DIR = ("--rules", "--root")


def _plain_diagnosis(args_list: Sequence[str]) -> argparse.Namespace | None:
    """What argparse makes of a command line of only the top level's flags, --rules DIR and
    --root DIR (each also as --option=DIR); None for any other."""
    import types

    values: dict[str, Any] = {
        "json": False,
        "rules": [],
        "no_color": False,
        "debug": False,
        "root": None,
        "play": False,
        "no_stress": False,
        "command": None,
    }
    at = 0
    while at < len(args_list):
        word = args_list[at]
        at += 1
        option, equals, value = word.partition("=")
        if word in _FLAGS:
            values[_FLAGS[word]] = True
            continue
        if option not in _WITH_A_DIR:
            return None
        if not equals:
            if at == len(args_list) or args_list[at].startswith("-"):
                return None  # argparse says what is missing
            value = args_list[at]
            at += 1
        if option == "--rules":
            values["rules"].append(Path(value))
        else:
            values["root"] = Path(value)
    # The commands take it as an argparse.Namespace: attributes are all they read.
    return cast("argparse.Namespace", types.SimpleNamespace(**values))


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
