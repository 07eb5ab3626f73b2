"""The README's install-and-run steps, walked as written in real guests.

Each command block of the README that an install path runs carries a `<!-- walk: NAME -->`
marker; the blocks are read from README.md itself, so this test follows the README as it is.
Every line runs in a root shell with a fresh environment (no PYTHONPATH, the system's PATH),
leaving out a leading `sudo` or `doas` as the README tells a root shell to. On a healthy guest
every step must succeed (exit 0).

- The Debian 12 guest (the host's Debian 12 root): the checkout path, apt-get included (with
  the packages installed and no network, as on an offline Debian guest; the dpkg state is made
  writable, the read-only share aside), and the .pyz copied into an empty directory.
- The busybox guest (Alpine-like): a PATH of busybox applets and python3 only, no sudo: the
  checkout path and the .pyz.
The .pyz is built on this machine by the README's own build block, as the README says.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from . import lab
from .lab import GuestRun, LabError
from .scenarios import BY_NAME, Scenario

README = lab.REPO / "README.md"
_BLOCK = re.compile(r"^<!-- walk: ([a-z0-9-]+) -->\n```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_ROOT_SHELL = re.compile(r"^(sudo|doas) ")
STOCK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX_PATH = "/run/walk-busybox"
PYZ_DIR = "/tmp/walk-pyz"

# Lines the lab cannot walk, and why; each must still be in the README (checked below).
NOT_WALKABLE = {
    "doas apk add": "the lab has no Alpine packages (tests/packaging/test_alpine.py checks the "
    "APKBUILD); the busybox guest's python3 and libraries stand for py3-*",
    "doas snddiag": "needs the Alpine package",
    # The virtual environment: tests/guest/walk-ubuntu walks it by hand on Ubuntu 24.04.
    "sudo apt-get install -y python3-venv": "the venv's block: pip install needs PyPI",
    "python3 -m venv": "pip install needs PyPI, and the lab's guests have no network",
    "sudo ~/snddiag/bin/snddiag": "needs the virtual environment above",
}

# Each guest walks these blocks, in this directory.
WALKS: dict[str, tuple[tuple[str, str], ...]] = {
    "readme-debian": (("debian-checkout", "$REPO"), ("pyz-run", PYZ_DIR)),
    "readme-busybox": (("alpine-checkout", "$REPO"), ("pyz-run", PYZ_DIR)),
}
PATHS = {"readme-debian": STOCK_PATH, "readme-busybox": BUSYBOX_PATH}
BUILT_ON_THIS_MACHINE = ("pyz-build",)

_PYZ_INTO_PLACE = f'mkdir -p {PYZ_DIR} && cp "$REPO/dist/snddiag.pyz" {PYZ_DIR}/'
SCENARIOS = {
    "readme-debian": replace(
        BY_NAME["healthy-pci"],
        name="readme-debian",
        description="healthy-pci, walking the README's Debian steps",
        # The share is read-only; a Debian guest's dpkg state is writable.
        setup=(
            "mkdir -p /run/walk-dpkg && cp -a /var/lib/dpkg/. /run/walk-dpkg/",
            "mount --bind /run/walk-dpkg /var/lib/dpkg",
            "mount -t tmpfs tmpfs /var/cache/apt",
            "mount -t tmpfs tmpfs /var/log/apt",
            _PYZ_INTO_PLACE,
        ),
    ),
    "readme-busybox": replace(
        BY_NAME["busybox-tools"],
        name="readme-busybox",
        description="healthy-pci with only busybox applets and python3 on PATH, no sudo",
        setup=(
            f"mkdir -p {BUSYBOX_PATH} && /bin/busybox --install -s {BUSYBOX_PATH}",
            f"ln -sf /usr/bin/python3 {BUSYBOX_PATH}/python3",
            _PYZ_INTO_PLACE,
        ),
    ),
}


def readme_blocks() -> dict[str, list[str]]:
    """{marker: the block's command lines} from README.md."""
    return {
        name: [line for line in body.splitlines() if line.strip()]
        for name, body in _BLOCK.findall(README.read_text())
    }


def _walked(line: str) -> bool:
    return not any(line.startswith(prefix) for prefix in NOT_WALKABLE)


def walk_commands(walks: tuple[tuple[str, str], ...], path: str) -> dict[str, str]:
    """One lab command per README line: the line in a root shell, a fresh environment."""
    blocks = readme_blocks()
    commands: dict[str, str] = {}
    for block, where in walks:
        for n, line in enumerate(blocks[block], 1):
            if _walked(line):
                shell = _ROOT_SHELL.sub("", line)
                commands[f"{block}-{n}"] = (
                    f'cd "{where}" && env -i PATH={path} HOME=/root sh -c {shlex.quote(shell)}'
                )
    return commands


pytestmark = pytest.mark.guest


@pytest.fixture(scope="module")
def walks() -> Iterator[dict[str, GuestRun | LabError]]:
    scenarios = list(SCENARIOS.values())
    lab.require_lab(scenarios)
    blocks = readme_blocks()
    for block in BUILT_ON_THIS_MACHINE:
        for line in blocks[block]:
            done = subprocess.run(
                ["sh", "-c", line], cwd=lab.REPO, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"{line}: {done.stderr[-2000:]}"
    for series in {s.kernel for s in scenarios}:
        lab.build_initramfs(lab.find_kernel(series))

    def boot(scenario: Scenario) -> GuestRun | LabError:
        commands = walk_commands(WALKS[scenario.name], PATHS[scenario.name])
        try:
            return lab.run_in_guest(scenario, commands, timeout_s=600.0)
        except LabError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(zip(SCENARIOS, pool.map(boot, scenarios)))


@pytest.mark.parametrize("guest", sorted(WALKS))
def test_every_readme_step_succeeds_as_written(
    walks: dict[str, GuestRun | LabError], guest: str
) -> None:
    run = walks[guest]
    if isinstance(run, LabError):
        pytest.fail(f"the {guest} guest did not boot: {run}", pytrace=False)
    assert run.commands, "no README line was walked"
    failed = [
        f"{name} (exit {result.exit_code}): {result.command}\n{result.stderr[-1500:]}"
        for name, result in run.commands.items()
        if result.exit_code != 0
    ]
    assert not failed, "\n\n".join(failed)


def test_the_walk_covers_every_marked_block() -> None:
    """Each marked block is walked in a guest, built on this machine, or every line of it is
    listed in NOT_WALKABLE with the reason; each NOT_WALKABLE entry is still in the README."""
    blocks = readme_blocks()
    walked = {block for walks in WALKS.values() for block, _ in walks}
    assert set(blocks) >= walked | set(BUILT_ON_THIS_MACHINE)
    for name, lines in blocks.items():
        if name not in walked and name not in BUILT_ON_THIS_MACHINE:
            assert not [line for line in lines if _walked(line)], name
    every_line = [line for lines in blocks.values() for line in lines]
    for prefix in NOT_WALKABLE:
        assert any(line.startswith(prefix) for line in every_line), prefix
