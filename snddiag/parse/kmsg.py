"""The kernel log as the kernel and `dmesg` give it, as plain message lines.

Layouts seen: util-linux and busybox `dmesg` (`[    1.234567] msg`, or no time stamp without
CONFIG_PRINTK_TIME) and its options: `-r` (`<3>[    1.2] msg`), `-x` (`kern  :err   : [ 1.2]
msg`), `-T` / `--time-format ctime` (`[Sun Nov 29 14:00:00 2026] msg`), `--time-format iso`
(`2026-11-29T14:00:00,123456+00:00 msg`), `-d` (`[    1.2 <    0.0>] msg`), `--time-format
reltime` (`[Nov29 14:00] msg`, `[  +0.000123] msg`), caller ids with CONFIG_PRINTK_CALLER
(`[    1.234567][    T1] msg` from busybox and syslog(2), `[    1.234567] [    T1] msg` from
util-linux), and `/dev/kmsg` records (`6,339,5140900,-;msg` plus ` KEY=value` lines).

Time stamps are ASCII digits of bounded length (at most 20 before the point, a u64, and 9 after
it): a longer stamp, which no kernel prints, is not a stamp, so `float()` never overflows and no
digit run is converted to `int` past Python's limit. Only the seconds since boot become
`time_s`; wall-clock stamps (`-T`, iso) are recognised and dropped. Each layout is one anchored
regex whose repeats cannot match the same characters, so a line costs time linear in its length;
lines are cut to `MAX_LINE_CHARS` (see `snddiag.parse`).
"""

from __future__ import annotations

import re

from snddiag.parse import Parsed, lines_of
from snddiag.patterns import compiled_later
from snddiag.records import dataclass


@dataclass(frozen=True)
class KernelLine:
    time_s: float | None
    text: str


_STAMP = r"([0-9]{1,20}\.[0-9]{1,9})"  # seconds.fraction
# util-linux `dmesg -x` names (sys-utils/dmesg.c): facility and level, each padded to 6 columns.
_FACILITY = r"(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])"
_LEVEL = r"(?:emerg|alert|crit|err|warn|notice|info|debug)"
_WALL = (
    r"\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\]"  # ctime
    r"|\[[A-Z][a-z]{2}[ 0-9][0-9] [0-9]{2}:[0-9]{2}\]"  # reltime, a new minute
    r"|\[ {0,20}\+[0-9]{1,20}\.[0-9]{1,9}\]"  # reltime, a delta
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.,][0-9]{1,9}[+-][0-9]{2}:?[0-9]{2}"
)
_CALLER = r"\[ {0,10}[TC][0-9]{1,10}\]"
# The prefix `dmesg` may put before a message; every part optional, none able to match what
# another part matches (they start with `<`, a letter, `[` or a digit), so it matches in one pass.
DMESG_PREFIX = (
    rf"(?:<[0-9]{{1,3}}>)?"
    rf"(?:{_FACILITY} {{0,6}}:{_LEVEL} {{0,6}}: )?"
    rf"(?:(?:\[ {{0,20}}{_STAMP}(?: <[ 0-9.]{{1,40}}>)?\]|{_WALL})(?: ?{_CALLER})? ?|{_CALLER} ?)?"
)
_DMESG = compiled_later(rf"^({DMESG_PREFIX})(.*)$")
_KMSG = re.compile(r"^[0-9]+,[0-9]+,([0-9]{1,20}),[^;]*;(.*)$")  # microseconds in group 1


def read_dmesg_line(raw: str) -> tuple[bool, KernelLine]:
    """One line of `dmesg` output: whether it had a prefix, and the message with its stamp."""
    match = _DMESG.match(raw)
    if match is None:  # unreachable (everything in the pattern is optional): keep the line
        return False, KernelLine(None, raw)
    stamp = match.group(2)
    return bool(match.group(1)), KernelLine(float(stamp) if stamp else None, match.group(3))


def parse_dmesg(text: str) -> Parsed[tuple[KernelLine, ...]]:
    """Every non-blank line is a message: a line without a prefix is one printed without a time
    stamp (no CONFIG_PRINTK_TIME, `--notime`, `journalctl -o cat`) or a continuation line."""
    lines: list[KernelLine] = []
    for raw in lines_of(text):
        match = _DMESG.match(raw)
        if match is not None and match.end(1) > 0:
            stamp = match.group(2)
            lines.append(KernelLine(float(stamp) if stamp else None, match.group(3)))
        elif raw.strip():
            lines.append(KernelLine(None, raw))
    return Parsed(tuple(lines))


def parse_kmsg(text: str) -> Parsed[tuple[KernelLine, ...]]:
    lines: list[KernelLine] = []
    odd: list[str] = []
    for raw in lines_of(text):
        if raw.startswith(" "):
            continue  # dictionary lines (SUBSYSTEM=, DEVICE=) of the record above
        match = _KMSG.match(raw)
        if match:
            lines.append(KernelLine(int(match.group(1)) / 1e6, match.group(2)))
        elif raw.strip():
            odd.append(raw)
    return Parsed(tuple(lines), tuple(odd))
