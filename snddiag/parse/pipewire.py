"""PipeWire's object graph (`pw-dump`, JSON) and its settings (`pw-metadata -n settings`).

`pw-dump` prints a JSON array of objects, each with `id`, `type`
(`PipeWire:Interface:Device` ...), and an `info` holding `props`, `params` and, for nodes and
links, `state` and `error` (a link's `info` also names its `output-node-id` and
`input-node-id`). Seen with PipeWire 1.4. Metadata objects carry `metadata`, a list of
`{subject, key, type, value}`; the `default` metadata names the default sink and source
(`{"name": ...}`), `settings` the clock (`clock.min-quantum` ...).
"""

from __future__ import annotations

import json
import re
from typing import Any

from snddiag.parse import Parsed, clip
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

VIRTIO_ALSA_DRIVER = "virtio_snd"
# A desktop's graph holds a few hundred objects; more is not a graph pw-dump printed.
MAX_OBJECTS = 20000


@dataclass(frozen=True)
class PwDevice:
    id: int
    name: str
    description: str
    alsa_card: int | None
    alsa_driver: str
    profile: str | None  # the active profile's name (`off`, `pro-audio` ...)
    profile_classes: tuple[str, ...]  # the media classes that profile gives (Audio/Sink ...)
    profiles: tuple[str, ...]  # every profile the device offers


@dataclass(frozen=True)
class PwNode:
    id: int
    name: str
    description: str
    media_class: str
    state: str
    error: str | None
    alsa_card: int | None
    alsa_driver: str
    device_id: int | None


@dataclass(frozen=True)
class PwLink:
    id: int
    output_node: int | None
    input_node: int | None
    state: str  # `init`, `negotiating`, `allocating`, `paused`, `active`, `error` ...
    error: str | None


@dataclass(frozen=True)
class PwGraph:
    version: str | None
    devices: tuple[PwDevice, ...]
    nodes: tuple[PwNode, ...]
    links: tuple[PwLink, ...]
    default_sink: str | None
    default_source: str | None
    settings: dict[str, str]  # the `settings` metadata (clock.min-quantum ...), values as text


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _classes(profile: dict[str, Any]) -> tuple[str, ...]:
    # `classes` is [count, [class, n, "card.profile.devices", [...]], ...].
    classes = profile.get("classes")
    listed = classes[1:] if isinstance(classes, list) else []
    return tuple(str(c[0]) for c in listed if isinstance(c, list) and c)


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _active_profile(params: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The active profile's name and classes. The routes name the profile they belong to; after
    `wpctl set-profile` PipeWire 1.4's pw-dump showed the new one there while its `Profile`
    param still held the old one, so the routes' profile wins where they agree on one."""
    offered = {p.get("index"): p for p in _dicts(params.get("EnumProfile"))}
    used = {r.get("profile") for r in _dicts(params.get("Route"))}
    if len(used) == 1 and next(iter(used)) in offered:
        profile = offered[next(iter(used))]
        return _text(profile.get("name")) or None, _classes(profile)
    active = _dicts(params.get("Profile"))
    if not active:
        return None, ()
    return _text(active[0].get("name")) or None, _classes(active[0])


def _device(obj: dict[str, Any]) -> PwDevice:
    info = _dict(obj.get("info"))
    props = _dict(info.get("props"))
    params = _dict(info.get("params"))
    profile, classes = _active_profile(params)
    offered = params.get("EnumProfile")
    return PwDevice(
        id=_int(obj.get("id")) or 0,
        name=_text(props.get("device.name")),
        description=_text(props.get("device.description")),
        alsa_card=_int(props.get("api.alsa.card", props.get("alsa.card"))),
        alsa_driver=_text(props.get("alsa.driver_name")),
        profile=profile,
        profile_classes=classes,
        profiles=tuple(_text(p.get("name")) for p in offered if isinstance(p, dict))
        if isinstance(offered, list)
        else (),
    )


def _error(info: dict[str, Any]) -> str | None:
    error = info.get("error")
    return _text(error) if error else None


def _node(obj: dict[str, Any]) -> PwNode:
    info = _dict(obj.get("info"))
    props = _dict(info.get("props"))
    return PwNode(
        id=_int(obj.get("id")) or 0,
        name=_text(props.get("node.name")),
        description=_text(props.get("node.description")),
        media_class=_text(props.get("media.class")),
        state=_text(info.get("state")),
        error=_error(info),
        alsa_card=_int(props.get("api.alsa.pcm.card", props.get("alsa.card"))),
        alsa_driver=_text(props.get("alsa.driver_name")),
        device_id=_int(props.get("device.id")),
    )


def _link(obj: dict[str, Any]) -> PwLink:
    info = _dict(obj.get("info"))
    return PwLink(
        id=_int(obj.get("id")) or 0,
        output_node=_int(info.get("output-node-id")),
        input_node=_int(info.get("input-node-id")),
        state=_text(info.get("state")),
        error=_error(info),
    )


def _metadata(obj: dict[str, Any]) -> dict[str, object]:
    items = obj.get("metadata")
    found: dict[str, object] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and item.get("subject") == 0 and isinstance(item.get("key"), str):
            found[item["key"]] = item.get("value")
    return found


def _default_name(value: object) -> str | None:
    if isinstance(value, dict):
        name = value.get("name")
        return name if isinstance(name, str) else None
    if isinstance(value, str):  # older versions: the JSON object as text
        m = re.search(r'"name"\s*:\s*"([^"]*)"', value)
        return m.group(1) if m else None
    return None


def parse_pw_dump(text: str) -> Parsed[PwGraph | None]:
    """`pw-dump` -> the devices, nodes, links, defaults and settings; None for no JSON array."""
    try:
        objects = json.loads(text)
    except (ValueError, RecursionError):
        return Parsed(None, (clip(text[:200]),))
    if not isinstance(objects, list):
        return Parsed(None, (clip(text[:200]),))
    devices: list[PwDevice] = []
    nodes: list[PwNode] = []
    links: list[PwLink] = []
    meta: dict[str, dict[str, object]] = {}
    version: str | None = None
    odd: list[str] = []
    if len(objects) > MAX_OBJECTS:
        odd.append(f"{len(objects)} objects; the first {MAX_OBJECTS} read")
    for obj in objects[:MAX_OBJECTS]:
        if not isinstance(obj, dict):
            odd.append(clip(str(obj)))
            continue
        kind = _text(obj.get("type")).rsplit(":", 1)[-1]
        if kind == "Device":
            devices.append(_device(obj))
        elif kind == "Node":
            nodes.append(_node(obj))
        elif kind == "Link":
            links.append(_link(obj))
        elif kind == "Metadata":
            name = _text(_dict(_dict(obj.get("props"))).get("metadata.name")) or _text(
                _dict(_dict(obj.get("info")).get("props")).get("metadata.name")
            )
            meta.setdefault(name, {}).update(_metadata(obj))
        elif kind == "Core" and version is None:
            version = _text(_dict(obj.get("info")).get("version")) or None
    defaults = meta.get("default", {})
    settings = {k: _text(v) for k, v in meta.get("settings", {}).items()}
    return Parsed(
        PwGraph(
            version=version,
            devices=tuple(devices),
            nodes=tuple(nodes),
            links=tuple(links),
            default_sink=_default_name(defaults.get("default.audio.sink")),
            default_source=_default_name(defaults.get("default.audio.source")),
            settings=settings,
        ),
        tuple(odd),
    )


_METADATA_LINE = compiled_later(r"^update: id:(\d+) key:'([^']*)' value:'([^']*)'")


def parse_pw_metadata(text: str) -> Parsed[dict[str, str]]:
    """`pw-metadata -n settings` lines (`update: id:0 key:'clock.min-quantum' value:'1024'
    type:''`) -> subject 0's keys and values."""
    found: dict[str, str] = {}
    odd: list[str] = []
    for line in text.splitlines():
        m = _METADATA_LINE.match(line)
        if m:
            if m.group(1) == "0":
                found[m.group(2)] = m.group(3)
        elif line.strip() and not line.startswith("Found "):
            odd.append(clip(line))
    return Parsed(found, tuple(odd))


@dataclass(frozen=True)
class ServerPlaybackRecord:
    """The test tone played through the server (`probe/server-playback`, snddiag --play)."""

    status: str
    device: str | None
    rate_hz: int | None
    format: str | None
    channels: int | None
    frames_written: int | None
    frames_consumed: int | None
    measured_rate_hz: float | None
    xruns: int | None
    server_errors: int | None
    reason: str | None
    elapsed_s: float | None


def _field(raw: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        return None
    return value


def parse_server_playback(text: str) -> Parsed[ServerPlaybackRecord | None]:
    """snddiag's own JSON record of the test through the server (collect/server_play.py):
    every value checked for its type (a bundle may come from anywhere), a wrong one reads as
    None; no record without a known status."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        return Parsed(None, (clip(text[:200]),))
    if not isinstance(raw, dict) or raw.get("status") not in ("ok", "failed", "not_run"):
        return Parsed(None, (clip(text[:200]),))
    rate = _field(raw, "measured_rate_hz", (int, float))
    elapsed = _field(raw, "elapsed_s", (int, float))
    return Parsed(
        ServerPlaybackRecord(
            status=raw["status"],
            device=_field(raw, "device", str),
            rate_hz=_field(raw, "rate_hz", int),
            format=_field(raw, "format", str),
            channels=_field(raw, "channels", int),
            frames_written=_field(raw, "frames_written", int),
            frames_consumed=_field(raw, "frames_consumed", int),
            measured_rate_hz=float(rate) if rate is not None else None,
            xruns=_field(raw, "xruns", int),
            server_errors=_field(raw, "server_errors", int),
            reason=_field(raw, "reason", str),
            elapsed_s=float(elapsed) if elapsed is not None else None,
        )
    )
