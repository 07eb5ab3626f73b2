"""The shipped rules, compiled: what the YAML loader made of them, pickled, for a run to load
instead of importing PyYAML and parsing every file (on a small guest, most of loading the rules).

YAML stays the source and the only format of site rules. `python3 -m snddiag.engine.compiled`
writes COMPILED_NAME into the shipped rules directory; the wheel's and the zipapp's builds run it
(a distribution's package may too). A run never writes it. A run trusts it only when its header
names this snddiag version, this format and the rule model's classes and fields as they are
now, the payload matches the header's checksum, and the header's fingerprint of the rule files
(their names, sizes and CRC-32s) is that of the files as they are now; anything else, or any
error reading it, and the rules load from YAML as before.

The checksums find a stale or damaged file, not a forged one: the file sits beside the code it
is loaded by and is exactly as trusted. That is why only the shipped directory's file is ever
read, never one in a directory given with --rules.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any

from snddiag import __version__, records
from snddiag.engine import model
from snddiag.engine.model import Rule
from snddiag.engine.rule_dirs import rule_files, shipped_rules

COMPILED_NAME = "compiled-rules.pickle"
FORMAT = 1
MAGIC = b"snddiag compiled rules\n"
_PROTOCOL = 4  # Python 3.9 reads it
_RULE_FILE = "rule-file"


def fingerprint(directory: Path) -> str:
    """The rule files of `directory` as they are now: names, sizes and contents (CRC-32)."""
    crc = 0
    count = total = 0
    prefix = len(_root(directory))
    for path in rule_files(directory):
        data = path.read_bytes()
        crc = zlib.crc32(f"{str(path)[prefix:]}\0{len(data)}\0".encode(), crc)
        crc = zlib.crc32(data, crc)
        count += 1
        total += len(data)
    return f"{count}:{total}:{crc:08x}"


def _model_shape() -> str:
    """The rule model's classes and their fields: a compiled file from before a change to the
    model (a field added, say) would unpickle into objects that lack it."""
    classes = sorted(
        (name, value)
        for name, value in vars(model).items()
        if isinstance(value, type) and records.is_dataclass(value)
    )
    return ";".join(
        f"{name}:{','.join(f.name for f in records.fields(cls))}" for name, cls in classes
    )


def _root(directory: Path) -> str:
    # A zipfile.Path names a directory with a trailing slash, a Path or an ArchivePath without.
    return str(directory).rstrip("/") + "/"


def _pickler(out: Any, directory: Path) -> Any:
    import pickle

    root = _root(directory)

    class _Pickler(pickle.Pickler):
        # A rule file's path is kept relative to the rules directory: the compiled file is
        # read wherever the package is installed (or inside snddiag.pyz).
        def persistent_id(self, obj: Any) -> Any:
            if isinstance(obj, PurePath) and str(obj).startswith(root):
                return (_RULE_FILE, str(obj)[len(root) :])
            return None

    return _Pickler(out, protocol=_PROTOCOL)


def compile_rules(directory: Path) -> bytes:
    """The compiled form of the rules in `directory` (RuleFileError if one is bad)."""
    from snddiag.engine.load import load_rules

    rules = load_rules([directory])
    payload = io.BytesIO()
    _pickler(payload, directory).dump(rules)
    data = payload.getvalue()
    header = {
        "format": FORMAT,
        "snddiag": __version__,
        "model": _model_shape(),
        "rules": fingerprint(directory),
        "payload": f"{len(data)}:{zlib.crc32(data):08x}",
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + data


def read_compiled(directory: Path) -> list[Rule] | None:
    """The compiled rules of `directory` when present and current; None otherwise."""
    import pickle

    try:
        blob = (directory / COMPILED_NAME).read_bytes()
    except (OSError, KeyError):  # KeyError: a zipfile.Path's missing member before 3.10
        return None
    if not blob.startswith(MAGIC):
        return None
    line, _, data = blob[len(MAGIC) :].partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        return None
    expected = {
        "format": FORMAT,
        "snddiag": __version__,
        "model": _model_shape(),
        "rules": fingerprint(directory),
        "payload": f"{len(data)}:{zlib.crc32(data):08x}",
    }
    if header != expected:
        return None

    class _Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            kind, relative = pid
            if kind != _RULE_FILE:
                raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
            return directory / relative

    try:
        rules = _Unpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError):
        return None
    if not isinstance(rules, list) or not all(isinstance(r, Rule) for r in rules):
        return None
    return rules


def load_rules(dirs: Iterable[Path]) -> list[Rule]:
    """engine.load.load_rules, with the shipped directory's rules from their compiled form when
    it is current: a later directory's rule still replaces one with the same id."""
    dirs = list(dirs)
    compiled = None
    if dirs and str(dirs[0]) == str(shipped_rules()):
        compiled = read_compiled(dirs[0])
    if compiled is None:
        from snddiag.engine.load import load_rules as load_yaml

        return load_yaml(dirs)
    if len(dirs) == 1:
        return compiled
    from snddiag.engine.load import load_rules as load_yaml

    by_id = {rule.rule_id: rule for rule in compiled}
    by_id.update((rule.rule_id, rule) for rule in load_yaml(dirs[1:]))
    return sorted(by_id.values(), key=lambda r: r.rule_id)


def write_compiled(directory: Path, output: Path) -> None:
    """Compile the rules of `directory` into `output`, replaced atomically."""
    data = compile_rules(directory)
    partial = output.with_name(output.name + ".partial")
    with open(partial, "wb") as out:
        out.write(data)
    os.chmod(partial, 0o644)
    os.replace(partial, output)


def main(argv: list[str]) -> int:
    """`python3 -m snddiag.engine.compiled [RULES_DIR [OUTPUT]]`: by default the shipped rules,
    into COMPILED_NAME beside them."""
    from snddiag.engine.model import RuleFileError

    directory = Path(argv[0]) if argv else shipped_rules()
    output = Path(argv[1]) if len(argv) > 1 else directory / COMPILED_NAME
    try:
        write_compiled(directory, output)
    except (RuleFileError, OSError) as err:
        print(f"snddiag.engine.compiled: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
