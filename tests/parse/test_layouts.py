"""The kernel log in every layout real systems write, rendered here from a captured guest's dmesg.

legacy-mmio's `cmd/dmesg` (a real boot whose probe fails with -22) is re-rendered the way each
tool writes it (systemd's logs-show.c output modes, rsyslog's RSYSLOG_TraditionalFileFormat and
RSYSLOG_FileFormat, busybox syslogd, util-linux and busybox dmesg), then read from the place a
user would have it: the facts must be those read from dmesg itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.facts import Facts, build_facts
from snddiag.parse.kmsg import KernelLine, parse_dmesg
from snddiag.parse.syslog import parse_log_file
from tests.guests import guest_evidence, guest_text

GUEST = "legacy-mmio"
BOOT_EPOCH = 1_764_424_800  # 2025-11-29 14:00:00 UTC, the wall clock at time stamp 0
LOGS = ("cmd/dmesg", "dev/kmsg", "var/log/kern.log", "var/log/messages", "cmd/journalctl-k")
OTHER = "systemd[1]: Started session-1.scope - Session 1 of User root."


def _messages() -> tuple[KernelLine, ...]:
    lines = parse_dmesg(guest_text(GUEST, "cmd/dmesg")).value
    assert all(line.time_s is not None for line in lines)
    return lines


def _wall(line: KernelLine, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(BOOT_EPOCH + int(line.time_s or 0)))


def _micros(line: KernelLine) -> int:
    return round((line.time_s or 0) * 1e6)


def _fraction(line: KernelLine) -> str:
    return f"{_micros(line) % 1_000_000:06d}"


def _mono(line: KernelLine) -> str:
    return f"[{line.time_s:12.6f}]"


def _level(line: KernelLine) -> int:
    return 3 if "virtio_snd" in line.text else 6


# Header renderers: what each layout puts before the message of one kernel line.
SYSLOG_LAYOUTS: dict[str, Callable[[KernelLine], str]] = {
    "journalctl-short": lambda m: _wall(m, "%b %d %H:%M:%S") + " vm kernel: ",
    "journalctl-short-precise": lambda m: (
        _wall(m, "%b %d %H:%M:%S.") + _fraction(m) + " vm kernel: "
    ),
    "journalctl-short-iso": lambda m: _wall(m, "%Y-%m-%dT%H:%M:%S+00:00") + " vm kernel: ",
    "journalctl-short-iso-old": lambda m: _wall(m, "%Y-%m-%dT%H:%M:%S+0000") + " vm kernel: ",
    "journalctl-short-iso-precise": lambda m: (
        _wall(m, "%Y-%m-%dT%H:%M:%S.") + _fraction(m) + "+00:00 vm kernel: "
    ),
    "journalctl-short-full": lambda m: _wall(m, "%a %Y-%m-%d %H:%M:%S UTC") + " vm kernel: ",
    "journalctl-short-monotonic": lambda m: _mono(m) + " vm kernel: ",
    "journalctl-short-delta": lambda m: f"[{m.time_s:12.6f} <    0.000100>] vm kernel: ",
    "journalctl-short-unix": lambda m: (
        f"{BOOT_EPOCH + int(m.time_s or 0)}.{_fraction(m)} vm kernel: "
    ),
    # RSYSLOG_TraditionalFileFormat (RFC 3164 stamp, space-padded day), imklog keeping the stamp
    "rsyslog-traditional": lambda m: _wall(m, "%b %e %H:%M:%S") + " vm kernel: " + _mono(m) + " ",
    # RSYSLOG_FileFormat: RFC 3339 with microseconds and the offset
    "rsyslog-rfc3339": lambda m: (
        _wall(m, "%Y-%m-%dT%H:%M:%S.") + _fraction(m) + "+00:00 vm kernel: "
    ),
    # busybox syslogd: ctime()'s "%b %e %T", the host, facility.level, klogd's "kernel: "
    "busybox-syslogd": lambda m: (
        _wall(m, "%b %e %H:%M:%S")
        + (" vm kern.err kernel: " if _level(m) == 3 else " vm kern.info kernel: ")
        + _mono(m)
        + " "
    ),
    "busybox-syslogd-small": lambda m: _wall(m, "%b %e %H:%M:%S") + " kernel: ",
}
DMESG_LAYOUTS: dict[str, Callable[[KernelLine], str]] = {
    "dmesg": lambda m: _mono(m) + " ",
    "dmesg-T": lambda m: _wall(m, "[%a %b %e %H:%M:%S %Y] "),
    "dmesg-x": lambda m: (
        ("kern  :err   : " if _level(m) == 3 else "kern  :info  : ") + _mono(m) + " "
    ),
    "dmesg-r": lambda m: f"<{_level(m)}>" + _mono(m) + " ",
    "dmesg-caller-busybox": lambda m: _mono(m) + "[    T1] ",
    "dmesg-caller-util-linux": lambda m: _mono(m) + " [    C0] ",
    "dmesg-iso": lambda m: _wall(m, "%Y-%m-%dT%H:%M:%S,") + _fraction(m) + "+00:00 ",
    "dmesg-notime": lambda m: "",
}


def _journal_json(line: KernelLine, as_bytes: bool) -> str:
    entry = {
        "__REALTIME_TIMESTAMP": str(BOOT_EPOCH * 10**6 + _micros(line)),
        "_TRANSPORT": "kernel",
        "SYSLOG_IDENTIFIER": "kernel",
        "PRIORITY": str(_level(line)),
        "_SOURCE_MONOTONIC_TIMESTAMP": str(_micros(line)),
        "MESSAGE": list(line.text.encode()) if as_bytes else line.text,
    }
    return json.dumps(entry)


def _render(layout: str, lines: tuple[KernelLine, ...]) -> str:
    if layout.startswith("journalctl-json"):
        rows = [_journal_json(m, as_bytes="virtio_snd" in m.text) for m in lines]
        other = json.dumps({"MESSAGE": OTHER, "_TRANSPORT": "journal", "SYSLOG_IDENTIFIER": "x"})
        rows.insert(5, other)
        prefix = {"journalctl-json": "", "journalctl-json-seq": "\x1e", "journalctl-json-sse": ""}
        if layout == "journalctl-json-sse":
            return "".join(f"data: {row}\n\n" for row in rows)
        return "".join(f"{prefix[layout]}{row}\n" for row in rows)
    if layout == "journalctl-cat":
        return "".join(f"{m.text}\n" for m in lines)
    render = {**SYSLOG_LAYOUTS, **DMESG_LAYOUTS}[layout]
    rows = [render(m) + m.text for m in lines]
    if layout in SYSLOG_LAYOUTS:
        # A syslog file holds other programs' lines, an earlier boot, and journalctl its marks.
        header = render(lines[0]).split(" kernel: ")[0].replace(" kern.info", "")
        rows.insert(3, f"{header} {OTHER}")
        earlier = [render(m) + m.text for m in lines[:4]] + [render(lines[4]) + "earlier boot"]
        rows = [*earlier, "-- Boot 0f3a9c2d8e7b4a15b6c1d2e3f4a5b6c7 --", *rows]
    return "".join(f"{row}\n" for row in rows)


ALL_LAYOUTS = [
    *SYSLOG_LAYOUTS,
    *DMESG_LAYOUTS,
    "journalctl-cat",
    "journalctl-json",
    "journalctl-json-seq",
    "journalctl-json-sse",
]


def _facts_with(key: str, text: str) -> Facts:
    evidence: Evidence = guest_evidence(GUEST).without(LOGS)
    kind = Kind.COMMAND if key.startswith("cmd/") else Kind.FILE
    evidence.add(Entry(key, kind, Status.OK, data=text.encode()))
    return build_facts(evidence)


def _same_as_dmesg(facts: Facts) -> None:
    reference = build_facts(guest_evidence(GUEST))
    assert facts.probe == reference.probe
    assert facts.probe.cause is not None and facts.probe.cause.value == "legacy-transport"
    assert facts.kernel.log == reference.kernel.log
    assert facts.kernel.log_unrecognised is None


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("var/log/kern.log", "/var/log/kern.log"),
        ("var/log/messages", "/var/log/messages"),
        ("cmd/journalctl-k", "journalctl -k"),
    ],
)
def test_a_log_file_in_any_layout_gives_the_facts_of_dmesg(
    layout: str, key: str, label: str
) -> None:
    facts = _facts_with(key, _render(layout, _messages()))
    _same_as_dmesg(facts)
    assert facts.kernel.log_source == label


@pytest.mark.parametrize("layout", list(DMESG_LAYOUTS))
def test_dmesg_with_any_option_gives_the_same_facts(layout: str) -> None:
    facts = _facts_with("cmd/dmesg", _render(layout, _messages()))
    _same_as_dmesg(facts)
    assert facts.kernel.log_source == "dmesg"


@pytest.mark.parametrize("layout", [*SYSLOG_LAYOUTS, "journalctl-json", "journalctl-short"])
def test_other_programs_lines_are_skipped_not_unparsed(layout: str) -> None:
    parsed = parse_log_file(_render(layout, _messages()))
    assert parsed.unparsed == ()
    assert OTHER not in {line.text for line in parsed.value}
    assert parsed.value[0].text.startswith("Linux version ")  # the earlier boot is gone


def test_monotonic_stamps_are_kept_where_the_layout_has_them() -> None:
    lines = _messages()
    for layout in ("journalctl-short-monotonic", "rsyslog-traditional", "journalctl-json"):
        parsed = parse_log_file(_render(layout, lines)).value
        assert [line.time_s for line in parsed] == pytest.approx([m.time_s for m in lines])


# A custom rsyslog template: a date with slashes.
UNKNOWN = "2026/11/29 14:00:00 vm kernel: \x1b[31mvirtio_snd probe" + "x" * 300


def test_a_log_in_an_unknown_layout_says_so_with_its_first_line() -> None:
    facts = _facts_with("var/log/kern.log", f"{UNKNOWN}\nanother line\n")
    assert facts.kernel.log == ""
    assert facts.kernel.log_source == "/var/log/kern.log"
    shown = facts.kernel.log_unrecognised
    assert shown is not None and shown.startswith("2026/11/29 14:00:00 vm kernel: ")
    assert "\x1b" not in shown and "\\x1b[31m" in shown
    assert len(shown) == 160 + len("\\x1b") - 1 + len("...")
    # The probe is unknown, not healthy: its messages were not read.
    assert facts.probe.failed is None and facts.probe.cause is None


def test_a_known_log_later_in_the_plan_wins_over_an_unknown_one() -> None:
    evidence = guest_evidence(GUEST).without(LOGS)
    evidence.add(Entry("var/log/kern.log", Kind.FILE, Status.OK, data=UNKNOWN.encode()))
    text = _render("journalctl-short", _messages())
    evidence.add(Entry("var/log/messages", Kind.FILE, Status.OK, data=text.encode()))
    facts = build_facts(evidence)
    assert facts.kernel.log_source == "/var/log/messages"
    assert facts.kernel.log_unrecognised is None
    _same_as_dmesg(facts)


def test_a_log_of_other_programs_only_is_no_kernel_log() -> None:
    facts = _facts_with("var/log/messages", f"Nov 29 14:00:00 vm {OTHER}\n")
    assert (facts.kernel.log, facts.kernel.log_unrecognised) == (None, None)
