"""The evidence snapshot: every file, link and command output snddiag read, as plain data.

A live run fills it from the system (`snddiag.collect`); `snddiag analyze` reads it back from a
directory or a bundle. Keys are the same everywhere: a file is its path below the root without
the leading slash (`proc/modules`), a command is `cmd/<name>` (`cmd/lsmod`).

On disk a snapshot is a directory: `manifest.json` describes every entry, and the bytes of each
file or command entry sit at `data/<key>`. Links and node metadata live in the manifest only.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from snddiag.patterns import compiled_later
from snddiag.records import dataclass, field, replace

SNAPSHOT_FORMAT = 1
MANIFEST_NAME = "manifest.json"
DATA_DIR = "data"
RELEASE_KEY = "proc/sys/kernel/osrelease"
# The most one entry holds, read live or offline: collect reads no more (collect/sources.py,
# tests/hostile/test_bundles.py checks they agree), and a snapshot directory or a bundle read
# back is cut to the same size, marked truncated. A manifest is refused beyond its own cap.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_COMMAND_BYTES = 8 * 1024 * 1024
# A sysfs attribute is at most one page (4 KiB; 64 KiB on some arm64 and ppc64 kernels): more
# under sys/ in a snapshot was not read from sysfs, and would only feed parsers junk.
MAX_SYSFS_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
UNAME_KEY = "cmd/uname"


class Kind(str, Enum):
    FILE = "file"
    COMMAND = "command"
    LINK = "link"
    NODE = "node"
    DIRECTORY = "directory"


class Status(str, Enum):
    OK = "ok"
    MISSING = "missing"
    DENIED = "denied"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True)
class NodeInfo:
    """What `stat` and `access` said of a device node, for the user snddiag ran as."""

    mode: int
    uid: int
    gid: int
    is_char_device: bool
    readable: bool
    writable: bool


@dataclass(frozen=True)
class Entry:
    key: str
    kind: Kind
    status: Status
    data: bytes = b""
    exit_code: int | None = None
    stderr: str = ""
    duration_s: float = 0.0
    truncated: bool = False
    argv: tuple[str, ...] = ()
    target: str = ""
    node: NodeInfo | None = None
    kept_lines: str = ""
    names: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @cached_property
    def text(self) -> str:
        """The bytes decoded once; undecodable bytes become U+FFFD."""
        return self.data.decode("utf-8", errors="replace")

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.data).hexdigest()


class EvidenceError(Exception):
    """A snapshot on disk that cannot be read as one."""


@dataclass
class Evidence:
    entries: dict[str, Entry] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.entries[entry.key] = entry

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def text(self, key: str) -> str | None:
        """The decoded text of an entry that was read, or None when it was not."""
        entry = self.entries.get(key)
        if entry is None or not entry.ok or entry.kind not in (Kind.FILE, Kind.COMMAND):
            return None
        return entry.text

    def listing(self, key: str) -> tuple[str, ...] | None:
        """The names in a directory that was listed, or None when it was not."""
        entry = self.entries.get(key)
        if entry is None or not entry.ok or entry.kind is not Kind.DIRECTORY:
            return None
        return entry.names

    def keys_under(self, prefix: str) -> list[str]:
        start = prefix.rstrip("/") + "/"
        return sorted(k for k in self.entries if k.startswith(start))

    def without(self, keys: Iterable[str]) -> Evidence:
        """A copy without the given keys (or prefixes ending in `/`), as if they were unreadable."""
        dropped = tuple(keys)

        def is_dropped(key: str) -> bool:
            return any(key == d or (d.endswith("/") and key.startswith(d)) for d in dropped)

        kept = {k: e for k, e in self.entries.items() if not is_dropped(k)}
        return Evidence(kept, dict(self.meta))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries[k] for k in sorted(self.entries))

    def __len__(self) -> int:
        return len(self.entries)


def cap_of(kind: Kind, key: str) -> int:
    """The most an entry holds: 8 MiB of a command's output, 64 KiB of a sysfs attribute,
    4 MiB of any other file."""
    if kind is Kind.COMMAND:
        return MAX_COMMAND_BYTES
    return MAX_SYSFS_BYTES if key.startswith("sys/") else MAX_FILE_BYTES


def capped(entry: Entry) -> Entry:
    """The entry cut to its cap (and marked truncated) when it holds more."""
    cap = cap_of(entry.kind, entry.key)
    if len(entry.data) <= cap:
        return entry
    return replace(entry, data=entry.data[:cap], truncated=True)


def check_key(key: str) -> str:
    """Reject keys that could escape a snapshot directory; return the key unchanged."""
    # Each part between slashes, the first and last too, seen with its slashes: an empty, "."
    # or ".." part (a leading or trailing slash makes an empty one) shows as "//", "/./", "/../".
    wrapped = f"/{key}/"
    if not key or "//" in wrapped or "/./" in wrapped or "/../" in wrapped:
        raise EvidenceError(f"unsafe evidence key {key!r}")
    if "\x00" in key or "\\" in key:
        raise EvidenceError(f"unsafe evidence key {key!r}")
    return key


def entry_to_manifest(entry: Entry) -> dict[str, object]:
    record: dict[str, object] = {"kind": entry.kind.value, "status": entry.status.value}
    if entry.kind in (Kind.FILE, Kind.COMMAND) and entry.ok:
        record["size"] = len(entry.data)
        record["sha256"] = entry.sha256
    if entry.exit_code is not None:
        record["exit_code"] = entry.exit_code
    if entry.stderr:
        record["stderr"] = entry.stderr
    if entry.duration_s:
        record["duration_s"] = round(entry.duration_s, 4)
    if entry.truncated:
        record["truncated"] = True
    if entry.argv:
        record["argv"] = list(entry.argv)
    if entry.target:
        record["target"] = entry.target
    if entry.kept_lines:
        record["kept_lines"] = entry.kept_lines
    if entry.kind is Kind.DIRECTORY and entry.ok:
        record["names"] = list(entry.names)
    if entry.node is not None:
        node = entry.node
        record["node"] = {
            "mode": f"{node.mode:o}",
            "uid": node.uid,
            "gid": node.gid,
            "char_device": node.is_char_device,
            "readable": node.readable,
            "writable": node.writable,
        }
    return record


def manifest_of(evidence: Evidence) -> dict[str, object]:
    return {
        "snapshot_format": SNAPSHOT_FORMAT,
        "meta": dict(sorted(evidence.meta.items())),
        "entries": {e.key: entry_to_manifest(e) for e in evidence},
    }


def save_directory(evidence: Evidence, directory: Path) -> None:
    """Write a snapshot directory (the layout of fixtures and of bundles' contents).

    `directory` is made here, or is an empty directory the caller owns that nobody else may
    write to; what snddiag creates is 0700 (directories) and 0600 (files), each made through
    handles on the folders it made (snddiag.handles): a link planted meanwhile is never followed.
    """
    from snddiag.handles import new_directory, subdirectory, write_new_file

    # Entries come sorted by key: only the handles on the current folder's chain stay open.
    chain: list[tuple[str, int]] = [("", new_directory(directory))]
    try:
        for entry in evidence:
            if entry.kind in (Kind.FILE, Kind.COMMAND) and entry.ok:
                *parts, name = check_key(entry.key).split("/")
                wanted = [DATA_DIR, *parts]
                kept = 1
                while (
                    kept < len(chain) and kept <= len(wanted) and chain[kept][0] == wanted[kept - 1]
                ):
                    kept += 1
                while len(chain) > kept:
                    os.close(chain.pop()[1])
                for part in wanted[kept - 1 :]:
                    chain.append((part, subdirectory(chain[-1][1], part)))
                write_new_file(chain[-1][1], name, entry.data)
        text = json.dumps(manifest_of(evidence), indent=1, sort_keys=False) + "\n"
        write_new_file(chain[0][1], MANIFEST_NAME, text.encode("utf-8"))
    finally:
        for _name, fd in chain:
            os.close(fd)


def _common_length(have: list[str], wanted: list[str]) -> int:
    """How many leading folders two chains share."""
    count = 0
    for mine, theirs in zip(have, wanted):
        if mine != theirs:
            break
        count += 1
    return count


def _node_from_manifest(raw: object) -> NodeInfo | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        return NodeInfo(
            mode=int(str(raw["mode"]), 8),
            uid=int(raw["uid"]),
            gid=int(raw["gid"]),
            is_char_device=bool(raw["char_device"]),
            readable=bool(raw["readable"]),
            writable=bool(raw["writable"]),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise EvidenceError(f"bad node record: {err}") from err


_KINDS = {kind.value: kind for kind in Kind}
_STATUSES = {status.value: status for status in Status}


def entry_from_manifest(key: str, record: object, data: bytes) -> Entry:
    if not isinstance(record, dict) and not isinstance(record, Mapping):
        raise EvidenceError(f"manifest entry {key!r} is not an object")
    try:
        get = record.get
        kind = _KINDS.get(record["kind"]) or Kind(record["kind"])  # Kind(): the ValueError
        status = _STATUSES.get(record["status"]) or Status(record["status"])
        exit_code = get("exit_code")
        argv = get("argv")
        names = get("names")
        node = get("node")
        return Entry(
            key=check_key(key),
            kind=kind,
            status=status,
            data=data,
            exit_code=int(exit_code) if exit_code is not None else None,
            stderr=str(get("stderr", "")),
            duration_s=float(get("duration_s", 0.0)),
            truncated=bool(get("truncated", False)),
            argv=tuple(str(a) for a in argv) if argv and isinstance(argv, list) else (),
            target=str(get("target", "")),
            kept_lines=str(get("kept_lines", "")),
            names=tuple(str(n) for n in names) if names and isinstance(names, list) else (),
            node=_node_from_manifest(node) if node is not None else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise EvidenceError(f"manifest entry {key!r}: {err}") from err


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(value: Any) -> Any:
    """A JSON-like value whose strings (keys too) are valid Unicode (a lone surrogate, which no
    UTF-8 can carry, becomes U+FFFD) and whose numbers are finite (others become None): what
    snddiag reads from a stranger and what it writes on stdout."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {well_formed(k): well_formed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [well_formed(v) for v in value]
    return value


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


# A surrogate escape in JSON text ("\ud83d"), or an escaped backslash before "ud8..." (harmless).
_SURROGATE_ESCAPE = compiled_later(r"\\u[dD][89a-fA-F]")


def load_json(text: str) -> Any:
    """JSON from a stranger: NaN, Infinity and numbers beyond a double are refused (ValueError,
    as for any malformed JSON), strings made valid Unicode (well_formed)."""
    value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    # Only a surrogate in the text or a surrogate escape can put a lone one in a string, and
    # the parse refused every non-finite number: without either, the walk would change nothing.
    if _SURROGATE_ESCAPE.search(text) or _LONE_SURROGATE.search(text):
        return well_formed(value)
    return value


def parse_manifest(text: str) -> tuple[dict[str, str], dict[str, object]]:
    """manifest.json -> (meta, entries by key); raises EvidenceError on any malformation."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise EvidenceError(
            f"{MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"
        )
    try:
        doc = load_json(text)
    except (ValueError, RecursionError) as err:
        raise EvidenceError(f"{MANIFEST_NAME} is not JSON: {str(err)[:200]}") from err
    return manifest_parts(doc)


def manifest_parts(doc: object) -> tuple[dict[str, str], dict[str, object]]:
    """A parsed manifest.json -> (meta, entries by key); raises EvidenceError on any
    malformation."""
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
        raise EvidenceError(f"{MANIFEST_NAME} has no 'entries' object")
    fmt = doc.get("snapshot_format")
    if not isinstance(fmt, int) or fmt > SNAPSHOT_FORMAT:
        raise EvidenceError(
            f"snapshot format {fmt!r} is newer than this snddiag reads ({SNAPSHOT_FORMAT})"
        )
    meta_raw = doc.get("meta", {})
    meta = {str(k): str(v) for k, v in meta_raw.items()} if isinstance(meta_raw, dict) else {}
    return meta, doc["entries"]


@dataclass(frozen=True)
class SizeLimits:
    """What a snapshot directory may hold: each data file, and all of them together."""

    max_file_bytes: int
    max_total_bytes: int
    file_option: str = ""  # the option that sets it, for the message: "--max-member-mb"
    total_option: str = ""


def load_directory(
    directory: Path, *, verify: bool = True, limits: SizeLimits | None = None
) -> Evidence:
    """Read a snapshot directory; with `verify`, every file's size and sha256 must match the
    manifest. The directory is a stranger's as much as a bundle is: below it, only regular
    files are opened, through real directories (a link anywhere is refused), never one that
    could block; a data file's size is compared with the manifest's and the `limits` before
    a byte of it is read."""
    from snddiag.handles import directory_handle

    try:
        with directory_handle(directory) as root:
            return _load_below(root, verify, limits)
    except OSError as err:
        raise EvidenceError(f"cannot read {directory}: {err.strerror or err}") from err


def _open_below(root: int, rel: str) -> int:
    from snddiag.handles import UnsafePathError, open_beneath

    try:
        return open_beneath(root, rel)
    except UnsafePathError as err:
        raise EvidenceError(f"{rel} is {err.strerror}; only regular files are read") from err
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            reason = "goes through a symbolic link or a non-directory; not followed"
            raise EvidenceError(f"{rel} {reason}") from err
        raise EvidenceError(f"cannot read {rel}: {err.strerror or err}") from err


def _check_size(key: str, size: int, total: int, limits: SizeLimits | None) -> None:
    if limits is None:
        return
    mib = 1024 * 1024
    if size > limits.max_file_bytes:
        raise EvidenceError(
            f"entry {key!r} is {size / mib:.1f} MB, more than the {limits.file_option} limit "
            f"({limits.max_file_bytes // mib} MB)"
        )
    if total > limits.max_total_bytes:
        raise EvidenceError(
            f"holds more than the {limits.total_option} limit ({limits.max_total_bytes // mib} MB)"
        )


def _load_below(root: int, verify: bool, limits: SizeLimits | None) -> Evidence:
    fd = _open_below(root, MANIFEST_NAME)
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    meta, records = parse_manifest(raw.decode("utf-8", errors="replace"))
    evidence = Evidence(meta=meta)
    total = 0
    for key, record in records.items():
        check_key(key)
        data = b""
        if isinstance(record, Mapping) and "sha256" in record:
            size = record.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise EvidenceError(f"entry {key!r}: size {size!r} is not a byte count")
            fd = _open_below(root, f"{DATA_DIR}/{key}")
            with os.fdopen(fd, "rb") as handle:
                actual = os.fstat(handle.fileno()).st_size
                if verify and actual != size:
                    raise EvidenceError(f"entry {key!r}: {actual} bytes, the manifest says {size}")
                total += actual
                _check_size(key, actual, total, limits)
                wanted = actual if verify else min(actual, MAX_COMMAND_BYTES + 1)
                data, digest = _read_capped(handle, MAX_COMMAND_BYTES, wanted)
            if verify and digest != record["sha256"]:
                raise EvidenceError(f"entry {key!r}: sha256 does not match the manifest")
        evidence.add(capped(entry_from_manifest(key, record, data)))
    return evidence


def _read_capped(handle: IO[bytes], cap: int, size: int) -> tuple[bytes, str]:
    """(at most cap + 1 bytes of the file, the sha256 of its first `size` bytes), in bounded
    memory; a file that grows meanwhile is read no further."""
    import hashlib

    digest = hashlib.sha256()
    kept = bytearray()
    left = size
    while left > 0:
        chunk = handle.read(min(_READ_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        digest.update(chunk)
        if len(kept) <= cap:
            kept += chunk[: cap + 1 - len(kept)]
    return bytes(kept), digest.hexdigest()


# Here, below both collect (which fills `{release}` into paths) and facts, so neither reaches
# into the other for it.
def uname_fields(evidence: Evidence) -> tuple[str | None, str | None]:
    """(release, machine) as `uname -r -m` printed them."""
    words = (evidence.text(UNAME_KEY) or "").split()
    return (words[0], words[1]) if len(words) == 2 else (None, None)


def kernel_release(evidence: Evidence) -> str | None:
    """The running kernel's release: /proc/sys/kernel/osrelease, else `uname -r -m`."""
    text = evidence.text(RELEASE_KEY)
    if text is not None and text.strip():
        return text.strip()
    return uname_fields(evidence)[0]
