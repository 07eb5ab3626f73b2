"""What snddiag reads, by area. Paths are relative to the root; `{release}`: the kernel release."""

from __future__ import annotations

from snddiag.collect.sources import Command, File, Glob, Kmsg, Link, Listing, Node, Source
from snddiag.evidence import Evidence

RELEASE_FILE = "proc/sys/kernel/osrelease"

SYSTEM: tuple[Source, ...] = (
    File(RELEASE_FILE),
    File("proc/sys/kernel/arch"),
    File("proc/sys/kernel/hostname"),
    File("proc/version"),
    File("proc/cmdline"),
    File("etc/os-release"),
    File("usr/lib/os-release"),
    File("etc/alpine-release"),
    File("etc/debian_version"),
    Glob("sys/class/dmi/id/*"),
    File("proc/device-tree/compatible"),
    Command("uname", ("uname", "-r", "-m")),
)

VIRTIO: tuple[Source, ...] = (
    Listing("sys/bus"),
    Listing("sys/bus/virtio/devices"),
    Listing("sys/bus/pci/devices"),
    Link("sys/bus/virtio/devices/*"),
    Glob("sys/bus/virtio/devices/*/device"),
    Glob("sys/bus/virtio/devices/*/vendor"),
    Glob("sys/bus/virtio/devices/*/features"),
    Glob("sys/bus/virtio/devices/*/status"),
    Glob("sys/bus/virtio/devices/*/modalias"),
    Link("sys/bus/virtio/devices/*/driver"),
    Glob("sys/bus/pci/devices/*/class"),
    Glob("sys/bus/pci/devices/*/vendor"),
    Glob("sys/bus/pci/devices/*/device"),
    Link("sys/bus/pci/devices/*/driver"),
    Glob("sys/class/net/*/address"),
    Link("sys/class/net/*/device/driver"),
    Link("sys/class/block/*/device/driver"),
    Link("sys/class/drm/card*/device/driver"),
    File("proc/interrupts"),
)

MODULES: tuple[Source, ...] = (
    File("proc/modules"),
    Command("lsmod", ("lsmod",)),
    Command("modinfo-virtio_snd", ("modinfo", "virtio_snd"), hex_bytes=True),
    Listing("lib/modules"),
    Link("lib/modules/{release}"),
    File("lib/modules/{release}/modules.builtin"),
    File("lib/modules/{release}/modules.dep", keep=r"virtio|sound/"),
    File("lib/modules/{release}/modules.alias", keep=r"virtio|snd"),
    File("proc/config.gz"),
    File("boot/config-{release}"),
    Glob("etc/modprobe.d/*"),
    Glob("lib/modprobe.d/*"),
    Glob("usr/lib/modprobe.d/*"),
    Glob("run/modprobe.d/*"),
    File("etc/modules"),
    Glob("etc/modules-load.d/*"),
    Glob("usr/lib/modules-load.d/*"),
    Glob("sys/module/virtio_snd/parameters/*"),
    File("sys/module/virtio_snd/initstate"),
    File("proc/sys/kernel/dmesg_restrict"),
    File("proc/sys/kernel/modules_disabled"),
)

ALSA: tuple[Source, ...] = (
    File("proc/asound/version"),
    File("proc/asound/cards"),
    File("proc/asound/pcm"),
    File("proc/asound/modules"),
    Glob("proc/asound/card*/id"),
    Glob("proc/asound/card*/pcm*/info"),
    Listing("dev/snd"),
    Node("dev/snd/*"),
    File("etc/asound.conf"),
)

KERNEL_LOG: tuple[Source, ...] = (Command("dmesg", ("dmesg",), timeout_s=5),)

# Read only when dmesg gave nothing: each is slower or less complete than the one before.
KERNEL_LOG_FALLBACKS: tuple[Source, ...] = (
    Kmsg("dev/kmsg"),
    File("var/log/kern.log"),
    File("var/log/messages"),
    Command("journalctl-k", ("journalctl", "-k", "-b", "--no-pager", "-o", "short-monotonic")),
)


def uname_fields(evidence: Evidence) -> tuple[str | None, str | None]:
    """(release, machine) as `uname -r -m` printed them."""
    words = (evidence.text("cmd/uname") or "").split()
    return (words[0], words[1]) if len(words) == 2 else (None, None)


def kernel_release(evidence: Evidence) -> str | None:
    """The running kernel's release: /proc/sys/kernel/osrelease, else `uname -r -m`."""
    text = evidence.text(RELEASE_FILE)
    if text is not None and text.strip():
        return text.strip()
    return uname_fields(evidence)[0]


def with_release(sources: tuple[Source, ...], release: str) -> tuple[Source, ...]:
    """Fill `{release}` into paths; without a known release those sources are left out."""
    filled: list[Source] = []
    for source in sources:
        if isinstance(source, File) and "{release}" in source.path:
            if release:
                filled.append(File(source.path.format(release=release), keep=source.keep))
        elif isinstance(source, Link) and "{release}" in source.path:
            if release:
                filled.append(Link(source.path.format(release=release)))
        else:
            filled.append(source)
    return tuple(filled)
