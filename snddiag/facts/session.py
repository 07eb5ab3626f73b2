"""The user's session: which sound server runs for it, and what that server makes of the card.

A guest may hold several sessions (`/run/user/UID`); the facts describe one: the first with a
sound server running, else the first. A run that is not root sees only its own session.
"""

from __future__ import annotations

import json
from typing import Any

from snddiag import records
from snddiag.collect.libraries import PROCESSES_KEY
from snddiag.collect.plan import SERVER_PLAYBACK_KEY
from snddiag.collect.session import SESSION_KEYS, SESSIONS_KEY, session_key
from snddiag.evidence import Evidence, Status
from snddiag.facts.alsa import VIRTIO_CARD_DRIVER, Alsa
from snddiag.facts.docs import NEVER_NONE, fact
from snddiag.parse.alsa import Card
from snddiag.parse.asound_conf import parse_asound_defaults
from snddiag.parse.pactl import PulseInfo, parse_pactl_info
from snddiag.parse.pipewire import (
    VIRTIO_ALSA_DRIVER,
    PwDevice,
    PwGraph,
    PwLink,
    PwNode,
    parse_pw_dump,
    parse_pw_metadata,
    parse_server_playback,
)
from snddiag.records import dataclass

SOURCES: dict[str, tuple[str, ...]] = {
    "session": (*SESSION_KEYS, PROCESSES_KEY, "etc/asound.conf"),
    "session.server_playback": (SERVER_PLAYBACK_KEY,),
}
NO_SESSION = "no user session with a runtime directory was seen"
NO_GRAPH = "PipeWire does not run for the session, or did not answer"
NO_VIRTIO = "no PipeWire graph, or no virtio card"
# A link in one of these has not carried a buffer yet; `paused` and `active` have.
LINK_NOT_GOING = frozenset({"init", "negotiating", "allocating", "error"})
# PipeWire raises clock.min-quantum to this when its DMI table names a VM.
VM_MIN_QUANTUM = 1024


def _fact(meaning: str, unread: str) -> Any:
    return fact(meaning, unread, default=None)


NOT_PLAYED = "not played through the server (no --play, or no session server with a virtio sink)"


@dataclass(frozen=True)
class ServerPlayback:
    status: str | None = _fact("ok, failed or not_run", NOT_PLAYED)
    reason: str | None = _fact("why it failed or did not run", "it worked, or it was not played")
    device: str | None = _fact("the sink played into (a PipeWire node name)", NOT_PLAYED)
    rate_hz: int | None = _fact("the stream's rate", NOT_PLAYED)
    format: str | None = _fact("the stream's sample format", NOT_PLAYED)
    channels: int | None = _fact("the stream's channel count", NOT_PLAYED)
    frames_written: int | None = _fact("frames the server took from snddiag", NOT_PLAYED)
    frames_consumed: int | None = _fact(
        "frames the device consumed (not known through the server)", "always, today"
    )
    measured_rate_hz: float | None = _fact(
        "the stream's measured rate (not known through the server)", "always, today"
    )
    xruns: int | None = _fact(
        "the server's error (xrun) counter for the sink during the test (pw-top's ERR)",
        "not played, or pw-top did not show the sink",
    )
    server_errors: int | None = _fact("the same counter, under the server's name", NOT_PLAYED)
    elapsed_s: float | None = _fact("how long the stream took from start to drained", NOT_PLAYED)


@dataclass(frozen=True)
class Session:
    scope: str | None = _fact(
        "whose sessions were read: `all` (root) or `own` (only the running user's)",
        "the sessions were not looked for (an offline snapshot without them)",
    )
    count: int | None = _fact("how many sessions (runtime directories /run/user/UID)", NO_SESSION)
    user: str | None = _fact("the session's user", NO_SESSION)
    uid: int | None = _fact("the session's uid", NO_SESSION)
    asked: bool | None = _fact(
        "the session's servers were asked (root, or the run's own session)", NO_SESSION
    )
    servers: tuple[str, ...] | None = _fact(
        "sound servers running as the session's user (pipewire, wireplumber, pipewire-pulse, "
        "pulseaudio)",
        "no session, or the process list could not be read",
    )
    server_running: bool | None = _fact(
        "PipeWire or PulseAudio runs for the session", "no session, or no process list"
    )
    servers_compete: bool | None = _fact(
        "PulseAudio and pipewire-pulse both run for the session (one holds the socket, the "
        "other the card or nothing)",
        "no session, or no process list",
    )
    pulse_missing: bool | None = _fact(
        "PipeWire runs for the session but neither pipewire-pulse nor PulseAudio does",
        "no session, or no process list",
    )
    wireplumber_missing: bool | None = _fact(
        "PipeWire runs for the session without WirePlumber (no session manager: no devices)",
        "no session, or no process list",
    )
    pipewire_answer: str | None = _fact(
        "how PipeWire answered pw-dump: `ok`, `timeout` (hung), `failed`; `not-running` (no "
        "PipeWire process, so not asked), `not-asked` (another user's session, without root)",
        "no session",
    )
    pipewire_error: str | None = _fact("pw-dump's complaint when it did not answer", "it answered")
    pipewire_version: str | None = _fact("PipeWire's version (its core)", NO_GRAPH)
    pulse_answer: str | None = _fact(
        "how the PulseAudio socket answered pactl info: `ok`, `timeout`, `failed`",
        "no PulseAudio socket in the session, or not asked",
    )
    pulse_server: str | None = _fact(
        "the server behind the PulseAudio socket (`PulseAudio (on PipeWire 1.4.2)`, `pulseaudio`)",
        "no PulseAudio socket, or it did not answer",
    )
    virtio_device: bool | None = _fact("PipeWire has a device for the virtio card", NO_VIRTIO)
    virtio_device_id: int | None = _fact("that device's PipeWire id", "no such device")
    virtio_profile: str | None = _fact(
        "the active profile of the virtio card's PipeWire device (`off`, `pro-audio`, "
        "`output:stereo-fallback+input:stereo-fallback` ...)",
        "no such device",
    )
    virtio_profile_off: bool | None = _fact("that profile is `off`", "no such device")
    virtio_profile_output_only: bool | None = _fact(
        "the card has a sink but no source in the session while it has a capture stream",
        "no such device, or the card's streams unknown",
    )
    virtio_duplex_profile: str | None = _fact(
        "the first offered profile with both a sink and a source", "no such device or profile"
    )
    virtio_sink: bool | None = _fact("a PipeWire sink node is on the virtio card", NO_VIRTIO)
    virtio_source: bool | None = _fact("a PipeWire source node is on the virtio card", NO_VIRTIO)
    virtio_sink_name: str | None = _fact("that sink's node name", "no virtio sink")
    virtio_sink_state: str | None = _fact(
        "that sink's state (`suspended`, `idle`, `running`, `error`)", "no virtio sink"
    )
    virtio_sink_stalled_links: int | None = _fact(
        "links from streams into the virtio sink that never got going (`init`, `negotiating`, "
        "`allocating`, `error`) while the sink is suspended or in error: the streams wait on a "
        "sink PipeWire could not start",
        "no virtio sink",
    )
    alsa_sinks: int | None = _fact("PipeWire's sinks on any ALSA card", NO_GRAPH)
    default_sink: str | None = _fact(
        "the default sink's node name (PipeWire's `default` metadata, else pactl's)",
        "no server answered, or no default",
    )
    default_source: str | None = _fact("the default source's node name", "no default source")
    default_sink_is_virtio: bool | None = _fact(
        "the default sink is on the virtio card", "no default sink, or no virtio card"
    )
    default_source_is_virtio: bool | None = _fact(
        "the default source is on the virtio card", "no default source, or no virtio card"
    )
    min_quantum: int | None = _fact(
        "PipeWire's clock.min-quantum (settings metadata, else pw-metadata)", NO_GRAPH
    )
    nodes_in_error: tuple[str, ...] | None = _fact(
        "nodes in the error state, as `NAME: MESSAGE`", NO_GRAPH
    )
    asound_default_card: str | None = _fact(
        "the card ALSA's default PCM names in ~/.asoundrc or /etc/asound.conf (the user's file "
        "wins)",
        "no such setting, or the files could not be read",
    )
    asound_default_file: str | None = _fact(
        "the file that sets it (`~/.asoundrc`, `/etc/asound.conf`) and its line", "no setting"
    )
    asound_default_card_exists: bool | None = _fact(
        "that card exists", "no setting, or the cards could not be read"
    )
    asound_default_card_is_virtio: bool | None = _fact(
        "that card is the virtio card", "no setting, or the card does not exist"
    )
    server_playback: ServerPlayback = fact(
        "the data-path test through the session's server (snddiag --play)",
        NEVER_NONE,
        default_factory=ServerPlayback,
    )
    notes: tuple[str, ...] = fact(
        "what the session's evidence could not show (other users' sessions without root)",
        NEVER_NONE,
        default=(),
    )


def _load(evidence: Evidence, key: str) -> Any:
    text = evidence.text(key)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _pick(summary: dict[str, Any], processes: list[dict[str, Any]] | None) -> dict[str, Any]:
    sessions = [s for s in summary.get("sessions", ()) if isinstance(s, dict)]
    running = {str(p.get("user")) for p in processes or () if isinstance(p, dict)}
    for s in sessions:
        if s.get("asked") and str(s.get("user")) in running:
            return s
    for s in sessions:
        if s.get("asked"):
            return s
    return sessions[0] if sessions else {}


def _answer(evidence: Evidence, key: str) -> tuple[str | None, str | None]:
    entry = evidence.get(key)
    if entry is None:
        return None, None
    if entry.ok:
        return "ok", None
    if entry.status is Status.TIMEOUT:
        return "timeout", f"no answer within {entry.duration_s:.0f} s"
    return "failed", (entry.stderr.strip().splitlines() or [entry.status.value])[-1][:300]


def _is_virtio(item: PwDevice | PwNode, virtio_index: int | None) -> bool:
    if item.alsa_driver:
        return item.alsa_driver == VIRTIO_ALSA_DRIVER
    return virtio_index is not None and item.alsa_card == virtio_index


def _node_on(nodes: tuple[PwNode, ...], name: str | None) -> PwNode | None:
    return next((n for n in nodes if n.name == name), None) if name else None


def _duplex(device: PwDevice) -> str | None:
    return next(
        (p for p in device.profiles if "output" in p and "input" in p),
        "pro-audio" if "pro-audio" in device.profiles else None,
    )


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def _asound_default(
    evidence: Evidence, uid: int | None, cards: tuple[Card, ...] | None
) -> dict[str, Any]:
    files = []
    if uid is not None:
        files.append(("~/.asoundrc", evidence.text(session_key(uid, "asoundrc"))))
    files.append(("/etc/asound.conf", evidence.text("etc/asound.conf")))
    for label, text in files:
        if text is None:
            continue
        pcm = [d for d in parse_asound_defaults(text).value if d.kind == "pcm" and d.card]
        if not pcm:
            continue
        card = pcm[-1].card
        known = (
            None
            if cards is None
            else next((c for c in cards if card in (str(c.index), c.card_id)), None)
        )
        return {
            "asound_default_card": card,
            "asound_default_file": f"{label}: {pcm[-1].source}",
            "asound_default_card_exists": None if cards is None else known is not None,
            "asound_default_card_is_virtio": known.driver == VIRTIO_CARD_DRIVER if known else None,
        }
    return {}


def _stalled_links(links: tuple[PwLink, ...], sink: PwNode) -> int:
    # WirePlumber 0.5 suspends a node that fell into `error` at once, so a sink that cannot
    # start shows as suspended with its streams' links stuck short of `paused`.
    if sink.state not in ("suspended", "error"):
        return 0
    return sum(link.input_node == sink.id and link.state in LINK_NOT_GOING for link in links)


def _pipewire(graph: PwGraph, alsa: Alsa, settings: dict[str, str]) -> dict[str, Any]:
    index = alsa.virtio_card_index
    virtio_devices = [d for d in graph.devices if _is_virtio(d, index)] if alsa.virtio_card else []
    alsa_nodes = [n for n in graph.nodes if n.alsa_driver or n.alsa_card is not None]
    virtio_nodes = [n for n in alsa_nodes if _is_virtio(n, index)] if alsa.virtio_card else []
    sinks = [n for n in virtio_nodes if n.media_class == "Audio/Sink"]
    sources = [n for n in virtio_nodes if n.media_class == "Audio/Source"]
    found: dict[str, Any] = {
        "pipewire_version": graph.version,
        "alsa_sinks": sum(n.media_class == "Audio/Sink" for n in alsa_nodes),
        "min_quantum": _int(graph.settings.get("clock.min-quantum"))
        or _int(settings.get("clock.min-quantum")),
        "nodes_in_error": tuple(
            f"{n.name or n.id}: {n.error or 'error'}" for n in graph.nodes if n.state == "error"
        ),
        "default_sink": graph.default_sink,
        "default_source": graph.default_source,
    }
    if not alsa.virtio_card:
        return found
    device = virtio_devices[0] if virtio_devices else None
    found.update(
        virtio_device=device is not None,
        virtio_sink=bool(sinks),
        virtio_source=bool(sources),
        virtio_sink_name=sinks[0].name if sinks else None,
        virtio_sink_state=sinks[0].state or None if sinks else None,
        virtio_sink_stalled_links=_stalled_links(graph.links, sinks[0]) if sinks else None,
    )
    if device is not None:
        # The nodes are what the session can use; a device without nodes is off whatever its
        # Profile param still says (it lagged behind wpctl set-profile in the lab).
        off = device.profile == "off" or not (sinks or sources)
        capture = alsa.virtio_capture_streams
        found.update(
            virtio_device_id=device.id,
            virtio_profile="off" if off else device.profile,
            virtio_profile_off=off,
            virtio_profile_output_only=None
            if capture is None
            else bool(sinks) and not sources and capture > 0,
            virtio_duplex_profile=_duplex(device),
        )
    return found


def _defaults_on_virtio(
    found: dict[str, Any], nodes: tuple[PwNode, ...], index: int | None
) -> None:
    for which in ("sink", "source"):
        node = _node_on(nodes, found.get(f"default_{which}"))
        if node is not None:
            found[f"default_{which}_is_virtio"] = _is_virtio(node, index)
        elif found.get(f"default_{which}") is not None and nodes:
            found[f"default_{which}_is_virtio"] = False


def _server_playback(evidence: Evidence) -> ServerPlayback:
    text = evidence.text(SERVER_PLAYBACK_KEY)
    record = parse_server_playback(text).value if text is not None else None
    if record is None:
        return ServerPlayback()
    return ServerPlayback(**records.asdict(record))


def build_session(evidence: Evidence, alsa: Alsa) -> Session:
    entry = evidence.get(SESSIONS_KEY)
    if entry is not None and entry.status is Status.MISSING:
        return Session(count=0)  # no /run/user: nobody is logged in
    summary = _load(evidence, SESSIONS_KEY)
    if not isinstance(summary, dict):
        return Session()
    processes = _load(evidence, PROCESSES_KEY)
    processes = processes if isinstance(processes, list) else None
    sessions = [s for s in summary.get("sessions", ()) if isinstance(s, dict)]
    scope = str(summary.get("scope")) if summary.get("scope") else None
    notes = (
        ("Only the running user's own session was read: run as root to see every user's.",)
        if scope == "own"
        else ()
    )
    base: dict[str, Any] = {
        "scope": scope,
        "count": len(sessions),
        "notes": notes,
        "server_playback": _server_playback(evidence),
    }
    chosen = _pick(summary, processes)
    if not chosen:
        return Session(**base)
    uid = chosen.get("uid") if isinstance(chosen.get("uid"), int) else None
    user = str(chosen["user"]) if chosen.get("user") else None
    found: dict[str, Any] = {**base, "user": user, "uid": uid, "asked": bool(chosen.get("asked"))}
    found.update(_asound_default(evidence, uid, alsa.cards))
    if processes is not None and user is not None:
        mine = tuple(sorted({str(p.get("name")) for p in processes if p.get("user") == user}))
        found.update(
            servers=mine,
            server_running="pipewire" in mine or "pulseaudio" in mine,
            servers_compete="pulseaudio" in mine and "pipewire-pulse" in mine,
            pulse_missing="pipewire" in mine
            and "pipewire-pulse" not in mine
            and "pulseaudio" not in mine,
            wireplumber_missing="pipewire" in mine and "wireplumber" not in mine,
        )
    if uid is None:
        return Session(**found)
    answer, error = _answer(evidence, session_key(uid, "pw-dump"))
    if answer is None and evidence.get(SESSIONS_KEY) is not None:
        answer = "not-running" if found["asked"] else "not-asked"
    found.update(pipewire_answer=answer, pipewire_error=error)
    pulse_answer, _ = _answer(evidence, session_key(uid, "pactl-info"))
    found["pulse_answer"] = pulse_answer
    pulse: PulseInfo | None = None
    pactl_text = evidence.text(session_key(uid, "pactl-info"))
    if pulse_answer == "ok" and pactl_text is not None:
        pulse = parse_pactl_info(pactl_text).value
        if pulse is not None:
            found["pulse_server"] = pulse.server_name
    metadata_text = evidence.text(session_key(uid, "pw-metadata-settings"))
    settings = parse_pw_metadata(metadata_text).value if metadata_text else {}
    dump = evidence.text(session_key(uid, "pw-dump"))
    graph = parse_pw_dump(dump).value if answer == "ok" and dump is not None else None
    if graph is not None:
        found.update(_pipewire(graph, alsa, settings))
        _defaults_on_virtio(found, graph.nodes, alsa.virtio_card_index)
    elif pulse is not None:
        found.update(default_sink=pulse.default_sink, default_source=pulse.default_source)
    return Session(**found)
