"""Damaged bundles fail with BundleError and never with anything else (a traceback is a bug)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from snddiag.bundle import BundleError
from snddiag.bundle.read import read_bundle
from snddiag.evidence import Evidence
from tests.bundle.tars import as_tar, bundle_members, tar_bytes


def _damaged(stream: bytes, rng: random.Random) -> bytes:
    data = bytearray(stream)
    how = rng.randrange(4)
    if how == 0:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:
        start = rng.randrange(len(data))
        del data[start : start + rng.randint(1, 2048)]
    elif how == 2:
        start = rng.randrange(0, len(data), 512)
        data[start : start + 512] = bytes(rng.randrange(256) for _ in range(512))
    else:
        data = data[: rng.randrange(len(data))]
    return bytes(data)


def test_damaged_tar_streams_give_bundle_errors_only(evidence: Evidence, tmp_path: Path) -> None:
    stream = tar_bytes(as_tar(bundle_members(evidence)))
    rng = random.Random(20261125)  # noqa: S311 - reproducible damage, not secrets
    path = tmp_path / "damaged.tar.gz"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(300):
        path.write_bytes(gzip.compress(_damaged(stream, rng), compresslevel=1))
        try:
            read_bundle(path)
        except BundleError as err:
            assert "\n" not in str(err)
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1
    assert outcomes["refused"] > 200
