"""Declarations of what to read, and the one runner that reads them into Evidence.

Paths are relative to a root (`/` live, a directory in tests). Nothing here writes to the
system and nothing raises for a system condition: each failure is recorded in its Entry.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Union

from snddiag.collect import tree
from snddiag.collect.tree import NotRegularError
from snddiag.evidence import Entry, Evidence, EvidenceError, Kind, NodeInfo, Status, check_key
from snddiag.records import dataclass, replace

if TYPE_CHECKING:
    import subprocess

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_COMMAND_BYTES = 8 * 1024 * 1024
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class File:
    """A file's bytes; with `keep`, only the lines matching that regex (big module indexes);
    with `tail`, a file over `max_bytes` is read from its end, whole lines only (a log whose
    newest lines, the running boot's, are last)."""

    path: str
    max_bytes: int = MAX_FILE_BYTES
    keep: str = ""
    tail: bool = False


@dataclass(frozen=True)
class Glob:
    """Every regular file matching the pattern."""

    pattern: str


@dataclass(frozen=True)
class Link:
    """The resolved target of a path (for sysfs devices: which bus and parent they sit on)."""

    path: str


@dataclass(frozen=True)
class Node:
    """A device node's owner, mode and whether the invoking user may open it."""

    pattern: str


@dataclass(frozen=True)
class Listing:
    """The names in a directory: tells "read, and empty" apart from "could not be read"."""

    path: str


@dataclass(frozen=True)
class Command:
    """A command's output. `hex_bytes`: the output holds colon-separated hex bytes (signatures,
    key ids) that look like MAC or IPv6 addresses; redaction leaves those shapes alone there."""

    name: str
    argv: tuple[str, ...]
    timeout_s: float = 10.0
    hex_bytes: bool = False

    @property
    def key(self) -> str:
        return f"cmd/{self.name}"


@dataclass(frozen=True)
class Kmsg:
    """/dev/kmsg, read without blocking: a plain read waits for new messages forever."""

    path: str = "dev/kmsg"


Source = Union[File, Glob, Link, Node, Listing, Command, Kmsg]


def _status_of(err: OSError) -> Status:
    if err.errno in (errno.ENOENT, errno.ENOTDIR):
        return Status.MISSING
    if err.errno in (errno.EACCES, errno.EPERM):
        return Status.DENIED
    return Status.FAILED


def _failed(key: str, kind: Kind, err: OSError | NotRegularError) -> Entry:
    if isinstance(err, NotRegularError):
        return Entry(key, kind, Status.FAILED, stderr=f"not a regular file: {err}")
    return Entry(key, kind, _status_of(err), stderr=err.strerror or str(err))


def _read_bounded(fd: int, limit: int) -> bytes:
    # Chunked: procfs sysctl files refuse a single read larger than the kernel will kmalloc.
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(READ_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_file(
    root: Path, rel: str, max_bytes: int = MAX_FILE_BYTES, *, tail: bool = False
) -> Entry:
    key = rel.lstrip("/")
    started = time.monotonic()
    try:
        fd = tree.open_regular(root, rel)
        try:
            size = os.fstat(fd).st_size
            skipped = size > max_bytes and tail
            if skipped:
                os.lseek(fd, size - max_bytes - 1, os.SEEK_SET)
            data = _read_bounded(fd, max_bytes + 1)
        finally:
            os.close(fd)
    except (OSError, NotRegularError) as err:
        return _failed(key, Kind.FILE, err)
    if skipped:
        # The byte before the kept part tells whether the first line is whole.
        newline = data.find(b"\n")
        data = data[newline + 1 :] if newline >= 0 else b""
    truncated = skipped or len(data) > max_bytes
    return Entry(
        key,
        Kind.FILE,
        Status.OK,
        data=data[:max_bytes],
        truncated=truncated,
        duration_s=time.monotonic() - started,
    )


def read_link(root: Path, rel: str) -> Entry:
    key = rel.lstrip("/")
    try:
        target = tree.link_target(root, rel)
    except OSError as err:
        return _failed(key, Kind.LINK, err)
    return Entry(key, Kind.LINK, Status.OK, target=target)


def read_listing(root: Path, rel: str) -> Entry:
    key = rel.strip("/")
    try:
        names = tuple(sorted(tree.list_names(root, rel)))
    except OSError as err:
        return _failed(key, Kind.DIRECTORY, err)
    return Entry(key, Kind.DIRECTORY, Status.OK, names=names)


def read_node(root: Path, rel: str) -> Entry:
    key = rel.lstrip("/")
    try:
        located = tree.locate(root, rel)
    except OSError as err:
        return _failed(key, Kind.NODE, err)
    try:
        readable = os.access(located.name, os.R_OK, dir_fd=located.parent)
        writable = os.access(located.name, os.W_OK, dir_fd=located.parent)
    finally:
        os.close(located.parent)
    info = located.info
    node = NodeInfo(
        mode=stat.S_IMODE(info.st_mode),
        uid=info.st_uid,
        gid=info.st_gid,
        is_char_device=stat.S_ISCHR(info.st_mode),
        readable=readable,
        writable=writable,
    )
    return Entry(key, Kind.NODE, Status.OK, node=node)


def _open_kmsg(root: Path, rel: str) -> int:
    """/dev/kmsg is a character device only on this machine: in a tree it would be ours."""
    try:
        return tree.open_regular(root, rel)
    except NotRegularError:
        located = tree.locate(root, rel)
        try:
            if not (stat.S_ISCHR(located.info.st_mode) and tree.is_host_root(root)):
                raise
            return os.open(located.name, os.O_RDONLY | os.O_NONBLOCK, dir_fd=located.parent)
        finally:
            os.close(located.parent)


def read_kmsg(root: Path, rel: str) -> Entry:
    key = rel.lstrip("/")
    started = time.monotonic()
    try:
        fd = _open_kmsg(root, rel)
    except (OSError, NotRegularError) as err:
        return _failed(key, Kind.FILE, err)
    records: list[bytes] = []
    size = 0
    truncated = False
    try:
        while True:
            try:
                record = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.EPIPE:  # the ring buffer overwrote what we were reading
                    continue
                if err.errno == errno.EINVAL and not records:
                    # A regular file (tests, bundles) rejects nothing; a short buffer does.
                    fcntl.fcntl(fd, fcntl.F_SETFL, 0)
                    continue
                return _failed(key, Kind.FILE, err)
            if not record:
                break
            records.append(record)
            size += len(record)
            if size > MAX_FILE_BYTES:
                truncated = True
                break
    finally:
        os.close(fd)
    return Entry(
        key,
        Kind.FILE,
        Status.OK,
        data=b"".join(records),
        truncated=truncated,
        duration_s=time.monotonic() - started,
    )


@dataclass(frozen=True)
class RunAs:
    """Another user's identity and session environment for a command (root only switches)."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    env: tuple[tuple[str, str], ...]


def _session_env(run_as: RunAs) -> dict[str, str]:
    env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    env.update(run_as.env)
    return env


def start_command(
    argv: list[str], run_as: RunAs, *, stdin: int | None = None
) -> subprocess.Popen[bytes]:
    """A running command as `run_as` (stdout and stderr piped; stdin /dev/null unless given),
    for the caller to bound and reap; raises OSError when it cannot start."""
    import subprocess

    switch = run_as.uid != os.geteuid()
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_session_env(run_as),
        user=run_as.uid if switch else None,
        group=run_as.gid if switch else None,
        extra_groups=list(run_as.groups) if switch else None,
    )


def on_path(program: str) -> bool:
    """Whether `program` would run: shutil.which's answer on Linux, without importing shutil
    (and with it bz2 and lzma, 0.05 s of a run in a small guest)."""

    def runnable(path: str) -> bool:
        return os.access(path, os.F_OK | os.X_OK) and not os.path.isdir(path)

    if os.path.dirname(program):
        return runnable(program)
    search = os.environ.get("PATH")
    if search is None:
        search = os.confstr("CS_PATH") if "CS_PATH" in os.confstr_names else os.defpath
    if not search:
        return False
    return any(runnable(os.path.join(part, program)) for part in search.split(os.pathsep))


def run_command(
    name: str,
    argv: tuple[str, ...],
    timeout_s: float,
    *,
    key: str = "",
    run_as: RunAs | None = None,
) -> Entry:
    key = key or f"cmd/{name}"
    if not on_path(argv[0]):
        return Entry(key, Kind.COMMAND, Status.NOT_FOUND, argv=argv)
    env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    switch = run_as is not None and run_as.uid != os.geteuid()
    if run_as is not None:
        env.update(run_as.env)
    # Here, not at the top: in a guest whose files stand in for every command, nothing runs one,
    # and subprocess imports threading, selectors, signal and locale.
    import subprocess

    started = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            env=env,
            check=False,
            user=run_as.uid if switch and run_as else None,
            group=run_as.gid if switch and run_as else None,
            extra_groups=list(run_as.groups) if switch and run_as else None,
        )
    except subprocess.TimeoutExpired as err:
        return Entry(
            key,
            Kind.COMMAND,
            Status.TIMEOUT,
            data=(err.stdout or b"")[:MAX_COMMAND_BYTES],
            argv=argv,
            duration_s=time.monotonic() - started,
        )
    except OSError as err:
        return Entry(key, Kind.COMMAND, _status_of(err), stderr=str(err), argv=argv)
    stderr = done.stderr.decode("utf-8", errors="replace")[-4000:]
    status = Status.OK if done.returncode == 0 else Status.FAILED
    if status is Status.FAILED and ("not permitted" in stderr or "denied" in stderr):
        status = Status.DENIED
    return Entry(
        key,
        Kind.COMMAND,
        status,
        data=done.stdout[:MAX_COMMAND_BYTES],
        exit_code=done.returncode,
        stderr=stderr,
        truncated=len(done.stdout) > MAX_COMMAND_BYTES,
        argv=argv,
        duration_s=time.monotonic() - started,
    )


def keep_lines(entry: Entry, pattern: str) -> Entry:
    """The entry with only its lines in which `pattern` is found."""
    if not entry.ok:
        return entry
    kept = _lines_found(entry.data, pattern)
    if kept is None:
        wanted = re.compile(pattern.encode())
        kept = [line for line in entry.data.splitlines(keepends=True) if wanted.search(line)]
    return replace(entry, data=b"".join(kept), kept_lines=pattern)


# Assertions that could look past a line's end, or change how the pattern reads lines: a
# pattern holding one is searched line by line.
_NOT_LINE_LOCAL = ("$", "(?", "\\A", "\\Z", "\\b", "\\B")


def _lines_found(data: bytes, pattern: str) -> list[bytes] | None:
    """What a search of each line (with its end) keeps, found by searching the whole text
    (modules.dep has thousands of lines and keeps a few dozen); None where that could differ:
    a line end other than "\\n", such an assertion, or a match that reaches past its line."""
    if b"\r" in data or any(mark in pattern for mark in _NOT_LINE_LOCAL):
        return None
    literals = pattern.split("|")
    if not any(c in _REGEX_SYNTAX for c in pattern) and all(literals):
        return lines_holding(data, [literal.encode() for literal in literals])
    wanted = re.compile(pattern.encode(), re.MULTILINE)  # ^ at each line's start
    kept: list[bytes] = []
    at = 0
    while at < len(data) and (match := wanted.search(data, at)) is not None:
        start = data.rfind(b"\n", 0, match.start()) + 1
        end = data.find(b"\n", match.start())
        end = len(data) if end < 0 else end + 1  # with its "\n", as splitlines(keepends) cuts
        if match.end() > end:
            return None
        kept.append(data[start:end])
        at = end
    return kept


_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]()\n")  # a line's end is no literal here


def lines_holding(data: bytes, literals: list[bytes]) -> list[bytes]:
    """The lines holding any of `literals`, in order: found with bytes.find, which skips
    through text far faster than a search for `a|b` (in a small guest, modules.dep's search
    was a seventh of collecting)."""
    lines: dict[int, int] = {}
    for literal in literals:
        at = data.find(literal)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            lines[start] = end
            at = data.find(literal, end)
    return [data[start : lines[start]] for start in sorted(lines)]


def _wanted(rel: str, evidence: Evidence) -> bool:
    """Not read yet, and a safe key: a name or a kernel release from a tree may hold `..`,
    a backslash or a NUL, and such a key could not be saved or read back."""
    try:
        key = check_key(rel.strip("/"))
    except EvidenceError:
        return False
    return key not in evidence.entries


def run_sources(sources: Iterable[Source], root: Path, evidence: Evidence) -> None:
    """Read every source below root into evidence; a key already present is not read again."""
    for source in sources:
        if isinstance(source, File):
            if _wanted(source.path, evidence):
                entry = read_file(root, source.path, source.max_bytes, tail=source.tail)
                evidence.add(keep_lines(entry, source.keep) if source.keep else entry)
        elif isinstance(source, Glob):
            for rel in tree.expand(root, source.pattern):
                # Directories (sysfs `power/`) and dangling links are not files; a FIFO or a
                # device is recorded as one that could not be read.
                if _wanted(rel, evidence) and tree.kind_of(root, rel) not in (None, stat.S_IFDIR):
                    evidence.add(read_file(root, rel))
        elif isinstance(source, Link):
            for rel in tree.expand(root, source.path) if "*" in source.path else [source.path]:
                if _wanted(rel, evidence):
                    evidence.add(read_link(root, rel))
        elif isinstance(source, Node):
            for rel in tree.expand(root, source.pattern):
                if _wanted(rel, evidence):
                    evidence.add(read_node(root, rel))
        elif isinstance(source, Listing):
            if _wanted(source.path, evidence):
                evidence.add(read_listing(root, source.path))
        elif isinstance(source, Command):
            if f"cmd/{source.name}" not in evidence.entries:
                evidence.add(run_command(source.name, source.argv, source.timeout_s))
        elif isinstance(source, Kmsg):
            if _wanted(source.path, evidence):
                evidence.add(read_kmsg(root, source.path))
        else:
            raise TypeError(f"unknown source {source!r}")
