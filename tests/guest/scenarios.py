"""The lab's guest scenarios, and the verdict snddiag must reach in each.

`expect_rules` is the exact set of rule ids that fire; `expect_words` must all appear in the
remediation text of the findings (case-insensitive). The expectations were
checked against what the guests show and what the rules say.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

from .host_audio import PULSE_SOCKET, WAV_PATH
from .lab import COLDPLUG, LAB_USER, Scenario, host_tsc_khz, session_env
from .oot_module import GUEST_PATH as OOT_VIRTIO_SND

VIRTIO_PCI = ("-device", "virtio-sound-pci,audiodev=snd0", "-audiodev", "none,id=snd0")
VIRTIO_MMIO = ("-device", "virtio-sound-device,audiodev=snd0", "-audiodev", "none,id=snd0")
INTEL_HDA = ("-device", "intel-hda", "-device", "hda-duplex,audiodev=snd0")

# /etc/modprobe.d keeps its real contents (copied onto a tmpfs, the root is read-only) plus one
# file, the way an administrator or a distribution package blacklists a driver.
BLACKLIST_MODPROBE_D = (
    "mkdir -p /run/lab-modprobe.d && cp -a /etc/modprobe.d/. /run/lab-modprobe.d/",
    "mount -t tmpfs -o mode=755 tmpfs /etc/modprobe.d",
    "cp -a /run/lab-modprobe.d/. /etc/modprobe.d/",
    "printf 'blacklist virtio_snd\\ninstall virtio_snd /bin/false\\n'"
    " >/etc/modprobe.d/snddiag-lab-blacklist.conf",
)

# After a kernel upgrade without a reboot, /lib/modules holds other releases but not the
# running one: keep every other release's tree, hide the running kernel's.
# Guests boot without a desktop: the informational rule about the missing sound server fires
# wherever a sound card exists.
HEADLESS = frozenset({"no-sound-server"})

HIDE_RUNNING_MODULE_TREE = (
    "mkdir -p /run/lab-modules && mount --bind /lib/modules /run/lab-modules",
    "mount -t tmpfs -o mode=755 tmpfs /lib/modules",
    'for d in /run/lab-modules/*; do r=${d##*/}; [ "$r" = "$(uname -r)" ] && continue;'
    ' mkdir "/lib/modules/$r" && mount --bind "$d" "/lib/modules/$r"; done',
    "umount /run/lab-modules",
)

# A module tree that exists but is empty (an interrupted install, an image that copied the
# directory without its contents): an empty tmpfs over the running release's tree.
EMPTY_RUNNING_MODULE_TREE = ('mount -t tmpfs -o mode=755 tmpfs "/lib/modules/$(uname -r)"',)

# An out-of-tree build of virtio_snd without a signature, in a private module directory: the
# host's signed module with its appended signature cut off (struct module_signature ends with
# the signature's length, big-endian, before the marker). Its dependencies are the kernel's own,
# signed; then an administrator's insmod of the unsigned module, as a DKMS or hand build does.
_STRIP_SIGNATURE = (
    "import lzma, struct, sys\n"
    "data = lzma.open(sys.argv[1]).read()\n"
    "marker = b'~Module signature appended~\\n'\n"
    "assert data.endswith(marker)\n"
    "size = struct.unpack('>I', data[-len(marker) - 4 : -len(marker)])[0]\n"
    "open(sys.argv[2], 'wb').write(data[: -len(marker) - 12 - size])\n"
)
UNSIGNED_VIRTIO_SND = (
    # securityfs, as systemd mounts it: the kernel's lockdown state is read there.
    "mount -t securityfs securityfs /sys/kernel/security",
    "mkdir -p /run/lab-unsigned",
    f"$PYTHON -c {shlex.quote(_STRIP_SIGNATURE)}"
    ' "/lib/modules/$(uname -r)/kernel/sound/virtio/virtio_snd.ko.xz"'
    " /run/lab-unsigned/virtio_snd.ko",
    "modprobe snd_pcm",
    "insmod /run/lab-unsigned/virtio_snd.ko || true",
)

# Debian 12's 6.1 has no virtio_snd: the lab's build of it from that kernel's own source
# (tests/guest/oot_module.py), loaded by hand as after a DKMS or hand build.
OLD_DRIVER_LOADED = ("modprobe snd_pcm", f"insmod {OOT_VIRTIO_SND}")

OLD_DRIVER = Scenario(
    name="old-driver-6-1",
    description="Debian 12's 6.1 kernel with virtio_snd built out of tree from its own "
    "source (older than 'ALSA: virtio: use ack callback'), insmod'ed: one ALSA card",
    kernel="6.1",
    qemu_args=VIRTIO_PCI,
    oot_virtio_snd=True,
    setup=OLD_DRIVER_LOADED,
    expect_exit=0,
    expect_status="ok",
    expect_rules=HEADLESS | {"driver-known-bugs"},
    guest_cards=r"virtio-snd - VirtIO SoundCard\s+VirtIO SoundCard at pci/",
)

# Alpine's default tools are busybox applets: put them first in PATH for everything after set-up.
BUSYBOX_FIRST = (
    "mkdir -p /run/busybox-first",
    "for a in lsmod modinfo dmesg; do ln -s /bin/busybox /run/busybox-first/$a; done",
    "export PATH=/run/busybox-first:$PATH",
)

UNSIGNED_SIG_ENFORCE = Scenario(
    name="unsigned-sig-enforce",
    description="module-not-loaded booted with module.sig_enforce=1; an unsigned build of "
    "virtio_snd is insmod'ed and refused",
    qemu_args=VIRTIO_PCI,
    coldplug=False,
    cmdline=("module.sig_enforce=1",),
    setup=UNSIGNED_VIRTIO_SND,
    expect_exit=2,
    expect_status="error",
    expect_rules=frozenset({"module-signature-rejected", "driver-not-loaded"}),
    expect_words=("sign-file", "modprobe virtio_snd"),
    guest_snd_loaded=False,
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="healthy-pci",
        description="6.12 on q35 with virtio-sound-pci: the driver binds, one ALSA card",
        qemu_args=VIRTIO_PCI,
        expect_exit=0,
        expect_status="ok",
        expect_rules=HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard\s+VirtIO SoundCard at pci/",
    ),
    Scenario(
        name="modern-mmio",
        description="6.12 on microvm, virtio-sound-device on a modern (1.x) virtio-mmio transport",
        machine="microvm",
        qemu_args=("-global", "virtio-mmio.force-legacy=false", *VIRTIO_MMIO),
        expect_exit=0,
        expect_status="ok",
        expect_rules=HEADLESS,
        guest_cards=r"VirtIO SoundCard at platform/LNRO0005:",
    ),
    Scenario(
        name="legacy-mmio",
        description="virtio-sound-device on a legacy virtio-mmio transport (QEMU's default): "
        "no VIRTIO_F_VERSION_1, probe fails with -22",
        machine="microvm",
        qemu_args=("-global", "virtio-mmio.force-legacy=true", *VIRTIO_MMIO),
        expect_exit=2,
        expect_status="error",
        # probe-failed stays quiet when a specific rule explains the failure.
        # The probe failure follows the transport (probe-failed waits for it).
        expect_rules=frozenset({"legacy-mmio-transport", "probe-failed"}),
        expect_words=("virtio-sound-pci", "force-legacy=false"),
        guest_dmesg=(
            r"virtio_snd virtio\d+: device does not comply with spec version 1\.x",
            r"virtio_snd virtio\d+: probe with driver virtio_snd failed with error -22",
        ),
        guest_cards=r"no soundcards",
    ),
    Scenario(
        name="no-config-snd-virtio",
        description="Debian 12's 6.1 kernel (no CONFIG_SND_VIRTIO) with virtio-sound-pci",
        kernel="6.1",
        qemu_args=VIRTIO_PCI,
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"driver-not-in-kernel"}),
        expect_words=("backports",),
        guest_snd_loaded=False,
    ),
    OLD_DRIVER,
    Scenario(
        name="module-not-loaded",
        description="healthy-pci without coldplug: the device is there, nobody loaded virtio_snd",
        qemu_args=VIRTIO_PCI,
        coldplug=False,
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"driver-not-loaded"}),
        expect_words=("modprobe virtio_snd",),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="modules-disabled",
        description="module-not-loaded, then kernel.modules_disabled=1 (a hardened guest): "
        "modprobe cannot load virtio_snd any more",
        qemu_args=VIRTIO_PCI,
        coldplug=False,
        sysctls=(("kernel.modules_disabled", "1"),),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"module-loading-disabled", "driver-not-loaded"}),
        expect_words=("modules-load.d", "update-initramfs"),
        guest_snd_loaded=False,
    ),
    UNSIGNED_SIG_ENFORCE,
    replace(
        UNSIGNED_SIG_ENFORCE,
        name="unsigned-lockdown",
        description="module-not-loaded booted with lockdown=integrity; an unsigned build of "
        "virtio_snd is insmod'ed and refused",
        cmdline=("lockdown=integrity",),
    ),
    Scenario(
        name="no-sound-device",
        description="6.12 on q35 without any sound device",
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"no-virtio-sound-device"}),
        expect_words=("virtio-sound-pci",),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="blacklisted-cmdline",
        description="healthy-pci booted with module_blacklist=virtio_snd",
        qemu_args=VIRTIO_PCI,
        cmdline=("module_blacklist=virtio_snd",),
        expect_exit=2,
        expect_status="error",
        # driver-not-loaded follows the blacklist that explains it.
        expect_rules=frozenset({"driver-blacklisted", "driver-not-loaded"}),
        expect_words=("module_blacklist",),
        guest_dmesg=(r"Module virtio_snd is blacklisted",),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="blacklisted-modprobe",
        description="healthy-pci with 'blacklist virtio_snd' and 'install virtio_snd /bin/false' "
        "in /etc/modprobe.d before coldplug",
        qemu_args=VIRTIO_PCI,
        setup=BLACKLIST_MODPROBE_D,
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"driver-blacklisted", "driver-not-loaded"}),
        expect_words=("modprobe.d",),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="jacks-probe-failure",
        description="virtio-sound-pci with jacks=1: the device answers NOT_SUPP, probe fails -95",
        qemu_args=(
            "-device",
            "virtio-sound-pci,audiodev=snd0,jacks=1",
            "-audiodev",
            "none,id=snd0",
        ),
        expect_exit=2,
        expect_status="error",
        # The kernel prints no cause of its own for -95: the generic probe-failed rule reports it,
        # and its remediation names jacks and chmaps.
        expect_rules=frozenset({"probe-failed"}),
        expect_words=("jacks",),
        guest_dmesg=(r"virtio_snd virtio\d+: probe with driver virtio_snd failed with error -95",),
        guest_cards=r"no soundcards",
    ),
    Scenario(
        name="intel-hda-only",
        description="6.12 on q35 with QEMU's intel-hda + hda-duplex (UTM's default), no virtio",
        qemu_args=(*INTEL_HDA, "-audiodev", "none,id=snd0"),
        # Sound works, only not through virtio: snddiag's subject is missing (an error), the
        # emulated card is noted as info.
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"no-virtio-sound-device", "emulated-sound-only"}),
        expect_words=("virtio-sound-pci",),
        guest_snd_loaded=False,
        guest_cards=r"^ 0 \[Intel\s*\]: HDA-Intel",
    ),
    Scenario(
        name="intel-hda-and-virtio",
        description="intel-hda and virtio-sound-pci together; the HDA card probes first and "
        "becomes ALSA's card 0, the default",
        # Coldplug order follows sysfs, not the PCI slots: load the HDA driver first, as an
        # /etc/modules entry would, so that it takes card 0 every time.
        setup=("modprobe snd_hda_intel",),
        qemu_args=(
            *INTEL_HDA,
            "-device",
            "virtio-sound-pci,audiodev=snd1",
            "-audiodev",
            "none,id=snd0",
            "-audiodev",
            "none,id=snd1",
        ),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"alsa-card-not-default"}) | HEADLESS,
        expect_words=("default",),
        guest_cards=r"^ 0 \[Intel\s*\]: HDA-Intel(.|\n)* 1 \[SoundCard\s*\]: virtio-snd",
    ),
    Scenario(
        name="machine-type-8-2",
        description="healthy-pci on q35 pinned to machine type pc-q35-8.2: the guest can only "
        "tell that QEMU is 8.2 or newer, a version range with known virtio sound bugs",
        machine="pc-q35-8.2",
        qemu_args=VIRTIO_PCI,
        expect_rules=frozenset({"qemu-virtio-sound-known-bugs"}) | HEADLESS,
        expect_words=("9.1",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="old-machine-type",
        description="q35 pinned to machine type pc-q35-7.2 (UTM <= 4.5 ships QEMU 7.2) with its "
        "default intel-hda sound",
        machine="pc-q35-7.2",
        qemu_args=(*INTEL_HDA, "-audiodev", "none,id=snd0"),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset(
            {"qemu-machine-too-old", "no-virtio-sound-device", "emulated-sound-only"}
        ),
        expect_words=("8.2",),
        guest_snd_loaded=False,
        guest_cards=r"^ 0 \[Intel\s*\]: HDA-Intel",
    ),
    Scenario(
        name="bad-module-param",
        description="healthy-pci booted with virtio_snd.msg_timeout_ms=0: the driver refuses "
        "the device with -22",
        qemu_args=VIRTIO_PCI,
        cmdline=("virtio_snd.msg_timeout_ms=0",),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"bad-module-parameter", "probe-failed"}),
        expect_words=("msg_timeout_ms=1000",),
        guest_dmesg=(
            r"virtio_snd virtio\d+: msg_timeout_ms value cannot be zero",
            r"virtio_snd virtio\d+: probe with driver virtio_snd failed with error -22",
        ),
        guest_cards=r"no soundcards",
    ),
    Scenario(
        name="no-module-tree",
        description="healthy-pci with /lib/modules/$(uname -r) gone before coldplug, as after a "
        "kernel upgrade without a reboot",
        qemu_args=VIRTIO_PCI,
        setup=HIDE_RUNNING_MODULE_TREE,
        expect_exit=2,
        expect_status="error",
        # driver-not-loaded stays quiet: without the tree the module is not "installed".
        expect_rules=frozenset({"module-tree-missing"}),
        expect_words=("reboot",),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="empty-module-tree",
        description="healthy-pci with an empty /lib/modules/$(uname -r) before coldplug: the "
        "tree exists, without modules.dep or virtio_snd.ko",
        qemu_args=VIRTIO_PCI,
        setup=EMPTY_RUNNING_MODULE_TREE,
        expect_exit=2,
        expect_status="error",
        # driver-not-loaded stays quiet: nothing to load; module-tree-missing: the tree exists.
        expect_rules=frozenset({"module-tree-incomplete"}),
        expect_words=("depmod", "reinstall"),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="old-kernel-no-device",
        description="Debian 12's 6.1 kernel (no CONFIG_SND_VIRTIO) on q35 without a sound device: "
        "both blocking causes at once",
        kernel="6.1",
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"no-virtio-sound-device", "driver-not-in-kernel"}),
        expect_words=("backports", "virtio-sound-pci"),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="non-root-dmesg-restrict",
        description="healthy-pci, kernel.dmesg_restrict=1, snddiag run as nobody",
        qemu_args=VIRTIO_PCI,
        sysctls=(("kernel.dmesg_restrict", "1"),),
        run_as="nobody",
        # A healthy guest whose kernel log could not be read (info), seen by a user outside the
        # audio group (warning).
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"kernel-log-needs-privilege", "sound-nodes-not-accessible"})
        | HEADLESS,
        expect_words=("root",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="busybox-tools",
        description="healthy-pci where lsmod, modinfo and dmesg are busybox applets (Alpine "
        "without kmod and util-linux); coldplug still uses kmod's modprobe",
        qemu_args=VIRTIO_PCI,
        setup=BUSYBOX_FIRST,
        expect_exit=0,
        expect_status="ok",
        expect_rules=HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
)


# aarch64 guests run on QEMU's virt machine, as UTM runs them on Apple silicon. Each boots twice:
# directly (QEMU loads the kernel: device tree `linux,dummy-virt`, no DMI, the mmio transports
# under /sys/devices/platform/*.virtio_mmio) and through EDK2 (qemu-efi-aarch64: DMI
# `QEMU Virtual Machine`, ACPI, the mmio transports as LNRO0005:*).
MMIO_DT = r"[0-9a-f]+\.virtio_mmio"
MMIO_ACPI = r"LNRO0005:[0-9a-f]+"


def _through_uefi(direct: Scenario, **changes: str) -> Scenario:
    return replace(
        direct,
        name=f"{direct.name}-uefi",
        description=f"{direct.description}, booted through UEFI (DMI, ACPI)",
        uefi=True,
        **changes,
    )


ARM_LEGACY_MMIO = Scenario(
    name="arm-legacy-mmio",
    description="aarch64 on virt, virtio-sound-device on a legacy virtio-mmio transport (QEMU's "
    "default; the UTM failure)",
    arch="aarch64",
    machine="virt",
    qemu_args=VIRTIO_MMIO,
    expect_exit=2,
    expect_status="error",
    # The probe failure follows the transport (probe-failed waits for it).
    expect_rules=frozenset({"legacy-mmio-transport", "probe-failed"}),
    expect_words=("virtio-sound-pci", "force-legacy=false"),
    guest_dmesg=(
        r"virtio_snd virtio\d+: device does not comply with spec version 1\.x",
        r"virtio_snd virtio\d+: probe with driver virtio_snd failed with error -22",
    ),
    guest_cards=r"no soundcards",
)
ARM_MODERN_MMIO = Scenario(
    name="arm-modern-mmio",
    description="aarch64 on virt, virtio-sound-device with virtio-mmio.force-legacy=false",
    arch="aarch64",
    machine="virt",
    qemu_args=("-global", "virtio-mmio.force-legacy=false", *VIRTIO_MMIO),
    expect_exit=0,
    expect_status="ok",
    expect_rules=HEADLESS,
    guest_cards=rf"VirtIO SoundCard at platform/{MMIO_DT}",
)
ARM_HEALTHY_PCI = Scenario(
    name="arm-healthy-pci",
    description="aarch64 on virt, virtio-sound-pci on the PCIe host bridge",
    arch="aarch64",
    machine="virt",
    qemu_args=VIRTIO_PCI,
    expect_exit=0,
    expect_status="ok",
    expect_rules=HEADLESS,
    guest_cards=r"virtio-snd - VirtIO SoundCard\s+VirtIO SoundCard at pci/",
)
ARM_NO_SOUND_DEVICE = Scenario(
    name="arm-no-sound-device",
    description="aarch64 on virt without any sound device",
    arch="aarch64",
    machine="virt",
    expect_exit=2,
    expect_status="error",
    expect_rules=frozenset({"no-virtio-sound-device"}),
    expect_words=("virtio-sound-pci",),
    guest_snd_loaded=False,
)

ARM_SCENARIOS: tuple[Scenario, ...] = (
    ARM_LEGACY_MMIO,
    _through_uefi(ARM_LEGACY_MMIO),
    ARM_MODERN_MMIO,
    _through_uefi(ARM_MODERN_MMIO, guest_cards=rf"VirtIO SoundCard at platform/{MMIO_ACPI}"),
    ARM_HEALTHY_PCI,
    _through_uefi(ARM_HEALTHY_PCI),
    ARM_NO_SOUND_DEVICE,
    _through_uefi(ARM_NO_SOUND_DEVICE),
)

SCENARIOS += ARM_SCENARIOS

# ---------------------------------------------------------------------------------------------
# Kernel logs in other layouts (issue 14): the guest's own dmesg, re-rendered into
# /var/log/kern.log on a tmpfs the way a log daemon would have written it, read by a user who
# may not run dmesg (kernel.dmesg_restrict=1, snddiag as nobody).


def _kern_log_as(header: str) -> tuple[str, ...]:
    """Set-up lines: /var/log/kern.log holds this boot's dmesg with `header` before each message
    (a sed replacement; `$HOST` is the guest's host name)."""
    return (
        COLDPLUG,  # first: the driver's messages are in dmesg only once it has probed
        "mount -t tmpfs -o mode=755 tmpfs /var/log",
        "HOST=$(hostname)",
        f'dmesg | sed -E "s/^\\[ *[0-9]+\\.[0-9]+\\] /{header} /" >/var/log/kern.log',
        "chmod 644 /var/log/kern.log",
    )


LOG_LAYOUT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="kern-log-journal-short",
        description="legacy-mmio whose kernel log is readable only as /var/log/kern.log in "
        "journalctl -k's default layout (`Nov 29 14:00:00 host kernel: msg`), snddiag as nobody",
        machine="microvm",
        qemu_args=("-global", "virtio-mmio.force-legacy=true", *VIRTIO_MMIO),
        sysctls=(("kernel.dmesg_restrict", "1"),),
        run_as="nobody",
        coldplug=False,
        setup=_kern_log_as("$(date '+%b %d %H:%M:%S') $HOST kernel:"),
        expect_exit=2,
        expect_status="error",
        # The probe failure follows the transport (probe-failed waits for it).
        expect_rules=frozenset({"legacy-mmio-transport", "probe-failed"}),
        expect_words=("virtio-sound-pci",),
        guest_dmesg=(r"virtio_snd virtio\d+: device does not comply with spec version 1\.x",),
        guest_cards=r"no soundcards",
    ),
    Scenario(
        name="kern-log-unknown-layout",
        description="legacy-mmio whose kernel log is readable only as /var/log/kern.log in a "
        "custom layout (`2026/11/29 14:00:00 host kernel: msg`), snddiag as nobody",
        machine="microvm",
        qemu_args=("-global", "virtio-mmio.force-legacy=true", *VIRTIO_MMIO),
        sysctls=(("kernel.dmesg_restrict", "1"),),
        run_as="nobody",
        coldplug=False,
        setup=_kern_log_as("$(date '+%Y\\/%m\\/%d %H:%M:%S') $HOST kernel:"),
        # The transport still shows the legacy device (no VIRTIO_F_VERSION_1 in its features);
        # the log's layout is named, not called unreadable.
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"legacy-mmio-transport", "kernel-log-layout-unknown"}),
        expect_words=("virtio-sound-pci", "RSYSLOG_FileFormat"),
        guest_dmesg=(r"virtio_snd virtio\d+: device does not comply with spec version 1\.x",),
        guest_cards=r"no soundcards",
    ),
)
SCENARIOS += LOG_LAYOUT_SCENARIOS


# ---------------------------------------------------------------------------------------------
# Desktop sessions: PipeWire, WirePlumber and pipewire-pulse (bookworm-backports) run as
# LAB_USER, started the way a login would (udev first: without it WirePlumber sees no card).

APPLE_VZ_DMI = (
    "-smbios",
    "type=1,manufacturer=Apple Inc.,product=Apple Virtualization Generic Platform",
)
SESSION_SERVERS = ("pipewire", "wireplumber", "pipewire-pulse")
# The card's PipeWire device id, from its graph (ids differ between boots), read with Debian's
# interpreter: the lab's own may sit where the session user cannot reach it.
_VIRTIO_DEVICE_ID = (
    '$(pw-dump | /usr/bin/python3 -c "import json, sys;'
    " print(next(o['id'] for o in json.load(sys.stdin)"
    " if o['type'].endswith(':Device') and 'VirtIO' in"
    " str(o['info']['props'].get('api.alsa.card.longname', ''))))\")"
)


def session_setup(
    *,
    servers: tuple[str, ...] = SESSION_SERVERS,
    nodes: int = 2,
    asoundrc: str = "",
    before: tuple[str, ...] = (),
    config: tuple[str, ...] = (),
    then: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """Set-up lines: LAB_USER's runtime directory and tmpfs home, udev, a session bus, then
    `servers`; waits until PipeWire shows `nodes` ALSA nodes (0: wait for nothing). `before`
    runs as root once udev has loaded the drivers, `config` as LAB_USER before the servers
    start, `then` as LAB_USER in the session afterwards."""
    as_user = session_env()
    start = "; ".join(f"({server} >$HOME/{server.split()[0]}.log 2>&1 &)" for server in servers)
    lines = [
        f"uid=$(id -u {LAB_USER}); gid=$(id -g {LAB_USER})",
        f"mount -t tmpfs -o mode=700,uid=$uid,gid=$gid tmpfs /home/{LAB_USER}",
        "mkdir -p /run/user/$uid && chown $uid:$gid /run/user/$uid && chmod 700 /run/user/$uid",
        "/lib/systemd/systemd-udevd --daemon",
        "udevadm trigger --action=add --type=subsystems",
        "udevadm trigger --action=add --type=devices",
        "udevadm settle --timeout=120",
        *before,
    ]
    if asoundrc:
        lines.append(f"{as_user} sh -c {_quote(f'printf %s {_quote(asoundrc)} >$HOME/.asoundrc')}")
    lines += [f"{as_user} sh -c {_quote(step)}" for step in config]
    session = (
        "dbus-daemon --session --address=unix:path=$XDG_RUNTIME_DIR/bus --fork --nopidfile; "
        "export DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus; " + start
    )
    lines.append(f"{as_user} sh -c {_quote(session)}")
    if nodes:
        wait = (
            # pw-cli can hang (a card held busy): each try is bounded, and so is the wait.
            "end=$(($(date +%s) + 120)); while [ $(date +%s) -lt $end ]; do"
            " [ $(timeout 5 pw-cli ls Node 2>/dev/null | grep -c 'node.name = \"alsa_')"
            f" -ge {nodes} ] && break; sleep 0.5; done"
        )
        lines.append(f"{as_user} sh -c {_quote(wait)}")
    lines += [f"{as_user} sh -c {_quote(step)}" for step in then]
    return tuple(lines)


def _set_virtio_profile(index: int, *, gone: str) -> tuple[str, ...]:
    """Session steps: the virtio card's PipeWire device to profile `index`, then a wait until no
    node name starts with `gone`."""
    return (
        f"wpctl set-profile {_VIRTIO_DEVICE_ID} {index}",
        f"for i in $(seq 60); do timeout 5 pw-cli ls Node | grep -q {gone} || break;"
        " sleep 0.5; done",
    )


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# The two ALSA nodes of the session set-up, plus what makes each scenario what it is; every
# guest's card works at the ALSA level.
SESSION_GUEST = Scenario(
    name="session",
    description="healthy-pci with a desktop session",
    qemu_args=VIRTIO_PCI,
    setup=session_setup(),
    guest_cards=r"virtio-snd - VirtIO SoundCard",
)
SESSION_SCENARIOS: tuple[Scenario, ...] = (
    replace(
        SESSION_GUEST,
        name="session-healthy",
        description="healthy-pci with a desktop session: PipeWire, WirePlumber, pipewire-pulse "
        "as a user; the virtio card is the default sink and source, min-quantum 1024 (QEMU DMI)",
        expect_exit=0,
        expect_status="ok",
        expect_rules=frozenset(),
    ),
    replace(
        SESSION_GUEST,
        name="session-apple-dmi",
        description="session-healthy with Apple Virtualization's DMI strings: PipeWire does "
        "not recognise the VM and leaves clock.min-quantum at 32",
        qemu_args=(*VIRTIO_PCI, *APPLE_VZ_DMI),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-min-quantum-low"}),
        expect_words=("clock.min-quantum 1024",),
    ),
    replace(
        SESSION_GUEST,
        name="session-profile-off",
        description="session-healthy with the virtio card's profile set to off (wpctl "
        "set-profile ID 0): the card has no sink and no source",
        setup=session_setup(then=_set_virtio_profile(0, gone="alsa_")),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-profile-off"}),
        expect_words=("wpctl set-profile",),
    ),
    replace(
        SESSION_GUEST,
        name="session-output-only",
        description="session-healthy with the virtio card on its output-only profile "
        "(output:stereo-fallback): the card has capture, the session no microphone",
        setup=session_setup(then=_set_virtio_profile(2, gone="alsa_input")),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-profile-output-only"}),
        expect_words=("pro-audio",),
    ),
    replace(
        SESSION_GUEST,
        name="session-hda-default",
        description="intel-hda-and-virtio with a session: WirePlumber makes the HDA card the "
        "default sink and source",
        qemu_args=(
            *INTEL_HDA,
            "-device",
            "virtio-sound-pci,audiodev=snd1",
            "-audiodev",
            "none,id=snd0",
            "-audiodev",
            "none,id=snd1",
        ),
        setup=("modprobe snd_hda_intel", *session_setup(nodes=4)),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"alsa-card-not-default", "session-default-on-other-card"}),
        guest_cards=r"HDA-Intel.*\n.*\n.*virtio-snd",
    ),
    replace(
        SESSION_GUEST,
        name="session-no-server",
        description="healthy-pci with a user session (runtime directory, session bus) but no "
        "sound server running",
        setup=session_setup(servers=(), nodes=0),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-server-not-running", "no-sound-server"}),
        expect_words=("systemctl --user",),
    ),
    replace(
        SESSION_GUEST,
        name="session-bad-asoundrc",
        description="session-healthy whose ~/.asoundrc points pcm.!default and ctl.!default at "
        "card 3, which does not exist",
        setup=session_setup(
            asoundrc="pcm.!default {\n  type hw\n  card 3\n}\nctl.!default {\n  type hw\n"
            "  card 3\n}\n"
        ),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-alsa-default-elsewhere"}),
    ),
    replace(
        SESSION_GUEST,
        name="session-user-run",
        description="session-apple-dmi diagnosed by the session's own user (not root): only "
        "that session is seen",
        qemu_args=(*VIRTIO_PCI, *APPLE_VZ_DMI),
        run_as=LAB_USER,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset(
            {
                "session-min-quantum-low",
                "kernel-log-needs-privilege",
                "session-other-sessions-unseen",
            }
        ),
    ),
)
SESSION_SCENARIOS += (
    replace(
        SESSION_GUEST,
        name="session-no-pipewire-pulse",
        description="session-healthy without pipewire-pulse: PulseAudio clients find no server",
        setup=session_setup(servers=("pipewire", "wireplumber")),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-pulse-missing"}),
        expect_words=("pipewire-pulse",),
    ),
    replace(
        SESSION_GUEST,
        name="session-no-wireplumber",
        description="session-healthy without WirePlumber: PipeWire runs but nothing creates the "
        "card's device or nodes",
        setup=session_setup(servers=("pipewire", "pipewire-pulse"), nodes=0, then=("sleep 10",)),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-virtio-card-not-in-pipewire"}),
        expect_words=("wireplumber",),
    ),
    replace(
        SESSION_GUEST,
        name="session-null-default",
        description="session-healthy whose default sink is a null sink (pactl load-module "
        "module-null-sink; pactl set-default-sink): the virtio sink is the only real one",
        setup=session_setup(
            then=(
                "pactl load-module module-null-sink sink_name=lab-null",
                "pactl set-default-sink lab-null",
                "sleep 2",
            )
        ),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-default-sink-not-virtio"}),
        expect_words=("pactl set-default-sink",),
    ),
    replace(
        SESSION_GUEST,
        name="session-two-servers",
        description="PulseAudio and PipeWire (with pipewire-pulse) started together for one "
        "user: they compete for the PulseAudio socket and the card",
        setup=session_setup(
            servers=(
                "pulseaudio --daemonize=no --exit-idle-time=-1",
                "pipewire",
                "wireplumber",
                "pipewire-pulse",
            ),
            nodes=0,
            then=("sleep 30",),
        ),
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"session-servers-compete"}),
    ),
)
SESSION_SCENARIOS += (
    replace(
        SESSION_GUEST,
        name="session-card-busy",
        description="session-healthy where another process holds the virtio card's playback PCM "
        "(as a second server or a game would) while a stream plays to the virtio sink",
        coldplug=False,
        setup=session_setup(
            # Opening the PCM node for writing takes the playback substream; sleep keeps it.
            before=("(sleep 600 >/dev/snd/pcmC0D0p &)",),
            then=(
                "(timeout 170 pw-cat --playback --raw"
                " --target=alsa_output.pci-0000_00_03.0.stereo-fallback - </dev/zero"
                " >/dev/null 2>&1 &)",
                "sleep 5",
            ),
        ),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-virtio-card-not-in-pipewire"}),
    ),
    replace(
        SESSION_GUEST,
        name="session-server-hung",
        description="session-healthy whose pipewire process is stopped (SIGSTOP): it runs, "
        "holds its socket, and answers nothing",
        setup=session_setup(then=("pkill -STOP -x pipewire",)),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-server-not-answering"}),
    ),
)
# The virtio sink's node, suspended and idle, cannot open the card when a stream comes: PipeWire
# logs the EBUSY and a node `error`, which WirePlumber 0.5 suspends again at once.
VIRTIO_SINK = "alsa_output.pci-0000_00_03.0.stereo-fallback"
SINK_HELD = (
    "(sleep 600 >/dev/snd/pcmC0D0p &)",
    f"{session_env()} sh -c "
    + _quote(
        f"(timeout 170 pw-cat --playback --raw --target={VIRTIO_SINK} - </dev/zero"
        " >/dev/null 2>&1 &); sleep 10"
    ),
)
SESSION_SCENARIOS += (
    replace(
        SESSION_GUEST,
        name="session-sink-stalled",
        description="session-healthy where another process takes the virtio card's playback "
        "PCM after PipeWire made its sink (suspended, the PCM closed): a stream to the sink "
        "waits for ever, its links stuck in init",
        setup=(*session_setup(then=("sleep 8",)), *SINK_HELD),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-sink-not-starting"}),
    ),
)
# Debian 12's own PipeWire 0.3.65 and WirePlumber 0.4.13, unpacked by setup-lab under .lab/,
# over the guest's /usr (the host's, with 1.4 and 0.5): a failed mount powers the guest off at
# once rather than letting 1.4 stand in. WirePlumber 0.4 stops when its Bluetooth monitor
# cannot reach logind, which the lab's guests do not run.
BOOKWORM_PIPEWIRE = (
    "modprobe overlay",
    'mount -t overlay -o ro,lowerdir="$REPO/.lab/pipewire-bookworm/usr:/usr" overlay /usr'
    " || echo o >/proc/sysrq-trigger",
)
WIREPLUMBER_04_NO_LOGIND = (
    "mkdir -p $HOME/.config/wireplumber/bluetooth.lua.d && echo"
    " 'bluez_monitor.properties[\"with-logind\"] = false'"
    " >$HOME/.config/wireplumber/bluetooth.lua.d/51-lab.lua",
)
SESSION_SCENARIOS += (
    replace(
        SESSION_GUEST,
        name="session-bookworm",
        description="session-healthy with Debian 12's own PipeWire 0.3.65 and WirePlumber "
        "0.4.13 (an overlay over the guest's /usr)",
        setup=(*BOOKWORM_PIPEWIRE, *session_setup(config=WIREPLUMBER_04_NO_LOGIND)),
        expect_exit=0,
        expect_status="ok",
        expect_rules=frozenset(),
    ),
)
SCENARIOS += SESSION_SCENARIOS

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


# ---------------------------------------------------------------------------------------------
# The data-path test (issue 11): guests where `snddiag --play` plays and records. They boot from
# tests/guest/test_play.py with PLAY_COMMANDS, and from capture-fixtures with PLAY_CAPTURE.

VIRTIO_PCI_WAV = (
    "-device",
    "virtio-sound-pci,audiodev=snd0",
    "-audiodev",
    f"wav,id=snd0,path={WAV_PATH}",
)

# The host's PulseAudio (host_audio.py): the guest plays into its speakers and records its
# microphone, which hears a steady 440 Hz tone.
VIRTIO_PCI_PULSE = (
    "-device",
    "virtio-sound-pci,audiodev=snd0",
    "-audiodev",
    f"pa,id=snd0,server=unix:{PULSE_SOCKET},in.name=lab_mic.monitor,out.name=lab_speakers",
)
# QEMU's none backend gives capture digital silence: the guests that record from it say so.
SILENT_MIC = frozenset({"data-path-capture-silent"})
# What a guest on an overloaded host really sees, and --play rightly reports: on this 2-core lab
# host at load averages near 20, a TCG guest's playback measured 32.5 kHz (QEMU starved) and its
# capture overran once. Scenarios about something else may show them on top.
LOADED_HOST = frozenset({"data-path-xruns", "data-path-rate-off"})

# What udev's rules do on a desktop distribution: sound nodes belong to group audio, mode 0660
# (devtmpfs alone leaves them root:root 0600). Coldplug first, so that the nodes exist.
SOUND_NODES_TO_AUDIO = (
    COLDPLUG,
    "chgrp audio /dev/snd/* && chmod 660 /dev/snd/*",
)

# Holds the playback PCM open for the whole boot, as a sound server would; set-up waits until
# it holds it (a Python start in a TCG guest on a loaded host takes seconds).
HOLD_PLAYBACK = (
    COLDPLUG,
    '"$PYTHON" -c "import os, time; fd = os.open(\'/dev/snd/pcmC0D0p\', os.O_RDWR);'
    " open('/tmp/held', 'w').close(); time.sleep(600)\" &",
    "for i in $(seq 600); do [ -e /tmp/held ] && break; sleep 0.1; done",
)

PLAY = '"$PYTHON" -m snddiag --play --json'
# What `snddiag --play` collects, saved as a snapshot (`collect` itself never plays).
SNAPSHOT = (
    '"$PYTHON" -c "import sys; from pathlib import Path; from snddiag.collect import collect;'
    " from snddiag.evidence import save_directory;"
    ' save_directory(collect(play=True), Path(sys.argv[1]))" "$OUT/evidence"'
)


def timed(command: str) -> str:
    """`command`, its run time in milliseconds written to $OUT/play.ms afterwards."""
    return (
        f"a=$(date +%s%N); {command}; rc=$?; "
        'echo $((($(date +%s%N)-a)/1000000)) >"$OUT/play.ms"; exit $rc'
    )


def stopped_while_playing(command: str) -> str:
    """`command`, stopped for half a second once its playback stream runs: a player that
    cannot run (a starved vCPU, a stopped process) while the device plays on."""
    status = "/proc/asound/card0/pcm0p/sub0/status"
    return (
        f"{command} & p=$!; "
        f"for i in $(seq 1200); do grep -q RUNNING {status} 2>/dev/null && break; sleep 0.05;"
        " done; kill -STOP $p; sleep 0.5; kill -CONT $p; wait $p"
    )


_PLAYBACK_RUNS = "grep -q RUNNING /proc/asound/card0/pcm0p/sub0/status 2>/dev/null"
_CAPTURE_RUNS = "grep -q RUNNING /proc/asound/card0/pcm0c/sub0/status 2>/dev/null"


def _once(command: str, tests: tuple[str, ...], then: str, every: float = 0.02) -> str:
    """`command` in the background; once each of `tests` held in turn (looked at every `every`
    seconds, for at most 48 s each), `then`; the exit code is the command's."""
    wait = f"for i in $(seq {round(48 / every)}); do {{test}} && break; sleep {every}; done; "
    return f"{command} & p=$!; " + "".join(wait.format(test=t) for t in tests) + f"{then}; wait $p"


def once_stressing(command: str, then: str) -> str:
    """`command` in the background; once its lifecycle stress runs (the capture test has come
    and gone and the playback PCM runs again), `then`; the exit code is the command's."""
    return _once(command, (_CAPTURE_RUNS, f"! {_CAPTURE_RUNS}", _PLAYBACK_RUNS), then)


def once_recorded(command: str, then: str) -> str:
    """`command` in the background; once its capture test has come and gone (ALSA's playback
    and capture are done), `then`; the exit code is the command's. It looks four times a
    second: with a grep every 20 ms beside ALSA's playback test on the guest's one TCG vCPU, a
    capture's playback failed ("the device consumed only 17280 of 48000 frames in 3.6 s");
    at this pace it played."""
    return _once(command, (_CAPTURE_RUNS, f"! {_CAPTURE_RUNS}"), then, every=0.25)


def once_playing(command: str, then: str) -> str:
    """`command` in the background; once its playback test runs, `then`; the exit code is the
    command's."""
    return _once(command, (_PLAYBACK_RUNS,), then)


# A second player wants the playback PCM while snddiag's playback test holds it, and tries again
# until it gets it (aplay's open does not wait for a busy device): it takes the PCM once the test
# closes it, so the lifecycle stress finds it busy. aplay of silence from /dev/zero, as a long
# file would.
APLAY_TAKES_PLAYBACK = (
    "(until aplay -q -D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 -d 300 /dev/zero; do sleep 0.05;"
    " done) >/dev/null 2>&1 & true"
)


# Ctrl-C in the middle of the stress: snddiag must end (130) and leave no stream open. A shell
# starts background commands with SIGINT ignored: env gives snddiag the default back.
INTERRUPTED = (
    once_stressing(f"env --default-signal=INT {PLAY}", "kill -INT $p")
    + '; echo "exit=$?"; sleep 0.5; '
    'echo "playback=$(cat /proc/asound/card0/pcm0p/sub0/status)"; '
    'echo "holders=$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c /dev/snd/pcm)"'
)

# The session's PipeWire daemon (not pipewire-pulse) stops, as a hung server does, once ALSA's
# capture test is done: the collection saw a healthy graph, ALSA played, and the tone through
# the server comes after the lifecycle stress.
SERVER_STOPPED = "pkill -STOP -x pipewire"
# The same daemon killed, as a crashed one is where nothing (systemd's socket) starts it again.
SERVER_KILLED = "pkill -KILL -x pipewire"

PLAY_COMMANDS: dict[str, dict[str, str]] = {
    # Without the stress: the host file holds the one second of tone the test looks for.
    "play-wav": {"play": f"{PLAY} --no-stress"},
    "play-wav-no-play": {"json": '"$PYTHON" -m snddiag --json'},
    "play-backend-broken": {"play": timed(PLAY)},
    "play-none": {
        "play": PLAY,
        # What --play adds to a run: the diagnosis alone, then with the data path; after the
        # "play" command above has filled the guest's caches (cold, one took 34 s, the next
        # 17 s). A run of its own to warm them made the boot outlast the lab's limit once the
        # lifecycle stress was added, at load averages near 15.
        "timing": 'a=$(date +%s%N); "$PYTHON" -m snddiag --json >/dev/null; b=$(date +%s%N); '
        f"{PLAY} >/dev/null; c=$(date +%s%N); "
        'echo "diagnosis_ms=$(((b-a)/1000000)) play_ms=$(((c-b)/1000000))"',
    },
    "play-no-card": {"play": PLAY},
    "play-not-permitted": {"play": PLAY},
    "play-busy": {"play": PLAY},
    "play-xrun": {"play": stopped_while_playing(PLAY)},
    "play-slow-clock": {"play": PLAY},
    "play-host-tone": {"play": PLAY},
    "play-slow-timer": {"play": PLAY},
    "play-interrupted": {"interrupted": INTERRUPTED},
    # A second run without the stress (not in play-none: its guest would outlast the lab's boot
    # limit on a loaded host).
    "play-no-capture-stream": {"play": PLAY, "quick": f"{PLAY} --no-stress"},
    "play-session": {"play": PLAY},
    "play-session-unlinked": {"play": PLAY},
    "play-session-busy": {"play": PLAY},
    "play-session-stalled": {"play": PLAY},
    "play-session-server-hung": {"play": once_recorded(PLAY, SERVER_STOPPED)},
    "play-session-server-crashed": {"play": once_recorded(PLAY, SERVER_KILLED)},
    "play-lifecycle-busy": {"play": once_playing(PLAY, APLAY_TAKES_PLAYBACK)},
    "play-old-driver-6-1": {"play": PLAY},
}
"""Per play scenario: the commands test_play.py runs in its guest ({name: shell line})."""

_CAPTURED_AS = {
    "play-xrun": stopped_while_playing(SNAPSHOT),
    "play-lifecycle-busy": once_playing(SNAPSHOT, APLAY_TAKES_PLAYBACK),
    "play-session-server-hung": once_recorded(SNAPSHOT, SERVER_STOPPED),
    "play-session-server-crashed": once_recorded(SNAPSHOT, SERVER_KILLED),
}
PLAY_CAPTURE: dict[str, dict[str, str]] = {
    name: {"collect-dir": _CAPTURED_AS.get(name, SNAPSHOT)}
    for name in PLAY_COMMANDS
    if name not in ("play-wav-no-play", "play-interrupted")
}
"""Per play scenario with a fixture: the command capture-fixtures runs (what --play collects)."""

# The guest's TSC rate set 50 % above the host's nominal one and trusted (no recalibration, no
# watchdog): its clock runs slow, as a guest with a mis-calibrated clock source does. The
# nominal rate is only near the TSC's real one (a +10 % setting measured 44.3 kHz on a host
# whose TSC runs ~19 % above its nominal 2.6 GHz): 50 % keeps the clock slow on any host.
_TSC_KHZ = host_tsc_khz()
SLOW_CLOCK = (
    ("clocksource=tsc", "tsc=reliable", f"tsc_early_khz={_TSC_KHZ * 3 // 2}") if _TSC_KHZ else ()
)

PLAY_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="play-wav",
        description="healthy-pci with QEMU's wav backend: what the guest plays lands in a file; "
        "the backend has no input, so capture never delivers",
        qemu_args=VIRTIO_PCI_WAV,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-capture-stalled"}) | HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-wav-no-play",
        description="play-wav running only the diagnosis: nothing may reach the host file",
        qemu_args=VIRTIO_PCI_WAV,
        expect_rules=HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-backend-broken",
        description="healthy-pci whose wav backend cannot open its file: QEMU logs 'Could not "
        "create a backend for voice' and the device never moves either pointer",
        qemu_args=(
            "-device",
            "virtio-sound-pci,audiodev=snd0",
            "-audiodev",
            "wav,id=snd0,path=/nonexistent/snddiag-lab.wav",
        ),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"data-path-playback-stalled", "data-path-capture-stalled"})
        | HEADLESS,
        expect_words=("-audiodev",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-none",
        description="healthy-pci with QEMU's none backend (the lab's default): both directions "
        "work, capture is digital silence",
        qemu_args=VIRTIO_PCI,
        expect_exit=1,
        expect_status="warning",
        expect_rules=SILENT_MIC | HEADLESS,
        expect_words=("in.voices", "Microphone"),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    replace(
        OLD_DRIVER,
        name="play-old-driver-6-1",
        description="old-driver-6-1 with --play: the driver before 'ALSA: virtio: use ack "
        "callback' plays, records and lives through the lifecycle stress",
        expect_exit=1,
        expect_status="warning",
        expect_rules=SILENT_MIC | HEADLESS | {"driver-known-bugs"},
    ),
    Scenario(
        name="play-host-tone",
        description="healthy-pci recording from a real sound server on the host: QEMU's pa "
        "backend on the lab's PulseAudio, whose microphone hears a steady 440 Hz tone",
        qemu_args=VIRTIO_PCI_PULSE,
        # With the pa backend the stress's 5 ms period (240 frames) never started moving on the
        # loaded hosts of earlier sessions (the captured fixture shows it); on an idle host
        # (2026-12-07) it moved and every cycle passed.
        expect_rules=frozenset({"data-path-capture-hears"}) | HEADLESS,
        host_timing_rules=frozenset({"data-path-lifecycle-stuck"}),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-slow-timer",
        description="healthy-pci whose QEMU runs its audio timer every 400 ms "
        "(-audiodev none,timer-period=400000): one period completes a tick, the first long after "
        "a stream starts, and drains never end in time",
        qemu_args=(
            "-device",
            "virtio-sound-pci,audiodev=snd0",
            "-audiodev",
            "none,id=snd0,timer-period=400000",
        ),
        expect_exit=1,
        expect_status="warning",
        # One period a tick: the first second plays at ~2 kHz (rate-off), and the stress's
        # starts take most of a second and its drains never end in time.
        expect_rules=frozenset(
            {"data-path-lifecycle-slow-start", "data-path-lifecycle-stuck", "data-path-rate-off"}
        )
        | SILENT_MIC
        | HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-interrupted",
        description="healthy-pci where snddiag --play gets SIGINT (Ctrl-C) during the lifecycle "
        "stress: it ends with 130 and no PCM stays open",
        qemu_args=VIRTIO_PCI,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-no-capture-stream",
        description="virtio-sound-pci with streams=1: playback only, the card has no capture "
        "PCM at all",
        qemu_args=(
            "-device",
            "virtio-sound-pci,audiodev=snd0,streams=1",
            "-audiodev",
            "none,id=snd0",
        ),
        expect_rules=frozenset({"virtio-card-no-capture"}) | HEADLESS,
        expect_words=("streams=1",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-no-card",
        description="no sound device at all: the data path is not run",
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"no-virtio-sound-device"}),
        guest_snd_loaded=False,
    ),
    Scenario(
        name="play-not-permitted",
        description="healthy-pci with udev-like audio:0660 nodes, played by nobody (no groups)",
        qemu_args=VIRTIO_PCI,
        coldplug=False,
        setup=SOUND_NODES_TO_AUDIO,
        run_as="nobody",
        expect_exit=1,
        expect_status="warning",
        # Debian's kernels restrict the kernel log to root (dmesg_restrict=1).
        expect_rules=frozenset(
            {
                "data-path-permission",
                "sound-nodes-not-accessible",
                "kernel-log-needs-privilege",
            }
        )
        | HEADLESS,
        expect_words=("audio",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-busy",
        description="healthy-pci where another process holds the playback PCM open, as a "
        "sound server does",
        qemu_args=VIRTIO_PCI,
        coldplug=False,
        setup=HOLD_PLAYBACK,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-busy"}) | SILENT_MIC | HEADLESS,
        expect_words=("pw-play",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-lifecycle-busy",
        description="healthy-pci where aplay, retried from the moment snddiag plays, takes the "
        "playback PCM once snddiag closes it: the lifecycle stress's open fails with EBUSY",
        qemu_args=VIRTIO_PCI,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-lifecycle-busy"}) | SILENT_MIC | HEADLESS,
        expect_words=("fuser",),
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-xrun",
        description="healthy-pci where snddiag is stopped for 0.5 s while it plays: the device "
        "runs dry (an underrun), snddiag recovers and plays on",
        qemu_args=VIRTIO_PCI,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-xruns"}) | SILENT_MIC | HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
    Scenario(
        name="play-slow-clock",
        description="healthy-pci whose clock runs slow (its TSC rate set 50 % above the host's "
        "nominal one and trusted): the device's 48 kHz measure as far more",
        qemu_args=VIRTIO_PCI,
        cmdline=SLOW_CLOCK,
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-rate-off"}) | SILENT_MIC | HEADLESS,
        guest_cards=r"virtio-snd - VirtIO SoundCard",
    ),
)
# Through the session's server as well: defined after the session set-up (session_setup).
PLAY_SCENARIOS += (
    replace(
        SESSION_GUEST,
        name="play-session",
        description="session-healthy played with --play: the card through ALSA, then the "
        "tone through the session's PipeWire into the virtio sink (the none backend: the "
        "microphone hears digital silence)",
        expect_exit=1,
        expect_status="warning",
        expect_rules=SILENT_MIC,
    ),
    replace(
        SESSION_GUEST,
        name="play-session-unlinked",
        description="play-session with WirePlumber stopped (SIGSTOP) after it set the card up: "
        "PipeWire 1.4 then stops answering pw-dump too, so nothing is played through it",
        setup=session_setup(then=("pkill -STOP -x wireplumber",)),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-server-not-answering"}) | SILENT_MIC,
    ),
    replace(
        SESSION_GUEST,
        name="play-session-busy",
        description="play-session where another process holds the virtio card's playback PCM "
        "from before the servers start: ALSA's test finds it busy, PipeWire has no device "
        "for the card, so nothing plays through the server",
        coldplug=False,
        setup=session_setup(before=("(sleep 600 >/dev/snd/pcmC0D0p &)",)),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"data-path-busy", "session-virtio-card-not-in-pipewire"})
        | SILENT_MIC,
    ),
    replace(
        SESSION_GUEST,
        name="play-session-stalled",
        description="session-sink-stalled played with --play: ALSA's test finds the PCM busy, "
        "and the tone through PipeWire waits on the sink that cannot start",
        setup=(*session_setup(then=("sleep 8",)), *SINK_HELD),
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset(
            {"data-path-busy", "session-sink-not-starting", "session-server-playback-failed"}
        )
        | SILENT_MIC,
    ),
    replace(
        SESSION_GUEST,
        name="play-session-server-hung",
        description="play-session whose PipeWire daemon stops (SIGSTOP) once ALSA's capture "
        "test is done: the collection saw a healthy graph and ALSA plays, but the tone "
        "through the server is never taken",
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-server-playback-failed"}) | SILENT_MIC,
    ),
    replace(
        SESSION_GUEST,
        name="play-session-server-crashed",
        description="play-session-server-hung with the PipeWire daemon killed (SIGKILL) "
        "instead: a crashed server that nothing starts again",
        expect_exit=2,
        expect_status="error",
        expect_rules=frozenset({"session-server-playback-failed"}) | SILENT_MIC,
    ),
)
