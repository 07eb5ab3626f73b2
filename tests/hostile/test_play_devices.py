"""`--play` opens only ALSA PCM devices: a character device named like a PCM node (`pcmC0D0p`)
is refused unless its number is ALSA's (major 116) and sysfs names it a PCM, before it is opened
(so before any ioctl)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from snddiag.collect.pcm_open import PcmError, check_alsa_pcm, open_pcm


@pytest.mark.parametrize(
    ("rdev", "uevent", "said"),
    [
        (os.makedev(1, 3), None, r"is not an ALSA device \(device 1:3; ALSA's major is 116\)"),
        (os.makedev(4, 64), None, r"is not an ALSA device \(device 4:64"),
        (os.makedev(116, 99), None, r"sysfs knows no ALSA device 116:99$"),
        (os.makedev(116, 99), "MAJOR=116\nDEVNAME=snd/controlC0\n", r"is snd/controlC0, not a PCM"),
        (os.makedev(116, 99), "MAJOR=116\n", r"is no name, not a PCM"),
    ],
)
def test_a_node_named_like_a_pcm_must_be_an_alsa_pcm(
    tmp_path: Path, rdev: int, uevent: str | None, said: str
) -> None:
    if uevent is not None:
        entry = tmp_path / "sys" / "dev" / "char" / f"{os.major(rdev)}:{os.minor(rdev)}"
        entry.mkdir(parents=True)
        (entry / "uevent").write_text(uevent)
    with pytest.raises(PcmError, match=said):
        check_alsa_pcm(Path("/dev/snd/pcmC0D0p"), rdev, tmp_path / "sys")


def test_a_character_device_named_like_a_pcm_is_never_opened(tmp_path: Path) -> None:
    """/dev/full renamed pcmC0D0p: refused before open (so before any ioctl)."""
    node = tmp_path / "pcmC0D0p"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except PermissionError:
        os.symlink("/dev/full", node)
    with pytest.raises(PcmError, match="is not an ALSA device"):
        open_pcm(node, sys_dir=tmp_path)


def test_an_alsa_pcm_number_passes_the_check(tmp_path: Path) -> None:
    entry = tmp_path / "dev" / "char" / "116:250"
    entry.mkdir(parents=True)
    (entry / "uevent").write_text("MAJOR=116\nMINOR=250\nDEVNAME=snd/pcmC9D0p\n")
    check_alsa_pcm(Path("/dev/snd/pcmC9D0p"), os.makedev(116, 250), tmp_path)
