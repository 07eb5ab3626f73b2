"""Special files built by tests: FIFOs, sockets, device nodes, and a check that they survived."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NULL = os.makedev(1, 3)
FULL = os.makedev(1, 7)


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def char_device(path: Path, rdev: int = NULL) -> Path:
    """A character device node at path (root can make one); else the host's node of that rdev.

    Without CAP_MKNOD no test can make a device node, but /dev/null and /dev/full exist on
    every Linux system, so the case is still run against a real one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, rdev)
    except PermissionError:
        return Path("/dev/full" if rdev == FULL else "/dev/null")
    return path


def device_in_tree(root: Path, rel: str, rdev: int = NULL) -> tuple[Path, str]:
    """(root, rel) of a character device: rel below root, or the host's node below `/`."""
    made = char_device(root / rel, rdev)
    return (root, rel) if made == root / rel else (Path("/"), str(made).lstrip("/"))


@contextmanager
def unix_socket(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        server.listen(1)
        yield path
    finally:
        server.close()


@dataclass(frozen=True)
class Shape:
    """What lstat says of a path: its type, device number, target, inode."""

    mode: int
    rdev: int
    ino: int
    target: str

    @classmethod
    def of(cls, path: Path) -> Shape:
        info = os.lstat(path)
        target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
        return cls(stat.S_IFMT(info.st_mode), info.st_rdev, info.st_ino, target)
