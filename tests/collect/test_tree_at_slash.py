"""At `/` the kernel resolves a path (tree._locate_at_slash); it must agree with the walk
(tree._walk) on every path, link and error, and leave no descriptor open."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from snddiag.collect import tree

SLASH = Path("/")


@pytest.fixture
def links(tmp_path: Path) -> Path:
    """Below /tmp: links relative and absolute, chained, dangling, looping, through a file."""
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "file").write_text("x")
    (tmp_path / "d" / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "d" / "fifo")
    made = {
        "rel": "d/e/file",
        "abs": str(tmp_path / "d" / "e" / "file"),
        "dirlink": "d/e",
        "chain": "rel",
        "updown": "d/../d/e/./file",
        "dangling": "nowhere",
        "loop-a": "loop-b",
        "loop-b": "loop-a",
        "to-fifo": "d/fifo",
        "to-slash": "/",
        "climb": "../../../../../../../..",
    }
    for name, target in made.items():
        (tmp_path / name).symlink_to(target)
    return tmp_path


def _rels(base: Path) -> Iterator[str]:
    at = str(base).lstrip("/")
    for name in (
        "rel", "abs", "chain", "updown", "dirlink", "dirlink/file", "dirlink/../e/file",
        "dangling", "loop-a", "to-fifo", "to-slash", "climb", "climb/etc", "d", "d/", "d/.",
        "d/e/file/more", "d/e/missing", "d/e/file/..", "d/..", "",
    ):  # fmt: skip
        yield f"{at}/{name}"
    for rel in ("proc/self/exe", "proc/self/root", "proc/self/cwd", "dev/null", "etc", ".."):
        yield rel
    for rel in tree.expand(SLASH, "sys/bus/*/devices/*")[:40]:
        yield rel
        yield rel + "/uevent"
        yield rel + "/driver"
        yield rel + "/subsystem/"


def _outcome(how: str, rel: str, follow: bool) -> tuple[object, ...]:
    try:
        if how == "walk":
            located = tree._walk(SLASH, rel, follow)
        else:
            found = tree._locate_at_slash(rel, follow)
            if found is None:
                return ("not taken",)
            located = found
    except OSError as err:
        return ("error", err.errno)
    try:
        held = os.fstat(located.parent)
        return (
            located.path,
            located.name,
            (located.info.st_dev, located.info.st_ino, stat.S_IFMT(located.info.st_mode)),
            (held.st_dev, held.st_ino),
        )
    finally:
        os.close(located.parent)


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_kernels_resolution_is_the_walks(links: Path) -> None:
    before = _open_descriptors()
    taken = 0
    for rel in _rels(links):
        for follow in (True, False):
            walked = _outcome("walk", rel, follow)
            kernel = _outcome("kernel", rel, follow)
            if kernel != ("not taken",):
                taken += 1
                assert kernel == walked, (rel, follow)
    assert _open_descriptors() == before
    # Nearly every path goes the kernel's way: the root itself and `..` last are the walk's.
    assert taken >= 2 * len(list(_rels(links))) - 12


def test_locate_at_slash_takes_the_kernels_way_and_elsewhere_the_walk(
    links: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = tree._locate_at_slash
    monkeypatch.setattr(
        tree, "_locate_at_slash", lambda rel, follow: calls.append(rel) or real(rel, follow)
    )
    rel = str(links / "rel").lstrip("/")
    os.close(tree.locate(SLASH, rel).parent)
    assert calls == [rel]
    os.close(tree.locate(links, "rel").parent)  # another root: always walked
    assert calls == [rel]


def test_a_fifo_at_slash_is_refused_without_opening_it(links: Path) -> None:
    rel = str(links / "to-fifo").lstrip("/")
    with pytest.raises(tree.NotRegularError, match="FIFO"):
        tree.open_regular(SLASH, rel)


WALKED_SLASH = Path("//")  # the same root, but not spelled "/": always walked


def _answer(call: object) -> object:
    try:
        value = call()  # type: ignore[operator]
    except OSError as err:
        return ("error", err.errno)
    return sorted(value) if isinstance(value, list) else value


def test_kind_existence_and_listing_at_slash_are_the_walks(links: Path) -> None:
    assert str(WALKED_SLASH) == "//"
    before = _open_descriptors()
    for rel in _rels(links):
        for root_call in (tree.kind_of, tree._lexists, tree.list_names):
            at_slash = _answer(lambda: root_call(SLASH, rel))  # noqa: B023
            walked = _answer(lambda: root_call(WALKED_SLASH, rel))  # noqa: B023
            assert at_slash == walked, (root_call.__name__, rel)
    assert _open_descriptors() == before
    assert tree.expand(SLASH, "sys/bus/*/devices/*") == tree.expand(
        WALKED_SLASH, "sys/bus/*/devices/*"
    )


def _read(root: Path, rel: str) -> object:
    try:
        fd = tree.open_regular(root, rel)
    except tree.NotRegularError as err:
        return ("not regular", str(err))
    except OSError as err:
        return ("error", err.errno)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def test_opening_a_regular_file_at_slash_is_the_walks(links: Path) -> None:
    before = _open_descriptors()
    rels = [*_rels(links), "dev/null", "proc/self/status", "proc/self/fd/0", "etc/hostname"]
    answers = {rel: _read(SLASH, rel) for rel in rels}
    for rel in rels:
        if rel.startswith("proc/self/status"):  # its own fd count and times change
            assert isinstance(answers[rel], bytes) and isinstance(_read(WALKED_SLASH, rel), bytes)
            continue
        assert answers[rel] == _read(WALKED_SLASH, rel), rel
    assert _open_descriptors() == before
    assert answers[str(links / "rel").lstrip("/")] == b"x"
    assert answers["dev/null"] == ("not regular", "a character device")
    assert answers[str(links / "to-fifo").lstrip("/")] == ("not regular", "a FIFO")
    taken = tree._open_regular_at_slash(str(links / "rel").lstrip("/"))
    assert taken is not None, "the kernel's way was not taken"
    os.close(taken)
