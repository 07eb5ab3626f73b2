"""Kernel lines from log files and the journal: syslog daemons' files and `journalctl` output.

A user's `/var/log/kern.log` or `/var/log/messages` (or a pasted `journalctl -k`) may be in any
of these layouts, so each line is tried against each anchored layout:

- a header, then the tag: `kernel: msg` is the kernel's, any other tag (`sshd[42]: ...`) a line
  of another program, skipped. Headers seen: RFC 3164 (`Nov 29 14:00:00 host`: rsyslog's
  RSYSLOG_TraditionalFileFormat, sysklogd, journalctl's `short`, with `.123456` its
  `short-precise`), RFC 3339 (`2026-11-29T14:00:00.123456+00:00 host`: rsyslog's
  RSYSLOG_FileFormat, the Debian 12+ and Ubuntu 24.04+ default, and journalctl's `short-iso`,
  `short-iso-precise`), journalctl's `short-full` (`Sun 2026-11-29 14:00:00 UTC host`),
  `short-monotonic` (`[    1.234567] host`), `short-delta` (`[    1.2 <    0.0>] host`) and
  `short-unix` (`1764424800.123456 host`); busybox `syslogd` writes `Nov 29 14:00:00 host
  kern.err kernel: msg` (the facility.level after the host), or with `-S` no host at all;
- `journalctl -o json` (one object a line; `json-seq` puts RS before it, `json-sse` `data: `):
  kernel lines have `_TRANSPORT=kernel`; MESSAGE is a string, or an array of bytes when it is
  not valid UTF-8;
- journalctl's own lines (`-- Boot 0f3a... --`, `-- No entries --`), skipped;
- `dmesg` output pasted into the file, in any layout `snddiag.parse.kmsg` reads.

A file with none of those, but the kernel's boot banner (`Linux version `) at the start of a
line, is `journalctl -o cat` (messages only): every line is a message. Anything else is
`unparsed`. Files keep every boot: only lines after the last boot banner are returned.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from snddiag.parse import Parsed, ascii_int, lines_of
from snddiag.parse.kmsg import DMESG_PREFIX, KernelLine, read_dmesg_line
from snddiag.patterns import compiled_later

BANNER = "Linux version "
_CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# `dmesg --time-format iso` puts a comma before the fraction, RFC 3339 and journalctl a point.
_WALL_HEADER = (
    rf"[A-Z][a-z]{{2}} {{1,2}}[0-9]{{1,2}} {_CLOCK}(?:\.[0-9]{{1,9}})?"  # RFC 3164, short
    rf"|{_DATE}T{_CLOCK}(?:\.[0-9]{{1,9}})?(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})"  # RFC 3339, iso
    rf"|[A-Z][a-z]{{2}} {_DATE} {_CLOCK}(?:\.[0-9]{{1,9}})?(?: [A-Za-z0-9+_/-]{{1,32}})?"  # full
    r"|[0-9]{1,20}\.[0-9]{1,9}"  # short-unix
)
# short-monotonic and short-delta: the same `[    1.234567]` that starts a dmesg line, read as
# a header only in a file where it is followed by `host kernel:`.
_MONOTONIC_HEADER = r"\[ {0,20}(?P<stamp>[0-9]{1,20}\.[0-9]{1,9})(?: <[ 0-9.]{1,40}>)?\]"
_FACILITY_LEVEL = r"[a-z0-9]{2,8}\.[a-z]{3,7}"  # busybox syslogd: kern.err, local0.info
# After the header: the host (no blank or colon in it: busybox -S writes none), busybox's
# facility.level, the tag and the message. The host and the tag are bounded, and each ends at a
# character the next part cannot start with, so a line is matched in linear time.
_AFTER_HEADER = (
    rf" (?:[^ :]{{1,255}} )?(?:{_FACILITY_LEVEL} )?"
    r"(?P<tag>[^ :\[]{1,64})(?:\[[0-9]{1,10}\])?: ?(?P<message>.*)$"
)
_JOURNAL_MARK = r"(?P<mark>-- .{0,200}--)$"  # -- Boot 0f3a... --, -- No entries --


class _Layouts:
    """The layouts' expressions, compiled on first use: a live run reads /dev/kmsg and never
    parses a log file, and compiling these took 0.03 s of a run in a small guest."""

    def __init__(self) -> None:
        # One match a line: a syslog or journal header, a journal mark, or a dmesg prefix
        # (which may be empty: then the line is in no known layout).
        self.line = re.compile(
            rf"^(?:(?:{_WALL_HEADER}){_AFTER_HEADER}|{_JOURNAL_MARK}|(?P<dmesg>{DMESG_PREFIX}))"
        )
        self.line_monotonic = re.compile(
            rf"^(?:(?:{_MONOTONIC_HEADER}|{_WALL_HEADER}){_AFTER_HEADER}|{_JOURNAL_MARK}"
            rf"|(?P<dmesg>{DMESG_PREFIX}))"
        )
        self.monotonic_file = re.compile(
            rf"^{_MONOTONIC_HEADER} [^ :\n]{{1,255}} kernel: ", re.MULTILINE
        )
        self.banner_line = re.compile(rf"^{BANNER}", re.MULTILINE)


@functools.cache
def _layouts() -> _Layouts:
    return _Layouts()


_JSON_PREFIX = compiled_later(r"^(?:data: )?\{")  # json-seq's RS ends a line for splitlines()
_KERNEL_TAG = "kernel"


def _message_of(value: Any) -> str | None:
    """journalctl's MESSAGE: a string, or bytes as an array of numbers (not valid UTF-8)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(type(b) is int and 0 <= b < 256 for b in value):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def read_json_line(raw: str) -> tuple[bool, KernelLine | None]:
    """One `journalctl -o json` line: whether it is a journal entry, and its kernel line."""
    start = _JSON_PREFIX.match(raw)
    if start is None:
        return False, None
    try:
        entry = json.loads(raw[start.end() - 1 :])
    except (ValueError, RecursionError):  # RecursionError: objects nested thousands deep
        return False, None
    if not isinstance(entry, dict) or "MESSAGE" not in entry:
        return False, None
    if entry.get("_TRANSPORT") != "kernel" and entry.get("SYSLOG_IDENTIFIER") != _KERNEL_TAG:
        return True, None
    message = _message_of(entry["MESSAGE"])
    if message is None:
        return True, None  # null: longer than journalctl's field size limit
    micros = entry.get("_SOURCE_MONOTONIC_TIMESTAMP")
    usec = ascii_int(micros) if isinstance(micros, str) else None
    return True, KernelLine(usec / 1e6 if usec is not None else None, message)


def _read_line(raw: str, line_rx: re.Pattern[str]) -> tuple[bool, KernelLine | None]:
    """Whether the line is in a known layout, and its kernel line if it is the kernel's."""
    if raw.startswith(("{", "data: ")):
        return read_json_line(raw)
    match = line_rx.match(raw)
    kind = match.lastgroup if match is not None else None
    if kind == "message" and match is not None:
        if match.group("tag") != _KERNEL_TAG:
            return True, None
        message = match.group("message")
        stamp = match.group("stamp") if "stamp" in line_rx.groupindex else None
        if stamp is not None:
            return True, KernelLine(float(stamp), message)
        prefixed, line = read_dmesg_line(message)  # klogd and rsyslog keep `[    1.2] `
        return True, line if prefixed else KernelLine(None, message)
    if kind == "mark":
        return True, None
    if kind == "dmesg" and match is not None and match.end() > 0:
        return read_dmesg_line(raw)
    return False, None


def parse_log_file(text: str) -> Parsed[tuple[KernelLine, ...]]:
    """The kernel's lines of this boot; `unparsed`: the lines in no known layout."""
    lines: list[KernelLine] = []
    odd: list[str] = []
    # `[    1.2] host kernel: msg` anywhere: the file is journalctl's, its brackets are headers.
    layouts = _layouts()
    line_rx = layouts.line_monotonic if layouts.monotonic_file.search(text) else layouts.line
    known = False
    for raw in lines_of(text):
        recognised, line = _read_line(raw, line_rx)
        if line is not None:
            if line.text.startswith(BANNER):
                lines.clear()
            lines.append(line)
        elif recognised:
            known = True
        elif lines and raw[:1].isspace() and raw.strip():  # a continuation line (journalctl)
            lines.append(KernelLine(None, raw.strip()))
        elif raw.strip():
            odd.append(raw)
    if not known and not lines and layouts.banner_line.search(text):
        return _read_cat(lines_of(text))
    return Parsed(tuple(lines), tuple(odd))


def _read_cat(raws: list[str]) -> Parsed[tuple[KernelLine, ...]]:
    """`journalctl -o cat`: messages only, from the last boot banner on."""
    lines: list[KernelLine] = []
    for raw in raws:
        if raw.startswith(BANNER):
            lines.clear()
        if raw.strip():
            lines.append(KernelLine(None, raw))  # as journalctl printed it
    return Parsed(tuple(lines))
