"""The small JSON documents of `rules list|facts|check --json`, `collect --json` and
`explain RULE_ID --json`.

One envelope for all (command.schema.json): `schema_version`, `tool`, and `kind` naming the
document, so that a script reading any snddiag output can tell what it holds. The diagnosis
(json_doc.py), the summary of many bundles (summary.py) and a failure (error.schema.json) have
their own schemas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from snddiag import __version__
from snddiag.engine.model import Rule, RuleFileError
from snddiag.report.json_doc import render_json

COMMAND_SCHEMA_VERSION = 1


def render_command(kind: str, fields: dict[str, Any]) -> str:
    document = {
        "schema_version": COMMAND_SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "kind": kind,
        **fields,
    }
    return render_json(document)


def render_rule_list(rules: Sequence[Rule]) -> str:
    """`rules list --json`: the rules in force, sorted by id."""
    listing = [
        {
            "rule": r.rule_id,
            "severity": r.severity.value,
            "layer": r.layer,
            "title": r.title,
            "file": str(r.path),
        }
        for r in rules
    ]
    return render_command("rule-list", {"rules": listing})


def render_fact_list(facts: Sequence[Mapping[str, str]]) -> str:
    """`rules facts --json`: each fact path with its type, meaning and what None means."""
    return render_command("fact-list", {"facts": [dict(f) for f in facts]})


def render_rule_check(files_checked: int, problems: Sequence[RuleFileError]) -> str:
    """`rules check --json`: every problem a run would stop at; `line` null for a whole file."""
    listing = [{"file": str(p.path), "line": p.line, "message": p.message} for p in problems]
    return render_command("rule-check", {"files_checked": files_checked, "problems": listing})


def render_collect(
    output: str,
    *,
    written_as: str,
    entries: int,
    redaction: Mapping[str, Any],
    verdict: Mapping[str, Any] | None,
) -> str:
    """`collect --json`: where the `bundle` or snapshot `directory` (written_as) went, how many
    entries it holds, what redaction replaced per class, and the verdict recorded with it
    (null for a snapshot directory, which records none)."""
    classes = redaction.get("classes", {})
    return render_command(
        "collect",
        {
            "output": output,
            "format": written_as,
            "entries": entries,
            "redaction": {
                "enabled": bool(redaction.get("enabled")),
                "classes": {
                    name: {"values": int(n["values"]), "replacements": int(n["replacements"])}
                    for name, n in classes.items()
                },
            },
            "verdict": None
            if verdict is None
            else {"status": verdict["status"], "exit_code": verdict["exit_code"]},
        },
    )
