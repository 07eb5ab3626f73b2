"""ALSA configuration files that choose the default device (`/etc/asound.conf`, `~/.asoundrc`).

Forms seen: `pcm.!default { type hw card 1 }`, `pcm.!default "hw:1"`, `pcm.!default
{ type plug slave.pcm "hw:1,0" }`, `ctl.!default { type hw card 1 }`, `defaults.pcm.card 1`.
Only what names a card is read; the rest of alsa-lib's language is left alone.
"""

from __future__ import annotations

from snddiag.parse import Parsed
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

_DEFINITION = compiled_later(r"(?m)^[ \t]*(pcm|ctl)\.!?default\b[ \t]*=?[ \t]*")
_DEFAULTS = compiled_later(r"(?m)^[ \t]*defaults\.(pcm|ctl)\.card[ \t]+\"?([\w-]+)\"?")
_CARD = compiled_later(r"\bcard[ \t]+\"?([\w-]+)\"?|\"?(?:plug)?hw:(?:CARD=)?([\w-]+)")
# A definition's body is read up to this many characters: bounds the scan on hostile input.
_MAX_BODY = 4096
MAX_DEFINITIONS = 256


@dataclass(frozen=True)
class DefaultDevice:
    kind: str  # pcm or ctl
    card: str | None  # an index (`1`) or a card id (`SoundCard`); None: no card named
    source: str  # the first line of the definition, for the report


def _body(text: str, start: int, stop: int) -> str:
    """The definition's text from `start`: its braced block, or the rest of its line; never past
    `stop` (where the next definition starts), so that all bodies together are read once."""
    if text.startswith("{", start):
        depth = 0
        end = min(stop, start + _MAX_BODY)
        for i in range(start, end):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        return text[start:end]
    line_end = text.find("\n", start, stop)
    return text[start : line_end if line_end >= 0 else stop][:_MAX_BODY]


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def parse_asound_defaults(text: str) -> Parsed[tuple[DefaultDevice, ...]]:
    """The default PCM and control devices a configuration sets, in file order (the last of a
    kind wins in alsa-lib)."""
    text = _strip_comments(text)
    found: list[tuple[int, DefaultDevice]] = []
    definitions = list(_DEFINITION.finditer(text))
    stops = [d.start() for d in definitions[1:]] + [len(text)]
    # alsa-lib keeps the last definition of each; a real file has a handful.
    for m, stop in list(zip(definitions, stops))[-MAX_DEFINITIONS:]:
        card = _CARD.search(_body(text, m.end(), stop))
        line_end = text.find("\n", m.start(), stop)
        first = text[m.start() : line_end if line_end >= 0 else stop]
        found.append(
            (
                m.start(),
                DefaultDevice(
                    kind=m.group(1),
                    card=(card.group(1) or card.group(2)) if card else None,
                    source=first.strip()[:200],
                ),
            )
        )
    found.extend(
        (m.start(), DefaultDevice(kind=m.group(1), card=m.group(2), source=m.group(0).strip()))
        for m in _DEFAULTS.finditer(text)
    )
    return Parsed(tuple(device for _, device in sorted(found, key=lambda f: f[0])))
