"""The redaction classes: one entry for each kind of identifier.

An entry says where the class's values are learnt (its defining files, the run's metadata),
what its values look like in any text (its shapes and their validator), which values are never
taken for one (its keep-list), and how its tokens and counts are named. Learning, replacement,
counting and the bundle's note all read this table and nothing else: adding a class is one entry
in `CLASSES` plus its seeded case in `tests/bundle/seeded.py`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from snddiag.bundle.redact.vocabulary import (
    GENERIC_HOSTNAMES,
    GENERIC_USERS,
    KEEP_MACS,
    PLACEHOLDERS,
)
from snddiag.evidence import Entry, Evidence
from snddiag.records import dataclass

HOSTNAME_KEYS = ("proc/sys/kernel/hostname", "etc/hostname")
SOUND_SERVERS_KEY = "lib/psutil/sound-servers"
UDEV_KEY = "lib/udev/sound"
# udev names a USB sound device by its serial number (ID_SERIAL ends with ID_SERIAL_SHORT).
UDEV_SERIALS = ("ID_SERIAL", "ID_SERIAL_SHORT", "ID_USB_SERIAL", "ID_USB_SERIAL_SHORT")

HOME = rb"(?<=/home/)[A-Za-z0-9._-]+"
# Home folders elsewhere: macOS's /Users, /srv/NAME (/var/home is covered by /home/).
HOME_ELSEWHERE = rb"(?:(?<=/Users/)|(?<=/srv/))[A-Za-z0-9._-]+"
# What the session evidence (collect/session.py) says of users, hosts and devices: pw-dump's
# JSON properties and pactl info's lines.
SESSION_KEY = re.compile(r"session/\d+/(?:pw-dump|pactl-info)|lib/session/sessions")
SESSION_VALUES = {
    "user": re.compile(
        rb'"(?:application\.process\.user|user-name|user)": "([^"\n]{1,256})"'
        rb"|^User Name: (.{1,256})$",
        re.MULTILINE,
    ),
    "hostname": re.compile(
        rb'"(?:application\.process\.host|host-name)": "([^"\n]{1,256})"'
        rb"|^Host Name: (.{1,256})$",
        re.MULTILINE,
    ),
    "serial": re.compile(rb'"device\.serial": "([^"\n]{1,256})"'),
}
UUID = rb"(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])"
MAC = rb"(?<![\w:.-])(?:(?:[0-9a-f]{2}:){5}[0-9a-f]{2}|(?:[0-9a-f]{2}-){5}[0-9a-f]{2})(?![\w:-])"
IP6 = (
    rb"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}"
    rb"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]{1,4})?(?:%[\w.-]+)?(?![\w:])"
)
# Glued to `_` (ip_10.0.0.1) is still an address: only letters, digits and dots end a word here.
IP4 = rb"(?<![A-Za-z0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![A-Za-z0-9]|\.\d)"
# user@host.domain, as e-mail and as the kernel build banner writes it (`(builder@host.example)`);
# a systemd unit instance (getty@tty1.service) is a name of the system, not of a person.
EMAIL = rb"(?<![\w.+-])[\w.+-]{1,64}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,24}(?![\w-])"
# The kernel banner's builder without a domain: `Linux version 6.1.0 (user@buildhost) (gcc`.
BANNER_BUILDER = rb"(?<=[\w.+~-] \()[\w.+-]{1,64}@[\w.-]{1,253}(?=\) )"
# The user of `user@192.0.2.1` (ssh, scp, a VMM agent's argument).
USER_AT_ADDRESS = rb"(?<![\w.+-])[\w.+-]{1,64}(?=@\d{1,3}(?:\.\d{1,3}){3}(?!\d))"
# systemd's machine id, given on the kernel command line or kept in /etc/machine-id.
MACHINE_ID = rb"(?<=machine_id=)[0-9a-f]{32}(?![0-9a-f])"
# A filesystem or partition id after UUID= or PARTUUID=: FAT's 1234-ABCD, MBR's 0a1b2c3d-01.
FS_UUID = rb"(?<=UUID=)[0-9a-f][0-9a-f-]{3,35}(?![\w-])"
_UNIT_SUFFIXES = (".service", ".socket", ".target", ".timer", ".mount", ".slice", ".scope")


@dataclass(frozen=True)
class Shape:
    """What a value of the class looks like in any text (matched case-insensitively).

    `hex_bytes`: colon-separated hex bytes (signatures, key ids) look like this too, so it is
    not matched in sources the collection plan declares `hex_bytes`. `by_place`: a name known by
    what stands before it (`/home/<name>`); it is matched before the learnt values and replaced
    whatever it is, keep-list and vocabulary notwithstanding. `needs`: a regex a text must
    match for the shape to be tried on it at all (a shape that may start at any word slows
    every other shape down, so the rare ones join only where their mark is)."""

    group: str
    regex: bytes
    hex_bytes: bool = False
    by_place: bool = False
    needs: bytes = b""


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class RedactionClass:
    """One kind of identifier. `learn` gets the snapshot and its readable entries whose key
    matches `defined_in`, whose lines are values of the class; `validate` gets a shape's match
    (lowercase) and gives the value to replace, or None to leave it. `keep`: normalised values
    never taken for one of the class. A learnt value shorter than `shortest` is replaced where it
    is the value, not in all text. When one value is learnt for two classes, the lower
    `precedence` has it. `spellings`: the ways a learnt value is written in text (a MAC address
    with dots or bare), each replaced by the value's token wherever it is a whole word."""

    name: str
    prefix: str
    words: tuple[str, str]
    precedence: int
    learn: Callable[[Evidence, Sequence[Entry]], Iterable[str]]
    defined_in: str = ""
    shapes: tuple[Shape, ...] = ()
    validate: Callable[[str], str | None] = _unchanged
    keep: frozenset[str] = frozenset()
    shortest: int = 3
    spellings: Callable[[str], tuple[str, ...]] = lambda value: (value,)


def norm(value: str) -> str:
    return value.strip().lower()


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    return ""


def _stripped(entries: Sequence[Entry]) -> list[str]:
    return [e.data.decode("utf-8", errors="replace").strip() for e in entries]


def _json_list(evidence: Evidence, key: str) -> list[dict[str, Any]]:
    text = evidence.text(key)
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _session_values(evidence: Evidence, kind: str) -> list[str]:
    """The values of `kind` the session evidence names (a user, a host, a device serial)."""
    found: list[str] = []
    for entry in evidence:
        if entry.ok and SESSION_KEY.fullmatch(entry.key):
            for m in SESSION_VALUES[kind].finditer(entry.data):
                value = next(g for g in m.groups() if g is not None)
                found.append(value.decode("utf-8", errors="replace").strip())
    return [v for v in found if v and v != "(none)"]


def _learn_hostnames(evidence: Evidence, defining: Sequence[Entry]) -> list[str]:
    """The host name, and for an FQDN its short name and (when dotted) its domain."""
    found = []
    named = [*(_first_line(e.data) for e in defining), evidence.meta.get("hostname", "")]
    for written in named + _session_values(evidence, "hostname"):
        name = written.rstrip(".")  # an FQDN may be written absolute: host.example.net.
        found.append(name)
        short, _dot, domain = name.partition(".")
        if domain:
            found += [short, domain] if "." in domain else [short]
    return found


def _learn_users(evidence: Evidence, _defining: Sequence[Entry]) -> list[str]:
    """The run's user, the owners of sound servers and every `/home/<name>`."""
    owners = [s["user"] for s in _json_list(evidence, SOUND_SERVERS_KEY) if s.get("user")]
    users = [evidence.meta.get("user", ""), *(str(o) for o in owners)]
    users += _session_values(evidence, "user")
    for entry in evidence:
        for text in (entry.data, entry.target.encode(), entry.stderr.encode()):
            users += [m.decode("utf-8", "replace") for m in re.findall(HOME, text)]
    return [u for u in users if not u.isdigit()]  # a bare uid names nobody


def _learn_macs(_evidence: Evidence, defining: Sequence[Entry]) -> list[str]:
    values = (e.data.decode("ascii", errors="replace").strip().lower() for e in defining)
    return [v for v in values if set(v) - {"0", ":"}]


def _learn_serials(evidence: Evidence, defining: Sequence[Entry]) -> list[str]:
    """DMI serials and asset tags, and the serial numbers udev gives USB sound devices."""
    found = _stripped(defining) + _session_values(evidence, "serial")
    for device in _json_list(evidence, UDEV_KEY):
        properties = device.get("properties")
        if isinstance(properties, dict):
            found += [str(properties[k]) for k in UDEV_SERIALS if properties.get(k)]
    return found


def _learn_uuids(_evidence: Evidence, defining: Sequence[Entry]) -> list[str]:
    return _stripped(defining)


def _learn_nothing(_evidence: Evidence, _defining: Sequence[Entry]) -> list[str]:
    return []


def _learn_machine_ids(_evidence: Evidence, defining: Sequence[Entry]) -> list[str]:
    return [v for v in _stripped(defining) if re.fullmatch(r"[0-9a-f]{32}", v)]


def _not_a_unit(text: str) -> str | None:
    return None if text.endswith(_UNIT_SUFFIXES) else text


def _mac(text: str) -> str:
    return text.replace("-", ":")


def _mac_spellings(value: str) -> tuple[str, ...]:
    """52:54:00:ab:cd:ef as tools and the kernel write it: with dashes, Cisco's dotted
    `5254.00ab.cdef`, bare `525400abcdef`, and as hexdump bytes `52 54 00 ab cd ef` (a kernel
    `ll header:` line). Only a learnt MAC is matched so: other 12-digit hex stays."""
    octets = value.split(":")
    if len(octets) != 6 or not all(re.fullmatch(r"[0-9a-f]{2}", o) for o in octets):
        return (value,)
    bare = "".join(octets)
    cisco = ".".join(bare[i : i + 4] for i in (0, 4, 8))
    return (value, "-".join(octets), cisco, bare, " ".join(octets))


def _is_netmask(address: ipaddress.IPv4Address) -> bool:
    inverted = ~int(address) & 0xFFFFFFFF
    return inverted & (inverted + 1) == 0


def _ip_address(text: str) -> str | None:
    """An address that names a machine, compressed; None for loopback, unspecified, multicast,
    netmasks and dotted text that is no address (a kernel release like 4.14.117.1)."""
    octets = text.split(".")
    if len(octets) == 4 and all(o.isdigit() for o in octets):
        text = ".".join(str(int(o)) for o in octets)  # zero-padded: 010.001.002.003
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified or address.is_multicast:
        return None
    if isinstance(address, ipaddress.IPv4Address) and _is_netmask(address):
        return None
    return address.compressed


# In the order of the manifest's counts and the bundle's note. Where two shapes match at the same
# place, the earlier in this table wins: MAC addresses come before IP, whose IPv6 shape they fit.
CLASSES: tuple[RedactionClass, ...] = (
    RedactionClass(
        name="hostname",
        prefix="host",
        words=("host name", "host names"),
        precedence=1,
        learn=_learn_hostnames,
        defined_in="|".join(HOSTNAME_KEYS),
        keep=GENERIC_HOSTNAMES,
    ),
    RedactionClass(
        name="user",
        prefix="user",
        words=("user name", "user names"),
        precedence=5,
        learn=_learn_users,
        shapes=(
            Shape("home", HOME, by_place=True),
            Shape("home_elsewhere", HOME_ELSEWHERE, by_place=True, needs=rb"/Users/|/srv/"),
            Shape("user_at_address", USER_AT_ADDRESS, needs=rb"@\d"),
        ),
        keep=GENERIC_USERS,
    ),
    RedactionClass(
        name="mac",
        prefix="mac",
        words=("MAC address", "MAC addresses"),
        precedence=4,
        learn=_learn_macs,
        defined_in=r"sys/class/net/[^/]+/address",
        shapes=(Shape("mac", MAC, hex_bytes=True),),
        validate=_mac,
        keep=KEEP_MACS,
        spellings=_mac_spellings,
    ),
    RedactionClass(
        name="ip",
        prefix="ip",
        words=("IP address", "IP addresses"),
        precedence=6,
        learn=_learn_nothing,
        shapes=(Shape("ip6", IP6, hex_bytes=True), Shape("ip4", IP4)),
        validate=_ip_address,
    ),
    RedactionClass(
        name="serial",
        prefix="serial",
        words=("serial number", "serial numbers"),
        precedence=2,
        learn=_learn_serials,
        defined_in=r"sys/class/dmi/id/(?:product|board|chassis)_serial"
        r"|sys/class/dmi/id/(?:board|chassis)_asset_tag",
        keep=PLACEHOLDERS,
        shortest=4,
    ),
    RedactionClass(
        name="uuid",
        prefix="uuid",
        words=("UUID", "UUIDs"),
        precedence=3,
        learn=_learn_uuids,
        defined_in=r"sys/class/dmi/id/product_uuid",
        shapes=(
            Shape("uuid", UUID),
            Shape("fs_uuid", FS_UUID, by_place=True, needs=rb"UUID="),
        ),
        keep=PLACEHOLDERS,
    ),
    RedactionClass(
        name="machine_id",
        prefix="machineid",
        words=("machine id", "machine ids"),
        precedence=7,
        learn=_learn_machine_ids,
        defined_in=r"etc/machine-id|var/lib/dbus/machine-id",
        shapes=(Shape("machine_id", MACHINE_ID, by_place=True, needs=rb"machine_id="),),
    ),
    RedactionClass(
        name="email",
        prefix="email",
        words=("e-mail or user@host address", "e-mail or user@host addresses"),
        precedence=8,
        learn=_learn_nothing,
        shapes=(
            Shape("email", EMAIL, needs=rb"@"),
            Shape("banner", BANNER_BUILDER, by_place=True, needs=rb"@"),
        ),
        validate=_not_a_unit,
    ),
    RedactionClass(
        name="parameter",
        prefix="param",
        words=("kernel parameter value", "kernel parameter values"),
        precedence=9,
        learn=_learn_nothing,
    ),
)
BY_NAME = {c.name: c for c in CLASSES}
# The keys of the files that define a value of some class.
DEFINING = re.compile("|".join(f"(?:{c.defined_in})" for c in CLASSES if c.defined_in))


def describe_counts(counts: Mapping[str, Mapping[str, int]]) -> str:
    """`1 host name, 2 MAC addresses`: the distinct values replaced, for each class with any."""
    return ", ".join(
        f"{n['values']} {BY_NAME[name].words[n['values'] != 1]}"
        for name, n in counts.items()
        if n["values"]
    )
