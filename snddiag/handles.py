"""Files created and read through directory handles, so that no link planted meanwhile is followed.

A path checked and then used is two lookups: between them, anyone who may write to a folder on
the way can swap a component for a symbolic link, and root would write (or read) where it
points. Here a path is walked once, one component at a time, each opened relative to the
directory before it with O_NOFOLLOW; everything afterwards is created or opened relative to the
handles so obtained, with O_EXCL for what is new.

- Writing (`collect --dir`, `-o`'s temporary file): a link on the way to the target is followed
  only when root or the caller owns it (as the kernel's protected_symlinks does in sticky
  folders: /var/run -> /run, /tmp on macOS); the target directory is made here, mode 0700, or
  is an empty one the caller owns that nobody else may write to.
- Reading a snapshot directory: every component below its root must be a directory or, last, a
  regular file; a link anywhere is refused, and nothing is opened that might block (O_NONBLOCK,
  then fstat).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
_MAX_LINKS = 40  # the kernel's MAXSYMLINKS


class UnsafePathError(OSError):
    """A path that cannot be used safely: a link someone else owns, a folder others may write."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(errno.EPERM, reason, str(path))


def _trusted_owner(uid: int) -> bool:
    return uid in (0, os.geteuid())


def _walk(path: Path, *, create: bool) -> int:
    """A handle on the directory `path` names, walked component by component (see above);
    with `create`, missing folders are made (mode 0777 less the umask, as mkdir -p)."""
    pending = [p for p in str(path).split("/") if p not in ("", ".")][::-1]
    fd = os.open("/" if str(path).startswith("/") else ".", _DIR)
    links = 0
    try:
        while pending:
            name = pending.pop()
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):  # made meanwhile: looked at below
                    os.mkdir(name, 0o777, dir_fd=fd)
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
                if not _trusted_owner(info.st_uid):
                    raise UnsafePathError(
                        path, f"{name} is a symbolic link owned by uid {info.st_uid}; not followed"
                    )
                target = os.readlink(name, dir_fd=fd)
                if target.startswith("/"):
                    os.close(fd)
                    fd = os.open("/", _DIR)
                pending.extend([p for p in target.split("/") if p not in ("", ".")][::-1])
                continue
            following = os.open(name, _DIR, dir_fd=fd)
            os.close(fd)
            fd = following
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_parent(path: Path, *, create: bool = False) -> tuple[int, str]:
    """(a handle on the folder holding path's last component, that component's name)."""
    name = path.name
    if name in ("", ".", ".."):
        raise UnsafePathError(path, "it names no file in a folder")
    return _walk(path.parent, create=create), name


def _private(fd: int, path: object) -> None:
    """Refuse a directory the caller does not own, or that others may write to."""
    info = os.fstat(fd)
    if info.st_uid != os.geteuid():
        raise UnsafePathError(path, f"it belongs to uid {info.st_uid}, not to this user")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafePathError(path, "others may write to it; give a new directory")


def new_directory(path: Path) -> int:
    """A handle on the directory `path`: made here (0700, missing parents too), or an empty one
    the caller owns that nobody else may write to. OSError (FileExistsError when it holds
    anything, UnsafePathError...) otherwise."""
    parent, name = open_parent(path, create=True)
    try:
        made = True
        try:
            os.mkdir(name, PRIVATE_DIR, dir_fd=parent)
        except FileExistsError:
            made = False
        fd = os.open(name, _DIR, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        _private(fd, path)
        if made:
            os.fchmod(fd, PRIVATE_DIR)  # whatever the umask: it may hold root's kernel log
        elif os.listdir(fd):
            raise FileExistsError(errno.EEXIST, "exists and is not empty", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def subdirectory(parent: int, name: str) -> int:
    """A handle on the folder `name` in `parent`, made 0700 when missing (a directory only)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, PRIVATE_DIR, dir_fd=parent)
    fd = os.open(name, _DIR, dir_fd=parent)
    try:
        _private(fd, name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_file(parent: int, name: str) -> int:
    """A new file `name` in `parent` (never through a link or into what exists), mode 0600."""
    fd = os.open(name, _NEW, PRIVATE_FILE, dir_fd=parent)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def write_new_file(parent: int, name: str, data: bytes) -> None:
    with os.fdopen(create_file(parent, name), "wb") as out:
        out.write(data)


def create_temporary(parent: int, stem: str) -> tuple[int, str]:
    """A new 0600 file in `parent` with a random name starting `.stem.`: (its fd, its name)."""
    for _attempt in range(100):
        name = f".{stem}.{secrets.token_hex(6)}.tmp"
        try:
            return create_file(parent, name), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", stem)


@contextlib.contextmanager
def directory_handle(path: Path) -> Iterator[int]:
    """A handle on the directory path names, as the user named it (links followed)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def open_beneath(root: int, rel: str) -> int:
    """A read-only fd on the regular file rel names below the directory handle `root`:
    every component a real directory, none a link, the last a regular file (checked after
    opening without blocking). OSError as open(2) would; ELOOP for a link, and
    UnsafePathError for a FIFO, device or socket."""
    *folders, name = rel.split("/")
    fd = root
    try:
        for folder in folders:
            following = os.open(folder, _DIR, dir_fd=fd)
            if fd != root:
                os.close(fd)
            fd = following
        seen = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(seen.st_mode):  # a device is never opened: that can have effects
            raise UnsafePathError(rel, _kind(seen.st_mode))
        opened = os.open(name, _READ, dir_fd=fd)
    finally:
        if fd != root:
            os.close(fd)
    now = os.fstat(opened)
    if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino) or not stat.S_ISREG(now.st_mode):
        os.close(opened)
        raise UnsafePathError(rel, "replaced while it was opened")
    return opened


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"
