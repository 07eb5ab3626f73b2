"""snddiag.pyz's own modules from one member: the bytecode of every snddiag module, read once.

The zip importer opens the archive, reads a module's member and unmarshals its code twice per
import (once for the file name, once to run it); snddiag imports some sixty modules a run, and
in a small guest whose root is a network share each open is slow. `packaging/zipapp/build
--compile` therefore also writes CODE_NAME: the magic number of the Python that built it, then
{module: (is a package, marshalled code)}. The archive's `__main__` calls `install()` before it
imports the rest of snddiag: on that same Python a finder serves snddiag's modules from it, each
unmarshalled when first imported; on any other Python (another magic number), or when the
member is missing or damaged, nothing is installed and the zip importer compiles the sources
as before.
"""

from __future__ import annotations

import marshal
import sys
from importlib.machinery import ModuleSpec
from importlib.util import MAGIC_NUMBER
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

CODE_NAME = "snddiag-code.marshal"


def pack(modules: dict[str, tuple[bool, Any]]) -> bytes:
    """CODE_NAME's bytes for {module: (is a package, code object)}, for this Python."""
    return MAGIC_NUMBER + marshal.dumps(
        {name: (package, marshal.dumps(code)) for name, (package, code) in modules.items()}
    )


class _ArchiveCode:
    """Finder and loader of the modules in CODE_NAME (importlib's protocols)."""

    def __init__(self, archive: str, importer: Any, modules: dict[str, tuple[bool, bytes]]):
        self._archive = archive
        self._importer = importer  # the zip importer: sources, for tracebacks
        self._modules = modules

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        found = self._modules.get(name)
        if found is None:
            return None
        where = f"{self._archive}/{name.replace('.', '/')}"
        origin = f"{where}/__init__.py" if found[0] else f"{where}.py"
        # A loader by protocol: importlib.abc would import importlib.resources with it.
        spec = ModuleSpec(name, cast("Loader", self), origin=origin)
        spec.has_location = True
        if found[0]:
            spec.submodule_search_locations = [where]
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        code = marshal.loads(self._modules[module.__name__][1])  # noqa: S302 - see below
        exec(code, module.__dict__)  # noqa: S102 - the archive's own bytecode

    def get_source(self, name: str) -> str | None:
        """The module's source, from the archive (tracebacks quote it)."""
        package = self._modules[name][0]
        member = name.replace(".", "/") + ("/__init__.py" if package else ".py")
        try:
            data: bytes = self._importer.get_data(f"{self._archive}/{member}")
        except OSError:
            return None
        return data.decode("utf-8", errors="replace")


def install(archive: str, importer: Any) -> bool:
    """Serve snddiag's modules from CODE_NAME in `archive` (read with its zip `importer`) when
    it was built by this Python; whether it was."""
    try:
        blob: bytes = importer.get_data(f"{archive}/{CODE_NAME}")
    except OSError:
        return False
    if not blob.startswith(MAGIC_NUMBER):
        return False
    try:
        # The archive's own bytecode, as trusted as the code that reads it (the same file).
        modules = marshal.loads(blob[len(MAGIC_NUMBER) :])  # noqa: S302
    except (EOFError, ValueError, TypeError):
        return False
    if not isinstance(modules, dict) or not all(
        isinstance(found, tuple) and len(found) == 2 and isinstance(found[1], bytes)
        for found in modules.values()
    ):
        return False
    sys.meta_path.insert(0, _ArchiveCode(archive, importer, modules))
    return True
