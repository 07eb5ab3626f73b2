"""Rule files that are not small regular files, through the real program: FIFOs, links to
character devices that never end (/dev/zero) or block (a FIFO), sockets, dangling links, and a
sparse file of gigabytes. Each is a problem with its path (65), reported by `rules check` and
stopping every other command, quickly and in bounded memory; none is skipped in silence.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.guests import GUESTS
from tests.hostile.kit import run
from tests.hostile.nodes import fifo, unix_socket

GOOD = (
    "id: fine\nseverity: info\nlayer: host\ntitle: t\nexplain: e\n"
    "when: {fact: system.arch, eq: x}\n"
)


def _linked_fifo(path: Path) -> None:
    fifo(path.parent / "pipe")
    os.symlink("pipe", path)


def _sparse(path: Path) -> None:
    with open(path, "wb") as handle:
        handle.truncate(3 << 30)


KINDS: dict[str, tuple[Callable[[Path, ExitStack], None], str]] = {
    "fifo": (lambda p, _s: fifo(p) and None, "not a regular file: a FIFO"),
    "link-to-a-fifo": (
        lambda p, _s: _linked_fifo(p),
        "not a regular file: a FIFO",
    ),
    "link-to-dev-zero": (
        lambda p, _s: os.symlink("/dev/zero", p),
        "not a regular file: a character device",
    ),
    "link-to-dev-kmsg": (
        lambda p, _s: os.symlink("/dev/kmsg", p),
        "not a regular file: a character device",
    ),
    "socket": (
        lambda p, s: s.enter_context(unix_socket(p)) and None,
        "not a regular file: a socket",
    ),
    "dangling-link": (lambda p, _s: os.symlink("nowhere.yaml", p), "cannot read"),
    "sparse-3-gib": (lambda p, _s: _sparse(p), "larger than 1024 KiB"),
}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Iterator[tuple[Path, ExitStack]]:
    directory = tmp_path / "rules" / "site"
    directory.mkdir(parents=True)
    (directory / "fine.yaml").write_text(GOOD)
    with ExitStack() as stack:
        yield directory, stack


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("depth", ["top", "nested"])
def test_a_rule_file_that_is_not_a_small_regular_file_is_a_problem(
    rules_dir: tuple[Path, ExitStack], tmp_path: Path, kind: str, depth: str
) -> None:
    directory, stack = rules_dir
    where = directory if depth == "top" else directory / "deeper"
    where.mkdir(exist_ok=True)
    make, said = KINDS[kind]
    path = where / "bad.yaml"
    make(path, stack)
    problem = f"{path}: {said}"
    ran = run("rules", "check", "--rules", str(directory), tmp=tmp_path, seconds=15)
    assert ran.code == 65, ran
    assert problem in ran.err and " rule files checked, 1 problem(s)" in ran.err, ran.err
    for argv in (
        ["rules", "list"],
        ["analyze", "--root", str(GUESTS / "healthy-pci")],
        ["analyze", "--root", str(GUESTS / "healthy-pci"), "--json"],
        ["explain", "fine"],
    ):
        ran = run(*argv, "--rules", str(directory), tmp=tmp_path, seconds=15)
        assert ran.code == 65, ran
        assert problem in ran.err and ran.err.count("\n") == 1, ran.err


def test_a_linked_rule_file_and_folder(tmp_path: Path) -> None:
    """A link to a regular rule file is read; a link to a folder is not walked (a loop)."""
    directory = tmp_path / "rules"
    directory.mkdir()
    (tmp_path / "real.yaml").write_text(GOOD)
    os.symlink(tmp_path / "real.yaml", directory / "fine.yaml")
    os.symlink(".", directory / "loop")
    ran = run("rules", "check", "--rules", str(directory), tmp=tmp_path, seconds=15)
    assert ran.code == 0 and " rule files checked, 0 problem(s)" in ran.err, ran
