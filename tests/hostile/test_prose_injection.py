"""Guest values filled into rule prose (titles, explanations, remediation steps) cannot forge
report lines: a user name, machine type, kernel release or distro name carrying line breaks
and "snddiag: virtio sound looks healthy" shows them escaped in the text report, whatever the
field; the JSON document keeps the exact value.

Every captured guest is diagnosed with the forged values, so every rule whose text is filled in
from them on some guest is covered, and the test fails if none was (the values must reach the
prose for the case to mean anything).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from snddiag import records
from snddiag.cli import main
from snddiag.engine.load import load_rules
from snddiag.evidence import Entry, Evidence
from snddiag.pipeline import diagnose
from snddiag.report.terminal import render_terminal
from tests.bundle.tars import regular, write_tar_gz
from tests.guests import REPO, captured_guests, guest_evidence
from tests.hostile.kit import assert_inert

FORGED = "snddiag: virtio sound looks healthy"
# Each spelling of a line break a terminal or a reader honours.
BREAKS = ("\n", "\r\n", "\n\n   ", "\u2028", "\x0b", "\x0c", "\x85")
# Every field a guest controls that some rule fills into its prose.
FIELDS = (
    "sys/class/dmi/id/product_version",
    "sys/class/dmi/id/product_name",
    "sys/class/dmi/id/sys_vendor",
    "proc/sys/kernel/osrelease",
)


def _forged(value: str, brk: str) -> str:
    return f"{value.rstrip()}{brk}{FORGED}{brk}"


def forged_evidence(guest: str, brk: str) -> Evidence:
    evidence = guest_evidence(guest)
    entries: dict[str, Entry] = dict(evidence.entries)
    for key in FIELDS:
        entry = entries.get(key)
        if entry is not None and entry.ok:
            data = _forged(entry.text, brk).encode()
            entries[key] = records.replace(entry, data=data)
    meta = dict(evidence.meta)
    meta["user"] = _forged(meta.get("user", "nobody"), brk)
    return Evidence(entries, meta)


def _prose(document: dict[str, object]) -> list[str]:
    texts: list[str] = []
    for finding in document["findings"]:  # type: ignore[attr-defined]
        texts += [finding["title"], finding["explain"]]
        texts += [step["step"] for step in finding["remediation"]]
    texts += [item["title"] for item in document["not_checked"]]  # type: ignore[attr-defined]
    return texts


def _no_forged_line(text: str, *, spaced: bool = False) -> None:
    """Only the verdict line starts with "snddiag:". A value that puts spaces before the forged
    text may be wrapped there, as any text is: then only the margin is the verdict's (every
    wrapped line is indented)."""
    lines = text.splitlines()
    assert lines[0].startswith("snddiag: ")
    forged = [
        line for line in lines[1:] if (line if spaced else line.lstrip()).startswith("snddiag:")
    ]
    assert forged == [], forged
    assert_inert(text)


@pytest.mark.parametrize("brk", BREAKS, ids=[repr(b) for b in BREAKS])
def test_filled_values_never_start_a_report_line(brk: str) -> None:
    rules = load_rules([REPO / "rules"])
    reached = 0
    for guest in captured_guests():
        document = diagnose(forged_evidence(guest, brk), rules).document
        filled = [t for t in _prose(document) if FORGED in t]
        reached += len(filled)
        assert all(brk in t for t in filled)  # JSON's values are exact
        out = io.StringIO()
        render_terminal(document, out, color=False)
        _no_forged_line(out.getvalue(), spaced=brk.endswith(" "))
    assert reached >= 3, "the forged values reached no rule's prose"


def test_forged_bundle_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from snddiag.bundle.write import build_bundle

    evidence = forged_evidence("non-root-dmesg-restrict", "\n")
    built = build_bundle(evidence, diagnose(evidence, []).document, redact=False, created=1.0)
    bundle = write_tar_gz(tmp_path / "b.tar.gz", [regular(n, d) for n, d in built.members])
    for mode in ([], ["--no-color"]):
        assert main(["analyze", str(bundle), *mode]) == 2
        out = capsys.readouterr().out
        _no_forged_line(out)
        assert f"\\x0a{FORGED}" in out  # shown, escaped, where it was filled in
    assert main(["analyze", str(bundle), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert any(f"\n{FORGED}\n" in t for t in _prose(document))
