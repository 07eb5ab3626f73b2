"""Support bundles: the evidence snapshot as one gzip tar, redacted, to analyze anywhere.

Layout: one top directory (`snddiag-<host>-<UTC time>/`) holding the snapshot directory
(`manifest.json`, `data/<key>`) and `diagnosis.json`, the report of the run that collected it.
The manifest's `bundle` section gives the bundle format, the snddiag version, the creation time
and what redaction replaced (classes and counts, never the values).
"""

from __future__ import annotations

from snddiag.records import dataclass

BUNDLE_FORMAT = 1
DIAGNOSIS_NAME = "diagnosis.json"
MIB = 1024 * 1024


class BundleError(Exception):
    """A bundle that cannot be written or read; the message is one line for the user."""


class WorkerBugError(Exception):
    """snddiag itself failed on an input in a worker (not a property of the input): exit 70."""


@dataclass(frozen=True)
class Limits:
    """What reading one bundle may cost. The sizes are checked on each tar header before its
    data is read; the time and memory bound the worker process that reads and diagnoses it."""

    max_member_bytes: int = 64 * MIB
    max_total_bytes: int = 256 * MIB
    max_members: int = 100_000
    timeout_s: float = 30.0
    max_memory_bytes: int = 512 * MIB
