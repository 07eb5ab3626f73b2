"""Bundles diagnosed offline, as data: one bundle's full diagnosis, or the verdict of each of many.

Each bundle is read and diagnosed in a bounded worker process (`bundle.workers`: a pool of
long-lived workers, each bundle bounded in wall time and memory by `Limits`); many bundles run
in parallel (all cores by default). A bundle that exceeds a limit, or whose worker dies, is
unreadable with the reason, and costs no other bundle its result. Printing is snddiag.report's
(`report.summary` for many bundles); choosing text, JSON or JSON Lines is the command's.

`analyze_one` is the library entry point (docs/library.md): its result's shape is the
`bundles` item of snddiag/report/summary.schema.json, and changes only with that schema's
`schema_version`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from snddiag.bundle import BundleError, Limits, WorkerBugError
from snddiag.bundle.provenance import bundle_source
from snddiag.bundle.read import read_bundle
from snddiag.bundle.workers import Done, run_bounded
from snddiag.engine.model import Rule
from snddiag.evidence import EvidenceError, SizeLimits, load_directory
from snddiag.pipeline import diagnose
from snddiag.records import dataclass
from snddiag.report import ExitCode
from snddiag.report.json_doc import meta_source, with_source

# The provenance fields of a bundles item: those of the report's `source`, flat.
PROVENANCE = (
    "collected_at",
    "uid",
    "user",
    "snddiag_version",
    "rules_differ",
    "collected_status",
)


@dataclass(frozen=True)
class BundleDiagnosis:
    document: dict[str, Any]  # the report document, with its `source`: the bundle's provenance

    @property
    def collected_status(self) -> str | None:
        """The verdict the bundle recorded when it was collected, if it did."""
        status = self.document["source"]["collected_status"]
        return status if isinstance(status, str) else None

    @property
    def collected_by(self) -> str:
        """The snddiag version that collected it ('?' when not recorded)."""
        return str(self.document["source"]["snddiag_version"] or "?")


def diagnose_bundle(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    """One bundle's full diagnosis with these rules, in a worker bounded by `limits`;
    BundleError with the reason when it cannot be read or exceeds a limit."""
    return _bounded(_diagnose_here, path, rules, limits)


def diagnose_snapshot(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    """A snapshot directory's full diagnosis, as untrusted as a bundle: read in a worker
    bounded by `limits` (time, memory, each file's and the total size); BundleError with the
    reason when it cannot be read or exceeds a limit."""
    return _bounded(_diagnose_snapshot_here, path, rules, limits)


def _bounded(
    call: Callable[[Path, list[Rule], Limits], BundleDiagnosis],
    path: Path,
    rules: list[Rule],
    limits: Limits,
) -> BundleDiagnosis:
    # Closed here, not when the generator is collected: its worker is stopped before the report
    # is printed, so a Ctrl-C then is an interruption of the run, never a finalizer's traceback.
    with contextlib.closing(run_bounded([(call, (path, rules, limits))], limits)) as outcomes:
        for _index, outcome in outcomes:
            if isinstance(outcome, Done):
                found: BundleDiagnosis = outcome.value
                return found
            if outcome.library:
                # The command line's own answer to a library that is not installed (69).
                raise ModuleNotFoundError(outcome.reason, name=outcome.library)
            if outcome.bug:
                raise WorkerBugError(outcome.reason)
            raise BundleError(outcome.reason)
    raise AssertionError("run_bounded gives one outcome per call")


def _diagnose_snapshot_here(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    sizes = SizeLimits(
        limits.max_member_bytes, limits.max_total_bytes, "--max-member-mb", "--max-total-mb"
    )
    try:
        evidence = load_directory(path, limits=sizes)
    except EvidenceError as err:
        raise BundleError(str(err)) from err
    source = meta_source("snapshot", str(path), evidence.meta)
    return BundleDiagnosis(with_source(diagnose(evidence, rules).document, source))


def _diagnose_here(path: Path, rules: list[Rule], limits: Limits) -> BundleDiagnosis:
    bundle = read_bundle(path, limits)
    source = bundle_source(path, bundle.info, bundle.evidence.meta, bundle.diagnosis, rules)
    return BundleDiagnosis(with_source(diagnose(bundle.evidence, rules).document, source))


def unreadable(path: str, reason: str, code: int = ExitCode.DATA_ERR) -> dict[str, Any]:
    """The bundles item of a bundle that could not be read (65), of a library of snddiag's
    missing in its worker (69), or of a bug on it (70)."""
    return {"path": path, "status": "unreadable", "error": reason, "exit_code": int(code)}


def analyze_one(path: str, rules: list[Rule], limits: Limits) -> dict[str, Any]:
    """One bundle's verdict as plain data (JSON types only); a stable entry point for scripts
    and for engines that fan out over many bundles (docs/library.md).

    Every result has "path", "status" and "exit_code". Readable: "status" is the verdict with
    these rules (ok, warning, error, incomplete; "exit_code" 0-3), "rules" (those that fired),
    "not_checked", and the provenance fields (PROVENANCE, None where the bundle does not say).
    Unreadable: "status" is "unreadable", with "error" (one line) and "exit_code" 65. The shape
    is the `bundles` item of snddiag/report/summary.schema.json. Never raises BundleError.
    Runs here, unbounded by `limits`' time and memory (only their sizes apply): `analyze_many`
    and the command line run it in bounded workers.
    """
    try:
        found = _diagnose_here(Path(path), rules, limits)
    except BundleError as err:
        return unreadable(path, str(err))
    document = found.document
    result: dict[str, Any] = {
        "path": path,
        "status": document["status"],
        "exit_code": document["exit_code"],
        "rules": [f["rule"] for f in document["findings"]],
        "not_checked": [n["rule"] for n in document["not_checked"]],
    }
    result.update((key, document["source"][key]) for key in PROVENANCE)
    return result


def analyze_many(
    paths: Sequence[str],
    rules: list[Rule],
    limits: Limits,
    jobs: int = 0,
    *,
    ordered: bool = True,
) -> Iterator[dict[str, Any]]:
    """Each bundle's result (`analyze_one`'s shape); `jobs` 0 means one worker per core.
    `ordered`: in the order given (a result waits for those before it); else as each finishes.

    Every bundle runs in a bounded worker (`bundle.workers`), within `limits` (time and
    memory); one that exceeds them, or whose worker dies, is unreadable with the reason. Never
    raises for a bundle.
    """
    workers = min(jobs or os.cpu_count() or 1, max(1, len(paths)))
    calls = [(analyze_one, (path, rules, limits)) for path in paths]
    done: dict[int, dict[str, Any]] = {}
    following = 0
    for index, outcome in run_bounded(calls, limits, workers):
        if isinstance(outcome, Done):
            result: dict[str, Any] = outcome.value
        else:
            code = (
                ExitCode.MISSING_LIBRARY
                if outcome.library
                else ExitCode.SOFTWARE
                if outcome.bug
                else ExitCode.DATA_ERR
            )
            result = unreadable(paths[index], outcome.reason, code)
        if not ordered:
            yield result
            continue
        done[index] = result
        while following in done:
            yield done.pop(following)
            following += 1
