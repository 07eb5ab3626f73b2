"""Loaded modules: `/proc/modules`, and `lsmod` as printed by kmod or busybox."""

from __future__ import annotations

from snddiag.parse import Parsed, ascii_int, lines_of
from snddiag.records import dataclass


@dataclass(frozen=True)
class LoadedModule:
    name: str
    size_bytes: int
    state: str = ""


def parse_proc_modules(text: str) -> Parsed[dict[str, LoadedModule]]:
    """`/proc/modules`: `virtio_snd 45056 0 - Live 0x0000000000000000`."""
    mods: dict[str, LoadedModule] = {}
    odd: list[str] = []
    for line in lines_of(text):
        cols = line.split()
        size = ascii_int(cols[1]) if len(cols) >= 5 else None
        if size is None:
            if line.strip():
                odd.append(line)
            continue
        mods[cols[0]] = LoadedModule(cols[0], size, cols[4])
    return Parsed(mods, tuple(odd))


def parse_lsmod(text: str) -> Parsed[dict[str, LoadedModule]]:
    """`lsmod`: kmod prints `Module Size Used by`; busybox the same header or none at all."""
    mods: dict[str, LoadedModule] = {}
    odd: list[str] = []
    for line in lines_of(text):
        cols = line.split()
        if not cols or cols[0] == "Module":
            continue
        size = ascii_int(cols[1]) if len(cols) >= 2 else None
        if size is None:
            odd.append(line)
            continue
        mods[cols[0]] = LoadedModule(cols[0], size)
    return Parsed(mods, tuple(odd))
