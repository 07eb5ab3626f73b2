"""The data-path test through the session's sound server: the test tone into the virtio sink.

Only `snddiag --play` runs it, after the ALSA test, and only where a session's PipeWire has a
sink on the virtio card: `pw-cat` plays one second as the session's user into that sink, while
`pw-top` samples the server's own error (xrun) counter for it. Both are time-bounded; a server
that does not take the stream is a finding, never a hung snddiag.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from snddiag.collect.plan import SERVER_PLAYBACK_KEY
from snddiag.collect.session import SESSIONS_KEY, session_key, session_run_as
from snddiag.collect.sources import RunAs, on_path, start_command
from snddiag.collect.tone import encode, sine
from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.records import dataclass

RATE_HZ = 48000
CHANNELS = 2
FORMAT = "S16_LE"
# The stream gets this long beyond its own length to start, play and drain.
SLACK_S = 8.0


@dataclass(frozen=True)
class Target:
    """Where and as whom to play: the session's user and its virtio sink."""

    run_as: RunAs
    sink: str


def _finish(
    proc: subprocess.Popen[bytes], data: bytes | None, timeout_s: float
) -> tuple[int | None, bytes, bytes]:
    """(exit code or None when it had to be killed, stdout, stderr)."""
    try:
        out, err = proc.communicate(data, timeout=timeout_s)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err


def play_through_server(target: Target, seconds: float = 1.0) -> dict[str, Any]:
    """Play the tone into `target.sink`; the record has the ALSA playback's fields plus the
    server's error counter for the sink (`server_errors`, from pw-top's ERR column)."""
    frames = int(RATE_HZ * seconds)
    record: dict[str, Any] = {
        "status": "failed",
        "device": target.sink,
        "rate_hz": RATE_HZ,
        "format": FORMAT,
        "channels": CHANNELS,
        "frames_written": 0,
        "frames_consumed": None,
        "measured_rate_hz": None,
        "xruns": None,
        "reason": None,
        "server": "pipewire",
        "server_errors": None,
        "elapsed_s": 0.0,
    }
    if not on_path("pw-cat"):
        return {**record, "status": "not_run", "reason": "pw-cat is not installed"}
    data = encode(sine(RATE_HZ, frames), FORMAT, CHANNELS)
    argv = [
        "pw-cat", "--playback", "--raw", f"--target={target.sink}", f"--rate={RATE_HZ}",
        f"--channels={CHANNELS}", "--format=s16", "--media-role=Test", "-",
    ]  # fmt: skip
    iterations = int(seconds + SLACK_S)
    samples = str(max(2, int(seconds) + 2))
    top = (
        start_command(["pw-top", "-b", "-n", samples], target.run_as) if on_path("pw-top") else None
    )
    started = time.monotonic()
    try:
        player = start_command(argv, target.run_as, stdin=subprocess.PIPE)
    except OSError as exc:
        if top is not None:
            _finish(top, None, 1.0)
        return {**record, "reason": f"pw-cat could not start: {exc}"}
    code, _out, said = _finish(player, data, seconds + SLACK_S)
    elapsed = time.monotonic() - started
    errors = None
    if top is not None:
        _code, top_out, _top_err = _finish(top, None, float(iterations))
        errors = pw_top_errors(top_out.decode("utf-8", errors="replace"), target.sink)
    record.update(elapsed_s=round(elapsed, 3), server_errors=errors, xruns=errors)
    if code is None:
        return {
            **record,
            "reason": f"the server did not take the stream within {seconds + SLACK_S:.0f} s",
        }
    if code != 0:
        lines = said.decode("utf-8", errors="replace").strip().splitlines()
        return {**record, "reason": f"pw-cat exited {code}: {lines[-1][:200] if lines else ''}"}
    return {**record, "status": "ok", "frames_written": frames}


def pw_top_errors(text: str, node: str) -> int | None:
    """The largest ERR value `pw-top -b` printed for `node` (its last column is the name)."""
    column: int | None = None
    found: int | None = None
    for line in text.splitlines():
        fields = line.split()
        if "ERR" in fields and "NAME" in fields:
            column = fields.index("ERR")
            continue
        if column is None or len(fields) <= column or fields[-1] != node:
            continue
        value = fields[column]
        if value.isdigit():
            found = max(found or 0, int(value))
    return found


def _virtio_sink(dump: str) -> str | None:
    """The name of the first sink on a virtio_snd card in a pw-dump document. The parser and
    the facts come after collection, so this one lookup is done here."""
    try:
        objects = json.loads(dump)
    except (ValueError, RecursionError):
        return None
    for obj in objects if isinstance(objects, list) else ():
        info = obj.get("info") if isinstance(obj, dict) else None
        props = info.get("props") if isinstance(info, dict) else None
        if (
            isinstance(props, dict)
            and props.get("media.class") == "Audio/Sink"
            and props.get("alsa.driver_name") == "virtio_snd"
            and isinstance(props.get("node.name"), str)
        ):
            return str(props["node.name"])
    return None


def _target(evidence: Evidence) -> Target | None:
    """The first session this run asked whose PipeWire has a virtio sink."""
    text = evidence.text(SESSIONS_KEY)
    try:
        summary = json.loads(text) if text else {}
    except ValueError:
        return None
    sessions = summary.get("sessions") if isinstance(summary, dict) else None
    for session in sessions if isinstance(sessions, list) else ():
        uid = session.get("uid") if isinstance(session, dict) else None
        if not isinstance(uid, int) or not session.get("asked"):
            continue
        entry = evidence.get(session_key(uid, "pw-dump"))
        sink = _virtio_sink(entry.text) if entry is not None and entry.ok else None
        run_as = session_run_as(uid)
        if sink and run_as is not None:
            return Target(run_as=run_as, sink=sink)
    return None


def read_server_playback(evidence: Evidence, seconds: float = 1.0) -> Entry | None:
    """The test through the server as evidence, or None where no session's server has a
    virtio sink (nothing to play through)."""
    target = _target(evidence)
    if target is None:
        return None
    started = time.monotonic()
    record = play_through_server(target, seconds)
    data = json.dumps(record, indent=1, sort_keys=True).encode()
    return Entry(
        SERVER_PLAYBACK_KEY, Kind.FILE, Status.OK, data=data, duration_s=time.monotonic() - started
    )
