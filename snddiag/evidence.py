"""The evidence snapshot: every file, link and command output snddiag read, as plain data.

A live run fills it from the system (`snddiag.collect`); `snddiag analyze` reads it back from a
directory or a bundle. Keys are the same everywhere: a file is its path below the root without
the leading slash (`proc/modules`), a command is `cmd/<name>` (`cmd/lsmod`).

On disk a snapshot is a directory: `manifest.json` describes every entry, and the bytes of each
file or command entry sit at `data/<key>`. Links and node metadata live in the manifest only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from pathlib import Path

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
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
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


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _private_dir(path: Path) -> None:
    """A new directory only its owner may enter (it may hold root's kernel log), any umask."""
    path.mkdir(PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)


def _private_file(path: Path, data: bytes) -> None:
    # O_EXCL|O_NOFOLLOW: a new file, never through a link or into a FIFO left in the directory.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags, PRIVATE_FILE), "wb") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE)
        out.write(data)


def save_directory(evidence: Evidence, directory: Path) -> None:
    """Write a snapshot directory (the layout of fixtures and of bundles' contents).

    `directory` is new or empty; what snddiag creates is 0700 (directories) and 0600 (files).
    """
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        _private_dir(directory)
    for entry in evidence:
        if entry.kind in (Kind.FILE, Kind.COMMAND) and entry.ok:
            *folders, name = check_key(entry.key).split("/")
            folder = directory
            for part in (DATA_DIR, *folders):
                folder = folder / part
                if not folder.is_dir():
                    _private_dir(folder)
            _private_file(folder / name, entry.data)
    text = json.dumps(manifest_of(evidence), indent=1, sort_keys=False) + "\n"
    _private_file(directory / MANIFEST_NAME, text.encode("utf-8"))


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
    except (KeyError, TypeError, ValueError) as err:
        raise EvidenceError(f"bad node record: {err}") from err


def entry_from_manifest(key: str, record: object, data: bytes) -> Entry:
    if not isinstance(record, Mapping):
        raise EvidenceError(f"manifest entry {key!r} is not an object")
    try:
        kind = Kind(record["kind"])
        status = Status(record["status"])
        exit_code = record.get("exit_code")
        argv = record.get("argv", [])
        names = record.get("names", [])
        return Entry(
            key=check_key(key),
            kind=kind,
            status=status,
            data=data,
            exit_code=int(exit_code) if exit_code is not None else None,
            stderr=str(record.get("stderr", "")),
            duration_s=float(record.get("duration_s", 0.0)),
            truncated=bool(record.get("truncated", False)),
            argv=tuple(str(a) for a in argv) if isinstance(argv, list) else (),
            target=str(record.get("target", "")),
            kept_lines=str(record.get("kept_lines", "")),
            names=tuple(str(n) for n in names) if isinstance(names, list) else (),
            node=_node_from_manifest(record.get("node")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise EvidenceError(f"manifest entry {key!r}: {err}") from err


def parse_manifest(text: str) -> tuple[dict[str, str], dict[str, object]]:
    """manifest.json -> (meta, entries by key); raises EvidenceError on any malformation."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise EvidenceError(
            f"{MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"
        )
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise EvidenceError(f"{MANIFEST_NAME} is not JSON: {str(err)[:200]}") from err
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


def load_directory(directory: Path, *, verify: bool = True) -> Evidence:
    """Read a snapshot directory; with `verify`, every file's sha256 must match the manifest."""
    manifest = directory / MANIFEST_NAME
    try:
        with open(manifest, "rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as err:
        raise EvidenceError(f"cannot read {manifest}: {err.strerror}") from err
    meta, records = parse_manifest(raw.decode("utf-8", errors="replace"))
    evidence = Evidence(meta=meta)
    data_root = directory / DATA_DIR
    for key, record in records.items():
        check_key(key)
        data = b""
        if isinstance(record, Mapping) and "sha256" in record:
            path = data_root / key
            if path.is_symlink() or not path.is_file():
                raise EvidenceError(f"entry {key!r} has no regular data file")
            data, digest = _read_capped(path, MAX_COMMAND_BYTES)
            if verify and digest != record["sha256"]:
                raise EvidenceError(f"entry {key!r}: sha256 does not match the manifest")
        evidence.add(capped(entry_from_manifest(key, record, data)))
    return evidence


def _read_capped(path: Path, cap: int) -> tuple[bytes, str]:
    """(at most cap + 1 bytes of the file, the sha256 of all of it), in bounded memory."""
    import hashlib

    digest = hashlib.sha256()
    kept = bytearray()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_READ_CHUNK), b""):
                digest.update(chunk)
                if len(kept) <= cap:
                    kept += chunk[: cap + 1 - len(kept)]
    except OSError as err:
        raise EvidenceError(f"cannot read {path}: {err.strerror}") from err
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
