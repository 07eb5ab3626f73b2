"""Where a report comes from: a bundle's collector (when, who, which snddiag) and its rules.

`collect -o` records a digest of the rule set it diagnosed with (`rules_sha256` in the
manifest's `bundle` section); `analyze` compares it with its own rules to say whether the
verdict may differ for that reason alone. Bundles written before the digest existed say
nothing: whether their rules differ is unknown (None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from snddiag.engine.model import Rule
from snddiag.report.json_doc import build_source


def rules_digest(rules: Sequence[Rule]) -> str:
    """sha256 over each rule's id and the bytes of its file, in id order: the same rule set
    gives the same digest wherever it is installed."""
    digest = hashlib.sha256()
    for rule in sorted(rules, key=lambda r: r.rule_id):
        try:  # a Path, or in snddiag.pyz an ArchivePath: both read_bytes
            content = rule.path.read_bytes()
        except (OSError, KeyError):  # the file went away since it was loaded: its id counts
            content = b""
        for part in (rule.rule_id.encode(), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _text(value: object) -> str | None:
    """A manifest field as a string, or None: a stranger's bundle may hold any JSON there."""
    return value if isinstance(value, str) else None


def bundle_source(
    path: Path,
    info: Mapping[str, Any],
    meta: Mapping[str, str],
    recorded: Mapping[str, Any] | None,
    rules: Sequence[Rule],
) -> dict[str, Any]:
    """The report's `source` for a bundle: its manifest's `bundle` section (`info`) and run
    metadata (`meta`, redacted as the bundle holds it), and its own diagnosis (`recorded`)."""
    recorded_digest = _text(info.get("rules_sha256"))
    return build_source(
        "bundle",
        str(path),
        collected_at=meta.get("collected_at") or _text(info.get("created")),
        uid=meta.get("uid"),
        user=meta.get("user"),
        snddiag_version=_text(info.get("snddiag_version")) or meta.get("snddiag_version"),
        rules_differ=None if recorded_digest is None else recorded_digest != rules_digest(rules),
        collected_status=_text((recorded or {}).get("status")),
    )
