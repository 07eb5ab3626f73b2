#!/usr/bin/env python3
"""The aarch64 guests' root file system: Debian 12 arm64, unpacked from Debian's packages.

    tests/guest/arm64.py build KERNEL_PACKAGE      (as root; tests/guest/setup-lab runs it)

The x86 guests share the host's `/`; an aarch64 guest cannot run it, so it gets a root of its
own: `debootstrap --foreign` downloads Debian 12's arm64 packages and unpacks the required ones,
the rest (`PACKAGES` and their dependencies) and the arm64 kernel are unpacked with `dpkg-deb`,
and the few things that maintainer scripts would do on a real system are done here once
(/etc/passwd, depmod, ld.so.cache, the Python byte code). The root is cached under
`.lab/arm64-root-<key>/`, where the key hashes the suite, the package list and the kernel
package: changing any of them builds a new root. Only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".lab"
SUITE = "bookworm"
# What snddiag needs on Debian 12 (its Python and libraries, kmod's tools) and what the lab
# needs (busybox for the initramfs); alsa-utils as on the x86 host.
PACKAGES = (
    "python3",
    "python3-yaml",
    "python3-psutil",
    "python3-pyudev",
    "python3-rich",
    "kmod",
    "busybox-static",
    "alsa-utils",
)
# The format of the root itself: bump it when the build below changes what it produces.
BUILD_VERSION = 2
MANIFEST = "lab-root.json"
# Where the guest mounts the checkout under test (a directory made in the root at build time).
CHECKOUT = "/opt/snddiag"
PYTHON = "/usr/bin/python3"
QEMU_USER = "qemu-aarch64"


class RootError(RuntimeError):
    """The root could not be built."""


def root_key(kernel_package: str) -> str:
    spec = {
        "suite": SUITE,
        "packages": list(PACKAGES),
        "kernel": kernel_package,
        "build": BUILD_VERSION,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _manifest(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_root() -> Path | None:
    """The newest complete root built from today's package list, if any."""
    found: list[tuple[str, Path]] = []
    for root in CACHE_DIR.glob("arm64-root-*"):
        data = _manifest(root)
        kernel = data.get("kernel") if data else None
        if isinstance(kernel, str) and root.name == f"arm64-root-{root_key(kernel)}":
            found.append((kernel, root))
    if not found:
        return None
    return max(found, key=lambda item: [int(n) for n in re.findall(r"\d+", item[0])])[1]


def _run(argv: list[str], **kwargs: object) -> None:
    try:
        subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RootError(f"{' '.join(argv[:3])}...: {exc}") from exc


def _unpack(deb: Path, root: Path) -> None:
    """`dpkg-deb -x`, but keeping the merged-/usr symlinks (/bin -> usr/bin) that debootstrap
    made: bookworm's packages still ship files under /bin and /lib."""
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    _run(["tar", "-x", "--keep-directory-symlink", "-C", str(root)], stdin=tar.stdout)
    if tar.wait() != 0:
        raise RootError(f"dpkg-deb --fsys-tarfile {deb.name} failed")


def _first_stage(root: Path) -> None:
    _run(
        [
            "debootstrap",
            "--foreign",
            "--arch=arm64",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
        ],
        stdout=subprocess.DEVNULL,
    )
    # The first stage unpacks the required packages only; the others wait in the archive
    # cache for a second stage, which would have to run arm64 binaries: unpack them here.
    base = (root / "debootstrap" / "base").read_text().split()
    paths = dict(
        line.split(" ", 1) for line in (root / "debootstrap" / "debpaths").read_text().splitlines()
    )
    for package in base:
        _unpack(root / paths[package].lstrip("/"), root)


def _kernel(root: Path, kernel_package: str) -> str:
    with tempfile.TemporaryDirectory(prefix="snddiag-arm64-kernel-") as tmp:
        shutil.chown(tmp, user="_apt")  # apt downloads as its sandbox user
        _run(["apt-get", "download", "-q", f"{kernel_package}:arm64"], cwd=tmp)
        (deb,) = Path(tmp).glob("*.deb")
        _unpack(deb, root)
    release = kernel_package.removeprefix("linux-image-")
    if not (root / "boot" / f"vmlinuz-{release}").is_file():
        raise RootError(f"{kernel_package} has no /boot/vmlinuz-{release}")
    return release


def _configure(root: Path, release: str) -> None:
    """What the maintainer scripts would have done, as far as the guests need it."""
    # debootstrap links proc to the host's /proc when it runs in a container; the guest mounts
    # its own proc there.
    for mount_point in ("proc", "sys"):
        if (root / mount_point).is_symlink():
            (root / mount_point).unlink()
        (root / mount_point).mkdir(exist_ok=True)
    for name in ("passwd", "group"):  # base-passwd's postinst
        shutil.copy(root / "usr/share/base-passwd" / f"{name}.master", root / "etc" / name)
    # linux-image's postinst; depmod reads the modules, whatever their architecture.
    _run(["depmod", "-b", str(root), release])
    # libc-bin's trigger: ctypes.util.find_library (pyudev loading libudev) reads `ldconfig -p`.
    # ldconfig is static, so qemu-user runs it without binfmt_misc.
    _run([QEMU_USER, str(root / "sbin/ldconfig"), "-r", str(root)])
    # python3's postinst byte-compiles; the byte code depends on the Python version only.
    major_minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if (root / f"usr/lib/python{major_minor}").is_dir():
        _run(
            [sys.executable, "-m", "compileall", "-q", "-j0"]
            + [str(root / d) for d in (f"usr/lib/python{major_minor}", "usr/lib/python3")],
            stdout=subprocess.DEVNULL,
        )
    (root / CHECKOUT.lstrip("/")).mkdir(parents=True, exist_ok=True)


def build_root(kernel_package: str) -> Path:
    """The cached root for `kernel_package` and today's package list, built when missing."""
    target = CACHE_DIR / f"arm64-root-{root_key(kernel_package)}"
    if _manifest(target) is not None:
        return target
    CACHE_DIR.mkdir(exist_ok=True)
    work = CACHE_DIR / f".{target.name}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    _first_stage(work)
    release = _kernel(work, kernel_package)
    _configure(work, release)
    shutil.rmtree(work / "debootstrap")
    for deb in (work / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    manifest = {"suite": SUITE, "packages": list(PACKAGES), "kernel": kernel_package}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    for stale in CACHE_DIR.glob("arm64-root-*"):
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build" or not argv[1].startswith("linux-image-"):
        print("usage: tests/guest/arm64.py build linux-image-RELEASE", file=sys.stderr)
        return 64
    try:
        root = build_root(argv[1])
    except RootError as exc:
        print(f"arm64.py: {exc}", file=sys.stderr)
        return 1
    print(f"arm64 root: {root.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
