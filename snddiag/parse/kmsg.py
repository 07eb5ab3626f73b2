"""The kernel log, from any of the places snddiag can read it, as plain message lines.

Layouts seen: util-linux and busybox `dmesg` (`[    1.234567] msg`, or no timestamp without
CONFIG_PRINTK_TIME), `/dev/kmsg` records (`6,339,5140900,-;msg` plus ` KEY=value` lines),
syslog files (`Nov 25 12:00:00 host kernel: [    1.2] msg`) and `journalctl -k -o
short-monotonic` (`[    1.234567] host kernel: msg`).

Time stamps are ASCII digits of bounded length (at most 20 before the point, a u64, and 9 after
it): a longer stamp, which no kernel prints, is not a stamp, so `float()` never overflows and no
digit run is converted to `int` past Python's limit. Each layout is one anchored regex whose
repeats cannot match the same characters, so a line costs time linear in its length; lines are
cut to `MAX_LINE_CHARS` (see `snddiag.parse`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from snddiag.parse import Parsed, lines_of


@dataclass(frozen=True)
class KernelLine:
    time_s: float | None
    text: str


_STAMP = r"([0-9]{1,20}\.[0-9]{1,9})"  # seconds.fraction
_DMESG = re.compile(rf"^(?:<[0-9]+>)?\[\s*{_STAMP}\]\s?(.*)$")
_KMSG = re.compile(r"^[0-9]+,[0-9]+,([0-9]{1,20}),[^;]*;(.*)$")  # microseconds in group 1
_SYSLOG = re.compile(rf"^\w{{3}}\s+[0-9]+\s+[0-9:]+\s+\S+\s+kernel:\s(?:\[\s*{_STAMP}\]\s)?(.*)$")
_JOURNAL = re.compile(rf"^\[\s*{_STAMP}\]\s\S+\skernel:\s(.*)$")


def parse_dmesg(text: str) -> Parsed[tuple[KernelLine, ...]]:
    lines: list[KernelLine] = []
    for raw in lines_of(text):
        match = _DMESG.match(raw)
        if match:
            lines.append(KernelLine(float(match.group(1)), match.group(2)))
        elif raw.strip():
            lines.append(KernelLine(None, raw.rstrip()))
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


def parse_syslog(text: str) -> Parsed[tuple[KernelLine, ...]]:
    """Syslog files keep every boot: only lines after the last boot banner are returned."""
    lines: list[KernelLine] = []
    for raw in lines_of(text):
        match = _SYSLOG.match(raw)
        if not match:
            continue
        if match.group(2).startswith("Linux version "):
            lines.clear()
        stamp = match.group(1)
        lines.append(KernelLine(float(stamp) if stamp else None, match.group(2)))
    return Parsed(tuple(lines))


def parse_journal(text: str) -> Parsed[tuple[KernelLine, ...]]:
    lines: list[KernelLine] = []
    for raw in lines_of(text):
        match = _JOURNAL.match(raw)
        if match:
            lines.append(KernelLine(float(match.group(1)), match.group(2)))
    return Parsed(tuple(lines))
