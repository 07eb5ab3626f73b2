"""Reading a bundle someone sent: streamed from the tar in memory, nothing is extracted.

Every tar header is checked before its data is read: regular files and directories only, a
relative name without `.` or `..` parts below one top directory, no name twice, and each size
within the limits. The decompressed stream itself is capped, so neither a gzip bomb nor huge
tar headers can exhaust memory. Then the manifest's checksums must match every data member.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import IO, Any

from snddiag.bundle import BUNDLE_FORMAT, DIAGNOSIS_NAME, MIB, BundleError, Limits
from snddiag.evidence import (
    DATA_DIR,
    MANIFEST_NAME,
    MAX_COMMAND_BYTES,
    MAX_MANIFEST_BYTES,
    Evidence,
    EvidenceError,
    capped,
    check_key,
    entry_from_manifest,
    load_json,
    manifest_parts,
)
from snddiag.records import dataclass

# Tar headers (pax records, long names) on top of the members' own bytes.
_HEADER_ALLOWANCE = 32 * MIB
_CHUNK = 1024 * 1024
# Control characters (C0, DEL, C1) and backslashes: refused in member names.
_UNSAFE_NAME_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
# One pax extended header or GNU long name, and all global pax headers together: tarfile would
# parse a bigger one into a dict of every key (1M keys in 2.4 MB of gzip took 1.9 GB).
MAX_EXTENDED_HEADER_BYTES = 64 * 1024
MAX_JSON_BYTES = MAX_MANIFEST_BYTES  # manifest.json, diagnosis.json


# The most of one member kept in memory: every entry's cap and the JSON documents' fit in it,
# so a member can be hashed whole while only its head is kept (a 32 MiB sysfs attribute would
# otherwise cost several copies of itself in a worker capped at --max-memory-mb).
_KEPT_BYTES = max(MAX_COMMAND_BYTES, MAX_MANIFEST_BYTES) + 1


@dataclass(frozen=True)
class _Member:
    head: bytes  # the first _KEPT_BYTES of it
    size: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    path: Path
    evidence: Evidence
    diagnosis: dict[str, Any] | None
    info: dict[str, Any]


def _shown(name: str) -> str:
    return repr(name if len(name) <= 120 else name[:117] + "...")


class _Capped:
    """A reader that fails once more than `limit` bytes came out of the decompressor."""

    def __init__(self, raw: IO[bytes], limit: int, limit_text: str) -> None:
        self._raw = raw
        self._left = limit
        self._limit_text = limit_text

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise BundleError(f"unpacks to more than {self._limit_text}")
        return data


class _GuardedInfo(tarfile.TarInfo):
    """A TarInfo that refuses a pax header or GNU long name larger than the cap before tarfile
    reads and parses its data (the header block's size field is all that is known then)."""

    def _proc_pax(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        _check_extended(self, tar, "pax header")
        return super()._proc_pax(tar)  # type: ignore[misc, no-any-return]

    def _proc_gnulong(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        _check_extended(self, tar, "GNU long name")
        return super()._proc_gnulong(tar)  # type: ignore[misc, no-any-return]


def _check_extended(info: tarfile.TarInfo, tar: tarfile.TarFile, what: str) -> None:
    cap = f"{MAX_EXTENDED_HEADER_BYTES // 1024} KiB"
    if info.size > MAX_EXTENDED_HEADER_BYTES:
        raise BundleError(f"has a {what} of {info.size} bytes, more than {cap}")
    if info.type == tarfile.XGLTYPE:  # global headers add up: tarfile keeps them all
        seen = int(getattr(tar, "_snddiag_global_bytes", 0)) + info.size
        if seen > MAX_EXTENDED_HEADER_BYTES:
            raise BundleError(f"has global pax headers of more than {cap} together")
        setattr(tar, "_snddiag_global_bytes", seen)  # noqa: B010 - our own mark on this reader


def _member_path(name: str, isdir: bool) -> tuple[str, ...]:
    if name.startswith("/"):
        raise BundleError(f"member {_shown(name)} has an absolute path")
    if _UNSAFE_NAME_CHAR.search(name):
        raise BundleError(f"member {_shown(name)} has control characters or backslashes")
    parts = tuple(name.rstrip("/").split("/")) if isdir else tuple(name.split("/"))
    if ".." in parts:
        raise BundleError(f"member {_shown(name)} points outside the bundle ('..')")
    if any(p in ("", ".") for p in parts):
        raise BundleError(f"member {_shown(name)} has an empty or '.' path component")
    return parts


def _check_type(info: tarfile.TarInfo) -> None:
    name = _shown(info.name)
    if info.issym():
        raise BundleError(f"member {name} is a symbolic link")
    if info.islnk():
        raise BundleError(f"member {name} is a hard link")
    if info.ischr() or info.isblk():
        raise BundleError(f"member {name} is a device node")
    if info.isfifo():
        raise BundleError(f"member {name} is a FIFO")
    if info.issparse():
        raise BundleError(f"member {name} is a sparse file")
    if not (info.isreg() or info.isdir()):
        raise BundleError(f"member {name} is not a regular file or directory")


def _read_member(chunks: Iterable[bytes]) -> _Member:
    """A member's size, SHA-256 and kept head, from its data in chunks."""
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if len(head) < _KEPT_BYTES:
            head += chunk[: _KEPT_BYTES - len(head)]
    return _Member(bytes(head), size, digest.hexdigest())


class _Admitted:
    """The checks every member passes before its data is read, whichever reader met it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.files: dict[str, _Member] = {}
        self.seen: set[str] = set()
        self.top = ""
        self.total = 0
        self.count = 0

    def count_one(self) -> None:
        self.count += 1
        if self.count > self.limits.max_members:
            raise BundleError(f"holds more than {self.limits.max_members} members")

    def admit(self, name: str, isdir: bool, size: int) -> str | None:
        """The path below the top directory of a file whose data may be read; None for a
        directory."""
        parts = _member_path(name, isdir)
        self.top = self.top or parts[0]
        if parts[0] != self.top or (len(parts) == 1 and not isdir):
            raise BundleError(f"member {_shown(name)} is outside the top directory")
        joined = "/".join(parts)
        if joined in self.seen:
            raise BundleError(f"member {_shown(name)} appears twice")
        self.seen.add(joined)
        if isdir:
            return None
        limits = self.limits
        if size > limits.max_member_bytes:
            raise BundleError(
                f"member {_shown(name)} is {size / MIB:.1f} MB, more than the "
                f"--max-member-mb limit ({limits.max_member_bytes // MIB} MB)"
            )
        self.total += size
        if self.total > limits.max_total_bytes:
            raise BundleError(
                f"unpacks to more than the --max-total-mb limit "
                f"({limits.max_total_bytes // MIB} MB)"
            )
        return "/".join(parts[1:])


def _read_members(stream: IO[bytes], limits: Limits) -> _Admitted:
    """The regular files, read with tarfile: every tar feature, each refused with its reason."""
    found = _Admitted(limits)
    with tarfile.open(fileobj=stream, mode="r|", tarinfo=_GuardedInfo) as tar:
        for info in tar:
            found.count_one()
            _check_type(info)
            path = found.admit(info.name, info.isdir(), info.size)
            if path is None:
                continue
            handle = tar.extractfile(info)
            if handle is None:
                raise BundleError(f"member {_shown(info.name)} cannot be read")
            member = _read_member(iter(partial(handle.read, _CHUNK), b""))
            if member.size != info.size:
                raise BundleError(f"member {_shown(info.name)} is truncated")
            found.files[path] = member
    _drain(stream)
    return found


def _drain(stream: IO[bytes]) -> None:
    while stream.read(_CHUNK):
        pass


class _Unusual(Exception):
    """Something the plain reader leaves to tarfile: a pax or GNU header, a link, a damaged or
    truncated header or member."""


def _octal(field: bytes) -> bool:
    """An octal number field as tar writers fill it: digits, then spaces or NULs."""
    return not field.rstrip(b" \x00").translate(None, b"01234567")


_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)


class _Blocks:
    """The decompressed tar stream, read from in large chunks."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        """`size` bytes (at most _CHUNK), fewer only where the stream ends."""
        end = self._at + size
        if end <= len(self._buffer):
            data = self._buffer[self._at : end]
            self._at = end
            return data
        data = self._buffer[self._at :]
        while len(data) < size:
            self._buffer = self._stream.read(_CHUNK)
            self._at = min(size - len(data), len(self._buffer))
            if not self._buffer:
                break
            data += self._buffer[: self._at]
        return data

    def data(self, size: int) -> Iterator[bytes]:
        """A member's `size` bytes in chunks; _Unusual where the stream ends before them."""
        left = size
        while left:
            piece = self.take(min(_CHUNK, left))
            if not piece:
                raise _Unusual
            left -= len(piece)
            yield piece


def _plain_header(block: bytes) -> tuple[str, bool, int]:
    """(name, is a directory, size) of a POSIX ustar header naming a regular file or a
    directory; _Unusual for anything else."""
    if len(block) != _BLOCK or block[257:265] != b"ustar\x0000" or block[345:346] != b"\x00":
        raise _Unusual
    kind = block[156:157]
    if kind not in (b"0", b"\x00", b"5"):
        raise _Unusual
    chksum = block[148:156]
    for field in (block[100:108], block[108:116], block[116:124], block[124:136], block[136:148]):
        if not _octal(field):
            raise _Unusual
    if not _octal(chksum):
        raise _Unusual
    if int(chksum.rstrip(b" \x00") or b"0", 8) != sum(block[:148]) + 256 + sum(block[156:]):
        raise _Unusual
    try:
        name = block[:100].split(b"\x00", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise _Unusual from None
    if kind == b"5":
        name = name.rstrip("/")  # as tarfile names a directory
    elif name.endswith("/"):
        raise _Unusual
    return name, kind == b"5", int(block[124:136].rstrip(b" \x00") or b"0", 8)


def _read_plain(stream: IO[bytes], limits: Limits) -> _Admitted:
    """The regular files of a tar of plain ustar headers (what snddiag writes), read straight
    from the stream, each member hashed while it is read; _Unusual at the first thing that
    needs tarfile (the caller then reads the bundle again with it)."""
    found = _Admitted(limits)
    blocks = _Blocks(stream)
    while True:
        block = blocks.take(_BLOCK)
        if block == _ZERO_BLOCK and found.count:
            break
        name, isdir, size = _plain_header(block)
        found.count_one()
        path = found.admit(name, isdir, size)
        if path is None:
            if size:
                raise _Unusual
            continue
        if size <= _CHUNK:  # most members: one piece, hashed and kept as it is
            piece = blocks.take(size)
            if len(piece) != size:
                raise _Unusual
            member = _Member(piece[:_KEPT_BYTES], size, hashlib.sha256(piece).hexdigest())
        else:
            member = _read_member(blocks.data(size))
        if len(blocks.take(-size % _BLOCK)) != -size % _BLOCK:
            raise _Unusual
        found.files[path] = member
    _drain(stream)
    return found


def _bundle_info(manifest: Mapping[str, Any]) -> dict[str, Any]:
    info = manifest.get("bundle", {})
    if not isinstance(info, dict):
        raise BundleError(f"{MANIFEST_NAME}: 'bundle' is not an object")
    fmt = info.get("format", BUNDLE_FORMAT)
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise BundleError(f"{MANIFEST_NAME}: bundle format {fmt!r} is not a number")
    if fmt > BUNDLE_FORMAT:
        made_by = info.get("snddiag_version", "a newer snddiag")
        raise BundleError(
            f"bundle format {fmt} (made by snddiag {made_by}) is newer than this snddiag "
            f"reads ({BUNDLE_FORMAT}): upgrade snddiag"
        )
    return info


def _evidence(manifest: object, files: dict[str, _Member]) -> Evidence:
    try:
        meta, records = manifest_parts(manifest)
    except EvidenceError as err:
        raise BundleError(str(err)) from err
    evidence = Evidence(meta=meta)
    prefix = DATA_DIR + "/"
    data = {name[len(prefix) :]: v for name, v in files.items() if name.startswith(prefix)}
    for key, record in records.items():
        try:
            check_key(key)
        except EvidenceError as err:
            raise BundleError(f"{MANIFEST_NAME}: {err}") from err
        content = b""
        if isinstance(record, Mapping) and "sha256" in record:
            if key not in data:
                raise BundleError(f"entry {key!r} has no data member")
            member = data.pop(key)
            if member.sha256 != record["sha256"]:
                raise BundleError(f"entry {key!r}: sha256 does not match the manifest")
            content = member.head
        try:
            evidence.add(capped(entry_from_manifest(key, record, content)))
        except EvidenceError as err:
            raise BundleError(str(err)) from err
    if data:
        extra = sorted(data)[0]
        raise BundleError(f"member {_shown(DATA_DIR + '/' + extra)} is not in the manifest")
    return evidence


def _diagnosis(files: dict[str, _Member], info: Mapping[str, Any]) -> dict[str, Any] | None:
    member = files.get(DIAGNOSIS_NAME)
    if member is None:
        return None
    if member.size > MAX_JSON_BYTES:
        raise BundleError(f"{DIAGNOSIS_NAME} is larger than {MAX_JSON_BYTES // MIB} MiB")
    raw = member.head
    expected = info.get("diagnosis_sha256")
    if expected is not None and member.sha256 != expected:
        raise BundleError(f"{DIAGNOSIS_NAME}: sha256 does not match the manifest")
    try:
        document = load_json(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise BundleError(f"{DIAGNOSIS_NAME} is not JSON: {err}") from err
    return document if isinstance(document, dict) else None


# Below malloc's mmap threshold: a piece of a MiB would be mapped and unmapped each time.
_INFLATED_PIECE = 64 * 1024


class _Inflated:
    """A file of one gzip member, decompressed by zlib itself: on a bundle of a hundred KiB,
    GzipFile's layers of buffering cost a third as much again as the inflating. _Unusual for
    anything GzipFile might read otherwise or refuse (damage, an early end, another member or
    anything after the member): the tarfile reader then reads it again through GzipFile."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # the gzip wrapper
        self._input = b""

    def read(self, size: int) -> bytes:
        while not self._inflate.eof:
            if not self._input:
                self._input = self._raw.read(_INFLATED_PIECE)
                if not self._input:
                    raise _Unusual  # the file ends inside the member
            try:
                out = self._inflate.decompress(self._input, min(size, _INFLATED_PIECE))
            except zlib.error:
                raise _Unusual from None
            self._input = self._inflate.unconsumed_tail
            if out:
                return out
        if self._inflate.unused_data or self._raw.read(1):
            raise _Unusual
        return b""


def _capped(stream: Any, limits: Limits) -> _Capped:
    return _Capped(
        stream,
        limits.max_total_bytes + _HEADER_ALLOWANCE,
        f"the --max-total-mb limit ({limits.max_total_bytes // MIB} MB)",
    )


def _unpacked_plain(raw: IO[bytes], limits: Limits) -> _Admitted:
    raw.seek(0)
    return _read_plain(_capped(_Inflated(raw), limits), limits)  # type: ignore[arg-type]


def _unpacked(
    raw: IO[bytes], limits: Limits, reader: Callable[[IO[bytes], Limits], _Admitted]
) -> _Admitted:
    raw.seek(0)
    with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
        return reader(_capped(gz, limits), limits)  # type: ignore[arg-type]


def read_bundle(path: Path, limits: Limits | None = None) -> Bundle:
    """The evidence of a bundle; raises BundleError with a one-line reason."""
    limits = limits or Limits()
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise BundleError("not a regular file")
        with open(path, "rb") as raw:
            if raw.read(2) != b"\x1f\x8b":
                raise BundleError("not a gzip file (a bundle is a .tar.gz)")
            try:
                found = _unpacked_plain(raw, limits)
            except _Unusual:
                found = _unpacked(raw, limits, _read_members)
    except EOFError as err:
        raise BundleError("truncated: the gzip stream ends early") from err
    except (gzip.BadGzipFile, zlib.error) as err:
        raise BundleError(f"corrupt gzip data ({err})") from err
    except tarfile.ReadError as err:
        reason = str(err)
        if "unexpected end" in reason:
            raise BundleError("truncated: the tar stream ends early") from err
        raise BundleError(f"not a tar archive ({reason})") from err
    except tarfile.TarError as err:
        raise BundleError(f"not a tar archive ({err})") from err
    except OSError as err:
        raise BundleError(f"cannot read: {err.strerror or err}") from err
    if not found.top:
        raise BundleError("empty archive")
    top, files = found.top, found.files
    manifest = files.get(MANIFEST_NAME)
    if manifest is None:
        raise BundleError(f"no {MANIFEST_NAME} in {_shown(top + '/')} (not a snddiag bundle?)")
    if manifest.size > MAX_JSON_BYTES:
        raise BundleError(f"{MANIFEST_NAME} is larger than {MAX_JSON_BYTES // MIB} MiB")
    manifest_text = manifest.head.decode("utf-8", errors="replace")
    try:
        document = load_json(manifest_text)
    except (ValueError, RecursionError) as err:
        raise BundleError(f"{MANIFEST_NAME} is not JSON: {err}") from err
    if not isinstance(document, dict):
        raise BundleError(f"{MANIFEST_NAME} is not a JSON object")
    info = _bundle_info(document)
    evidence = _evidence(document, files)
    return Bundle(path, evidence, _diagnosis(files, info), info)
