"""What snddiag reads, by area. Paths are relative to the root; `{release}`: the kernel release."""

from __future__ import annotations

from snddiag.collect.sources import Command, File, Glob, Kmsg, Link, Listing, Node, Source
from snddiag.evidence import RELEASE_KEY
from snddiag.records import dataclass

SYSTEM: tuple[Source, ...] = (
    File(RELEASE_KEY),
    File("proc/sys/kernel/arch"),
    File("proc/sys/kernel/hostname"),
    File("etc/hostname"),  # read by no fact: the redactor learns the FQDN's domain from it
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
    Glob("sys/bus/virtio/devices/*/features"),
    Glob("sys/bus/virtio/devices/*/status"),
    Link("sys/bus/virtio/devices/*/driver"),
    Glob("sys/bus/pci/devices/*/class"),
    Glob("sys/bus/pci/devices/*/vendor"),
    Glob("sys/bus/pci/devices/*/device"),
    Link("sys/bus/pci/devices/*/driver"),
    Glob("sys/class/net/*/address"),  # read by no fact: the redactor learns the MACs from it
)

MODULES: tuple[Source, ...] = (
    File("proc/modules"),
    Command("lsmod", ("lsmod",)),
    Command("modinfo-virtio_snd", ("modinfo", "virtio_snd"), hex_bytes=True),
    Link("lib/modules/{release}"),
    File("lib/modules/{release}/modules.builtin"),
    File("lib/modules/{release}/modules.dep", keep=r"virtio|sound/"),
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
    File("sys/kernel/security/lockdown"),
)

ALSA: tuple[Source, ...] = (
    File("proc/asound/version"),
    File("proc/asound/cards"),
    File("proc/asound/pcm"),
    File("proc/asound/modules"),
    Glob("proc/asound/card*/id"),
    Glob("proc/asound/card*/pcm*/info"),
    Node("dev/snd/*"),
    File("etc/asound.conf"),
)


# What else a guest can tell of its host when DMI is absent (Firecracker, microVMs, direct kernel
# boots): the hypervisor bit of the CPU, Xen's own file, and the ACPI tables' OEM ID (the first
# 36 bytes of the FADT are its header; root only).
HOST_IDENTITY: tuple[Source, ...] = (
    Listing("sys/class/dmi/id"),
    Listing("proc/device-tree"),  # node names: crosvm's serial ports are U6_16550A@...
    File("proc/cpuinfo", keep=r"^flags\s"),
    File("sys/hypervisor/type"),
    File("sys/firmware/acpi/tables/FACP", max_bytes=36),
)

# Where the running kernel's module file of virtio_snd sits when the tree has no modules.dep.
MODULE_FILES: tuple[Source, ...] = (Listing("lib/modules/{release}/kernel/sound/virtio"),)


@dataclass(frozen=True)
class KernelLog:
    """A place the kernel log can be read: the source, how reports name it, and its layout (the
    parser facts use: `dmesg`, `kmsg`, or `log` for log files and the journal, which may hold any
    syslog, journalctl or pasted dmesg layout: see `snddiag.parse.syslog`)."""

    source: Source
    label: str
    layout: str


# In the order collect tries them and facts prefer them: collect reads the next only when the
# ones before gave nothing, each being slower or less complete than the one before. /dev/kmsg is
# the ring buffer util-linux dmesg itself reads, without starting a process; both are closed to
# the same users (dmesg_restrict); dmesg is there for a /dev without kmsg (some containers).
KERNEL_LOGS: tuple[KernelLog, ...] = (
    KernelLog(Kmsg("dev/kmsg"), "/dev/kmsg", "kmsg"),
    KernelLog(Command("dmesg", ("dmesg",), timeout_s=5), "dmesg", "dmesg"),
    KernelLog(File("var/log/kern.log", tail=True), "/var/log/kern.log", "log"),
    KernelLog(File("var/log/messages", tail=True), "/var/log/messages", "log"),
    KernelLog(File("var/log/syslog", tail=True), "/var/log/syslog", "log"),
    KernelLog(
        Command("journalctl-k", ("journalctl", "-k", "-b", "--no-pager", "-o", "short-monotonic")),
        "journalctl -k",
        "log",
    ),
)


@dataclass(frozen=True)
class StandIn:
    """Files that hold what a command prints: collect runs the command only when one of them
    could not be read or, with `shows`, no line of the first matches it from the line's start
    (a bytes regex, tried on the lines holding one of `found_by`: a search of the whole file
    was a tenth of collecting in a small guest). Facts read the files first, so the command
    adds nothing when they stand in (and each costs a process, 0.05-0.4 s in a TCG guest)."""

    command: str
    paths: tuple[str, ...]
    shows: str = ""
    found_by: tuple[str, ...] = ()


STAND_INS: tuple[StandIn, ...] = (
    StandIn("cmd/lsmod", ("proc/modules",)),
    # Facts take only modinfo's `filename`, which kmod looks up in modules.dep (- and _ alike):
    # the same path. Without that line (built in, not installed, no tree) modinfo still runs.
    StandIn(
        "cmd/modinfo-virtio_snd",
        ("lib/modules/{release}/modules.dep",),
        shows=r"(?:\S*/)?virtio[-_]snd\.ko[.\w]*:",
        found_by=("virtio_snd.ko", "virtio-snd.ko"),
    ),
    StandIn("cmd/uname", (RELEASE_KEY, "proc/sys/kernel/arch")),
)


def key_of(source: Source) -> str:
    """The evidence key a source fills (a pattern for globs; `{release}` left unfilled)."""
    if isinstance(source, Command):
        return source.key
    if isinstance(source, (Glob, Node)):
        return source.pattern
    return source.path


PLAN: tuple[Source, ...] = (
    (SYSTEM + MODULES + VIRTIO + ALSA + tuple(log.source for log in KERNEL_LOGS))
    + HOST_IDENTITY
    + MODULE_FILES
)
KERNEL_LOG_KEYS: tuple[str, ...] = tuple(key_of(log.source) for log in KERNEL_LOGS)
DATA_PATH_KEY = "probe/data-path"
"""The data-path measurement (collect.data_path): written only by a run with --play. Named
here so that facts read it without importing the PCM driver."""
SERVER_PLAYBACK_KEY = "probe/server-playback"
"""The tone played through a session's sound server (collect.server_play), likewise."""


def mounted_kernel_logs(root: str) -> tuple[Source, ...]:
    """The kernel-log sources of a system mounted at `root` (`--root DIR`, a guest's disk): its
    log files, and its journal read by this machine's journalctl with `--root`, which resolves
    links inside DIR as that system would. The ring buffer and dmesg would be this machine's."""
    sources: list[Source] = []
    for log in KERNEL_LOGS:
        if isinstance(log.source, File):
            sources.append(log.source)
        elif isinstance(log.source, Command) and log.source.name == "journalctl-k":
            argv = ("journalctl", "--root", root, *log.source.argv[1:])
            sources.append(Command(log.source.name, argv, timeout_s=log.source.timeout_s))
    return tuple(sources)


def declared(*keys: str) -> tuple[str, ...]:
    """The keys, checked against the plan: a fact cannot name a source nothing collects."""
    known = {key_of(source) for source in PLAN}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(f"not in the collection plan: {', '.join(unknown)}")
    return keys


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
        elif isinstance(source, Listing) and "{release}" in source.path:
            if release:
                filled.append(Listing(source.path.format(release=release)))
        else:
            filled.append(source)
    return tuple(filled)
