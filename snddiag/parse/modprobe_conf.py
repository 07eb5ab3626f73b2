"""modprobe configuration (`/etc/modprobe.d/*.conf` and friends): what blocks or tunes a module."""

from __future__ import annotations

from snddiag.parse import Parsed, clip, lines_of
from snddiag.records import dataclass

# `install M /bin/true` is the documented way to make modprobe "load" a module without loading it.
_NO_OP_COMMANDS = ("/bin/false", "/bin/true", "false", "true", "/usr/bin/false", "/usr/bin/true")


@dataclass(frozen=True)
class ModprobeDirective:
    verb: str  # blacklist | install | options | alias | softdep | remove
    module: str
    args: str
    line_no: int

    @property
    def blocks_loading(self) -> bool:
        if self.verb == "install":
            command = self.args.split()
            return bool(command) and command[0] in _NO_OP_COMMANDS
        return False


def parse_modprobe_conf(text: str) -> Parsed[tuple[ModprobeDirective, ...]]:
    """Directives in order; a line ending in `\\` continues on the next (joined with a blank)."""
    directives: list[ModprobeDirective] = []
    odd: list[str] = []
    # The pieces of a continued line, joined once when it ends (adding each piece to a string
    # copied the whole line every time), then cut like any other line.
    pending: list[str] = []
    for line_no, raw in enumerate(lines_of(text), start=1):
        piece = raw.split("#", 1)[0].rstrip()
        if piece.endswith("\\"):
            pending.append(piece[:-1] + " ")
            continue
        pending.append(piece)
        line = clip("".join(pending))
        pending.clear()
        cols = line.split(None, 2)
        if not cols:
            continue
        verb = cols[0]
        if (
            verb in ("blacklist", "install", "options", "alias", "softdep", "remove")
            and len(cols) >= 2
        ):
            module = cols[1].replace("-", "_")
            directives.append(
                ModprobeDirective(verb, module, cols[2] if len(cols) > 2 else "", line_no)
            )
        else:
            odd.append(raw)
    return Parsed(tuple(directives), tuple(odd))


def parse_modules_list(text: str) -> Parsed[tuple[str, ...]]:
    """`/etc/modules` and `modules-load.d/*.conf`: one module per line, `#` and `;` comments."""
    names = []
    for raw in lines_of(text):
        line = raw.strip()
        if line and not line.startswith(("#", ";")):
            names.append(line.split()[0].replace("-", "_"))
    return Parsed(tuple(names))
