"""The session evidence (pw-dump, pactl info) leaves a bundle without user names, host names or
device serials: a captured session guest with a real host name and a serial put in."""

from __future__ import annotations

from snddiag.bundle.redact import redact_evidence
from snddiag.evidence import Evidence
from snddiag.records import replace
from tests.guests import guest_evidence

HOST = "alice-laptop.corp.example"
SERIAL = "SN-7731-AB90"


def _seeded() -> Evidence:
    evidence = guest_evidence("session-healthy").without(())  # a copy: the cache is shared
    dump = evidence.entries["session/999/pw-dump"]
    pactl = evidence.entries["session/999/pactl-info"]
    text = dump.data.replace(b'"(none)"', f'"{HOST}"'.encode()).replace(
        b'"device.vendor.id": "0x1af4"',
        f'"device.serial": "{SERIAL}", "device.vendor.id": "0x1af4"'.encode(),
    )
    evidence.add(replace(dump, data=text))
    named = pactl.data.replace(b"Host Name: (none)", b"Host Name: " + HOST.encode())
    evidence.add(replace(pactl, data=named))
    return evidence


def test_the_seeded_session_evidence_holds_what_is_redacted() -> None:
    evidence = _seeded()
    dump = evidence.entries["session/999/pw-dump"].data
    assert HOST.encode() in dump and SERIAL.encode() in dump and b"snddiag-lab" in dump


def test_session_users_hosts_and_serials_are_redacted() -> None:
    redacted, _redactor = redact_evidence(_seeded())
    for key in ("session/999/pw-dump", "session/999/pactl-info", "lib/session/sessions"):
        data = redacted.entries[key].data
        for secret in (b"snddiag-lab", HOST.encode(), b"alice-laptop", SERIAL.encode()):
            assert secret not in data, (key, secret)
    assert b"redacted-host-" in redacted.entries["session/999/pw-dump"].data
    assert b"redacted-serial-" in redacted.entries["session/999/pw-dump"].data
