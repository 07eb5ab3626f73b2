"""Building bundles, well-formed or hostile, member by member."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path

from snddiag.bundle.write import build_bundle
from snddiag.evidence import Evidence

CREATED = 1_764_072_000.0


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def tar_bytes(members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def write_tar_gz(path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    path.write_bytes(gzip.compress(tar_bytes(members)))
    return path


def bundle_members(evidence: Evidence) -> list[tuple[str, bytes]]:
    document = {"status": "ok", "exit_code": 0, "findings": [], "not_checked": []}
    return list(build_bundle(evidence, document, redact=False, created=CREATED).members)


def as_tar(members: list[tuple[str, bytes]]) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    return [regular(name, data) for name, data in members]


def with_manifest(
    members: list[tuple[str, bytes]], change: dict[str, object]
) -> list[tuple[str, bytes]]:
    """The members with the manifest's top-level keys updated (or removed when None)."""
    out = []
    for name, data in members:
        if name.endswith("/manifest.json"):
            manifest = json.loads(data)
            for key, value in change.items():
                if value is None:
                    manifest.pop(key, None)
                else:
                    manifest[key] = value
            data = json.dumps(manifest).encode()
        out.append((name, data))
    return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
