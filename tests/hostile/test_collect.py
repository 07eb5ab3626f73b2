"""Hostile inputs to `collect`, through the real program: a --root tree full of traps, and -o
or --dir pointing at things that must not be replaced.

Each case is built from scratch and checked for: the process ends by itself within a few
seconds, no traceback or "internal error", a documented exit code, special files untouched.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.guests import REPO
from tests.hostile.nodes import FULL, NULL, Shape, char_device, fifo, unix_socket
from tests.trees import write_files

SECRET = b"seed-host-secret-4711"
SECONDS = 15.0


def run(
    *argv: str, umask: int = 0o022, pass_fds: tuple[int, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "snddiag", *argv],
        env=env, capture_output=True, text=True, timeout=60, check=False, umask=umask,
        pass_fds=pass_fds,
    )  # fmt: skip
    assert time.monotonic() - started < SECONDS, f"{argv} took too long"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def trap_tree(base: Path, stack: ExitStack) -> tuple[Path, list[Path]]:
    """A tree whose files are FIFOs, devices, sockets, escaping links and loops."""
    secret = base / "host" / "shadow"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(SECRET)
    root = write_files(
        base / "tree",
        {
            "proc/sys/kernel/osrelease": "6.1.0-13-amd64\n",
            "proc/sys/kernel/hostname": "trap-host\n",
        },
    )
    special = [
        fifo(root / "proc" / "cmdline"),
        fifo(root / "etc" / "modprobe.d" / "trap.conf"),
        char_device(root / "proc" / "modules", NULL),
        char_device(root / "dev" / "kmsg", os.makedev(1, 11)),
        stack.enter_context(unix_socket(root / "etc" / "os-release")),
    ]
    links = {
        "proc/version": str(secret),
        "usr/lib/os-release": "../../../../../../../../" + str(secret).lstrip("/"),
        "etc/modules": "../../host/shadow",
        "proc/asound/cards": "/proc/asound/cards",
        "proc/asound/pcm": "pcm2",
        "proc/asound/pcm2": "/proc/asound/pcm",
        "sys/class": "/sys/class",
        "sys/bus": "/",
        "etc/modprobe.d/escape.conf": str(secret),
        "boot": str(secret.parent),
    }
    for rel, target in links.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / rel)
        special.append(root / rel)
    (root / "proc" / "interrupts").mkdir()
    return root, special


@pytest.fixture
def trap(tmp_path: Path) -> Iterator[tuple[Path, list[Path]]]:
    with ExitStack() as stack:
        yield trap_tree(tmp_path, stack)


def _members(bundle: Path) -> bytes:
    return gzip.decompress(bundle.read_bytes())


def test_collecting_a_trap_tree_ends_and_reads_nothing_outside(
    trap: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    root, special = trap
    shapes = {p: Shape.of(p) for p in special}
    out = tmp_path / "trap.tar.gz"
    done = run("--root", str(root), "collect", "--no-redact", "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = _members(out)
    assert SECRET not in data
    assert b"not a regular file: a FIFO" in data
    assert b"Too many levels of symbolic links" in data
    assert {p: Shape.of(p) for p in special} == shapes
    done = run("--root", str(root), "--json")
    assert done.returncode in (0, 1, 2, 3)
    assert SECRET.decode() not in done.stdout


def test_snapshot_of_a_trap_tree_is_private_whatever_the_umask(
    trap: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    root, _ = trap
    target = tmp_path / "snap"
    assert run("--root", str(root), "collect", "--dir", str(target), umask=0).returncode == 0
    paths = [target, *target.rglob("*")]
    assert {stat.S_IMODE(p.lstat().st_mode) for p in paths if p.is_dir()} == {0o700}
    assert {stat.S_IMODE(p.lstat().st_mode) for p in paths if not p.is_dir()} == {0o600}
    assert all(SECRET not in p.read_bytes() for p in paths if p.is_file())


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "cmdline").write_text("console=ttyS0\n")
    return root


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("null", 0),
        ("full", 74),
        ("symlink-to-file", 73),
        ("dangling-symlink", 73),
        ("socket", 73),
        ("directory", 73),
        ("missing-parent", 73),
    ],
)
def test_output_that_must_not_be_replaced(
    small_tree: Path, tmp_path: Path, kind: str, code: int
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    with ExitStack() as stack:
        out = {
            "null": lambda: char_device(tmp_path / "null", NULL),
            "full": lambda: char_device(tmp_path / "full", FULL),
            "symlink-to-file": lambda: _link(tmp_path / "out", "victim"),
            "dangling-symlink": lambda: _link(tmp_path / "out", "created-by-snddiag"),
            "socket": lambda: stack.enter_context(unix_socket(tmp_path / "sock")),
            "directory": lambda: tmp_path,
            "missing-parent": lambda: tmp_path / "no" / "out.tar.gz",
        }[kind]()
        before = Shape.of(out) if os.path.lexists(out) else None
        done = run("--root", str(small_tree), "collect", "-o", str(out), umask=0)
        assert done.returncode == code, done.stderr
        assert (Shape.of(out) if os.path.lexists(out) else None) == before
    assert victim.read_bytes() == b"keep me"
    assert not (tmp_path / "created-by-snddiag").exists()
    assert done.stderr.count("\n") == 1 if code else "bundle written to" in done.stderr


def _link(path: Path, target: str) -> Path:
    os.symlink(target, path)
    return path


def test_fifo_and_dev_fd_pipe_receive_a_bundle(small_tree: Path, tmp_path: Path) -> None:
    path = fifo(tmp_path / "fifo")
    received: list[bytes] = []

    def reader(fd: int) -> None:
        with os.fdopen(fd, "rb") as source:
            received.append(source.read())

    thread = threading.Thread(target=lambda: reader(os.open(path, os.O_RDONLY)))
    thread.start()
    assert run("--root", str(small_tree), "collect", "-o", str(path)).returncode == 0
    thread.join(10)
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    read_end, write_end = os.pipe()
    thread = threading.Thread(target=reader, args=(read_end,))
    thread.start()
    try:
        done = run("--root", str(small_tree), "collect", "-o", f"/dev/fd/{write_end}",
                   pass_fds=(write_end,))  # fmt: skip
    finally:
        os.close(write_end)
    thread.join(10)
    assert done.returncode == 0, done.stderr
    for data in received:
        assert b"console=ttyS0" in gzip.decompress(data)
    assert len(received) == 2


@pytest.mark.parametrize("release", ["../../../../etc", "6.1\\..\\x", "a/../../b"])
def test_names_that_are_not_safe_keys_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], release: str
) -> None:
    root = tmp_path / "tree"
    (root / "proc" / "sys" / "kernel").mkdir(parents=True)
    (root / "proc" / "sys" / "kernel" / "osrelease").write_text(release + "\n")
    (root / "etc" / "modprobe.d").mkdir(parents=True)
    (root / "etc" / "modprobe.d" / "odd\\name.conf").write_text("options virtio_snd x=1\n")
    (root / "etc" / "modprobe.d" / "fine.conf").write_text("options virtio_snd y=1\n")
    (root / "etc" / "modules.builtin").write_text("kernel/sound/virtio/virtio_snd.ko\n")
    out = tmp_path / "odd.tar.gz"
    assert run("--root", str(root), "collect", "-o", str(out)).returncode == 0
    assert run("--root", str(root), "collect", "--dir", str(tmp_path / "snap")).returncode == 0
    done = run("analyze", str(out), "--json")
    assert done.returncode in (0, 1, 2, 3), done.stderr
    assert "unsafe" not in done.stderr
    assert b"y=1" in _members(out) and b"x=1" not in _members(out)


def test_links_spelling_eighty_thousand_components_end_quickly(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "d").mkdir(parents=True)
    (root / "real").mkdir()
    previous = "real"
    for n in range(39):
        os.symlink("d/../" * 800 + previous, root / f"l{n}")  # 4 KiB, as long as a link gets
        previous = f"l{n}"
    for top in ("proc", "sys", "etc", "lib", "usr", "boot", "dev", "run"):
        os.symlink(previous, root / top)
    started = time.monotonic()
    done = run("--root", str(root), "collect", "-o", str(tmp_path / "out.tar.gz"))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 5
    assert b"Too many levels of symbolic links" in _members(tmp_path / "out.tar.gz")
