"""The report on many bundles (`snddiag analyze B1 B2 ...`): which rules fired where, which
bundles could not be read. The JSON document's schema is `summary.schema.json` beside this file;
text is printed by `render_summary`, JSON by `json_doc.render_json` as for one diagnosis.

Each bundle's result is `snddiag.bundle.analyze.analyze_one`'s plain data: the `bundles` item
of the schema, which is also what `analyze --jsonl` prints a line of.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from snddiag import __version__
from snddiag.engine.model import Rule
from snddiag.report import ExitCode
from snddiag.report.escape import escape_document
from snddiag.report.layout import sane_width

SUMMARY_SCHEMA_VERSION = 3
STATUSES = ("ok", "warning", "error", "incomplete", "unreadable")
# snddiag's own failures first (a bug, a library not installed, then a bundle it could not
# read); then a run's own precedence (snddiag.report.verdict): an error outranks a warning, both
# outrank checks that could not run.
_PRECEDENCE = (
    ExitCode.SOFTWARE,
    ExitCode.MISSING_LIBRARY,
    ExitCode.DATA_ERR,
    ExitCode.ERROR,
    ExitCode.WARNING,
    ExitCode.INCOMPLETE,
    ExitCode.OK,
)


def overall_exit(results: Iterable[dict[str, Any]]) -> int:
    """70 if snddiag failed on some bundle, else 69 if a library it needs is not installed,
    else 65 if some bundle could not be read, else the worst verdict by a run's own
    precedence: a verdict on the others is not a verdict on all."""
    codes = {int(result.get("exit_code", ExitCode.DATA_ERR)) for result in results}
    return next((int(c) for c in _PRECEDENCE if int(c) in codes), ExitCode.OK)


def build_summary(results: list[dict[str, Any]], rules: Sequence[Rule]) -> dict[str, Any]:
    severity = {r.rule_id: r.severity.value for r in rules}
    statuses = dict.fromkeys(STATUSES, 0)
    fired: dict[str, list[str]] = {}
    for result in results:
        status = str(result["status"])
        statuses[status] = statuses.get(status, 0) + 1
        for rule_id in result.get("rules", ()):
            fired.setdefault(rule_id, []).append(result["path"])
    ordered = sorted(fired.items(), key=lambda item: (-len(item[1]), item[0]))
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "exit_code": overall_exit(results),
        "statuses": statuses,
        "rules": {
            rule_id: {"severity": severity.get(rule_id), "count": len(paths), "bundles": paths}
            for rule_id, paths in ordered
        },
        "bundles": results,
    }


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path by its shortest tail of components that still tells it from the others."""
    parts = {p: Path(p).parts for p in paths}
    depth = 1
    while depth < max((len(v) for v in parts.values()), default=1):
        tails = {p: v[-depth:] for p, v in parts.items()}
        if len(set(tails.values())) == len(tails):
            break
        depth += 1
    return {p: str(Path(*v[-depth:])) for p, v in parts.items()}


def render_summary(summary: dict[str, Any], stream: IO[str], *, color: bool | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    no_color = color is False or (color is None and "NO_COLOR" in os.environ)
    # Piped output has no width of its own; rich would assume 80 columns and fold paths.
    width = None if stream.isatty() else 160
    console = Console(file=stream, no_color=no_color, highlight=False, emoji=False, width=width)
    console.width = sane_width(console.width)
    # Paths, errors and rule ids come from bundles and the command line: escaped before use.
    summary = escape_document(summary)
    bundles = summary["bundles"]
    names = short_names([b["path"] for b in bundles])
    counts = ", ".join(f"{n} {s}" for s, n in summary["statuses"].items() if n)
    console.print(Text(f"snddiag: {len(bundles)} bundles: {counts}", style="bold"), soft_wrap=True)
    if summary["rules"]:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("rule", "severity", "bundles", "fired on"):
            table.add_column(column, no_wrap=column != "fired on", overflow="fold")
        for rule_id, item in summary["rules"].items():
            shown = [names[p] for p in item["bundles"][:5]]
            more = item["count"] - len(shown)
            table.add_row(
                Text(rule_id),
                Text(item["severity"] or "?"),
                Text(str(item["count"])),
                Text("\n".join(shown) + (f"\n(+{more} more)" if more > 0 else "")),
            )
        console.print(table)
    else:
        console.print(Text("no rule fired on any bundle"))
    other_rules = sum(1 for b in bundles if b.get("rules_differ"))
    if other_rules:
        console.print(
            Text(
                f"{other_rules} of them collected with other rules than these "
                "(another snddiag version or --rules): their verdicts may differ for that alone",
                style="dim",
            ),
            soft_wrap=True,
        )
    unreadable = [b for b in bundles if b["status"] == "unreadable"]
    if unreadable:
        console.print(Text("could not read:", style="bold red"))
        for item in unreadable:
            console.print(Text(f"  {item['path']}: {item['error']}"), soft_wrap=True)
