"""Paths below a root resolved as a chroot would, and files opened only when they are regular.

A tree given with `--root` (a guest's disk mounted on the host, or a directory someone else
built) may hold absolute symlinks (`etc/os-release -> /usr/lib/os-release`, or `-> /etc/shadow`),
links that climb out with `..`, link loops, FIFOs, sockets and device nodes. Resolved by the
host they would make snddiag read this machine's files, block forever on a FIFO, or open one of
this machine's devices. Here every component is opened relative to the directory before it
(`openat` with `O_NOFOLLOW`), an absolute link target starts again at the root, `..` stops at the
root, and more than MAX_LINKS links fail with ELOOP as in the kernel (so do more than MAX_STEPS
components). Nothing is opened for reading before `lstat` said it is a regular file. At `/`
this is the kernel's own resolution, and there the kernel does it (`_locate_at_slash`): a live
run resolves some 240 paths below /sys, /proc and /dev, two system calls a component this way,
four or five a path that way.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import posixpath
import stat
from pathlib import Path

from snddiag.records import dataclass

MAX_LINKS = 40  # the kernel's MAXSYMLINKS
# 40 links of 4 KiB each can spell 80,000 components ("d/../d/../"): in C a blink, in Python
# most of a second per path. No real path or sysfs link comes near this many.
MAX_STEPS = 1024
_DIR = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_WHERE = os.O_PATH | os.O_CLOEXEC  # links followed: the kernel's resolution at `/`
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class NotRegularError(Exception):
    """Where a file was expected, something else is: the message says what."""


def describe(mode: int) -> str:
    """'a FIFO', 'a character device'...: what a non-regular file is, for people."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


@dataclass(frozen=True)
class Located:
    """The directory holding a path's last component (an O_PATH fd) and its lstat."""

    parent: int
    name: str
    info: os.stat_result
    path: str  # where it resolved to, inside the root: "/sys/devices/..."


def _parts(text: str) -> list[str]:
    return [p for p in text.split("/") if p not in ("", ".")]


def _loop() -> OSError:
    return OSError(errno.ELOOP, os.strerror(errno.ELOOP))


def locate(root: Path, rel: str, *, follow: bool = True) -> Located:
    """Resolve rel below root; a link as last component is followed only with `follow`.

    Raises OSError as open(2) would (ENOENT, ENOTDIR, EACCES, ELOOP). The caller closes
    `parent`.
    """
    if str(root) == "/":
        located = _locate_at_slash(rel, follow)
        if located is not None:
            return located
    return _walk(root, rel, follow)


def _locate_at_slash(rel: str, follow: bool) -> Located | None:
    """locate() below `/`, resolved by the kernel (O_PATH: nothing is opened for reading, a
    device's driver is not called); where it led, from /proc/self/fd. None when that cannot be
    trusted (no /proc, another root, the path swapped meanwhile, the root itself): the walk."""
    head, name = posixpath.split(_below_slash(rel))
    if not name or name == "..":
        return None
    # What holds the last component: the directory rel's head leads to, or with `follow`, the
    # one the whole of rel leads to (a link as last component followed).
    target = os.open(head + "/" + name if follow else head, _WHERE)
    try:
        try:
            where = os.readlink(f"/proc/self/fd/{target}")
            if follow:
                where, name = posixpath.split(where)
            parent = os.open(where, _DIR)
        except OSError:
            return None
        try:
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            expected = os.fstat(target)
            if follow:
                same = (info.st_dev, info.st_ino) == (expected.st_dev, expected.st_ino)
            else:
                held = os.fstat(parent)
                same = (held.st_dev, held.st_ino) == (expected.st_dev, expected.st_ino)
        except OSError:
            os.close(parent)
            if follow:
                return None
            raise
        if not same or not name or not where.startswith("/"):
            os.close(parent)
            return None
        return Located(parent, name, info, posixpath.join(where, name))
    finally:
        os.close(target)


def _below_slash(rel: str) -> str:
    return "/" + "/".join(_parts(rel))


def _walk(root: Path, rel: str, follow: bool) -> Located:
    """locate(), component by component, as a chroot would."""
    stack = [(os.open(root, _DIR & ~os.O_NOFOLLOW), "")]  # the root itself as the user named it
    pending = _parts(rel)[::-1]
    links = steps = 0
    kept = -1
    try:
        while pending:
            steps += 1
            if steps > MAX_STEPS:
                raise _loop()
            name = pending.pop()
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop()[0])
                continue
            top = stack[-1][0]
            info = os.stat(name, dir_fd=top, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode) and (follow or pending):
                links += 1
                if links > MAX_LINKS:
                    raise _loop()
                target = os.readlink(name, dir_fd=top)
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop()[0])
                pending.extend(_parts(target)[::-1])
            elif pending:
                stack.append((os.open(name, _DIR, dir_fd=top), name))
            else:
                kept = top
                return Located(top, name, info, _text(stack, name))
        kept = stack[-1][0]
        return Located(kept, ".", os.stat(kept), _text(stack, ""))
    finally:
        for fd, _ in stack:
            if fd != kept:
                os.close(fd)


def _text(stack: list[tuple[int, str]], name: str) -> str:
    return "/" + "/".join([n for _, n in stack[1:]] + ([name] if name else []))


def kind_of(root: Path, rel: str) -> int | None:
    """The file type bits of what rel resolves to (links followed), None when it is missing."""
    try:
        if str(root) == "/":  # the kernel's resolution is the walk's there
            return stat.S_IFMT(os.stat(_below_slash(rel)).st_mode)
        located = locate(root, rel)
    except OSError:
        return None
    os.close(located.parent)
    return stat.S_IFMT(located.info.st_mode)


def open_regular(root: Path, rel: str) -> int:
    """A read-only fd on the regular file rel resolves to.

    Anything else raises NotRegularError before it is opened (opening a device can have effects:
    a watchdog starts, a tape rewinds). O_NONBLOCK and the fstat after opening cover a file
    swapped for another between the lstat and the open.
    """
    if str(root) == "/":
        fd = _open_regular_at_slash(rel)
        if fd is not None:
            return fd
    located = locate(root, rel)
    try:
        if not stat.S_ISREG(located.info.st_mode):
            raise NotRegularError(describe(located.info.st_mode))
        fd = os.open(located.name, _READ, dir_fd=located.parent)
    finally:
        os.close(located.parent)
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
        located.info.st_dev,
        located.info.st_ino,
    ):
        os.close(fd)
        raise NotRegularError("replaced while it was opened")
    return fd


def _open_regular_at_slash(rel: str) -> int | None:
    """open_regular() below `/`: the kernel resolves rel to an O_PATH descriptor (nothing is
    opened for reading), and only a regular file's is opened again for reading through
    /proc/self/fd, which reopens that very file. None without /proc: the walk."""
    where = os.open(_below_slash(rel), _WHERE)
    try:
        info = os.fstat(where)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularError(describe(info.st_mode))
        try:
            fd = os.open(f"/proc/self/fd/{where}", _READ & ~os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
    finally:
        os.close(where)
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        raise NotRegularError("replaced while it was opened")
    return fd


def list_names(root: Path, rel: str) -> list[str]:
    """The names in the directory rel resolves to; OSError (ENOTDIR...) as listdir would."""
    if str(root) == "/":
        return os.listdir(_below_slash(rel))
    located = locate(root, rel)
    try:
        fd = os.open(located.name, _READ | os.O_DIRECTORY, dir_fd=located.parent)
    finally:
        os.close(located.parent)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def link_target(root: Path, rel: str) -> str:
    """Where the link rel leads, inside the root: "/sys/devices/..."; dangling: as far as known.

    Raises OSError when rel itself does not exist.
    """
    located = locate(root, rel, follow=False)
    try:
        target = (
            os.readlink(located.name, dir_fd=located.parent)
            if stat.S_ISLNK(located.info.st_mode)
            else ""
        )
    finally:
        os.close(located.parent)
    try:
        resolved = locate(root, rel)
    except OSError as err:
        if err.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise
        base = "/" if target.startswith("/") else posixpath.dirname(located.path)
        return posixpath.normpath(posixpath.join(base, target))
    os.close(resolved.parent)
    return resolved.path


def expand(root: Path, pattern: str) -> list[str]:
    """Relative paths below root matching a glob, sorted; links resolve inside the root.

    As glob.glob: `*` does not match a leading dot, and the last component may be a dangling
    link.
    """
    found = [""]
    for part in _parts(pattern):
        if not any(c in part for c in "*?["):
            found = [posixpath.join(base, part) for base in found]
            continue
        matched: list[str] = []
        for base in found:
            try:
                names = list_names(root, base)
            except OSError:
                continue
            hidden = part.startswith(".")
            matched += [
                posixpath.join(base, name)
                for name in names
                if fnmatch.fnmatchcase(name, part) and (hidden or not name.startswith("."))
            ]
        found = matched
    return sorted(rel for rel in found if rel and _lexists(root, rel))


def _lexists(root: Path, rel: str) -> bool:
    try:
        if str(root) == "/":
            os.lstat(_below_slash(rel))
            return True
        located = locate(root, rel, follow=False)
    except OSError:
        return False
    os.close(located.parent)
    return True


def is_host_root(root: Path) -> bool:
    """Whether root is this machine's `/`: only there is a device node the tree's own."""
    try:
        here, top = os.stat(root), os.stat("/")
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (top.st_dev, top.st_ino)
