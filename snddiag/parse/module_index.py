"""The module tree's indexes: `modules.dep`, `modules.builtin`."""

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
