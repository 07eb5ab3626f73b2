"""Bundles diagnosed offline, as data: one bundle's full diagnosis, or the verdict of each of many.

Many bundles are read and diagnosed in worker processes (all cores by default); each worker
gets the rules once, at start-up, and sends back only the verdict of each bundle. Printing is
snddiag.report's (`report.summary` for many bundles); choosing text or JSON is the command's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snddiag.bundle import BundleError, Limits
from snddiag.bundle.read import read_bundle
from snddiag.engine.load import Rule
from snddiag.pipeline import diagnose

_worker_rules: list[Rule] = []
_worker_limits = Limits()


@dataclass(frozen=True)
class BundleDiagnosis:
    document: dict[str, Any]  # the report document, as a live run in the guest would print it
    recorded: dict[str, Any] | None  # the bundle's own diagnosis, made when it was collected
    collected_by: str  # the snddiag version that collected it ('?' when not recorded)

    @property
    def collected_status(self) -> str | None:
        return (self.recorded or {}).get("status")


def diagnose_bundle(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    """One bundle's full diagnosis with these rules; BundleError when it cannot be read."""
    bundle = read_bundle(path, limits)
    return BundleDiagnosis(
        document=diagnose(bundle.evidence, rules).document,
        recorded=bundle.diagnosis,
        collected_by=str(bundle.info.get("snddiag_version", "?")),
    )


def analyze_one(path: str, rules: list[Rule], limits: Limits) -> dict[str, Any]:
    """One bundle's verdict as plain data; a stable entry point for scripts and workers.

    Readable: {"path", "status", "exit_code", "rules" (fired), "not_checked"} and, when the
    bundle recorded a diagnosis, "collected_status". Unreadable: {"path", "error"}. The shape is
    that of the `bundles` items in snddiag/report/summary.schema.json. Never raises BundleError.
    """
    try:
        found = diagnose_bundle(Path(path), rules, limits)
    except BundleError as err:
        return {"path": path, "error": str(err)}
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


def _init_worker(rules: list[Rule], limits: Limits) -> None:
    global _worker_rules, _worker_limits
    _worker_rules, _worker_limits = rules, limits


def _work(path: str) -> dict[str, Any]:
    try:
        return analyze_one(path, _worker_rules, _worker_limits)
    except Exception as err:  # a bug on one bundle must not hide the others
        return {"path": path, "error": f"internal error: {err!r} (a bug in snddiag: report it)"}


def analyze_many(
    paths: Sequence[str], rules: list[Rule], limits: Limits, jobs: int = 0
) -> Iterator[dict[str, Any]]:
    """Each bundle's result, in the order given; `jobs` 0 means one worker per core.

    A worker that dies (out of memory) raises concurrent.futures.process.BrokenProcessPool.
    """
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    if workers <= 1:
        _init_worker(rules, limits)
        yield from (_work(p) for p in paths)
        return
    chunk = max(1, min(16, len(paths) // (workers * 8)))
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(rules, limits)) as pool:
        yield from pool.map(_work, paths, chunksize=chunk)
