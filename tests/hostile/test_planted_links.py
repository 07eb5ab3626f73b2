"""Links planted while snddiag writes: another local user, in a folder both may write to, swaps
symbolic links in and out as fast as it can while root runs `collect --dir` and `collect -o`.

The attacker is a real process of its own, run as `nobody`, racing the writer; each case runs
the writer several times against it and checks: the run ends in time and memory with 0 or 73
(never a traceback), the folder the links point at is untouched, and whatever snddiag made is
root's, private, and where it was asked to be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.kit import run
from tests.trees import write_files

NOBODY = 65534
ROUNDS = 6


@pytest.fixture
def shared() -> Iterator[Path]:
    """A /tmp-like folder (world-writable, sticky), a folder of the attacker's own, and a
    victim only root may write to."""
    if os.geteuid() != 0:
        pytest.fail("these cases need root: the writer is root, the attacker another user")
    base = Path(tempfile.mkdtemp(prefix="snddiag-race-"))
    try:
        base.chmod(0o755)
        (base / "shared").mkdir(mode=0o777)
        (base / "shared").chmod(0o1777)
        (base / "theirs").mkdir(mode=0o755)
        os.chown(base / "theirs", NOBODY, NOBODY)
        (base / "victim").mkdir(mode=0o755)
        (base / "victim" / "passwd").write_text("root:x:0:0\n")
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Attacker:
    """A forked process that drops to `nobody` and swaps `name` in `folder` between a link to
    `victim`, nothing, and a directory of its own, as fast as it can, until stopped: every
    check-then-use gap in the writer is hit often."""

    def __init__(self, folder: Path, name: str, victim: Path) -> None:
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                os.chdir(folder)
                while True:
                    _swap(name, victim)
            finally:
                os._exit(1)  # never back into pytest

    def __enter__(self) -> Attacker:
        return self

    def __exit__(self, *_exc: object) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def _swap(name: str, victim: Path) -> None:
    """The link stands most of the time; whatever else took the name is moved away."""
    with contextlib.suppress(OSError):
        os.symlink(victim, name)
        time.sleep(0.002)
    try:
        os.unlink(name)
    except IsADirectoryError:
        with contextlib.suppress(OSError):  # root's: out of the way
            os.rename(name, f"{name}.{time.monotonic_ns()}")
    except OSError:
        pass
    with contextlib.suppress(OSError):
        os.mkdir(name, 0o777)
        os.rmdir(name)


def _tree(base: Path) -> Path:
    return write_files(
        base / "tree",
        {"proc/sys/kernel/osrelease": "6.1.0-13-amd64\n", "proc/cmdline": "console=ttyS0\n"},
    )


def _victim_untouched(base: Path) -> None:
    victim = base / "victim"
    assert sorted(p.name for p in victim.iterdir()) == ["passwd"]
    assert (victim / "passwd").read_text() == "root:x:0:0\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o755


def _private_snapshot(target: Path) -> None:
    info = os.lstat(target)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == 0
    assert stat.S_IMODE(info.st_mode) == 0o700
    for path in target.rglob("*"):
        mode = path.lstat().st_mode
        assert not stat.S_ISLNK(mode), path
        assert stat.S_IMODE(mode) == (0o700 if stat.S_ISDIR(mode) else 0o600), path


@pytest.mark.parametrize("where", ["target", "folder-on-the-way"])
def test_collect_dir_against_a_racing_attacker(shared: Path, where: str) -> None:
    """The link is swapped at --dir itself, or at a folder on the way to it."""
    tree = _tree(shared)
    folder = shared / ("shared" if where == "target" else "theirs")
    outcomes = set()
    with Attacker(folder, "swapped", shared / "victim"):
        for round_no in range(ROUNDS):
            target = folder / "swapped"
            if where == "folder-on-the-way":
                target = target / f"snap{round_no}"
            ran = run("--root", str(tree), "collect", "--dir", str(target), tmp=shared)
            outcomes.add(ran.code)
            assert ran.code in (0, 73), ran.err
            if ran.code == 0 and where == "target":
                _private_snapshot(target)
                shutil.rmtree(target)  # the next round races for the name again
            elif ran.code == 0:
                # The folder on the way is the attacker's: it may have moved it (and the
                # snapshot in it) already, so only the victim is checked, below.
                shutil.rmtree(target, ignore_errors=True)
            else:
                assert ran.err.count("\n") == 1 and "cannot write" in ran.err, ran.err
    _victim_untouched(shared)
    assert outcomes <= {0, 73}


@pytest.mark.parametrize("where", ["output", "folder-on-the-way"])
def test_collect_output_against_a_racing_attacker(shared: Path, where: str) -> None:
    """`-o` in a shared folder: the output name, or the folder holding it, is swapped."""
    tree = _tree(shared)
    folder = shared / ("shared" if where == "output" else "theirs")
    with Attacker(folder, "swapped", shared / "victim"):
        for _round in range(ROUNDS):
            out = folder / "swapped"
            if where == "folder-on-the-way":
                out = out / "passwd"
            ran = run("--root", str(tree), "collect", "-o", str(out), tmp=shared)
            assert ran.code in (0, 73), ran.err
            if ran.code == 0:
                info = os.lstat(out)
                assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
                out.unlink()
    _victim_untouched(shared)
    assert not list(folder.rglob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("owned-by-another-user", "belongs to uid 65534"),
        ("writable-by-others", "others may write to it"),
        ("link-owned-by-another-user", "symbolic link owned by uid 65534"),
        ("link-to-a-directory-of-root", "not a directory"),
    ],
)
def test_collect_dir_refuses_a_directory_someone_else_controls(
    shared: Path, setup: str, message: str
) -> None:
    """--dir must be made by snddiag, or an empty one the caller owns and nobody else may
    write; a link on the way is followed only when root or the caller owns it."""
    tree = _tree(shared)
    folder = shared / "shared"
    target = folder / "snap"
    if setup == "owned-by-another-user":
        target.mkdir(mode=0o700)
        os.chown(target, NOBODY, NOBODY)
    elif setup == "writable-by-others":
        target.mkdir()
        target.chmod(0o777)
    elif setup == "link-owned-by-another-user":
        os.symlink(shared / "victim", folder / "mine")
        os.lchown(folder / "mine", NOBODY, NOBODY)
        target = folder / "mine" / "snap"
    else:
        os.symlink(shared / "victim", target)
        message = "cannot write"
    ran = run("--root", str(tree), "collect", "--dir", str(target), tmp=shared)
    assert ran.code == 73, ran.err
    assert message in ran.err and ran.err.count("\n") == 1, ran.err
    _victim_untouched(shared)
    if setup in ("owned-by-another-user", "writable-by-others"):
        assert list(target.iterdir()) == []
