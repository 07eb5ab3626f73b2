"""`pactl info` (PulseAudio 16's client, against PulseAudio or pipewire-pulse).

Layout: `Key: value` lines (`Server Name: PulseAudio (on PipeWire 1.4.2)`, `Default Sink:
alsa_output...`). pactl's JSON output has no `info` before PulseAudio 17, so the text is read.
"""

from __future__ import annotations

from snddiag.parse import Parsed, clip
from snddiag.records import dataclass


@dataclass(frozen=True)
class PulseInfo:
    server_name: str
    server_version: str
    default_sink: str | None
    default_source: str | None

    @property
    def on_pipewire(self) -> bool:
        return "PipeWire" in self.server_name


def parse_pactl_info(text: str) -> Parsed[PulseInfo | None]:
    """`pactl info` -> the server's name and version and its defaults; None without a server
    name (pactl printed an error, or nothing)."""
    fields: dict[str, str] = {}
    odd: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith(" "):
            fields[key.strip()] = value.strip()
        elif line.strip():
            odd.append(clip(line))
    name = fields.get("Server Name")
    if not name:
        return Parsed(None, tuple(odd))
    return Parsed(
        PulseInfo(
            server_name=name,
            server_version=fields.get("Server Version", ""),
            default_sink=fields.get("Default Sink") or None,
            default_source=fields.get("Default Source") or None,
        ),
        tuple(odd),
    )
