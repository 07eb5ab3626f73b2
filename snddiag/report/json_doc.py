"""The JSON document for scripts, written field by field (internal types never leak into it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from snddiag import __version__
from snddiag.engine import Diagnosis, Finding, NotChecked
from snddiag.evidence import Evidence, Status, well_formed
from snddiag.facts import Facts, expected_failure
from snddiag.facts.data_path import Lifecycle, Stream
from snddiag.report import verdict

SCHEMA_VERSION = 1


def _finding(finding: Finding) -> dict[str, Any]:
    rule = finding.rule
    return {
        "rule": rule.rule_id,
        "severity": rule.severity.value,
        "layer": rule.layer,
        "moot_because": finding.moot_because,
        "title": finding.title,
        "explain": finding.explain,
        "evidence": list(finding.evidence),
        "remediation": [
            {"side": s.side, "tool": s.tool or None, "step": s.text} for s in finding.remediation
        ],
        "references": list(finding.references),
    }


def _not_checked(item: NotChecked) -> dict[str, Any]:
    return {
        "rule": item.rule.rule_id,
        "title": item.title,
        "unknown_facts": list(item.unknown_facts),
        "missing_sources": list(item.missing_sources),
    }


def _system(facts: Facts) -> dict[str, Any]:
    s = facts.system
    return {
        "kernel_release": s.kernel_release,
        "kernel_flavour": s.kernel_flavour,
        "arch": s.arch,
        "distro": {"id": s.distro_id, "version": s.distro_version, "name": s.distro_name},
        "user": s.user,
        "is_root": s.is_root,
    }


def _host(facts: Facts) -> dict[str, Any]:
    h = facts.host
    return {
        "vmm": h.vmm,
        "vmm_source": h.vmm_source,
        "offers_virtio_sound": h.offers_virtio_sound,
        "acpi_oem_id": h.acpi_oem_id,
        "hypervisor": h.hypervisor,
        "sys_vendor": h.sys_vendor,
        "product_name": h.product_name,
        "machine_type": h.machine_type,
        "qemu_machine_version": h.qemu_machine_version,
    }


def _virtio(facts: Facts) -> dict[str, Any]:
    snd = facts.virtio.snd
    return {
        "devices": [
            {
                "name": d.name,
                "type": d.type_name,
                "device_id": d.device_id,
                "transport": d.transport,
                "driver": d.driver or None,
                "status": d.status,
            }
            for d in facts.virtio.devices or ()
        ],
        "sound": {
            "present": snd.present,
            "name": snd.name,
            "transport": snd.transport,
            "driver": snd.driver or None,
            "status": snd.status,
            "status_names": list(snd.status_names) if snd.status_names is not None else None,
            "version_1": snd.version_1,
            "features": list(snd.features) if snd.features is not None else None,
            "alsa_card": facts.alsa.virtio_card_index,
            "playback_streams": facts.alsa.virtio_playback_streams,
            "capture_streams": facts.alsa.virtio_capture_streams,
        },
    }


def _driver(facts: Facts) -> dict[str, Any]:
    d = facts.driver
    return {
        "config": d.config,
        "in_kernel": d.in_kernel,
        "installed": d.installed,
        "builtin": d.builtin,
        "loaded": d.loaded,
        "blacklisted": d.blacklisted,
        "module_tree_present": d.module_tree_present,
        "params": dict(sorted(d.params.items())),
    }


def _cards(facts: Facts) -> list[dict[str, Any]] | None:
    if facts.alsa.cards is None:
        return None
    return [
        {"index": c.index, "id": c.card_id, "driver": c.driver, "name": c.name}
        for c in facts.alsa.cards
    ]


def _stream(stream: Stream, done: str, moved: str) -> dict[str, Any]:
    return {
        "status": stream.status,
        "device": stream.device,
        "rate_hz": stream.rate_hz,
        "format": stream.format,
        "channels": stream.channels,
        done: stream.frames_transferred,
        moved: stream.frames_moved,
        "measured_rate_hz": stream.measured_rate_hz,
        "xruns": stream.xruns,
        "reason": stream.reason,
    }


def _data_path(facts: Facts) -> dict[str, Any] | None:
    """The data-path test (--play); None when it did not run. Capture names its counters for
    what happens: snddiag reads (frames_read) what the device delivered (frames_delivered)."""
    path = facts.data_path
    if path.playback.status is None or path.capture.status is None:
        return None
    doc = {
        "playback": _stream(path.playback, "frames_written", "frames_consumed"),
        "capture": {
            **_stream(path.capture, "frames_read", "frames_delivered"),
            "peak_dbfs": path.capture.peak_dbfs,
            "rms_dbfs": path.capture.rms_dbfs,
            "silent": path.capture.silent,
            "dc_offset": path.capture.dc_offset,
            "clipped_samples": path.capture.clipped_samples,
            "tone_hz": path.capture.tone_hz,
        },
        "lifecycle": _lifecycle(path.lifecycle),
    }
    server = facts.session.server_playback
    if server.status is not None:
        doc["server_playback"] = {
            "status": server.status,
            "device": server.device,
            "rate_hz": server.rate_hz,
            "format": server.format,
            "channels": server.channels,
            "frames_written": server.frames_written,
            "frames_consumed": server.frames_consumed,
            "measured_rate_hz": server.measured_rate_hz,
            "xruns": server.xruns,
            "reason": server.reason,
            "server_errors": server.server_errors,
        }
    return doc


def _lifecycle(life: Lifecycle) -> dict[str, Any] | None:
    """The lifecycle stress; None when the record has none (an older snddiag)."""
    if life.status is None:
        return None
    return {
        "status": life.status,
        "reason": life.reason,
        "cycles": life.cycles,
        "failures": [
            {
                "cycle": f.cycle,
                "call": f.call,
                "errno": f.errno,
                "config": f.config,
                "detail": f.detail,
            }
            for f in life.failures or ()
        ],
        "rates_tried": [int(r) for r in life.rates_tried or ()],
        "formats_tried": list(life.formats_tried or ()),
        "period_frames_tried": [int(p) for p in life.period_frames_tried or ()],
        "start_latency_ms": life.start_latency_ms,
        "pointer_step_frames": life.pointer_step_frames,
        "period_frames": life.period_frames,
        "batch": life.batch,
        "drain_ms": life.drain_ms,
        "drain_expected_ms": life.drain_expected_ms,
        "pause": life.pause,
    }


def _unreadable(evidence: Evidence, facts: Facts) -> list[dict[str, str]]:
    """Sources that exist on a normal system but could not be read or run here (a missing
    library or command is said too: busybox has no modinfo, a guest may lack libudev); not
    those this system is expected to fail (`lsmod` on a kernel without modules)."""
    failed = (Status.DENIED, Status.TIMEOUT, Status.FAILED, Status.NOT_FOUND)
    return [
        {"source": e.key, "status": e.status.value, "error": _last_line(e.stderr)}
        for e in evidence
        if e.status in failed and not expected_failure(e.key, facts)
    ]


def _last_line(stderr: str) -> str:
    """What the system said, in one line: a command's last word on stderr is its conclusion
    (lsmod says where it failed, then what); at most 200 characters, a bundle may hold more."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def build_document(evidence: Evidence, facts: Facts, diagnosis: Diagnosis) -> dict[str, Any]:
    status, code = verdict(diagnosis)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "status": status,
        "exit_code": int(code),
        "system": _system(facts),
        "host": _host(facts),
        "virtio": _virtio(facts),
        "driver": _driver(facts),
        "cards": _cards(facts),
        "sound_servers": list(facts.userspace.sound_servers)
        if facts.userspace.sound_servers is not None
        else None,
        "inventory": [
            {
                "class": i.device_class,
                "paravirtual": list(i.paravirtual),
                "emulated": list(i.emulated),
            }
            for i in facts.inventory
        ],
        "data_path": _data_path(facts),
        "root_cause": diagnosis.root_cause,
        "findings": [_finding(f) for f in diagnosis.findings],
        "not_checked": [_not_checked(n) for n in diagnosis.not_checked],
        "does_not_apply": [
            {"rule": d.rule.rule_id, "title": d.title, "reason": d.reason}
            for d in diagnosis.does_not_apply
        ],
        "rules_evaluated": diagnosis.rules_evaluated,
        "unreadable_sources": _unreadable(evidence, facts),
        "kernel_log": _kernel_log(facts, evidence),
    }


def _kernel_log(facts: Facts, evidence: Evidence) -> dict[str, Any]:
    """Which kernel log the facts come from, and every kernel-log source that was read (for
    `--root DIR`, the mounted system's own log files and journal)."""
    from snddiag.collect.plan import KERNEL_LOGS, key_of

    read = []
    for log in KERNEL_LOGS:
        entry = evidence.get(key_of(log.source))
        if entry is not None and entry.ok:
            read.append(log.label)
    return {"source": facts.kernel.log_source, "read": read}


SOURCE_KINDS = ("live", "bundle", "snapshot")


def build_source(
    kind: str,
    path: str | None,
    *,
    collected_at: str | None,
    uid: str | None,
    user: str | None,
    snddiag_version: str | None,
    rules_differ: bool | None,
    collected_status: str | None,
) -> dict[str, Any]:
    """The document's `source`: what the evidence came from (`live`: read by this run, from /
    or --root DIR; `bundle`; `snapshot`: a directory) and who collected it, when, with which
    snddiag; None where not recorded. `rules_differ` compares the collector's rule set with
    this run's; `collected_status` is the verdict the collecting run recorded."""
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source kind {kind!r}")
    return {
        "kind": kind,
        "path": path,
        "collected_at": collected_at,
        "uid": uid,
        "user": user,
        "snddiag_version": snddiag_version,
        "rules_differ": rules_differ,
        "collected_status": collected_status,
    }


def meta_source(kind: str, path: str, meta: Mapping[str, str]) -> dict[str, Any]:
    """The `source` of a live run (its rules made the verdict) or of a snapshot directory
    (which records neither its rules nor a verdict), from the evidence's run metadata."""
    live = kind == "live"
    return build_source(
        kind,
        path,
        collected_at=meta.get("collected_at"),
        uid=meta.get("uid"),
        user=meta.get("user"),
        snddiag_version=__version__ if live else meta.get("snddiag_version"),
        rules_differ=False if live else None,
        collected_status=None,
    )


def with_source(document: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """`document` with its `source`, placed after `exit_code` (people read the top first)."""
    placed: dict[str, Any] = {}
    for key, value in document.items():
        if key != "source":
            placed[key] = value
        if key == "exit_code":
            placed["source"] = source
    placed.setdefault("source", source)
    return placed


def render_json(document: dict[str, Any]) -> str:
    """The document as JSON that any strict reader takes: valid Unicode, finite numbers."""
    return json.dumps(well_formed(document), indent=2, sort_keys=False, allow_nan=False) + "\n"


ERROR_SCHEMA_VERSION = 1


def render_error_json(message: str, exit_code: int) -> str:
    """The document of a run that failed (error.schema.json): scripts reading stdout get a
    status they can test rather than nothing."""
    document = {
        "schema_version": ERROR_SCHEMA_VERSION,
        "tool": {"name": "snddiag", "version": __version__},
        "status": "failed",
        "exit_code": int(exit_code),
        "error": message,
    }
    return render_json(document)
