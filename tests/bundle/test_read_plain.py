"""The plain reader (ustar headers read straight from the stream) and tarfile agree: on what
snddiag writes the plain reader alone reads it, and anything else is left to tarfile."""

from __future__ import annotations

import gzip
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from snddiag.bundle import BundleError, Limits
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


def _outcome(read: Callable[[], Bundle]) -> tuple[str, object]:
    try:
        bundle = read()
    except BundleError as err:
        return "refused", str(err)
    return "read", (bundle.evidence.entries, bundle.evidence.meta, bundle.diagnosis)


def _gzip_variants(good: bytes) -> dict[str, bytes]:
    body = good[10:-8]  # between the gzip header and its CRC-32 and size
    return {
        "as written": good,
        "two members": good + good,
        "zeros after": good + bytes(1024),
        "garbage after": good + b"not gzip",
        "truncated member": good[: len(good) // 2],
        "no trailer": good[:-8],
        "bad checksum": good[:-8] + bytes(4) + good[-4:],
        "damaged data": good[:10] + bytes(b ^ 0x55 for b in body[:64]) + body[64:] + good[-8:],
        "header fields": gzip.compress(gzip.decompress(good), mtime=0)[:3]
        + b"\x08"  # FNAME: a file name follows the header
        + bytes(6)
        + b"bundle.tar\x00"
        + gzip.compress(gzip.decompress(good), mtime=0)[10:],
    }


@pytest.mark.parametrize(
    "variant",
    ["as written", "two members", "zeros after", "garbage after", "truncated member",
     "no trailer", "bad checksum", "damaged data", "header fields"],
)  # fmt: skip
def test_gzip_read_by_zlib_gives_gzipfiles_verdict(
    variant: str, evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain reader inflates with zlib itself; any gzip stream it cannot read as GzipFile
    does goes to the tarfile reader, through GzipFile: the verdict is GzipFile's."""
    members = bundle_members(evidence)
    top = members[0][0].split("/")[0]
    written = write_tar_gz(
        tmp_path / "b.tar.gz", [special(top + "/", tarfile.DIRTYPE), *as_tar(members)]
    )
    path = tmp_path / "variant.tar.gz"
    path.write_bytes(_gzip_variants(written.read_bytes())[variant])
    ours = _outcome(lambda: read_bundle(path))
    assert ours == _outcome(lambda: _with_tarfile_only(path, monkeypatch))
    if variant in ("as written", "header fields"):
        assert ours[0] == "read"
        assert _outcome(lambda: _plain_only(path, monkeypatch)) == ours
