"""Words that identify nobody: the system's own description and the placeholders firmware writes.

A learnt name that is one of these words, or that appears as a word in the entries below, is
replaced where it is the name (its file, the run's user) but not in all text: replacing `qemu`
in DMI's `sys_vendor` would change the diagnosis.
"""

from __future__ import annotations

# Entries whose words the diagnosis relies on (the files that define a class are left out).
VOCABULARY_PREFIXES = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "sys/class/dmi/id/",
    "proc/modules",
    "proc/asound/",
    "proc/device-tree/compatible",
    "proc/sys/kernel/osrelease",
    "proc/sys/kernel/arch",
)

VOCABULARY_WORDS = frozenset(
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

# System accounts: a process or home directory of theirs says nothing about who uses the guest.
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

# A learnt value that is one of these is replaced where it is the value, never in all text.
COMMON_WORDS = VOCABULARY_WORDS | GENERIC_USERS

GENERIC_HOSTNAMES = frozenset({"localhost", "localhost.localdomain", "localdomain", "(none)"})

NIL_UUID = "00000000-0000-0000-0000-000000000000"

# Placeholders firmware writes when a serial number, asset tag or UUID was never set.
PLACEHOLDERS = frozenset(
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
        NIL_UUID,
    }
)

KEEP_MACS = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
