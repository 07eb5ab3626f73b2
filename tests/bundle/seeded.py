"""A guest file tree seeded with known identifiers, collected the way `--root` collects."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from snddiag.collect import collect
from snddiag.evidence import Entry, Evidence, Kind, NodeInfo, Status
from tests.trees import write_files

REPO = Path(__file__).resolve().parents[2]

HOSTNAME = "wombat-lab-7"
FQDN = "wombat-lab-7.corp.example.net"
USER = "kowalski"
MACS = ("52:54:00:12:34:56", "a4:5e:60:c1:d2:e3")
IPV4 = ("192.168.77.23", "192.168.77.1", "10.20.30.40")
IPV6 = ("fd12:3456:789a::42", "fe80::5054:ff:fe12:3456", "2001:db8:1234::beef")
SERIALS = ("VMW-SN-884422", "BSN-11223344", "CSN-99887766")
UUIDS = ("4c4c4544-0042-3510-8052-b4c04f4e4d32", "8a1c3e55-9f0b-4d2a-a6c1-0d3e4f5a6b7c")
MACHINE_ID = "5f1b0c9e8d7a46b3a2c1d0e9f8a7b6c5"
EMAIL = "k.kowalski+lab@mailbox.example.org"
AGENT_ARGUMENT = "tok-3f9a81c2e7"  # an init argument of a VMM's agent
SIG_KEY = "12:34:56:78:9A:BC:DE:F0:11:22:33:44:55:66:77:88:99:AA:BB:CC"
SIG_ROW = "AB:CD:EF:01:23:45"
# A learnt MAC as other tools and the kernel write it: Cisco's dots, bare hex, hexdump bytes.
MAC_FORMS = (
    "5254.0012.3456",
    "525400123456",
    "52 54 00 12 34 56",
    "A45E.60C1.D2E3",
    "A45E60C1D2E3",
    "a4 5e 60 c1 d2 e3",
)
# 12 hex digits that are no learnt MAC (an address, a key id): kept as they are.
NOT_MACS = ("ffffa1b2c3d4", "0123456789ab", "5254.00ff.0000")

# Every value that must not survive redaction, as it is written and in other spellings.
SECRETS: tuple[str, ...] = (
    HOSTNAME,
    FQDN,
    "corp.example.net",
    USER,
    *MACS,
    *(m.upper() for m in MACS),
    *(m.replace(":", "-") for m in MACS),
    *MAC_FORMS,
    *(m.replace(":", "") for m in MACS),
    *IPV4,
    *IPV6,
    *SERIALS,
    *UUIDS,
    *(u.upper() for u in UUIDS),
    MACHINE_ID,
    EMAIL,
    AGENT_ARGUMENT,
)

# The seeded values of each redaction class, by class name: every class in
# snddiag/bundle/redact/classes.py needs at least one here (tests/bundle/test_redact.py checks).
SEEDED_BY_CLASS: dict[str, tuple[str, ...]] = {
    "hostname": (HOSTNAME,),
    "user": (USER,),
    "mac": MACS,
    "ip": (*IPV4, *IPV6),
    "serial": SERIALS,
    "uuid": UUIDS,
    "machine_id": (MACHINE_ID,),
    "email": (EMAIL,),
    "parameter": (AGENT_ARGUMENT,),
}

RELEASE = "6.12.95+deb12-amd64"
PCI_DEV = "devices/pci0000:00/0000:00:04.0"

FILES: dict[str, str] = {
    "proc/sys/kernel/osrelease": f"{RELEASE}\n",
    "proc/sys/kernel/arch": "x86_64\n",
    "proc/sys/kernel/hostname": f"{HOSTNAME}\n",
    "etc/hostname": f"{FQDN}\n",
    "proc/version": f"Linux version {RELEASE} (debian-kernel@lists.debian.org) #1 SMP\n",
    "proc/cmdline": (
        f"BOOT_IMAGE=/boot/vmlinuz-{RELEASE} root=UUID={UUIDS[1]} ro quiet "
        f"ip={IPV4[0]}::{IPV4[1]}:255.255.255.0:{HOSTNAME}:enp0s3:off "
        f"systemd.machine_id={MACHINE_ID} agent_token={AGENT_ARGUMENT}\n"
    ),
    "etc/os-release": (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nID=debian\nHOME_URL="https://www.debian.org/"\n'
    ),
    "etc/debian_version": "12.12\n",
    "sys/class/dmi/id/sys_vendor": "QEMU\n",
    "sys/class/dmi/id/product_name": "Standard PC (Q35 + ICH9, 2009)\n",
    "sys/class/dmi/id/product_version": "pc-q35-10.0\n",
    "sys/class/dmi/id/product_serial": f"{SERIALS[0]}\n",
    "sys/class/dmi/id/board_serial": f"{SERIALS[1]}\n",
    "sys/class/dmi/id/chassis_serial": f"{SERIALS[2]}\n",
    "sys/class/dmi/id/product_uuid": f"{UUIDS[0]}\n",
    "sys/class/dmi/id/board_asset_tag": "Not Specified\n",
    f"sys/{PCI_DEV}/virtio0/device": "0x0019\n",
    f"sys/{PCI_DEV}/virtio0/vendor": "0x1af4\n",
    f"sys/{PCI_DEV}/virtio0/features": "0" * 32 + "1" + "0" * 31 + "\n",
    f"sys/{PCI_DEV}/virtio0/status": "0x0000000f\n",
    f"sys/{PCI_DEV}/virtio0/modalias": "virtio:d00000019v00001AF4\n",
    f"sys/{PCI_DEV}/class": "0x040100\n",
    f"sys/{PCI_DEV}/vendor": "0x1af4\n",
    f"sys/{PCI_DEV}/device": "0x1059\n",
    "sys/devices/pci0000:00/0000:00:02.0/net/enp0s3/address": f"{MACS[0]}\n",
    "sys/devices/pci0000:00/0000:00:03.0/net/wlan0/address": f"{MACS[1]}\n",
    "sys/module/virtio_snd/initstate": "live\n",
    "sys/module/virtio_snd/parameters/msg_timeout_ms": "1000\n",
    "proc/modules": "virtio_snd 45056 0 - Live 0x0000000000000000\n"
    "snd_pcm 180224 1 virtio_snd, Live 0x0000000000000000\n",
    "proc/asound/cards": " 0 [SoundCard      ]: virtio-snd - VirtIO SoundCard\n"
    "                      VirtIO SoundCard at pci/0000:00:04.0/virtio0\n",
    "proc/asound/pcm": "00-00: VirtIO PCM 0 : VirtIO PCM 0 : playback 1 : capture 1\n",
    "proc/asound/version": "Advanced Linux Sound Architecture Driver Version k6.12.95.\n",
    f"lib/modules/{RELEASE}/modules.dep": "kernel/sound/virtio/virtio_snd.ko.xz: "
    "kernel/sound/core/snd-pcm.ko.xz\n",
    f"lib/modules/{RELEASE}/modules.builtin": "kernel/drivers/virtio/virtio.ko\n",
    "etc/modprobe.d/local.conf": f"# written by {USER} on {HOSTNAME}\n"
    f"install snd_dummy /home/{USER}/bin/dummy-hook\n",
    "proc/sys/kernel/dmesg_restrict": "0\n",
}

DMESG = f"""[    0.000000] Linux version {RELEASE} (debian-kernel@lists.debian.org)
[    0.000000] Command line: root=UUID={UUIDS[1]} ro ip={IPV4[0]}::{IPV4[1]}:255.255.255.0
[    0.000000] DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
[    1.234567] e1000e 0000:00:02.0 enp0s3: (PCI Express:2.5GT/s:Width x1) {MACS[0].upper()}
[    1.300000] wlan0: authenticate with {MACS[1].replace(":", "-")}
[    2.000000] IPv6: ADDRCONF(NETDEV_CHANGE): enp0s3: link becomes ready, {IPV6[1]}
[    2.100000] nfs: server {IPV4[2]} not responding, {IPV6[0]} and [{IPV6[2]}]:2049
[    2.200000] systemd[1]: Set hostname to <{HOSTNAME}>.
[    2.300000] EXT4-fs (vda1): mounted filesystem {UUIDS[1].upper()} r/w with ordered data mode
[    2.400000] IPv4: martian source 10.0.2.255 from 10.0.2.2, on dev enp0s3
[    2.400001] ll header: 00000000: ff ff ff ff ff ff {MAC_FORMS[2]} 08 06
[    2.400002] ll header: 00000000: {MAC_FORMS[5].upper()} ff ff ff ff ff ff 08 06
[    2.500000] bond0: enslaved {MAC_FORMS[0]} and {MAC_FORMS[3].lower()} ({MAC_FORMS[1]})
[    2.600000] wlan0: bssid {MAC_FORMS[4]} key {NOT_MACS[0]} at {NOT_MACS[1]} ({NOT_MACS[2]})
[    2.700000] nfs: server files.corp.example.net not responding
[    2.800000] mail: delivery to <{EMAIL}> deferred
[    3.000000] virtio_snd virtio0: ready
[    3.100000] audit: user {USER} opened /home/{USER}/.config/pipewire at 12:34:56
"""

MODINFO = f"""filename:       /lib/modules/{RELEASE}/kernel/sound/virtio/virtio_snd.ko.xz
license:        GPL
description:    Virtio sound card driver
author:         Anton Yakovlev <anton.yakovlev@opensynergy.com>
alias:          virtio:d00000019v*
depends:        snd-pcm,snd
name:           virtio_snd
vermagic:       {RELEASE} SMP preempt mod_unload modversions
sig_id:         PKCS#7
signer:         Debian Secure Boot CA
sig_key:        {SIG_KEY}
sig_hashalgo:   sha256
signature:      {SIG_ROW}:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF
\t\t{SIG_ROW}
parm:           msg_timeout_ms:Message completion timeout in milliseconds (uint)
"""

KCONFIG = f'CONFIG_SND_VIRTIO=m\nCONFIG_DEFAULT_HOSTNAME="{HOSTNAME}"\n'


def make_tree(root: Path) -> None:
    write_files(root, FILES)
    (root / "proc" / "config.gz").write_bytes(gzip.compress(KCONFIG.encode()))
    links = {
        "sys/bus/virtio/devices/virtio0": f"../../../{PCI_DEV}/virtio0",
        f"sys/{PCI_DEV}/virtio0/driver": "../../../../bus/virtio/drivers/virtio_snd",
        f"sys/{PCI_DEV}/driver": "../../../bus/pci/drivers/virtio-pci",
        "sys/bus/pci/devices/0000:00:04.0": f"../../../{PCI_DEV}",
        "sys/class/net/enp0s3": "../../devices/pci0000:00/0000:00:02.0/net/enp0s3",
        "sys/class/net/wlan0": "../../devices/pci0000:00/0000:00:03.0/net/wlan0",
    }
    for rel, target in links.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    for rel in ("sys/bus/virtio/drivers/virtio_snd", "sys/bus/pci/drivers/virtio-pci"):
        (root / rel).mkdir(parents=True, exist_ok=True)


def seeded_evidence(root: Path) -> Evidence:
    make_tree(root)
    evidence = collect(root, live=False)
    evidence.meta.update(
        {"uid": "1000", "user": USER, "gids": "1000,29", "groups": f"{USER},audio"}
    )
    servers = [{"name": "pipewire", "pid": 812, "user": USER}]
    for key, data, kind in (
        ("cmd/dmesg", DMESG, Kind.COMMAND),
        ("cmd/modinfo-virtio_snd", MODINFO, Kind.COMMAND),
        ("lib/psutil/sound-servers", json.dumps(servers), Kind.FILE),
    ):
        evidence.add(Entry(key, kind, Status.OK, data=data.encode(), exit_code=0))
    evidence.add(
        Entry(
            "cmd/journalctl-k",
            Kind.COMMAND,
            Status.FAILED,
            exit_code=1,
            stderr=f"Failed to open /home/{USER}/.journal on {HOSTNAME} ({IPV4[2]})",
            argv=("journalctl", "-k"),
        )
    )
    for node in ("controlC0", "pcmC0D0p", "pcmC0D0c"):
        info = NodeInfo(0o660, 0, 29, is_char_device=True, readable=True, writable=True)
        evidence.add(Entry(f"dev/snd/{node}", Kind.NODE, Status.OK, node=info))
    return evidence


def without_sound_device(evidence: Evidence) -> Evidence:
    """The same guest with no virtio device and no PCI function at all (read, and empty)."""
    bare = evidence.without(["sys/bus/virtio/", "sys/bus/pci/", "sys/devices/"])
    for key in ("sys/bus/virtio/devices", "sys/bus/pci/devices"):
        bare.add(Entry(key, Kind.DIRECTORY, Status.OK, names=()))
    return bare
