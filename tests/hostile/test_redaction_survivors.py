"""Identifiers that survived redaction before, each class with its spellings, and the words the
diagnosis needs that look like them (a device-tree node, a systemd unit, the clock source).

Checked on a snapshot redacted in memory and through the command line (`collect --dir`, which
redacts by default, and `collect -o`): no identifier is left in any file; the diagnosis of
every captured guest is the same redacted (tests/bundle/test_captured_guests.py) and with a
host name that is a common word (here).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from snddiag import records
from snddiag.bundle.redact import redact_evidence
from snddiag.engine.load import load_rules
from snddiag.evidence import Entry, Evidence, Kind, Status, manifest_of
from snddiag.pipeline import diagnose
from tests.bundle.seeded import AGENT_ARGUMENT, HOSTNAME, MACHINE_ID, make_tree
from tests.guests import REPO, guest_evidence
from tests.hostile.kit import run

FQDN = "build-box-3.int.example.com"
ETC_MACHINE_ID = "0123456789abcdef0123456789abcdef"
# (a line of a kernel log, the identifiers in it that must go)
SURVIVORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fqdn-trailing-dot": (f"resolved {FQDN}. via int.example.com.", (FQDN, "int.example.com")),
    "ipv4-zero-padded": (
        "peer 192.168.077.023 and 010.020.030.040 up",
        ("192.168.077.023", "010.020.030.040", "192.168.77.23"),
    ),
    "ipv4-glued-to-underscore": (
        "if ip_10.20.30.41 addr_192.168.77.24_port",
        ("10.20.30.41", "192.168.77.24"),
    ),
    "machine-id-on-the-command-line": (
        "Kernel command line: ro systemd.machine_id=fedcba9876543210fedcba9876543210",
        ("fedcba9876543210fedcba9876543210",),
    ),
    "machine-id-of-etc": (f"journal: machine {ETC_MACHINE_ID} booted", (ETC_MACHINE_ID,)),
    "e-mail": (
        "report to ops@example.com or first.last+tag@sub.example.co.uk",
        ("ops@example.com", "first.last+tag@sub.example.co.uk", "first.last"),
    ),
    "partition-and-filesystem-uuids": (
        "root=UUID=9b2c1e44-5f6a-4b7c-8d9e-0f1a2b3c4d5e PARTUUID=0a1b2c3d-01 UUID=12AB-34CD",
        ("9b2c1e44-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "0a1b2c3d-01", "12AB-34CD"),
    ),
    "home-like-paths": (
        "opened /Users/alicejones/x /srv/bobsmith/y /var/home/carolwu/z",
        ("alicejones", "bobsmith", "carolwu"),
    ),
    "user-at-host-or-address": (
        "ssh davepeters@10.1.2.3 and erinmay@host7.example.net",
        ("davepeters", "10.1.2.3", "erinmay", "host7.example.net"),
    ),
    "kernel-build-banner": (
        "Linux version 6.1.0-13-amd64 (frankbuild@buildhost17) (gcc-12 (Debian 12.2.0-14) 12.2.0)",
        ("frankbuild", "buildhost17"),
    ),
    "unknown-kernel-parameter-values": (
        "Kernel command line: console=ttyS0 vmm_agent=10.0.2.2:7000 agent_secret=c0ffee-s3cret",
        ("10.0.2.2:7000", "c0ffee-s3cret"),
    ),
}
# Words the diagnosis reads that look like identifiers: they stay.
KEPT = (
    "virtio_mmio@a003e00",
    "getty@tty1.service",
    "user@1000.service",
    "tsc=reliable",
    "clocksource=tsc",
    "virtio_mmio.device=4K@0xd0000000:5",
    "modprobe.blacklist=virtio_snd",
    "virtio_snd",
    "6.1.0-13-amd64",
)


def _evidence(line: str) -> Evidence:
    log = f"[    0.1] {line}\n[    0.2] {' '.join(KEPT)}\n[    0.3] virtio_snd virtio0: ready\n"
    cmdline = f"console=ttyS0 tsc=reliable clocksource=tsc {line.split(': ', 1)[-1]}\n"
    entries = {
        e.key: e
        for e in (
            Entry("cmd/dmesg", Kind.COMMAND, Status.OK, data=log.encode(), exit_code=0),
            Entry("proc/cmdline", Kind.FILE, Status.OK, data=cmdline.encode()),
            Entry("proc/sys/kernel/hostname", Kind.FILE, Status.OK, data=f"{FQDN}.\n".encode()),
            Entry("etc/machine-id", Kind.FILE, Status.OK, data=f"{ETC_MACHINE_ID}\n".encode()),
            Entry("proc/sys/kernel/osrelease", Kind.FILE, Status.OK, data=b"6.1.0-13-amd64\n"),
        )
    }
    return Evidence(entries, {"user": "root"})


def _everything(evidence: Evidence) -> str:
    return "\n".join(
        [e.data.decode("utf-8", "replace") for e in evidence] + [str(manifest_of(evidence))]
    )


@pytest.mark.parametrize("case", sorted(SURVIVORS))
def test_identifier_class_is_redacted_and_diagnosis_words_stay(case: str) -> None:
    line, secrets = SURVIVORS[case]
    evidence = _evidence(line)
    redacted, _redactor = redact_evidence(evidence)
    text = _everything(redacted)
    for secret in secrets:
        assert secret.lower() not in text.lower(), (secret, text)
    dmesg = redacted.text("cmd/dmesg") or ""
    for word in KEPT:
        assert word in dmesg, (word, dmesg)
    assert "tsc=reliable clocksource=tsc" in (redacted.text("proc/cmdline") or "")


def test_a_host_name_that_is_a_common_word_keeps_the_diagnosis() -> None:
    rules = load_rules([REPO / "rules"])
    for guest, word in (
        ("healthy-pci", "sound"),
        ("legacy-mmio", "virtio"),
        ("modern-mmio", "pci"),
    ):
        evidence = guest_evidence(guest)
        entries = dict(evidence.entries)
        for key in ("proc/sys/kernel/hostname", "etc/hostname"):
            if key in entries:
                entries[key] = records.replace(entries[key], data=f"{word}\n".encode())
        named = Evidence(entries, {**evidence.meta, "hostname": word})
        before = diagnose(named, rules).document
        after = diagnose(redact_evidence(named)[0], rules).document
        assert after["status"] == before["status"]
        assert [f["rule"] for f in after["findings"]] == [f["rule"] for f in before["findings"]]


def test_collect_redacts_the_snapshot_directory_by_default(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    secrets = (HOSTNAME, MACHINE_ID, AGENT_ARGUMENT)
    snapshot = tmp_path / "snap"
    ran = run("--root", str(tree), "collect", "--dir", str(snapshot), tmp=tmp_path)
    assert ran.code == 0 and "redacted: " in ran.err, ran
    written = b"".join(p.read_bytes() for p in snapshot.rglob("*") if p.is_file())
    assert not [s for s in secrets if s.encode() in written]
    bundle = tmp_path / "b.tar.gz"
    assert run("--root", str(tree), "collect", "-o", str(bundle), tmp=tmp_path).code == 0
    packed = gzip.decompress(bundle.read_bytes())
    assert not [s for s in secrets if s.encode() in packed]
    kept = tmp_path / "kept"
    ran = run("--root", str(tree), "collect", "--dir", str(kept), "--no-redact", tmp=tmp_path)
    assert ran.code == 0 and "not redacted" in ran.err, ran
    written = b"".join(p.read_bytes() for p in kept.rglob("*") if p.is_file())
    assert all(s.encode() in written for s in secrets)
