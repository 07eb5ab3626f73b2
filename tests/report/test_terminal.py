"""The terminal report: verdict first, colour only when asked, no padding, no markup from data."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from snddiag import records
from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.evidence import Evidence
from snddiag.pipeline import diagnose
from snddiag.report.terminal import render_terminal
from tests.guests import captured_guests, guest_evidence
from tests.hostile.kit import PAYLOAD, SHOWN, assert_inert

RULES = load_rules(default_rule_dirs())


def _render(guest: str, color: bool | None) -> str:
    stream = io.StringIO()
    render_terminal(diagnose(guest_evidence(guest), RULES).document, stream, color=color)
    return stream.getvalue()


@pytest.mark.parametrize("guest", ["healthy-pci", "legacy-mmio", "non-root-dmesg-restrict"])
def test_plain_report_has_no_escapes_and_no_trailing_spaces(guest: str) -> None:
    text = _render(guest, color=False)
    assert text.startswith("snddiag: ")
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_colour_when_forced() -> None:
    assert "\x1b[" in _render("legacy-mmio", color=True)


def test_no_color_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in _render("legacy-mmio", color=None)


def test_what_asks_for_action_comes_before_what_informs() -> None:
    text = _render("non-root-dmesg-restrict", color=False)
    assert text.index("WARNING") < text.index("INFO")


def test_the_microvm_report_opens_with_its_vmm() -> None:
    """This very kind of machine: a Firecracker microVM whose kernel has neither modules nor
    sound. Rebuilding the kernel is pointless while the VMM has no sound device."""
    text = _render("firecracker-no-modules", color=False)
    findings = [line for line in text.splitlines() if re.match(r" *[0-9]+\. (ERROR|WARNING)", line)]
    assert findings[0].startswith("1. ERROR This VM runs on firecracker, which offers no virtio")
    assert "Root cause: fix this first." in text
    for later in findings[1:]:
        # Indented under the root cause, each saying what it waits for.
        assert later.startswith("   "), later
    assert text.count("Comes after 1 [vmm-without-virtio-sound]: fix that first") == 2


# --- Laid out at 80 columns, as a terminal of that width shows it ---------------------------

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_URL = re.compile(r"https?://\S+")


def _at(width: int, guest: str, color: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", str(width))  # rich's width for a stream that is no terminal
    return _render(guest, color=color)


def _document(guest: str) -> dict[str, Any]:
    return diagnose(guest_evidence(guest), RULES).document


def _dim_mask(line: str) -> list[tuple[str, bool]]:
    """Each printed character of a coloured line, with whether it is drawn dim (SGR 2)."""
    out: list[tuple[str, bool]] = []
    dim = False
    position = 0
    for match in _SGR.finditer(line + "\x1b[m"):
        out += [(c, dim) for c in line[position : match.start()]]
        codes = match.group(1).split(";")
        dim = "2" in codes if codes != ["0"] and codes != [""] else False
        position = match.end()
    return out


@pytest.mark.parametrize("guest", captured_guests())
def test_no_url_is_split_across_lines_at_80_columns(
    guest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _document(guest)
    urls = {u for f in document["findings"] for u in f["references"]}
    for finding in document["findings"]:
        prose = [finding["explain"], *(s["step"] for s in finding["remediation"])]
        urls |= {u for text in prose for u in _URL.findall(text)}
    lines = _at(80, guest, False, monkeypatch).splitlines()
    for url in urls:
        assert any(url in line for line in lines), f"{url} is split"


def test_a_reference_longer_than_the_line_stays_on_its_see_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _at(60, "firecracker-no-modules", False, monkeypatch)
    long_url = next(
        u for f in _document("firecracker-no-modules")["findings"] for u in f["references"]
        if len(u) > 60
    )  # fmt: skip
    assert f"   See: {long_url}\n" in text


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("guest", ["firecracker-no-modules", "legacy-mmio", "no-module-tree"])
def test_title_continues_under_its_text_and_rule_id_stays_whole(
    guest: str, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _at(width, guest, False, monkeypatch).splitlines()
    wrapped = 0
    for number, finding in enumerate(_document(guest)["findings"], start=1):
        lead = f"{number}. {finding['severity'].upper()} "
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(lead))
        # A finding that waits for another is indented under it.
        hang = len(lines[start]) - len(lines[start].lstrip()) + len(lead)
        end = next(i for i in range(start, len(lines)) if f"[{finding['rule']}]" in lines[i])
        assert end - start <= 3
        for line in lines[start + 1 : end + 1]:
            assert line.startswith(" " * hang) and line[hang] != " ", line
        assert all(len(line) <= width for line in lines[start : end + 1])
        title = " ".join(line.strip() for line in lines[start : end + 1])
        assert title == f"{lead}{finding['title']} [{finding['rule']}]"
        wrapped += end - start
    assert wrapped > 0  # a title did wrap: the case under test happened


@pytest.mark.parametrize("guest", ["firecracker-no-modules", "legacy-mmio", "old-machine-type"])
def test_step_text_is_not_dim_and_no_line_is_padded(
    guest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _at(80, guest, True, monkeypatch)
    checked = 0
    in_steps = False
    steps_at = ""
    for line in text.splitlines():
        plain = _SGR.sub("", line)
        assert plain == plain.rstrip(), f"padded: {line!r}"
        if plain.strip() == "What to do:":
            in_steps = True
            steps_at = " " * (len(plain) - len(plain.lstrip()) + 2)
            continue
        if in_steps and not plain.startswith(steps_at):
            in_steps = False
        if not in_steps:
            continue
        mask = _dim_mask(line)
        label = re.match(r" +(\d+\. \[[^\]]*\] )?", plain)
        assert label is not None
        step_chars = [dim for c, dim in mask[label.end() :] if not c.isspace()]
        assert step_chars and not any(step_chars), f"dim step text: {line!r}"
        checked += 1
    assert checked > 3


@pytest.mark.parametrize("guest", ["non-root-dmesg-restrict", "empty-module-tree"])
def test_unreadable_sources_are_shown_with_their_reason(
    guest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _at(80, guest, False, monkeypatch)
    section = " ".join(text.split("Unreadable here:")[1].split())
    sources = _document(guest)["unreadable_sources"]
    assert sources
    for item in sources:
        entry = guest_evidence(guest).get(item["source"])
        assert entry is not None
        said = entry.stderr.strip().splitlines()[-1]
        assert item["error"] == said
        reason = {"denied": "permission denied", "failed": "failed"}[item["status"]]
        shown = f"- {item['source']}: {reason}"
        if said.lower() != reason:
            shown += f" ({said})"
        assert shown in section


def test_dmesg_denied_reads_as_the_system_said_it() -> None:
    text = _render("non-root-dmesg-restrict", color=False)
    assert (
        "cmd/dmesg: permission denied (dmesg: read kernel buffer failed: Operation not permitted)"
        in " ".join(text.split())
    )


def test_unreadable_reason_from_a_hostile_bundle_is_escaped() -> None:
    evidence = guest_evidence("non-root-dmesg-restrict")
    entries = dict(evidence.entries)
    entries["cmd/dmesg"] = records.replace(
        entries["cmd/dmesg"], stderr=f"dmesg: {PAYLOAD.replace(chr(13), '')} denied\n"
    )
    document = diagnose(Evidence(entries, dict(evidence.meta)), RULES).document
    for color in (False, True):
        stream = io.StringIO()
        render_terminal(document, stream, color=color)
        text = _SGR.sub("", stream.getvalue())
        assert_inert(text)
        assert SHOWN in text.split("Unreadable here:")[1]
