"""virtio_snd built out of tree for a kernel that lacks it (Debian 12's 6.1: no CONFIG_SND_VIRTIO).

The driver's source is the kernel's own (linux-source-6.1, sound/virtio), built against the
running 6.1 image's headers (linux-headers-<release>), so the module is the driver as that
kernel version has it: older than "ALSA: virtio: use ack callback". Built once per source and
headers version under .lab/ (the guests see the checkout), unsigned, as a hand or DKMS build is.

    python3 tests/guest/oot_module.py build RELEASE     (setup-lab runs it)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.guest.lab import CACHE_DIR, SETUP_HINT, LabMissing

SOURCE_DIR = Path("/usr/src")
HEADERS = SOURCE_DIR / "linux-headers-{release}"
MEMBER = "sound/virtio/"
# The directory the guests insmod from: "$REPO/.lab/oot-virtio_snd/$(uname -r)/virtio_snd.ko".
GUEST_PATH = '"$REPO/.lab/oot-virtio_snd/$(uname -r)/virtio_snd.ko"'


def _source_tarball(release: str) -> Path:
    series = ".".join(release.split(".")[:2])
    return SOURCE_DIR / f"linux-source-{series}.tar.xz"


def module_path(release: str) -> Path:
    return CACHE_DIR / "oot-virtio_snd" / release / "virtio_snd.ko"


def _inputs_key(tarball: Path, headers: Path) -> str:
    """Changes when the installed source or headers package changes (a new Debian upload)."""
    digest = hashlib.sha256()
    for path in (tarball, headers / "Makefile", headers / "Module.symvers"):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


def build(release: str) -> Path:
    """The cached unsigned virtio_snd.ko for `release`, built when its inputs changed."""
    tarball = _source_tarball(release)
    headers = Path(str(HEADERS).format(release=release))
    if not tarball.is_file() or not (headers / "Makefile").is_file():
        raise LabMissing(f"no {tarball} or {headers} for the out-of-tree virtio_snd: {SETUP_HINT}")
    target = module_path(release)
    stamp = target.with_name("inputs")
    key = _inputs_key(tarball, headers)
    if target.is_file() and stamp.is_file() and stamp.read_text() == key:
        return target
    with tempfile.TemporaryDirectory(prefix="snddiag-oot-") as tmp:
        work = Path(tmp) / "virtio"
        work.mkdir()
        with tarfile.open(tarball) as archive:
            for member in archive:
                rest = member.name.partition("/")[2]
                if not rest.startswith(MEMBER) or not member.isfile():
                    continue
                name = rest[len(MEMBER) :]
                if "/" in name:
                    continue
                source = archive.extractfile(member)
                assert source is not None
                (work / name).write_bytes(source.read())
        subprocess.run(
            ["make", "-s", "-C", str(headers), f"M={work}", "CONFIG_SND_VIRTIO=m", "modules"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(".virtio_snd.ko.new")
        shutil.copyfile(work / "virtio_snd.ko", staged)
        staged.rename(target)
    stamp.write_text(key)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        sys.exit("usage: oot_module.py build RELEASE")
    print(build(sys.argv[2]))
