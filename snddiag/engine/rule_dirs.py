"""Where rules live and which files are rules: the shipped directory, the site's, a walk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
SOURCE_TREE_RULES = Path(__file__).resolve().parent.parent.parent / "rules"
SITE_RULES = Path("/etc/snddiag/rules.d")

RULE_SUFFIX = ".yaml"
TEST_SUFFIX = ".test.yaml"


def rule_files(directory: Path) -> list[Path]:
    # A walk over iterdir(), not rglob(): it also lists the rules inside snddiag.pyz, where
    # `directory` is a zipfile.Path (which has no rglob before Python 3.12).
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
    else:  # inside snddiag.pyz: a zipfile.Path
        for p in directory.iterdir():
            if p.is_dir():
                found += files_below(p)
            else:
                found.append(p)
    return sorted(found, key=lambda p: str(p).split("/"))


def shipped_rules() -> Path:
    if SHIPPED_RULES.is_dir():
        return SHIPPED_RULES
    if SOURCE_TREE_RULES.is_dir():
        return SOURCE_TREE_RULES
    # In snddiag.pyz the rules are archive members: a zipfile.Path, read in place. It has what
    # the loader uses of a Path (iterdir, is_dir, name, read_bytes, str).
    from importlib import resources

    return cast(Path, resources.files("snddiag") / "rules")


def default_rule_dirs() -> list[Path]:
    dirs = [shipped_rules()]
    if SITE_RULES.is_dir():
        dirs.append(SITE_RULES)
    return dirs
