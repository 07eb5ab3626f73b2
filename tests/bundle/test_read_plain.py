"""The plain reader (ustar headers read straight from the stream) and tarfile agree: on what
snddiag writes the plain reader alone reads it, and anything else is left to tarfile."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from snddiag.bundle import Limits
from snddiag.bundle import read as bundle_read
from snddiag.bundle.read import Bundle, read_bundle
from snddiag.evidence import Evidence
from tests.bundle.tars import as_tar, bundle_members, special, write_tar_gz


def _with_tarfile_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> Bundle:
    def unusual(stream: object, limits: Limits) -> bundle_read._Admitted:
        raise bundle_read._Unusual

    with monkeypatch.context() as patch:
        patch.setattr(bundle_read, "_read_plain", unusual)
        return read_bundle(path)


def _plain_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> Bundle:
    def refused(stream: object, limits: Limits) -> bundle_read._Admitted:
        raise AssertionError("tarfile was needed")

    with monkeypatch.context() as patch:
        patch.setattr(bundle_read, "_read_members", refused)
        return read_bundle(path)


def _same(a: Bundle, b: Bundle) -> None:
    assert a.evidence.entries == b.evidence.entries
    assert a.evidence.meta == b.evidence.meta
    assert (a.diagnosis, a.info) == (b.diagnosis, b.info)


def test_written_bundle_is_read_by_the_plain_reader_alike(
    evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = bundle_members(evidence)
    top = members[0][0].split("/")[0]
    path = write_tar_gz(
        tmp_path / "b.tar.gz", [special(top + "/", tarfile.DIRTYPE), *as_tar(members)]
    )
    plain = _plain_only(path, monkeypatch)
    assert len(plain.evidence.entries) > 20
    _same(plain, _with_tarfile_only(path, monkeypatch))


def test_pax_header_is_left_to_tarfile(
    evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = bundle_members(evidence)
    top = members[0][0].split("/")[0]
    long_dir = top + "/" + "d" * 120
    path = write_tar_gz(
        tmp_path / "b.tar.gz", [*as_tar(members), special(long_dir, tarfile.DIRTYPE)]
    )
    with pytest.raises(AssertionError, match="tarfile was needed"):
        _plain_only(path, monkeypatch)
    _same(read_bundle(path), _with_tarfile_only(path, monkeypatch))
