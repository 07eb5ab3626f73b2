"""report: the verdict for people (terminal) and for scripts (JSON), and the exit code."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import TYPE_CHECKING

from snddiag import __version__

if TYPE_CHECKING:  # the CLI imports ExitCode before any rule is loaded
    from snddiag.engine import Diagnosis


class ExitCode(IntEnum):
    """0-3 are verdicts on the guest; 64 and up (sysexits.h) are snddiag's own failures."""

    OK = 0
    WARNING = 1
    ERROR = 2
    INCOMPLETE = 3
    USAGE = 64
    DATA_ERR = 65  # an input snddiag cannot read: a bad bundle or snapshot, a broken rule file
    MISSING_LIBRARY = 69  # sysexits EX_UNAVAILABLE: a Python library snddiag needs is missing
    SOFTWARE = 70  # an internal error: a bug in snddiag
    CANNOT_CREATE = 73  # sysexits EX_CANTCREAT: the output cannot be created
    IO_ERROR = 74  # sysexits EX_IOERR: writing the output failed
    INTERRUPTED = 130  # Ctrl-C, as a shell reports a process ended by SIGINT


def verdict(diagnosis: Diagnosis) -> tuple[str, ExitCode]:
    """(status, exit code): errors and warnings first; unchecked rules never count as health."""
    from snddiag.engine import worst_severity
    from snddiag.engine.model import Severity

    worst = worst_severity(diagnosis)
    if worst is Severity.ERROR:
        return "error", ExitCode.ERROR
    if worst is Severity.WARNING:
        return "warning", ExitCode.WARNING
    if diagnosis.not_checked:
        return "incomplete", ExitCode.INCOMPLETE
    return "ok", ExitCode.OK


ERROR_SCHEMA_VERSION = 1


def render_error_json(message: str, exit_code: int) -> str:
    """The document of a run that failed (error.schema.json): scripts reading stdout get a
    status they can test rather than nothing. Here, not in json_doc: it must work when a
    library the diagnosis needs (PyYAML) is missing."""
    document = {
        "schema_version": ERROR_SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "status": "failed",
        "exit_code": int(exit_code),
        "error": message,
    }
    return json.dumps(document, indent=2) + "\n"
