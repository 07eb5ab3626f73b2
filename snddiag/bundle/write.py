"""`snddiag collect -o`: the snapshot and its diagnosis as one gzip tar (output.py: where to)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from snddiag import __version__
from snddiag.bundle import BUNDLE_FORMAT, DIAGNOSIS_NAME
from snddiag.bundle.output import OutputError, write_output
from snddiag.bundle.redact import HOSTNAME_KEYS, Redactor, describe_counts, redact_evidence
from snddiag.engine.model import Rule
from snddiag.evidence import DATA_DIR, MANIFEST_NAME, Evidence, Kind, manifest_of
from snddiag.records import dataclass
from snddiag.report import ExitCode


@dataclass(frozen=True)
class Built:
    """A bundle's members in tar order, and what went into them."""

    top: str
    members: tuple[tuple[str, bytes], ...]
    evidence: Evidence
    document: dict[str, Any]
    redaction: dict[str, Any]


def _hostname(evidence: Evidence) -> str:
    for key in HOSTNAME_KEYS:
        text = evidence.text(key)
        if text and text.strip():
            return text.strip().splitlines()[0]
    return ""


def _top_name(evidence: Evidence, created: float) -> str:
    host = re.sub(r"[^A-Za-z0-9_.-]+", "-", _hostname(evidence))[:64].strip(".-") or "unknown"
    return f"snddiag-{host}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(created))}"


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=1) + "\n").encode("ascii")


def build_bundle(
    evidence: Evidence,
    document: dict[str, Any],
    *,
    redact: bool,
    created: float | None = None,
    rules_sha256: str | None = None,
) -> Built:
    """The members of a bundle (nothing is written). `rules_sha256`: the digest of the rules
    that made `document` (bundle.provenance), so that `analyze` can tell whether its own differ."""
    created = time.time() if created is None else created
    redactor: Redactor | None = None
    if redact:
        evidence, redactor = redact_evidence(evidence)
        document = redactor.redact_document(document)
    diagnosis = _json_bytes(document)
    redaction: dict[str, Any] = {"enabled": redact}
    if redactor is not None:
        redaction["classes"] = redactor.summary()
    snapshot = manifest_of(evidence)
    manifest = {
        "snapshot_format": snapshot["snapshot_format"],
        "bundle": {
            "format": BUNDLE_FORMAT,
            "snddiag_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "diagnosis": DIAGNOSIS_NAME,
            "diagnosis_sha256": hashlib.sha256(diagnosis).hexdigest(),
            "redaction": redaction,
            **({"rules_sha256": rules_sha256} if rules_sha256 is not None else {}),
        },
        "meta": snapshot["meta"],
        "entries": snapshot["entries"],
    }
    top = _top_name(evidence, created)
    members = [
        (f"{top}/{MANIFEST_NAME}", _json_bytes(manifest)),
        (f"{top}/{DIAGNOSIS_NAME}", diagnosis),
    ]
    members += [
        (f"{top}/{DATA_DIR}/{entry.key}", entry.data)
        for entry in evidence
        if entry.kind in (Kind.FILE, Kind.COMMAND) and entry.ok
    ]
    return Built(top, tuple(members), evidence, document, redaction)


def write_tar(built: Built, out: IO[bytes], mtime: int) -> None:
    """A gzip tar of the members: regular files only (0600), owned by nobody in particular."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=mtime, compresslevel=6) as gz:
        _write_members(built, gz, mtime)


def _write_members(built: Built, out: gzip.GzipFile, mtime: int) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for name, data in built.members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            # 0600: `tar xzf` as root must not leave root's kernel log readable by everyone.
            info.mode = 0o600
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))


def redaction_note(redaction: dict[str, Any]) -> str:
    """'not redacted', or 'redacted: ' and what, for the line saying where the output went."""
    if not redaction.get("enabled"):
        return "not redacted"
    return "redacted: " + (describe_counts(redaction.get("classes", {})) or "nothing found")


def _verdict(document: dict[str, Any]) -> tuple[object, object, list[str]]:
    rules = sorted(str(f.get("rule")) for f in document.get("findings", []))
    return document.get("status"), document.get("exit_code"), rules


def _check_unchanged(built: Built, document: dict[str, Any], rules: Sequence[Rule]) -> str:
    """A warning when the redacted evidence no longer gives the collecting run's verdict."""
    from snddiag.pipeline import diagnose

    before = _verdict(document)
    after = _verdict(diagnose(built.evidence, list(rules)).document)
    if before == after:
        return ""
    return (
        f"warning: the redacted evidence gives another verdict ({after[0]}, rules "
        f"{', '.join(after[2]) or 'none'}) than this run ({before[0]}, rules "
        f"{', '.join(before[2]) or 'none'}); please report this, or collect with --no-redact"
    )


@dataclass(frozen=True)
class Written:
    """What `collect -o` wrote: where (a path, or `-` for stdout), how many entries, what was
    redacted (the manifest's `redaction`), and the verdict of the diagnosis recorded with it."""

    output: str
    entries: int
    redaction: dict[str, Any]
    status: object
    exit_code: object


def save_bundle(
    evidence: Evidence,
    document: dict[str, Any],
    output: str,
    *,
    redact: bool = True,
    rules: Sequence[Rule] | None = None,
    created: float | None = None,
) -> Written:
    """Write the bundle to `output` (a path, or `-` for stdout) and say so on stderr;
    OutputError (with its exit code) when it cannot. With `rules`, the rules that made
    `document`, the manifest records their digest (bundle.provenance)."""
    from snddiag.bundle.provenance import rules_digest

    digest = rules_digest(rules) if rules is not None else None
    built = build_bundle(evidence, document, redact=redact, created=created, rules_sha256=digest)
    mtime = int(time.time() if created is None else created)
    warning = _check_unchanged(built, document, rules) if redact and rules is not None else ""
    if warning:
        print(f"snddiag: {warning}", file=sys.stderr)
    if output == "-":
        if sys.stdout.isatty():
            raise OutputError(
                "refusing to write a binary bundle to a terminal (redirect stdout, or use -o FILE)",
                ExitCode.USAGE,
            )
        try:
            write_tar(built, sys.stdout.buffer, mtime)
            sys.stdout.buffer.flush()
        except OSError as err:
            message = f"cannot write the bundle to stdout: {err.strerror or err}"
            raise OutputError(message, ExitCode.IO_ERROR) from err
    else:
        write_output(Path(output), lambda out: write_tar(built, out, mtime))
    written = Written(
        output,
        len(built.evidence),
        built.redaction,
        document.get("status"),
        document.get("exit_code"),
    )
    print(
        f"snddiag: bundle written to {'stdout' if output == '-' else output} ({written.entries} "
        f"entries, {redaction_note(built.redaction)}; verdict: {written.status})",
        file=sys.stderr,
    )
    return written


def write_bundle(
    evidence: Evidence,
    document: dict[str, Any],
    output: str,
    *,
    redact: bool = True,
    rules: Sequence[Rule] | None = None,
    created: float | None = None,
) -> int:
    """save_bundle, its failure said in one line on stderr: the exit code."""
    try:
        save_bundle(evidence, document, output, redact=redact, rules=rules, created=created)
    except OutputError as err:
        print(f"snddiag: {err}", file=sys.stderr)
        return err.code
    return ExitCode.OK
