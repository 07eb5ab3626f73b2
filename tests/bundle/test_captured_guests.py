"""Bundles made from the lab's captured guests keep their verdict and lose their identifiers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from snddiag.bundle.read import read_bundle
from snddiag.bundle.write import write_bundle
from snddiag.engine.load import Rule
from snddiag.pipeline import diagnose
from tests.guests import GUESTS, captured_guests, guest_evidence

# No captured guest is a set-up failure (tests/conftest.py), not an empty parameter set.
GUEST_NAMES = (captured_guests() if GUESTS.is_dir() else []) or ["healthy-pci"]


@pytest.mark.parametrize("guest", GUEST_NAMES)
def test_captured_guest_bundle_keeps_the_verdict(
    guest: str, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evidence = guest_evidence(guest)
    document = diagnose(evidence, rules).document
    path = tmp_path / f"{guest}.tar.gz"
    assert write_bundle(evidence, document, str(path), rules=rules) == 0
    assert "another verdict" not in capsys.readouterr().err
    bundle = read_bundle(path)
    again = diagnose(bundle.evidence, rules).document
    assert (again["status"], again["exit_code"]) == (document["status"], document["exit_code"])
    assert [f["rule"] for f in again["findings"]] == [f["rule"] for f in document["findings"]]
    assert [n["rule"] for n in again["not_checked"]] == [n["rule"] for n in document["not_checked"]]
    hostname = (evidence.text("proc/sys/kernel/hostname") or "").strip()
    # A guest captured from a redacted bundle (tests/guest/capture-this-machine) has a token,
    # not a name, and redacting it again gives the same token.
    if hostname not in ("", "(none)", "localhost") and not hostname.startswith("redacted-"):
        assert hostname.encode() not in gzip.decompress(path.read_bytes())
