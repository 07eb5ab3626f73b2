from __future__ import annotations

import ast
import gzip
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from snddiag.bundle.read import read_bundle
from snddiag.bundle.redact import CLASSES, RedactionClass, Redactor, redact_evidence
from snddiag.bundle.redact.redactor import HEX_BYTE_KEYS
from snddiag.bundle.write import redaction_note, write_bundle
from snddiag.engine.load import Rule
from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.parse.cmdline import parse_cmdline
from snddiag.parse.syslog import parse_log_file
from snddiag.pipeline import diagnose
from tests.bundle.seeded import (
    FQDN,
    HOSTNAME,
    MAC_FORMS,
    MACS,
    NOT_MACS,
    REPO,
    SECRETS,
    SEEDED_BY_CLASS,
    SIG_KEY,
    SIG_ROW,
    USER,
    seeded_evidence,
)


def _verdict(document: dict[str, object]) -> tuple[object, ...]:
    findings = document["findings"]
    not_checked = document["not_checked"]
    assert isinstance(findings, list) and isinstance(not_checked, list)
    return (
        document["status"],
        document["exit_code"],
        sorted(f["rule"] for f in findings),
        sorted(n["rule"] for n in not_checked),
    )


def _all_bytes(bundle: Path) -> list[tuple[str, bytes]]:
    """Every byte a reader of the bundle could see: the whole tar stream (names, pax headers,
    contents) and the inflated contents of compressed members."""
    stream = gzip.decompress(bundle.read_bytes())
    found = [("<tar stream>", stream)]
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        for member in tar:
            handle = tar.extractfile(member)
            data = handle.read() if handle else b""
            if data.startswith(b"\x1f\x8b"):
                found.append((member.name + " (inflated)", gzip.decompress(data)))
    return found


def test_bundle_of_seeded_guest_holds_no_original_identifier(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    document = diagnose(evidence, rules).document
    bundle = tmp_path / "guest.tar.gz"
    assert write_bundle(evidence, document, str(bundle), redact=True, rules=rules) == 0
    leaks = [
        (secret, where)
        for where, data in _all_bytes(bundle)
        for secret in SECRETS
        if secret.lower().encode() in data.lower()
    ]
    assert leaks == []


def test_seeded_values_are_present_without_redaction(
    evidence: Evidence, rules: list[Rule], tmp_path: Path
) -> None:
    document = diagnose(evidence, rules).document
    bundle = tmp_path / "guest.tar.gz"
    assert write_bundle(evidence, document, str(bundle), redact=False) == 0
    stream = gzip.decompress(bundle.read_bytes()).lower()
    assert all(s.lower().encode() in stream for s in (HOSTNAME, USER, *MACS))


def test_redaction_keeps_the_diagnosis(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = diagnose(evidence, rules).document
    bundle = tmp_path / "guest.tar.gz"
    write_bundle(evidence, document, str(bundle), redact=True, rules=rules)
    assert "another verdict" not in capsys.readouterr().err
    analyzed = diagnose(read_bundle(bundle).evidence, rules).document
    assert _verdict(analyzed) == _verdict(document)


def test_modinfo_signature_bytes_are_not_taken_for_mac_addresses(evidence: Evidence) -> None:
    redacted, _ = redact_evidence(evidence)
    modinfo = redacted.text("cmd/modinfo-virtio_snd")
    assert modinfo is not None
    assert SIG_KEY in modinfo
    assert f"\t\t{SIG_ROW}\n" in modinfo


def test_modinfo_still_loses_host_and_user_names() -> None:
    evidence = Evidence(meta={"user": USER})
    text = f"filename: /home/{USER}/linux/virtio_snd.ko\nsigner: build@{HOSTNAME}\n"
    evidence.add(Entry("proc/sys/kernel/hostname", Kind.FILE, Status.OK, data=b"wombat-lab-7\n"))
    evidence.add(Entry("cmd/modinfo-virtio_snd", Kind.COMMAND, Status.OK, data=text.encode()))
    redacted, _ = redact_evidence(evidence)
    out = redacted.text("cmd/modinfo-virtio_snd") or ""
    assert USER not in out and HOSTNAME not in out


def test_same_value_gets_the_same_token_everywhere(evidence: Evidence) -> None:
    redacted, redactor = redact_evidence(evidence)
    host = redactor.token_for("hostname", HOSTNAME)
    assert host == "redacted-host-1"
    assert (redacted.text("proc/sys/kernel/hostname") or "").strip() == host
    assert f"<{host}>" in (redacted.text("cmd/dmesg") or "")
    assert f":{host}:" in (redacted.text("proc/cmdline") or "")
    assert redacted.meta["user"] == redactor.token_for("user", USER)


def test_tokens_keep_cmdline_and_syslog_parseable() -> None:
    redactor = Redactor()
    evidence = Evidence()
    evidence.add(Entry("proc/sys/kernel/hostname", Kind.FILE, Status.OK, data=b"wombat-lab-7\n"))
    redactor.learn(evidence)
    syslog = "Nov 25 12:00:00 wombat-lab-7 kernel: [    3.1] virtio_snd virtio0: probe ok\n"
    lines = parse_log_file(redactor.redact_text(syslog)).value
    assert [line.text for line in lines] == ["virtio_snd virtio0: probe ok"]
    cmdline = "root=UUID=8a1c3e55-9f0b-4d2a-a6c1-0d3e4f5a6b7c module_blacklist=virtio_snd quiet"
    pairs = parse_cmdline(redactor.redact_text(cmdline)).value
    assert pairs[0] == ("root", "UUID=redacted-uuid-1")
    assert pairs[1:] == (("module_blacklist", "virtio_snd"), ("quiet", ""))


@pytest.mark.parametrize("name", ["qemu", "debian", "virtio"])
def test_host_named_like_a_system_word_keeps_the_diagnosis(
    name: str, tmp_path: Path, rules: list[Rule]
) -> None:
    evidence = seeded_evidence(tmp_path / "root")
    evidence.add(Entry("proc/sys/kernel/hostname", Kind.FILE, Status.OK, data=f"{name}\n".encode()))
    document = diagnose(evidence, rules).document
    redacted, redactor = redact_evidence(evidence)
    token = redactor.token_for("hostname", name)
    assert token is not None and re.fullmatch(r"redacted-host-\d+", token)
    assert (redacted.text("proc/sys/kernel/hostname") or "").strip() == token
    assert _verdict(diagnose(redacted, rules).document) == _verdict(document)
    assert (redacted.text("sys/class/dmi/id/sys_vendor") or "").strip() == "QEMU"
    assert "ID=debian" in (redacted.text("etc/os-release") or "")


def test_common_values_are_left_alone() -> None:
    redactor = Redactor()
    redactor.learn(Evidence())
    text = (
        "lo 127.0.0.1 ::1 00:00:00:00:00:00 ff:ff:ff:ff:ff:ff mask 255.255.255.0 "
        "mcast 224.0.0.251 time 12:34:56 pci 0000:00:04.0 [1af4:1059] "
        "uuid 00000000-0000-0000-0000-000000000000 version 6.12.95"
    )
    assert redactor.redact_text(text) == text
    assert redactor.summary()["ip"] == {"values": 0, "replacements": 0}


def test_kernel_release_shaped_like_an_ipv4_address_is_kept() -> None:
    evidence = Evidence()
    release = b"4.14.117.1-android\n"
    evidence.add(Entry("proc/sys/kernel/osrelease", Kind.FILE, Status.OK, data=release))
    evidence.add(Entry("proc/version", Kind.FILE, Status.OK, data=b"Linux version 4.14.117.1"))
    redacted, _ = redact_evidence(evidence)
    assert redacted.text("proc/sys/kernel/osrelease") == release.decode()
    assert redacted.text("proc/version") == "Linux version 4.14.117.1"


def test_compressed_kernel_config_is_redacted_inside(evidence: Evidence) -> None:
    redacted, _ = redact_evidence(evidence)
    entry = redacted.get("proc/config.gz")
    assert entry is not None
    config = gzip.decompress(entry.data).decode()
    assert "CONFIG_SND_VIRTIO=m" in config
    assert HOSTNAME not in config


def test_summary_counts_classes_and_never_holds_values(evidence: Evidence) -> None:
    _, redactor = redact_evidence(evidence)
    summary = redactor.summary()
    assert summary["mac"]["values"] == 2
    assert summary["serial"]["values"] == 3
    assert summary["uuid"]["values"] == 2
    assert summary["user"]["values"] == 1
    assert all(s.lower() not in json.dumps(summary).lower() for s in SECRETS)


def test_stderr_link_targets_listings_and_argv_are_redacted() -> None:
    evidence = Evidence(meta={"user": USER, "uid": "1000"})
    evidence.add(
        Entry(
            "cmd/lsmod",
            Kind.COMMAND,
            Status.FAILED,
            stderr=f"cannot open /home/{USER}/x",
            argv=("lsmod", f"/home/{USER}"),
        )
    )
    evidence.add(Entry("lib/modules/6.1", Kind.LINK, Status.OK, target=f"/home/{USER}/modules"))
    evidence.add(Entry("etc/modprobe.d", Kind.DIRECTORY, Status.OK, names=(f"{USER}.conf",)))
    redacted, _ = redact_evidence(evidence)
    entries = list(redacted)
    assert all(USER not in repr(e) for e in entries)
    assert redacted.meta["uid"] == "1000"


def test_root_user_is_not_redacted() -> None:
    redacted, _ = redact_evidence(Evidence(meta={"user": "root", "uid": "0"}))
    assert redacted.meta["user"] == "root"


def test_usb_serial_numbers_in_udev_properties_are_redacted() -> None:
    device = {
        "sys_path": "/sys/devices/pci0000:00/usb1/1-1/sound/card1",
        "properties": {
            "ID_SERIAL": "Logitech_USB_Headset_A1B2C3D4E5",
            "ID_SERIAL_SHORT": "A1B2C3D4E5",
            "ID_MODEL": "USB_Headset",
        },
    }
    evidence = Evidence()
    data = json.dumps([device]).encode()
    evidence.add(Entry("lib/udev/sound", Kind.FILE, Status.OK, data=data))
    evidence.add(
        Entry("cmd/dmesg", Kind.COMMAND, Status.OK, data=b"usb 1-1: SerialNumber: A1B2C3D4E5")
    )
    redacted, _ = redact_evidence(evidence)
    assert all("A1B2C3D4E5" not in e.text for e in redacted)
    assert "USB_Headset" in (redacted.text("lib/udev/sound") or "")


def test_every_redaction_class_has_a_seeded_case(evidence: Evidence) -> None:
    assert set(SEEDED_BY_CLASS) == {c.name for c in CLASSES}
    _, redactor = redact_evidence(evidence)
    for cls in CLASSES:
        for value in SEEDED_BY_CLASS[cls.name]:
            assert value in SECRETS, f"{value} is not checked for leaks"
            token = redactor.token_for(cls.name, value)
            assert token is not None, f"seeded {cls.name} {value} was not replaced"
            assert re.fullmatch(rf"redacted-{cls.prefix}-\d+", token)


def test_redaction_classes_are_named_once() -> None:
    for field in ("name", "prefix", "words"):
        values = [getattr(c, field) for c in CLASSES]
        assert len(set(values)) == len(values), field
    groups = [s.group for c in CLASSES for s in c.shapes]
    assert len(set(groups)) == len(groups) and "lit" not in groups
    assert all(re.fullmatch(r"[a-z0-9]+", c.prefix) for c in CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_bundle_note_words_come_from_the_table(cls: RedactionClass) -> None:
    one = {"enabled": True, "classes": {cls.name: {"values": 1, "replacements": 3}}}
    two = {"enabled": True, "classes": {cls.name: {"values": 2, "replacements": 3}}}
    assert redaction_note(one) == f"redacted: 1 {cls.words[0]}"
    assert redaction_note(two) == f"redacted: 2 {cls.words[1]}"


def test_bundle_writer_knows_no_redaction_class() -> None:
    tree = ast.parse((REPO / "snddiag" / "bundle" / "write.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    known = {c.name for c in CLASSES} | {c.prefix for c in CLASSES}
    known |= {w for c in CLASSES for w in c.words}
    assert strings & known == set()


def test_hex_byte_sources_are_the_plans_declarations() -> None:
    # Read from the plan's declarations (modinfo is declared hex_bytes), whatever group holds it.
    assert sorted(HEX_BYTE_KEYS) == ["cmd/modinfo-virtio_snd"]


def test_mac_shaped_text_of_an_undeclared_source_is_redacted() -> None:
    evidence = Evidence()
    evidence.add(Entry("cmd/modinfo-other", Kind.COMMAND, Status.OK, data=f"{SIG_ROW}\n".encode()))
    evidence.add(Entry("cmd/modinfo-virtio_snd", Kind.COMMAND, Status.OK, data=SIG_ROW.encode()))
    redacted, _ = redact_evidence(evidence)
    assert redacted.text("cmd/modinfo-other") == "redacted-mac-1\n"
    assert redacted.text("cmd/modinfo-virtio_snd") == SIG_ROW


def test_generic_short_name_of_an_fqdn_is_kept() -> None:
    evidence = Evidence(meta={"hostname": "localhost"})
    fqdn = b"localhost.wombat.example\n"
    evidence.add(Entry("proc/sys/kernel/hostname", Kind.FILE, Status.OK, data=fqdn))
    evidence.add(Entry("etc/hostname", Kind.FILE, Status.OK, data=b"localhost\n"))
    redacted, _ = redact_evidence(evidence)
    assert redacted.text("proc/sys/kernel/hostname") == "redacted-host-1\n"
    assert redacted.text("etc/hostname") == "localhost\n"
    assert redacted.meta["hostname"] == "localhost"


def test_every_spelling_of_a_learnt_mac_gets_its_token(evidence: Evidence) -> None:
    redacted, redactor = redact_evidence(evidence)
    dmesg = redacted.text("cmd/dmesg") or ""
    first, second = (redactor.token_for("mac", m) for m in MACS)
    assert f"ll header: 00000000: ff ff ff ff ff ff {first} 08 06" in dmesg
    assert f"ll header: 00000000: {second} ff ff ff ff ff ff 08 06" in dmesg
    assert f"bond0: enslaved {first} and {second} ({first})" in dmesg
    assert redactor.summary()["mac"]["values"] == 2


def test_hex_that_is_no_learnt_mac_is_kept(evidence: Evidence) -> None:
    redacted, _ = redact_evidence(evidence)
    dmesg = redacted.text("cmd/dmesg") or ""
    assert f"key {NOT_MACS[0]} at {NOT_MACS[1]} ({NOT_MACS[2]})" in dmesg
    assert all(form.lower() not in dmesg.lower() for form in MAC_FORMS)


def test_mac_in_a_longer_colon_run_is_replaced() -> None:
    evidence = Evidence()
    address = b"52:54:00:12:34:56\n"
    evidence.add(Entry("sys/class/net/eth0/address", Kind.FILE, Status.OK, data=address))
    line = b"IN=eth0 MAC=ff:ff:ff:ff:ff:ff:52:54:00:12:34:56:08:00 SRC=10.0.2.2"
    evidence.add(Entry("cmd/dmesg", Kind.COMMAND, Status.OK, data=line))
    redacted, _ = redact_evidence(evidence)
    assert "MAC=ff:ff:ff:ff:ff:ff:redacted-mac-1:08:00" in (redacted.text("cmd/dmesg") or "")


def test_domain_is_learnt_from_etc_hostname(evidence: Evidence) -> None:
    assert (evidence.text("etc/hostname") or "").strip() == FQDN  # collected from the tree
    assert (evidence.text("proc/sys/kernel/hostname") or "").strip() == HOSTNAME
    redacted, redactor = redact_evidence(evidence)
    domain = redactor.token_for("hostname", "corp.example.net")
    assert domain is not None
    assert f"nfs: server files.{domain} not responding" in (redacted.text("cmd/dmesg") or "")
