"""Bundles diagnosed offline, as data: one bundle's full diagnosis, or the verdict of each of many.

Each bundle is read and diagnosed in a worker process of its own (`bundle.workers`), bounded
in wall time and memory by `Limits`; many bundles run in parallel (all cores by default). A
bundle that exceeds a limit, or whose worker dies, is unreadable with the reason, and costs no
other bundle its result. Printing is snddiag.report's (`report.summary` for many bundles);
choosing text or JSON is the command's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snddiag.bundle import BundleError, Limits
from snddiag.bundle.read import read_bundle
from snddiag.bundle.workers import Done, run_bounded
from snddiag.engine.load import Rule
from snddiag.pipeline import diagnose
from snddiag.report import ExitCode


@dataclass(frozen=True)
class BundleDiagnosis:
    document: dict[str, Any]  # the report document, as a live run in the guest would print it
    recorded: dict[str, Any] | None  # the bundle's own diagnosis, made when it was collected
    collected_by: str  # the snddiag version that collected it ('?' when not recorded)

    @property
    def collected_status(self) -> str | None:
        return (self.recorded or {}).get("status")


def diagnose_bundle(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    """One bundle's full diagnosis with these rules, in a worker bounded by `limits`;
    BundleError with the reason when it cannot be read or exceeds a limit."""
    for _index, outcome in run_bounded([(_diagnose_here, (path, rules, limits))], limits):
        if isinstance(outcome, Done):
            found: BundleDiagnosis = outcome.value
            return found
        raise BundleError(outcome.reason)
    raise AssertionError("run_bounded gives one outcome per call")


def _diagnose_here(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    bundle = read_bundle(path, limits)
    return BundleDiagnosis(
        document=diagnose(bundle.evidence, rules).document,
        recorded=bundle.diagnosis,
        collected_by=str(bundle.info.get("snddiag_version", "?")),
    )


def analyze_one(path: str, rules: list[Rule], limits: Limits) -> dict[str, Any]:
    """One bundle's verdict as plain data; a stable entry point for scripts and workers.

    Readable: {"path", "status", "exit_code", "rules" (fired), "not_checked"} and, when the
    bundle recorded a diagnosis, "collected_status". Unreadable: {"path", "error", "exit_code"}
    (65, or 70 for a bug in snddiag while diagnosing it). The shape is
    that of the `bundles` items in snddiag/report/summary.schema.json. Never raises BundleError.
    Runs here, unbounded: `analyze_many` runs it in bounded workers.
    """
    try:
        found = _diagnose_here(Path(path), rules, limits)
    except BundleError as err:
        return {"path": path, "error": str(err), "exit_code": int(ExitCode.DATA_ERR)}
    document = found.document
    result: dict[str, Any] = {
        "path": path,
        "status": document["status"],
        "exit_code": document["exit_code"],
        "rules": [f["rule"] for f in document["findings"]],
        "not_checked": [n["rule"] for n in document["not_checked"]],
    }
    if found.recorded is not None:
        result["collected_status"] = found.collected_status
    return result


def analyze_many(
    paths: Sequence[str], rules: list[Rule], limits: Limits, jobs: int = 0
) -> Iterator[dict[str, Any]]:
    """Each bundle's result, in the order given; `jobs` 0 means one worker per core.

    Every bundle gets a worker process of its own, bounded by `limits` (time and memory); one
    that exceeds them, or dies, is {"path", "error"} with the reason. Never raises for a bundle.
    """
    workers = min(jobs or os.cpu_count() or 1, max(1, len(paths)))
    calls = [(analyze_one, (path, rules, limits)) for path in paths]
    done: dict[int, dict[str, Any]] = {}
    following = 0
    for index, outcome in run_bounded(calls, limits, workers):
        if isinstance(outcome, Done):
            done[index] = outcome.value
        else:
            code = ExitCode.SOFTWARE if outcome.bug else ExitCode.DATA_ERR
            done[index] = {"path": paths[index], "error": outcome.reason, "exit_code": int(code)}
        while following in done:
            yield done.pop(following)
            following += 1
