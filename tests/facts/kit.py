"""Evidence built by test code for the branches no captured guest takes."""

from __future__ import annotations

from collections.abc import Mapping

from snddiag.evidence import Entry, Evidence, Kind, NodeInfo, Status


def evidence_of(
    files: Mapping[str, str] | None = None,
    *,
    links: Mapping[str, str] | None = None,
    listings: Mapping[str, tuple[str, ...]] | None = None,
    nodes: Mapping[str, NodeInfo] | None = None,
    statuses: Mapping[str, Status] | None = None,
    meta: Mapping[str, str] | None = None,
) -> Evidence:
    """Files (`cmd/...` keys become command output), link targets, directory listings, device
    nodes, and keys that could not be read (with their status)."""
    evidence = Evidence(meta=dict(meta or {}))
    for key, text in (files or {}).items():
        kind = Kind.COMMAND if key.startswith("cmd/") else Kind.FILE
        evidence.add(Entry(key, kind, Status.OK, data=text.encode()))
    for key, target in (links or {}).items():
        evidence.add(Entry(key, Kind.LINK, Status.OK, target=target))
    for key, names in (listings or {}).items():
        evidence.add(Entry(key, Kind.DIRECTORY, Status.OK, names=names))
    for key, node in (nodes or {}).items():
        evidence.add(Entry(key, Kind.NODE, Status.OK, node=node))
    for key, status in (statuses or {}).items():
        kind = Kind.COMMAND if key.startswith("cmd/") else Kind.FILE
        evidence.add(Entry(key, kind, status))
    return evidence


def virtio_device(
    name: str, device_id: int, target: str, *, driver: str = "", status: str = "0x0f"
) -> tuple[dict[str, str], dict[str, str]]:
    """The sysfs files and links of one virtio device."""
    base = f"sys/bus/virtio/devices/{name}"
    files = {f"{base}/device": f"0x{device_id:04x}\n", f"{base}/status": f"{status}\n"}
    links = {base: target}
    if driver:
        links[f"{base}/driver"] = f"/sys/bus/virtio/drivers/{driver}"
    return files, links
