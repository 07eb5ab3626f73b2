"""Loaded modules: `/proc/modules`, and `lsmod` as printed by kmod or busybox."""

from __future__ import annotations

from dataclasses import dataclass

from snddiag.parse import Parsed


@dataclass(frozen=True)
class LoadedModule:
    name: str
    size_bytes: int
    state: str = ""


def parse_proc_modules(text: str) -> Parsed[dict[str, LoadedModule]]:
    """`/proc/modules`: `virtio_snd 45056 0 - Live 0x0000000000000000`."""
    mods: dict[str, LoadedModule] = {}
    odd: list[str] = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 5 or not cols[1].isdigit():
            if line.strip():
                odd.append(line)
            continue
        mods[cols[0]] = LoadedModule(cols[0], int(cols[1]), cols[4])
    return Parsed(mods, tuple(odd))


def parse_lsmod(text: str) -> Parsed[dict[str, LoadedModule]]:
    """`lsmod`: kmod prints `Module Size Used by`; busybox the same header or none at all."""
    mods: dict[str, LoadedModule] = {}
    odd: list[str] = []
    for line in text.splitlines():
        cols = line.split()
        if not cols or cols[0] == "Module":
            continue
        if len(cols) < 2 or not cols[1].isdigit():
            odd.append(line)
            continue
        mods[cols[0]] = LoadedModule(cols[0], int(cols[1]))
    return Parsed(mods, tuple(odd))
