"""One live `snddiag --json`, timed phase by phase; prints the times as one JSON object.

Used inside a lab guest by bench_diagnosis.py (run it in a fresh interpreter each time: a phase's
time includes the imports it is the first to need, as in a real run). The phases follow
`commands.diagnose_live`: the entry (`snddiag.cli` and `snddiag.commands`), loading the rules,
collecting, building the facts, running the rules and writing the report. Also lists the
slowest evidence sources (each Entry's duration_s).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
SLOWEST = 8


def main() -> int:
    times: dict[str, float] = {}

    def timed(name: str, step: Callable[[], T]) -> T:
        started = time.perf_counter()
        value = step()
        times[name] = round(time.perf_counter() - started, 4)
        return value

    def entry() -> tuple[Any, Any]:
        from snddiag import cli, commands

        return cli, commands

    cli, commands = timed("entry", entry)
    args = cli.parse_args(["--json"])
    rules = timed("rules_load", lambda: commands.load_rules_given(args))

    def collect() -> Any:
        from snddiag.collect import collect

        return collect()

    def facts() -> Any:
        from snddiag.facts import build_facts

        return build_facts(evidence)

    def run() -> Any:
        from snddiag.engine import run_rules

        return run_rules(rules, built)

    def report() -> str:
        from snddiag.report.json_doc import build_document, render_json

        return render_json(build_document(evidence, built, diagnosis))

    evidence = timed("collect", collect)
    built = timed("facts", facts)
    diagnosis = timed("rules_run", run)
    timed("report", report)
    slowest = sorted(evidence, key=lambda e: e.duration_s, reverse=True)[:SLOWEST]
    sources = {e.key: round(e.duration_s, 4) for e in slowest}
    print(json.dumps({"phases": times, "sources": sources}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
