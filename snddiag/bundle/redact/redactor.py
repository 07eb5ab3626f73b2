"""The redactor: learns a snapshot's identifiers, then replaces them in one pass per text.

`learn` asks every class of `classes.CLASSES` for its values. Replacement runs one regular
expression per text: the names known by their place (`/home/<name>`), then the learnt values,
then every class's shapes. The same value always gets the same token (`redacted-host-1`);
tokens hold only `[a-z0-9-]`, so every parser reads one as a single word (the host field of a
syslog line, a kernel command-line word, a JSON string).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

from snddiag.bundle.redact.classes import (
    BY_NAME,
    CLASSES,
    DEFINING,
    RedactionClass,
    Shape,
    norm,
)
from snddiag.bundle.redact.vocabulary import COMMON_WORDS, VOCABULARY_PREFIXES
from snddiag.collect import plan
from snddiag.collect.sources import Command
from snddiag.evidence import Entry, Evidence, Kind
from snddiag.records import replace

# Run metadata that is a name in its own right.
META_NAMES = frozenset({"user", "hostname"})
_WORD = rb"[A-Za-z0-9_]"
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_GUNZIP_BYTES = 64 * 1024 * 1024
_SHAPES = {shape.group: (cls, shape) for cls in CLASSES for shape in cls.shapes}
_NEEDS = {
    shape.group: re.compile(shape.needs, re.IGNORECASE)
    for cls in CLASSES
    for shape in cls.shapes
    if shape.needs
}
_PARAMETER = BY_NAME["parameter"]
# Kernel parameters of the kernel itself that name no one (or that the diagnosis reads: the
# clock source): their values are kept. A module's parameter (`virtio_snd.x=`, `systemd.y=`,
# `modprobe.blacklist=`) is kept too. Any other value (a VMM agent's address, port or token
# passed to init) is replaced.
KEPT_PARAMETERS = frozenset(
    {
        "BOOT_IMAGE", "root", "rootfstype", "rootflags", "rootwait", "rootdelay", "ro", "rw",
        "init", "initrd", "console", "earlycon", "earlyprintk", "loglevel", "quiet", "splash",
        "debug", "panic", "nomodeset", "module_blacklist", "resume", "noresume", "mitigations",
        "nokaslr", "kaslr", "tsc", "clocksource", "audit", "selinux", "apparmor", "security",
        "lsm", "noapic", "nolapic", "acpi", "pci", "iommu", "intel_iommu", "amd_iommu", "nosmp",
        "maxcpus", "nr_cpus", "mem", "hugepages", "crashkernel", "vga", "video", "fbcon",
        "threadirqs", "preempt", "isolcpus", "nohz", "idle", "lockdown", "vsyscall", "pti",
        "spectre_v2", "nmi_watchdog", "reboot", "swiotlb", "no_timer_check", "rcu_nocbs",
        "cgroup_no_v1", "biosdevname", "noexec", "lpj", "reserve", "memmap",
        # Their fields (addresses, the host name) are each redacted by their own class.
        "ip", "nfsroot",
    }
)  # fmt: skip
_PARAMETER_WORD = re.compile(rb'(?<!\S)([^\s=]+)=("[^"\n]*"|[^\s"]*)')
_LOGGED_CMDLINE = re.compile(rb"((?:Kernel command line|Command line): )([^\n]*)")


def _hex_byte_keys() -> frozenset[str]:
    """Keys of the sources the collection plan declares `hex_bytes`."""
    return frozenset(s.key for s in plan.PLAN if isinstance(s, Command) and s.hex_bytes)


HEX_BYTE_KEYS = _hex_byte_keys()


def _group(shape: Shape) -> bytes:
    return b"(?P<" + shape.group.encode() + b">" + shape.regex + b")"


def _gunzip(data: bytes) -> bytes | None:
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, _MAX_GUNZIP_BYTES)
    except zlib.error:
        return None
    if inflater.unconsumed_tail or not inflater.eof:
        return None
    return out


class Redactor:
    """Learns a snapshot's identifiers, then replaces them (and identifier-shaped text)."""

    def __init__(self) -> None:
        self._names: dict[str, RedactionClass] = {}  # every spelling of a learnt value
        self._spelt: dict[str, str] = {}  # a spelling -> the value it spells
        self._in_text: set[str] = set()
        self._tokens: dict[tuple[str, str], str] = {}
        self._values: dict[str, set[str]] = {c.name: set() for c in CLASSES}
        self._replaced: Counter[str] = Counter()
        self._patterns: dict[tuple[bool, tuple[str, ...]], re.Pattern[bytes]] = {}
        self._in_vocabulary: set[bytes] = set()

    def learn(self, evidence: Evidence) -> None:
        vocabulary = b"\n".join(
            e.data
            for e in evidence
            if e.ok and e.key.startswith(VOCABULARY_PREFIXES) and not DEFINING.fullmatch(e.key)
        )
        for cls in sorted(CLASSES, key=lambda c: c.precedence):
            defining = [
                e
                for e in evidence
                if e.ok and cls.defined_in and re.fullmatch(cls.defined_in, e.key)
            ]
            for value in cls.learn(evidence, defining):
                if norm(value) not in cls.keep:
                    self._add(cls, value, vocabulary)
        # Shaped text in the system's own description (a kernel release like 4.14.117.1) is kept.
        shapes = [_group(s) for _cls, s in _SHAPES.values() if not s.by_place]
        pattern = re.compile(b"|".join(shapes), re.IGNORECASE)
        self._in_vocabulary |= {m.group().lower() for m in pattern.finditer(vocabulary)}
        self._patterns.clear()

    def _add(self, cls: RedactionClass, value: str, vocabulary: bytes) -> None:
        key = norm(value)
        if not key or key in self._names:
            return
        spellings = [norm(s) for s in cls.spellings(key) if norm(s) not in self._names]
        for spelling in [key, *spellings]:
            self._names[spelling] = cls
            self._spelt[spelling] = key
        generic = key in COMMON_WORDS or len(set(key)) == 1
        in_vocabulary = re.search(
            rb"(?<!" + _WORD + rb")" + re.escape(key.encode()) + rb"(?!" + _WORD + rb")",
            vocabulary,
            re.IGNORECASE,
        )
        if len(key) >= cls.shortest and not generic and not in_vocabulary:
            self._in_text.update([key, *spellings])

    def _pattern(self, hex_bytes: bool, data: bytes) -> re.Pattern[bytes]:
        """Names by place, then learnt values (longest first), then shapes; `hex_bytes`: the
        text holds hex byte strings, so shapes they take are left out; a shape that `needs` a
        mark joins only when `data` has it."""
        marked = tuple(g for g, needs in _NEEDS.items() if needs.search(data))
        pattern = self._patterns.get((hex_bytes, marked))
        if pattern is None:
            shapes = [
                s
                for _cls, s in _SHAPES.values()
                if not (hex_bytes and s.hex_bytes) and (not s.needs or s.group in marked)
            ]
            parts = [_group(s) for s in shapes if s.by_place]
            if self._in_text:
                names = sorted((n.encode() for n in self._in_text), key=len, reverse=True)
                parts.append(
                    rb"(?P<lit>(?<!"
                    + _WORD
                    + rb")(?:"
                    + b"|".join(re.escape(n) for n in names)
                    + rb")(?!"
                    + _WORD
                    + rb"))"
                )
            parts += [_group(s) for s in shapes if not s.by_place]
            pattern = re.compile(b"|".join(parts), re.IGNORECASE)
            self._patterns[(hex_bytes, marked)] = pattern
        return pattern

    def _token(self, cls: RedactionClass, value: str) -> str:
        token = self._tokens.get((cls.name, value))
        if token is None:
            self._values[cls.name].add(value)
            token = f"redacted-{cls.prefix}-{len(self._values[cls.name])}"
            self._tokens[(cls.name, value)] = token
        self._replaced[cls.name] += 1
        return token

    def _substitute(self, match: re.Match[bytes]) -> bytes:
        raw = match.group()
        text = raw.decode("utf-8", errors="replace").lower()
        if match.lastgroup == "lit":
            return self._token(self._names[text], self._spelt[text]).encode()
        cls, shape = _SHAPES[str(match.lastgroup)]
        if not shape.by_place and raw.lower() in self._in_vocabulary:
            return raw
        value = cls.validate(text)
        if value is None or (not shape.by_place and value in cls.keep):
            return raw
        return self._token(cls, value).encode()

    def redact_bytes(self, data: bytes, *, hex_bytes: bool = False) -> bytes:
        """Every identifier in `data` replaced; `hex_bytes=True` leaves the shapes that hex byte
        strings take alone (modinfo's signature bytes look like MAC addresses)."""
        if data.startswith(_GZIP_MAGIC):
            plain = _gunzip(data)
            if plain is not None:
                redacted = self.redact_bytes(plain, hex_bytes=hex_bytes)
                return data if redacted == plain else gzip.compress(redacted, mtime=0)
        return self._pattern(hex_bytes, data).sub(self._substitute, data)

    def redact_text(self, text: str) -> str:
        raw = text.encode("utf-8", errors="surrogateescape")
        return self.redact_bytes(raw).decode("utf-8", errors="surrogateescape")

    def redact_name(self, text: str) -> str:
        """A value that is a name in its own right (the run's user): replaced even when it is
        too common a word to replace in text."""
        cls = self._names.get(norm(text))
        return self._token(cls, self._spelt[norm(text)]) if cls else self.redact_text(text)

    def _redact_defining_lines(self, data: bytes) -> bytes:
        lines = data.split(b"\n")
        for number, line in enumerate(lines):
            value = norm(line.decode("utf-8", errors="replace"))
            cls = self._names.get(value)
            if cls is not None:
                stripped = line.strip()
                token = self._token(cls, self._spelt[value])
                lines[number] = line.replace(stripped, token.encode())
        return b"\n".join(lines)

    def _parameter(self, match: re.Match[bytes]) -> bytes:
        name, value = match.group(1), match.group(2)
        text = name.decode("utf-8", errors="replace")
        if not value or "." in text or text in KEPT_PARAMETERS or value.startswith(b"redacted-"):
            return match.group()
        token = self._token(_PARAMETER, value.decode("utf-8", errors="replace"))
        return name + b"=" + token.encode()

    def redact_parameters(self, words: bytes) -> bytes:
        """A kernel command line with the value of each parameter not known to name no one
        (KEPT_PARAMETERS, a module's) replaced."""
        return _PARAMETER_WORD.sub(self._parameter, words)

    def _redact_command_lines(self, key: str, data: bytes) -> bytes:
        if key == "proc/cmdline":
            return self.redact_parameters(data)
        if b"ommand line: " not in data:
            return data
        return _LOGGED_CMDLINE.sub(lambda m: m.group(1) + self.redact_parameters(m.group(2)), data)

    def redact_entry(self, entry: Entry) -> Entry:
        data = entry.data
        if DEFINING.fullmatch(entry.key):
            data = self._redact_defining_lines(data)
        if entry.kind in (Kind.FILE, Kind.COMMAND) and data:
            data = self._redact_command_lines(entry.key, data)
        if entry.kind in (Kind.FILE, Kind.COMMAND) and data:
            data = self.redact_bytes(data, hex_bytes=entry.key in HEX_BYTE_KEYS)
        return replace(
            entry,
            key=self.redact_text(entry.key),
            data=data,
            stderr=self.redact_text(entry.stderr),
            target=self.redact_text(entry.target),
            argv=tuple(self.redact_text(a) for a in entry.argv),
            names=tuple(self.redact_text(n) for n in entry.names),
        )

    def redact_meta(self, meta: Mapping[str, str]) -> dict[str, str]:
        return {
            k: self.redact_name(v) if k in META_NAMES else self.redact_text(v)
            for k, v in meta.items()
        }

    def redact_document(self, document: Any) -> Any:
        """A JSON document with every string (keys too) redacted; the report's `system.user`
        is the run's user and is replaced as a name."""
        redacted = self._walk(document)
        system = redacted.get("system") if isinstance(redacted, dict) else None
        if isinstance(system, dict) and isinstance(system.get("user"), str):
            system["user"] = self.redact_name(system["user"])
        return redacted

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {self.redact_text(str(k)): self._walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        return value

    def token_for(self, cls: str, value: str) -> str | None:
        return self._tokens.get((cls, norm(value)))

    def summary(self) -> dict[str, dict[str, int]]:
        """Per class: how many distinct values were replaced, and how many times."""
        return {
            c.name: {"values": len(self._values[c.name]), "replacements": self._replaced[c.name]}
            for c in CLASSES
        }


def redact_evidence(
    evidence: Evidence, redactor: Redactor | None = None
) -> tuple[Evidence, Redactor]:
    """A redacted copy of the snapshot, and the redactor that knows which tokens it gave."""
    redactor = redactor or Redactor()
    redactor.learn(evidence)
    redacted = Evidence(meta=redactor.redact_meta(evidence.meta))
    for entry in evidence:
        new = redactor.redact_entry(entry)
        key = new.key
        suffix = 2
        while key in redacted.entries:
            key = f"{new.key}~{suffix}"
            suffix += 1
        redacted.add(replace(new, key=key))
    return redacted, redactor
