"""The kernel log, from any of the places snddiag can read it, as plain message lines.

Layouts seen: util-linux and busybox `dmesg` (`[    1.234567] msg`, or no timestamp without
CONFIG_PRINTK_TIME), `/dev/kmsg` records (`6,339,5140900,-;msg` plus ` KEY=value` lines),
syslog files (`Nov 25 12:00:00 host kernel: [    1.2] msg`) and `journalctl -k -o
short-monotonic` (`[    1.234567] host kernel: msg`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from snddiag.parse import Parsed


@dataclass(frozen=True)
class KernelLine:
    time_s: float | None
    text: str


_DMESG = re.compile(r"^(?:<\d+>)?\[\s*(\d+\.\d+)\]\s?(.*)$")
_KMSG = re.compile(r"^\d+,\d+,(\d+),[^;]*;(.*)$")
_SYSLOG = re.compile(r"^\w{3}\s+\d+\s+[\d:]+\s+\S+\s+kernel:\s(?:\[\s*(\d+\.\d+)\]\s)?(.*)$")
_JOURNAL = re.compile(r"^\[\s*(\d+\.\d+)\]\s\S+\skernel:\s(.*)$")


def parse_dmesg(text: str) -> Parsed[tuple[KernelLine, ...]]:
    lines: list[KernelLine] = []
    for raw in text.splitlines():
        match = _DMESG.match(raw)
        if match:
            lines.append(KernelLine(float(match.group(1)), match.group(2)))
        elif raw.strip():
            lines.append(KernelLine(None, raw.rstrip()))
    return Parsed(tuple(lines))


def parse_kmsg(text: str) -> Parsed[tuple[KernelLine, ...]]:
    lines: list[KernelLine] = []
    odd: list[str] = []
    for raw in text.splitlines():
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
    for raw in text.splitlines():
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
    for raw in text.splitlines():
        match = _JOURNAL.match(raw)
        if match:
            lines.append(KernelLine(float(match.group(1)), match.group(2)))
    return Parsed(tuple(lines))
