"""Redaction: identifiers in the evidence become stable, visibly fake tokens.

Two passes. `learn` reads the values that name this machine and its user where they are
defined: the host name files, DMI serials and UUID, network interface addresses, the `user`
of the run, `/home/<name>` paths and the owners of sound servers. `redact_*` then replaces, in
one regular-expression pass per text, those values and anything shaped like a MAC address, an
IPv4 or IPv6 address or a UUID. The same value always gets the same token (`redacted-host-1`);
tokens hold only `[a-z0-9-]`, so every parser reads one as a single word (the host field of a
syslog line, a kernel command-line word, a JSON string).

A host or user name that is also a word of the system's own description (`qemu`, `debian`,
`localhost`) is replaced where it is the name (its file, the run's user, `/home/<name>`) but
not in all text: replacing `qemu` in DMI's `sys_vendor` would change the diagnosis, and such a
name identifies nobody.
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import re
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Union

from snddiag.evidence import Entry, Evidence, Kind

HOSTNAME = "hostname"
USER = "user"
MAC = "mac"
IP = "ip"
SERIAL = "serial"
UUID = "uuid"
CLASSES = (HOSTNAME, USER, MAC, IP, SERIAL, UUID)
_TOKEN_PREFIX = {
    HOSTNAME: "host",
    USER: "user",
    MAC: "mac",
    IP: "ip",
    SERIAL: "serial",
    UUID: "uuid",
}

HOSTNAME_KEYS = ("proc/sys/kernel/hostname", "etc/hostname")
DMI = "sys/class/dmi/id/"
SERIAL_KEYS = tuple(
    DMI + name
    for name in (
        "product_serial",
        "board_serial",
        "chassis_serial",
        "board_asset_tag",
        "chassis_asset_tag",
    )
)
UUID_KEYS = (DMI + "product_uuid",)
_DEFINING_KEYS = frozenset(HOSTNAME_KEYS + SERIAL_KEYS + UUID_KEYS)
NET_ADDRESS = re.compile(r"^sys/class/net/[^/]+/address$")
SOUND_SERVERS_KEY = "lib/psutil/sound-servers"
UDEV_KEY = "lib/udev/sound"
# udev names a USB sound device by its serial number (ID_SERIAL ends with ID_SERIAL_SHORT).
UDEV_SERIALS = ("ID_SERIAL", "ID_SERIAL_SHORT", "ID_USB_SERIAL", "ID_USB_SERIAL_SHORT")
META_NAME_KEYS = {"user": USER, "hostname": HOSTNAME}

# Entries whose words the diagnosis relies on: a name found among them is not replaced in text.
_VOCABULARY_PREFIXES = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    DMI,
    "proc/modules",
    "proc/asound/",
    "proc/device-tree/compatible",
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/arch",
)
_VOCABULARY_WORDS = frozenset(
    (
        "qemu",
        "kvm",
        "virt",
        "virtio",
        "sound",
        "snd",
        "audio",
        "alsa",
        "pci",
        "mmio",
        "linux",
        "kernel",
        "host",
        "guest",
        "vm",
        "machine",
        "debian",
        "ubuntu",
        "alpine",
        "fedora",
        "arch",
        "archlinux",
        "centos",
        "rhel",
        "rocky",
        "alma",
        "opensuse",
        "suse",
        "gentoo",
        "nixos",
        "void",
        "manjaro",
        "mint",
        "kali",
        "raspberrypi",
        "localhost",
        "localdomain",
        "local",
        "lan",
        "home",
        "internal",
        "user",
        "users",
        "admin",
        "default",
        "none",
        "pipewire",
        "pulseaudio",
        "wireplumber",
        "jack",
        "utm",
        "apple",
        "vmware",
        "parallels",
        "virtualbox",
        "hyperv",
        "bochs",
        "proxmox",
        "libvirt",
        "docker",
        "android",
    )
)
GENERIC_HOSTNAMES = frozenset({"localhost", "localhost.localdomain", "localdomain", "(none)"})
GENERIC_USERS = frozenset(
    (
        "root",
        "nobody",
        "nogroup",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "_apt",
        "messagebus",
        "pulse",
        "pipewire",
        "rtkit",
        "polkitd",
        "avahi",
        "gdm",
        "lightdm",
        "sddm",
        "colord",
    )
)
# Placeholders firmware writes when a field was never set.
GENERIC_SERIALS = frozenset(
    {
        "",
        "0",
        "none",
        "n/a",
        "na",
        "unknown",
        "not specified",
        "not applicable",
        "not available",
        "default string",
        "to be filled by o.e.m.",
        "system serial number",
        "chassis serial number",
        "base board serial number",
        "0123456789",
    }
)
KEEP_MACS = frozenset({b"00:00:00:00:00:00", b"ff:ff:ff:ff:ff:ff"})
NIL_UUID = b"00000000-0000-0000-0000-000000000000"

_WORD = rb"[A-Za-z0-9_]"
_HOME = rb"(?P<home>(?<=/home/)[A-Za-z0-9._-]+)"
_UUID = (
    rb"(?P<uuid>(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-]))"
)
_MAC = (
    rb"(?P<mac>(?<![\w:.-])(?:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}|(?:[0-9a-f]{2}-){5}[0-9a-f]{2})"
    rb"(?![\w:-]))"
)
_IP6 = (
    rb"(?P<ip6>(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}"
    rb"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?(?:%[\w.-]+)?(?![\w:]))"
)
_IP4 = rb"(?P<ip4>(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d))"
_Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_GUNZIP_BYTES = 64 * 1024 * 1024


def _norm(value: str) -> str:
    return value.strip().lower()


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    return ""


def _is_netmask(address: ipaddress.IPv4Address) -> bool:
    inverted = ~int(address) & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


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
        self._names: dict[str, str] = {}
        self._in_text: set[str] = set()
        self._tokens: dict[tuple[str, str], str] = {}
        self._values: dict[str, set[str]] = {c: set() for c in CLASSES}
        self._replaced: Counter[str] = Counter()
        self._patterns: dict[bool, re.Pattern[bytes]] = {}
        self._keep: set[bytes] = set()

    def learn(self, evidence: Evidence) -> None:
        vocabulary = b"\n".join(
            e.data
            for e in evidence
            if e.ok
            and e.key.startswith(_VOCABULARY_PREFIXES)
            and e.key not in SERIAL_KEYS + UUID_KEYS
        )
        found: list[tuple[str, str]] = []
        for key in HOSTNAME_KEYS:
            entry = evidence.get(key)
            if entry is not None and entry.ok:
                found += self._hostnames(_first_line(entry.data))
        found += self._hostnames(evidence.meta.get("hostname", ""))
        for key in SERIAL_KEYS + UUID_KEYS:
            entry = evidence.get(key)
            if entry is not None and entry.ok:
                value = entry.data.decode("utf-8", errors="replace").strip()
                if _norm(value) not in GENERIC_SERIALS and value.encode() != NIL_UUID:
                    found.append((UUID if key in UUID_KEYS else SERIAL, value))
        for entry in evidence:
            if entry.ok and NET_ADDRESS.match(entry.key):
                value = entry.data.decode("ascii", errors="replace").strip().lower()
                if value and value.encode() not in KEEP_MACS and set(value) - {"0", ":"}:
                    found.append((MAC, value))
        found += self._udev_serials(evidence)
        users = [evidence.meta.get("user", ""), *self._server_owners(evidence)]
        for entry in evidence:
            for text in (entry.data, entry.target.encode(), entry.stderr.encode()):
                users += [m.decode("utf-8", "replace") for m in re.findall(_HOME, text)]
        found += [
            (USER, u) for u in users if u and _norm(u) not in GENERIC_USERS and not u.isdigit()
        ]
        for cls, value in found:
            self._add(cls, value, vocabulary)
        shapes = re.compile(b"|".join((_UUID, _MAC, _IP6, _IP4)), re.IGNORECASE)
        self._keep |= {m.group().lower() for m in shapes.finditer(vocabulary)}
        self._patterns.clear()

    def _hostnames(self, name: str) -> list[tuple[str, str]]:
        if _norm(name) in GENERIC_HOSTNAMES or not name:
            return []
        found = [(HOSTNAME, name)]
        short, _dot, domain = name.partition(".")
        if domain:
            found.append((HOSTNAME, short))
            if _norm(domain) not in GENERIC_HOSTNAMES and "." in domain:
                found.append((HOSTNAME, domain))
        return found

    @staticmethod
    def _json_list(evidence: Evidence, key: str) -> list[dict[str, Any]]:
        text = evidence.text(key)
        try:
            items = json.loads(text) if text else []
        except ValueError:
            return []
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def _server_owners(self, evidence: Evidence) -> list[str]:
        return [
            str(s["user"]) for s in self._json_list(evidence, SOUND_SERVERS_KEY) if s.get("user")
        ]

    def _udev_serials(self, evidence: Evidence) -> list[tuple[str, str]]:
        found = []
        for device in self._json_list(evidence, UDEV_KEY):
            properties = device.get("properties")
            if isinstance(properties, dict):
                values = [str(properties[k]) for k in UDEV_SERIALS if properties.get(k)]
                found += [(SERIAL, v) for v in values if _norm(v) not in GENERIC_SERIALS]
        return found

    def _add(self, cls: str, value: str, vocabulary: bytes) -> None:
        key = _norm(value)
        if not key or key in self._names:
            return
        self._names[key] = cls
        encoded = key.encode()
        shortest = 4 if cls == SERIAL else 3
        generic = key in _VOCABULARY_WORDS or key in GENERIC_USERS or len(set(key)) == 1
        in_vocabulary = re.search(
            rb"(?<!" + _WORD + rb")" + re.escape(encoded) + rb"(?!" + _WORD + rb")",
            vocabulary,
            re.IGNORECASE,
        )
        if len(key) >= shortest and not generic and not in_vocabulary:
            self._in_text.add(key)

    def _pattern(self, shapes: bool) -> re.Pattern[bytes]:
        pattern = self._patterns.get(shapes)
        if pattern is None:
            parts = [_HOME]
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
            parts.append(_UUID)
            if shapes:
                parts += [_MAC, _IP6]
            parts.append(_IP4)
            pattern = re.compile(b"|".join(parts), re.IGNORECASE)
            self._patterns[shapes] = pattern
        return pattern

    def _token(self, cls: str, value: str) -> str:
        token = self._tokens.get((cls, value))
        if token is None:
            self._values[cls].add(value)
            token = f"redacted-{_TOKEN_PREFIX[cls]}-{len(self._values[cls])}"
            self._tokens[(cls, value)] = token
        self._replaced[cls] += 1
        return token

    def _substitute(self, match: re.Match[bytes]) -> bytes:
        raw = match.group()
        kind = match.lastgroup
        if kind in ("uuid", "mac", "ip6", "ip4") and raw.lower() in self._keep:
            return raw
        cls, value = "", raw.decode("utf-8", errors="replace").lower()
        if kind == "home":
            cls = USER
        elif kind == "lit":
            cls = self._names[value]
        elif kind == "uuid" and raw.lower() != NIL_UUID:
            cls = UUID
        elif kind == "mac":
            value = value.replace("-", ":")
            cls = "" if value.encode() in KEEP_MACS else MAC
        elif kind == "ip6":
            cls, value = self._ip(value, ipaddress.IPv6Address)
        elif kind == "ip4":
            cls, value = self._ip(value, ipaddress.IPv4Address)
        return self._token(cls, value).encode() if cls else raw

    @staticmethod
    def _ip(text: str, kind: type[_Address]) -> tuple[str, str]:
        try:
            address = kind(text)
        except ValueError:
            return "", text
        if address.is_loopback or address.is_unspecified or address.is_multicast:
            return "", text
        if isinstance(address, ipaddress.IPv4Address) and _is_netmask(address):
            return "", text
        return IP, address.compressed

    def redact_bytes(self, data: bytes, *, shapes: bool = True) -> bytes:
        """Every identifier in `data` replaced; `shapes=False` leaves MAC- and IPv6-shaped
        text alone (modinfo's signature bytes look like MAC addresses)."""
        if data.startswith(_GZIP_MAGIC):
            plain = _gunzip(data)
            if plain is not None:
                redacted = self.redact_bytes(plain, shapes=shapes)
                return data if redacted == plain else gzip.compress(redacted, mtime=0)
        return self._pattern(shapes).sub(self._substitute, data)

    def redact_text(self, text: str, *, shapes: bool = True) -> str:
        raw = text.encode("utf-8", errors="surrogateescape")
        return self.redact_bytes(raw, shapes=shapes).decode("utf-8", errors="surrogateescape")

    def redact_name(self, text: str) -> str:
        """A value that is a name in its own right (the run's user): replaced even when it is
        too common a word to replace in text."""
        cls = self._names.get(_norm(text))
        return self._token(cls, _norm(text)) if cls else self.redact_text(text)

    def _redact_defining_lines(self, data: bytes) -> bytes:
        lines = data.split(b"\n")
        for number, line in enumerate(lines):
            value = _norm(line.decode("utf-8", errors="replace"))
            cls = self._names.get(value)
            if cls is not None:
                stripped = line.strip()
                lines[number] = line.replace(stripped, self._token(cls, value).encode())
        return b"\n".join(lines)

    def redact_entry(self, entry: Entry) -> Entry:
        shapes = not entry.key.startswith("cmd/modinfo")
        data = entry.data
        if entry.key in _DEFINING_KEYS or NET_ADDRESS.match(entry.key):
            data = self._redact_defining_lines(data)
        if entry.kind in (Kind.FILE, Kind.COMMAND) and data:
            data = self.redact_bytes(data, shapes=shapes)
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
            k: self.redact_name(v) if k in META_NAME_KEYS else self.redact_text(v)
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
        return self._tokens.get((cls, _norm(value)))

    def summary(self) -> dict[str, dict[str, int]]:
        """Per class: how many distinct values were replaced, and how many times."""
        return {
            c: {"values": len(self._values[c]), "replacements": self._replaced[c]} for c in CLASSES
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
