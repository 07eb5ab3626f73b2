"""Hostile bundles through the real program: `snddiag analyze` on bombs, huge headers and
entries, and bundles that outgrow a worker's memory or time, alone and among good ones.

Each case is built here from scratch and checked for: the process ends by itself within a few
seconds, its peak RSS (with its workers') stays under a few hundred MB, no traceback or
"internal error", an exit code the README documents, and every other bundle's verdict.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import tarfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from snddiag.bundle import MIB, Limits
from snddiag.bundle.workers import Done, Failed, memory_text, run_bounded, time_text
from snddiag.bundle.write import write_bundle
from snddiag.collect import sources
from snddiag.engine.load import Rule, load_rules
from snddiag.evidence import (
    MAX_COMMAND_BYTES,
    MAX_FILE_BYTES,
    MAX_SYSFS_BYTES,
    Entry,
    Evidence,
    Kind,
    Status,
    load_directory,
    save_directory,
)
from snddiag.pipeline import diagnose
from tests.bundle.seeded import PCI_DEV, seeded_evidence
from tests.bundle.tars import CREATED, bundle_members, regular, write_tar_gz
from tests.guests import REPO
from tests.hostile.kit import run

FEATURES_KEY = f"sys/{PCI_DEV}/virtio0/features"


def gzip_bomb(inflated_mib: int) -> bytes:
    """A valid gzip member of about 1 KB per inflated MiB of zeros, made without deflating it
    all: after a full flush, the compressed form of a MiB of zeros repeats."""
    zeros = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
    body = first + again * (inflated_mib - 1) + deflate.flush()
    trailer = struct.pack("<II", crc, (inflated_mib * MIB) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + trailer


def pax_records(keys: int) -> bytes:
    records = []
    for number in range(keys):
        body = f" k{number}=v\n"
        length = len(body) + len(str(len(body)))
        length += len(str(length)) - len(str(len(body)))
        records.append(f"{length}{body}".encode())
    return b"".join(records)


def _bundle(evidence: Evidence, rules: list[Rule], path: Path) -> Path:
    document = diagnose(evidence, rules).document
    assert write_bundle(evidence, document, str(path), redact=False, created=CREATED) == 0
    return path


def _with(evidence: Evidence, *entries: Entry) -> Evidence:
    changed = Evidence(dict(evidence.entries), dict(evidence.meta))
    for entry in entries:
        changed.add(entry)
    return changed


def _file(key: str, data: bytes) -> Entry:
    return Entry(key, Kind.FILE, Status.OK, data=data)


def _pax_bundle(evidence: Evidence, path: Path, kind: bytes) -> Path:
    members = bundle_members(evidence)
    header = tarfile.TarInfo(f"{members[0][0].split('/')[0]}/pax")
    header.type = kind
    payload = pax_records(1_000_000)
    header.size = len(payload)
    return write_tar_gz(path, [(header, payload), *(regular(n, d) for n, d in members)])


def _manifest_bundle(evidence: Evidence, path: Path, manifest: bytes) -> Path:
    members = [
        (n, manifest if n.endswith("/manifest.json") else d) for n, d in bundle_members(evidence)
    ]
    return write_tar_gz(path, [regular(n, d) for n, d in members])


# Each builder: (evidence, rules, path) -> the hostile bundle at path.
Builder = Callable[[Evidence, "list[Rule]", Path], Path]
HOSTILE: dict[str, tuple[Builder, str]] = {
    # The expected outcome: a verdict ("verdict") or the reason it is unreadable.
    "config.gz inflating to 1 GiB": (
        lambda e, r, p: _bundle(_with(e, _file("proc/config.gz", gzip_bomb(1024))), r, p),
        "verdict",
    ),
    "32 MiB features string": (
        lambda e, r, p: _bundle(_with(e, _file(FEATURES_KEY, b"1" * (32 * MIB))), r, p),
        "verdict",
    ),
    "pax global header with 1M keys": (
        lambda e, _r, p: _pax_bundle(e, p, tarfile.XGLTYPE),
        "more than 64 KiB",
    ),
    "pax extended header with 1M keys": (
        lambda e, _r, p: _pax_bundle(e, p, tarfile.XHDTYPE),
        "more than 64 KiB",
    ),
    "manifest of 6 MiB": (
        lambda e, _r, p: _manifest_bundle(e, p, b'{"entries": {}, "pad": "' + b"x" * 6 * MIB),
        "manifest.json is larger than 4 MiB",
    ),
    "manifest nested a million deep": (
        lambda e, _r, p: _manifest_bundle(e, p, b"[" * 1_000_000),
        "manifest.json is not JSON",
    ),
}


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules([REPO / "rules"])


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    return seeded_evidence(tmp_path / "root")


@pytest.fixture
def good(evidence: Evidence, rules: list[Rule], tmp_path: Path) -> Path:
    return _bundle(evidence, rules, tmp_path / "good.tar.gz")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bundle_alone(
    case: str, evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    build, expected = HOSTILE[case]
    bundle = build(evidence, rules, tmp_path / "hostile.tar.gz")
    ran = run("analyze", "--json", str(bundle), tmp=tmp_path)
    if expected == "verdict":
        document = json.loads(ran.out)
        assert ran.code == document["exit_code"]
        if "config.gz" in case:  # inflated no further than the cap: as if there were none
            assert document["driver"]["config"] is None
    else:  # refused: the one-line reason on stderr, and --json's error document on stdout
        failure = json.loads(ran.out)
        assert (failure["status"], failure["exit_code"]) == ("failed", ran.code)
        assert expected in failure["error"]
        assert expected in ran.err and ran.err.count("\n") == 1, ran.err


def test_hostile_bundles_among_good_ones(
    good: Path, evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    paths = []
    for number, (_case, (build, _expected)) in enumerate(sorted(HOSTILE.items())):
        paths.append(build(evidence, rules, tmp_path / f"hostile-{number}.tar.gz"))
        paths += [good] * 3
    big = _big_bundle(evidence, rules, tmp_path / "big.tar.gz")
    paths += [big, good]
    argv = ["analyze", "--json", "--jobs", "2", "--max-memory-mb", "100", *map(str, paths)]
    ran = run(*argv, tmp=tmp_path)
    summary = json.loads(ran.out)
    results = summary["bundles"]
    assert [r["path"] for r in results] == [str(p) for p in paths]
    assert all("status" in r for r in results)
    verdicts = {r["path"]: r for r in results if r["status"] != "unreadable"}
    assert verdicts[str(good)]["status"] == "ok"
    assert sum(r["path"] == str(good) and r["status"] == "ok" for r in results) == paths.count(good)
    unreadable = {r["path"]: r["error"] for r in results if r["status"] == "unreadable"}
    assert unreadable[str(big)] == "needed more than 100 MB (--max-memory-mb)"
    for number, (_case, (_build, expected)) in enumerate(sorted(HOSTILE.items())):
        hostile = str(tmp_path / f"hostile-{number}.tar.gz")
        if expected == "verdict":
            assert hostile in verdicts
        else:
            assert expected in unreadable[hostile]
    assert ran.code == summary["exit_code"]


def test_a_huge_member_costs_its_kept_head_only(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    """A member is hashed as it streams and only its head is kept: 32 MiB of one sysfs
    attribute fits in a worker with 40 MB to spare (it needed ~90 MB when read whole, which
    failed the batch above on a loaded machine)."""
    build, _expected = HOSTILE["32 MiB features string"]
    bundle = build(evidence, rules, tmp_path / "features.tar.gz")
    ran = run("analyze", "--json", "--max-memory-mb", "40", str(bundle), tmp=tmp_path)
    document = json.loads(ran.out)
    assert document["exit_code"] == ran.code
    assert "error" not in document


def _big_bundle(evidence: Evidence, rules: list[Rule], path: Path) -> Path:
    """A valid bundle that unpacks to 160 MB: 40 files of 4 MiB."""
    big = [_file(f"var/lib/big/{n}", bytes([65 + n]) * MAX_FILE_BYTES) for n in range(40)]
    return _bundle(_with(evidence, *big), rules, path)


def test_one_bundle_beyond_the_memory_limit(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    big = _big_bundle(evidence, rules, tmp_path / "big.tar.gz")
    ran = run("analyze", "--max-memory-mb", "100", str(big), tmp=tmp_path)
    assert ran.err == f"snddiag: {big}: needed more than 100 MB (--max-memory-mb)\n"


def test_every_bundle_beyond_the_time_limit_is_listed(good: Path, tmp_path: Path) -> None:
    ran = run("analyze", "--json", "--timeout-s", "0.001", *[str(good)] * 4, tmp=tmp_path)
    errors = [r["error"] for r in json.loads(ran.out)["bundles"]]
    assert errors == ["took longer than 0.001 s (--timeout-s)"] * 4


# Worker bodies for run_bounded (module level: a worker may be spawned, not forked).
def _quick(value: int) -> int:
    return value * 2


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _allocate(mib: int) -> int:
    return len(bytearray(mib * MIB))


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would


def _outcomes(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], limits: Limits) -> list[Any]:
    found = dict(run_bounded(calls, limits, workers=2))
    return [found[i] for i in range(len(calls))]


def test_a_worker_out_of_time_costs_only_its_call() -> None:
    limits = Limits(timeout_s=1.0)
    started = time.monotonic()
    outcomes = _outcomes([(_quick, (1,)), (_sleep, (60.0,)), (_quick, (2,))], limits)
    assert time.monotonic() - started < 10
    assert outcomes == [Done(2), Failed(time_text(limits)), Done(4)]
    assert time_text(limits) == "took longer than 1 s (--timeout-s)"


def test_a_worker_out_of_memory_costs_only_its_call() -> None:
    limits = Limits(max_memory_bytes=64 * MIB)
    outcomes = _outcomes([(_allocate, (1024,)), (_allocate, (8,)), (_quick, (3,))], limits)
    assert outcomes == [Failed(memory_text(limits)), Done(8 * MIB), Done(6)]
    assert memory_text(limits) == "needed more than 64 MB (--max-memory-mb)"


def test_a_killed_worker_costs_only_its_call() -> None:
    outcomes = _outcomes([(_quick, (1,)), (_killed, ()), (_quick, (5,))], Limits())
    assert outcomes[0] == Done(2) and outcomes[2] == Done(10)
    assert outcomes[1] == Failed("its worker process was killed by signal 9 (out of memory?)")


def test_offline_caps_are_collects() -> None:
    assert (MAX_FILE_BYTES, MAX_COMMAND_BYTES) == (
        sources.MAX_FILE_BYTES,
        sources.MAX_COMMAND_BYTES,
    )


def test_snapshot_directory_entries_are_cut_to_the_caps(tmp_path: Path) -> None:
    evidence = Evidence()
    evidence.add(_file("var/log/huge", b"a" * (MAX_FILE_BYTES + 10)))
    evidence.add(_file(FEATURES_KEY, b"1" * MIB))
    evidence.add(Entry("cmd/dmesg", Kind.COMMAND, Status.OK, data=b"b" * (9 * MIB)))
    evidence.add(_file("proc/modules", b"virtio_snd 45056 0 - Live 0x0\n"))
    save_directory(evidence, tmp_path / "snap")
    loaded = load_directory(tmp_path / "snap")  # the checksums are of the whole files
    sizes = {e.key: (len(e.data), e.truncated) for e in loaded}
    assert sizes == {
        "var/log/huge": (MAX_FILE_BYTES, True),
        FEATURES_KEY: (MAX_SYSFS_BYTES, True),
        "cmd/dmesg": (MAX_COMMAND_BYTES, True),
        "proc/modules": (30, False),
    }


def test_snapshot_directory_with_a_huge_manifest_is_refused(tmp_path: Path) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "manifest.json").write_bytes(b'{"entries": {}, "x": "' + b"y" * (5 * MIB))
    ran = run("analyze", "--root", str(snapshot), tmp=tmp_path)
    assert "manifest.json is larger than 4 MiB" in ran.err and ran.err.count("\n") == 1
