"""The lab's guest scenarios, and the verdict snddiag must reach in each.

`expect_rules` is the exact set of rule ids that fire; `expect_words` must all appear in the
remediation text of the findings (case-insensitive). The expectations were
checked against what the guests show and what the rules say.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

from .host_audio import PULSE_SOCKET, WAV_PATH
from .lab import COLDPLUG, Scenario, host_tsc_khz

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
    "mkdir -p /run/lab-unsigned",
    f"$PYTHON -c {shlex.quote(_STRIP_SIGNATURE)}"
    ' "/lib/modules/$(uname -r)/kernel/sound/virtio/virtio_snd.ko.xz"'
    " /run/lab-unsigned/virtio_snd.ko",
    "modprobe snd_pcm",
    "insmod /run/lab-unsigned/virtio_snd.ko || true",
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


def once_stressing(command: str, then: str) -> str:
    """`command` in the background; once its lifecycle stress runs (the capture test has come
    and gone and the playback PCM runs again), `then`; the exit code is the command's."""
    playback = "/proc/asound/card0/pcm0p/sub0/status"
    capture = "/proc/asound/card0/pcm0c/sub0/status"
    wait = "for i in $(seq 2400); do {test} && break; sleep 0.02; done; "
    return (
        f"{command} & p=$!; "
        + wait.format(test=f"grep -q RUNNING {capture} 2>/dev/null")
        + wait.format(test=f"! grep -q RUNNING {capture} 2>/dev/null")
        + wait.format(test=f"grep -q RUNNING {playback} 2>/dev/null")
        + f"{then}; wait $p"
    )


# Ctrl-C in the middle of the stress: snddiag must end (130) and leave no stream open. A shell
# starts background commands with SIGINT ignored: env gives snddiag the default back.
INTERRUPTED = (
    once_stressing(f"env --default-signal=INT {PLAY}", "kill -INT $p")
    + '; echo "exit=$?"; sleep 0.5; '
    'echo "playback=$(cat /proc/asound/card0/pcm0p/sub0/status)"; '
    'echo "holders=$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c /dev/snd/pcm)"'
)

PLAY_COMMANDS: dict[str, dict[str, str]] = {
    "play-wav": {"play": PLAY},
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
}
"""Per play scenario: the commands test_play.py runs in its guest ({name: shell line})."""

_CAPTURED_AS = {"play-xrun": stopped_while_playing(SNAPSHOT)}
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
    Scenario(
        name="play-host-tone",
        description="healthy-pci recording from a real sound server on the host: QEMU's pa "
        "backend on the lab's PulseAudio, whose microphone hears a steady 440 Hz tone",
        qemu_args=VIRTIO_PCI_PULSE,
        # Seen in every run: with the pa backend the stress's 5 ms period (240 frames) never
        # starts moving.
        expect_exit=1,
        expect_status="warning",
        expect_rules=frozenset({"data-path-capture-hears", "data-path-lifecycle-stuck"}) | HEADLESS,
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
