"""Where rules live and which files are rules: the shipped directory, the site's, a walk."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
SOURCE_TREE_RULES = Path(__file__).resolve().parent.parent.parent / "rules"
SITE_RULES = Path("/etc/snddiag/rules.d")

RULE_SUFFIX = ".yaml"
TEST_SUFFIX = ".test.yaml"


def rule_files(directory: Path) -> list[Path]:
    # A walk over iterdir(), not rglob(): it also lists the rules inside snddiag.pyz, where
    # `directory` is an ArchivePath.
    return [
        p
        for p in files_below(directory)
        if p.name.endswith(RULE_SUFFIX) and not p.name.endswith(TEST_SUFFIX)
    ]


def files_below(directory: Path) -> list[Path]:
    """Every name below directory but folders, whatever it is (a FIFO named like a rule is
    reported by the loader, never skipped in silence); a link to a folder is not walked."""
    found: list[Path] = []
    if isinstance(directory, Path):  # os.scandir: the entry's type without a stat each
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    found += files_below(directory / entry.name)
                elif not entry.is_dir():
                    found.append(directory / entry.name)
    else:  # inside snddiag.pyz: an ArchivePath (or a zipfile.Path)
        for p in directory.iterdir():
            if p.is_dir():
                found += files_below(p)
            else:
                found.append(p)
    return sorted(found, key=lambda p: str(p).split("/"))


_shipped: list[Path] = []


def shipped_rules() -> Path:
    if not _shipped:
        _shipped.append(_find_shipped_rules())
    return _shipped[0]


def _find_shipped_rules() -> Path:
    if SHIPPED_RULES.is_dir():
        return SHIPPED_RULES
    if SOURCE_TREE_RULES.is_dir():
        return SOURCE_TREE_RULES
    # In snddiag.pyz the rules are archive members, read in place.
    import zipimport

    package = sys.modules["snddiag"]
    loader = getattr(package.__spec__, "loader", None)
    if isinstance(loader, zipimport.zipimporter):
        inside = os.path.dirname(package.__file__ or "")[len(loader.archive) + 1 :]
        return cast(Path, ArchivePath(_Archive(loader), f"{inside}/rules"))
    from importlib import resources

    return cast(Path, resources.files("snddiag") / "rules")


class _Archive:
    """The zip archive snddiag runs from, read with the importer that imports snddiag from it:
    its directory is read once (zipfile would read it again, and import shutil, bz2, lzma and
    tempfile with it: in a small guest, a tenth of a run from snddiag.pyz)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.path: str = loader.archive
        self.files: set[str] = set()
        # {folder: the names in it}, every folder of the archive
        found: dict[str, set[str]] = {}
        for name in self._member_names():
            parts = name.rstrip("/").split("/")
            if not name.endswith("/"):
                self.files.add(name)
            for depth in range(1, len(parts)):
                found.setdefault("/".join(parts[:depth]), set()).add(parts[depth])
        self.folders = {folder: sorted(names) for folder, names in found.items()}

    def _member_names(self) -> list[str]:
        import zipimport

        # The importer's own table of contents (3.8 to 3.13 keep it here, by archive path);
        # where a Python keeps it elsewhere, zipfile reads the directory again.
        table = getattr(zipimport, "_zip_directory_cache", {}).get(self.path)
        if isinstance(table, dict) and table:
            return [str(name).replace(os.sep, "/") for name in table]
        import zipfile

        with zipfile.ZipFile(self.path) as archive:
            return archive.namelist()


class ArchivePath:
    """A file or folder inside snddiag.pyz: what the rule loader uses of a Path (name, /,
    is_dir, exists, iterdir, read_bytes, str)."""

    def __init__(self, archive: _Archive, inside: str) -> None:
        self._archive = archive
        self._inside = inside

    @property
    def name(self) -> str:
        return self._inside.rsplit("/", 1)[-1]

    def __truediv__(self, name: str) -> ArchivePath:
        return ArchivePath(self._archive, f"{self._inside}/{name}")

    def is_dir(self) -> bool:
        return self._inside in self._archive.folders

    def is_file(self) -> bool:
        return self._inside in self._archive.files

    def exists(self) -> bool:
        return self.is_dir() or self.is_file()

    def iterdir(self) -> Iterator[ArchivePath]:
        for name in self._archive.folders.get(self._inside, []):
            yield self / name

    def read_bytes(self) -> bytes:
        if not self.is_file():
            raise FileNotFoundError(2, "no such file in the archive", str(self))
        return cast(bytes, self._archive.loader.get_data(str(self)))

    def __str__(self) -> str:
        return f"{self._archive.path}/{self._inside}"

    def __repr__(self) -> str:
        return f"ArchivePath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchivePath) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))


def default_rule_dirs() -> list[Path]:
    dirs = [shipped_rules()]
    if SITE_RULES.is_dir():
        dirs.append(SITE_RULES)
    return dirs
