"""Hostile guests and bundles, built by the test from a captured guest: strings that try to drive
a terminal, in every place a guest or a bundle controls."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from snddiag import records
from snddiag.bundle.write import build_bundle
from snddiag.evidence import Evidence, save_directory
from snddiag.pipeline import diagnose
from tests.bundle.tars import regular, write_tar_gz
from tests.guests import REPO, guest_evidence

# Clear the screen, set the window title, an OSC 8 hyperlink, BEL, a C1 CSI (U+009B), bidi
# overrides and isolates, backspace and DEL, and a carriage return that redraws the line.
PAYLOAD = (
    "\x1b[2J\x1b[H"
    "\x1b]0;pwned\x07"
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    "\x9b31m"
    "\u202egnp.exe\u202c\u2066x\u2069"
    "\x08\x7f"
    "\rsnddiag: virtio sound looks healthy"
)
NAME = PAYLOAD.replace("/", "_")  # the payload as a file name
# What must never reach a terminal raw (TAB and LF are layout).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
SHOWN = "\\x1b]0;pwned\\x07"  # the title sequence as the report shows it


def assert_inert(text: str) -> None:
    found = RAW.search(text)
    assert found is None, (
        f"raw {found.group()!r} at {found.start()}: {text[: found.start()][-80:]!r}"
    )


def _with_payload(data: bytes, *, per_line: bool) -> bytes:
    payload = PAYLOAD.encode()
    if per_line:
        return b"".join(line + payload + b"\n" for line in data.splitlines())
    return data.rstrip(b"\n") + payload + b"\n"


def hostile_evidence(guest: str) -> Evidence:
    """A captured guest whose kernel log lines, DMI strings, distro name and user name all end
    in the payload."""
    evidence = guest_evidence(guest)
    entries = dict(evidence.entries)
    for key in ("cmd/dmesg", "dev/kmsg"):
        if key in entries:
            entry = entries[key]
            entries[key] = records.replace(entry, data=_with_payload(entry.data, per_line=True))
    for key in ("sys/class/dmi/id/product_version", "sys/class/dmi/id/sys_vendor"):
        if key in entries:
            entry = entries[key]
            entries[key] = records.replace(entry, data=_with_payload(entry.data, per_line=False))
    for key in ("etc/os-release", "usr/lib/os-release"):
        if key in entries:
            entry = entries[key]
            text = re.sub(
                r'^PRETTY_NAME="?([^"\n]*)"?$',
                lambda m: f"PRETTY_NAME='{m.group(1)}{PAYLOAD}'",
                entry.text,
                flags=re.MULTILINE,
            )
            entries[key] = records.replace(entry, data=text.encode())
    meta = dict(evidence.meta)
    if "user" in meta:
        meta["user"] += PAYLOAD
    return Evidence(entries, meta)


def hostile_snapshot(guest: str, directory: Path) -> Path:
    save_directory(hostile_evidence(guest), directory)
    return directory


def hostile_bundle(
    guest: str,
    path: Path,
    *,
    bundle_info: dict[str, object] | None = None,
    recorded_status: str | None = None,
) -> Path:
    """A bundle of the hostile guest; `bundle_info` changes the manifest's `bundle` section and
    `recorded_status` the verdict recorded when it was collected."""
    evidence = hostile_evidence(guest)
    document = diagnose(evidence, []).document
    if recorded_status is not None:
        document["status"] = recorded_status
    built = build_bundle(evidence, document, redact=False, created=1_764_072_000.0)
    members = []
    diagnosis_sha = ""
    for name, data in built.members:
        if name.endswith("/diagnosis.json"):
            diagnosis_sha = hashlib.sha256(data).hexdigest()
        members.append((name, data))
    out = []
    for name, data in members:
        if name.endswith("/manifest.json"):
            manifest = json.loads(data)
            manifest["bundle"]["diagnosis_sha256"] = diagnosis_sha
            manifest["bundle"].update(bundle_info or {})
            data = json.dumps(manifest).encode()
        out.append(regular(name, data))
    return write_tar_gz(path, out)


SECONDS = 30.0  # 24 bundles, on 2 cores shared with the other tests and engineers
MAX_RSS_MB = 300


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    seconds: float
    rss_mb: float  # the largest of the process and its workers


# Runs snddiag as its child and writes the child's exit status and peak RSS (wait4: the child
# and the workers it reaped). Not measured from pytest directly: an exec'd process inherits its
# parent's RSS high-water mark, and this launcher is small where pytest is not.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "snddiag", *sys.argv[2:]])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run(*argv: str, tmp: Path, seconds: float = SECONDS) -> Ran:
    """`snddiag ARGV`, with its time and its peak RSS (and its workers'); checked: within
    `seconds` and MAX_RSS_MB, no traceback, a documented exit code other than 70."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    measured = tmp / "measured"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(measured), *argv],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    code, maxrss_kib = (int(n) for n in measured.read_text().split())
    ran = Ran(code, done.stdout, done.stderr, time.monotonic() - started, maxrss_kib / 1024)
    assert ran.seconds < seconds, f"{argv} took {ran.seconds:.1f} s"
    assert ran.rss_mb < MAX_RSS_MB, f"{argv} peaked at {ran.rss_mb:.0f} MB"
    assert "Traceback" not in ran.err and "internal error" not in ran.err, ran.err
    assert ran.code in documented_exit_codes() and ran.code != 70, ran
    return ran


def documented_exit_codes() -> set[int]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    return {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
