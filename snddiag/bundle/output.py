"""Where `collect -o PATH` writes, without ever replacing what is not a regular file.

- a new path or a regular file: a temporary file beside it (mode 0600, made through a handle on
  the folder: snddiag.handles), renamed over it when complete, so PATH is whole or untouched;
- a character device (`/dev/null`), a FIFO, or a pipe named by `/dev/fd/N` or `/dev/stdout`
  (bash's `>(cmd)`): written through as a stream; the node stays what it was;
- anything else (a directory, a block device, a socket, a symbolic link to a regular file or to
  nothing, a terminal): refused in one line. A link to a regular file is refused rather than
  followed, so a link planted in /tmp cannot make root overwrite the file it points to.

Failures are OutputError with a sysexits code: 73 when the output cannot be created, 74 when
writing it failed (ENOSPC as on /dev/full, EIO, a reader that went away).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

from snddiag.collect.tree import describe
from snddiag.handles import create_temporary, open_parent
from snddiag.report import ExitCode

# What goes wrong while bytes are written, rather than when the output is created.
_IO_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EPIPE, errno.EFBIG})


class OutputError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def code_for(err: OSError) -> ExitCode:
    """74 (EX_IOERR) for a failed write, 73 (EX_CANTCREAT) for everything else."""
    return ExitCode.IO_ERROR if err.errno in _IO_ERRNOS else ExitCode.CANNOT_CREATE


def _failure(path: Path, err: OSError, code: int) -> OutputError:
    return OutputError(f"cannot write {path}: {err.strerror or err}", code)


def _refusal(path: Path, what: str) -> OutputError:
    return OutputError(f"cannot write {path}: {what}", ExitCode.CANNOT_CREATE)


def write_output(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write` with a binary stream that ends up at path; OutputError when it cannot."""
    try:
        here = os.lstat(path)
    except FileNotFoundError:
        _write_atomically(path, write)
        return
    except OSError as err:
        raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
    if stat.S_ISREG(here.st_mode):
        _write_atomically(path, write)
        return
    try:
        there = os.stat(path)  # /dev/stdout and /dev/fd/N are links to what they stand for
    except OSError as err:
        raise _refusal(path, "it is a symbolic link to nothing; not followed") from err
    if stat.S_ISCHR(there.st_mode) or stat.S_ISFIFO(there.st_mode):
        _write_stream(path, write)
    elif not stat.S_ISLNK(here.st_mode):
        raise _refusal(path, f"it is {describe(here.st_mode)}")
    elif stat.S_ISREG(there.st_mode):
        hint = "name the file itself, or use -o - for stdout"
        raise _refusal(path, f"it is a symbolic link to a file; not followed ({hint})")
    else:
        raise _refusal(path, f"it is a symbolic link to {describe(there.st_mode)}")


def _write_stream(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    try:
        # Blocks until a FIFO has a reader, as `cat >FIFO` does; O_NOCTTY: never adopt a tty.
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
    try:
        with os.fdopen(fd, "wb") as out:
            mode = os.fstat(fd).st_mode
            if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):  # swapped since the stat
                raise _refusal(path, f"it is {describe(mode)}")
            if out.isatty():
                raise OutputError(
                    f"refusing to write a binary bundle to the terminal {path}", ExitCode.USAGE
                )
            write(out)
            out.flush()
    except OSError as err:
        raise _failure(path, err, ExitCode.IO_ERROR) from err


def _write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """The file appears whole under its name, mode 0600, or the old one stays. The folder is
    opened once (snddiag.handles: no link someone else owns on the way); the temporary file is
    made and renamed relative to that handle, so a folder swapped meanwhile changes nothing."""
    try:
        folder, name = open_parent(path)
    except OSError as err:
        raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
    try:
        try:
            fd, tmp = create_temporary(folder, name)
        except OSError as err:
            raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    write(out)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as err:
                raise _failure(path, err, ExitCode.IO_ERROR) from err
            _replace(folder, tmp, name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=folder)
            raise
        with contextlib.suppress(OSError):
            os.fsync(folder)
    finally:
        os.close(folder)


def _replace(folder: int, tmp: str, name: str, path: Path) -> None:
    try:
        here = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        here = None
    except OSError as err:
        raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
    if here is not None and not stat.S_ISREG(here.st_mode):  # appeared while we wrote
        raise _refusal(path, f"it is {describe(here.st_mode)}")
    try:
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as err:
        raise _failure(path, err, ExitCode.CANNOT_CREATE) from err
