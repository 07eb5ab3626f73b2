"""The module tree's indexes: `modules.dep`, `modules.builtin`, `modules.alias`."""

from __future__ import annotations

from snddiag.parse import Parsed, lines_of


def module_name(path: str) -> str:
    """`kernel/sound/virtio/virtio_snd.ko.xz` -> `virtio_snd` (kmod treats - and _ alike)."""
    base = path.rsplit("/", 1)[-1]
    stem = base.split(".ko", 1)[0]
    return stem.replace("-", "_")


def parse_modules_dep(text: str) -> Parsed[dict[str, str]]:
    """`kernel/sound/virtio/virtio_snd.ko.xz: kernel/sound/core/snd-pcm.ko.xz ...` -> name: path."""
    found: dict[str, str] = {}
    odd: list[str] = []
    for line in lines_of(text):
        path, sep, _deps = line.partition(":")
        if not sep or ".ko" not in path:
            if line.strip():
                odd.append(line)
            continue
        found[module_name(path.strip())] = path.strip()
    return Parsed(found, tuple(odd))


def parse_modules_builtin(text: str) -> Parsed[frozenset[str]]:
    names = {module_name(line.strip()) for line in lines_of(text) if ".ko" in line}
    return Parsed(frozenset(names))


def parse_modules_alias(text: str) -> Parsed[dict[str, tuple[str, ...]]]:
    """`alias virtio:d00000019v* virtio_snd` -> module: its aliases."""
    aliases: dict[str, list[str]] = {}
    odd: list[str] = []
    for line in lines_of(text):
        cols = line.split()
        if len(cols) == 3 and cols[0] == "alias":
            aliases.setdefault(cols[2].replace("-", "_"), []).append(cols[1])
        elif line.strip() and not line.startswith("#"):
            odd.append(line)
    return Parsed({k: tuple(v) for k, v in aliases.items()}, tuple(odd))
