"""The third-party libraries snddiag imports, what each is for, and how a system installs it.

A missing one is the user's to install, not a bug: the command line names it with the package
of each distribution family and ends with its own exit code (report.ExitCode.MISSING_LIBRARY).
"""

from __future__ import annotations

from snddiag.records import dataclass


@dataclass(frozen=True)
class Library:
    module: str  # what `import` names
    project: str  # the name on PyPI
    debian: str  # Debian and Ubuntu (apt)
    fedora: str  # Fedora (dnf)
    alpine: str  # Alpine (apk)
    needed_for: str


LIBRARIES = (
    Library("yaml", "PyYAML", "python3-yaml", "python3-pyyaml", "py3-yaml", "reading the rules"),
    Library("rich", "rich", "python3-rich", "python3-rich", "py3-rich", "the report for people"),
    Library(
        "psutil", "psutil", "python3-psutil", "python3-psutil", "py3-psutil",
        "finding sound servers where /proc cannot be listed",
    ),
    Library(
        "pyudev", "pyudev", "python3-pyudev", "python3-pyudev", "py3-udev",
        "reading udev where /run/udev cannot be listed",
    ),
)  # fmt: skip
BY_MODULE = {lib.module: lib for lib in LIBRARIES}


def missing_library(err: ImportError) -> Library | None:
    """The library an ImportError is about, when it is one of snddiag's (not snddiag's own
    module, nor a module a library itself failed to import)."""
    name = (err.name or "").partition(".")[0]
    return BY_MODULE.get(name) if isinstance(err, ModuleNotFoundError) else None


def install_hint(lib: Library, *, without: str = "") -> str:
    """One line: what is missing, what for, and the command on each family of systems."""
    rest = f"; {without}" if without else ""
    return (
        f"the Python library {lib.project} (module {lib.module}) is not installed; snddiag "
        f"needs it for {lib.needed_for}{rest}. Install it: apt install {lib.debian} (Debian, "
        f"Ubuntu), dnf install {lib.fedora} (Fedora), apk add {lib.alpine} (Alpine), or "
        f"python3 -m pip install {lib.project} for the python3 that runs snddiag"
    )
