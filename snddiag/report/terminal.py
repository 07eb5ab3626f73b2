"""The report for people: verdict first, then findings by severity, then what was not checked.

Every string from the system or a rule file enters rich as `Text`, never as markup.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

from snddiag.report.escape import encodes, escape_document

_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}
_VERDICT = {
    "ok": ("virtio sound looks healthy", "bold green"),
    "warning": ("virtio sound works, with warnings", "bold yellow"),
    "error": ("virtio sound does not work", "bold red"),
    "incomplete": ("diagnosis incomplete: some checks could not run", "bold magenta"),
}
_INDENT = 3
# Rule prose that may span lines; every other string is shown on one line.
_PROSE = frozenset({"explain", "step"})


def _summary(document: dict[str, Any]) -> str:
    system, host, snd = document["system"], document["host"], document["virtio"]["sound"]
    distro = system["distro"]["name"] or system["distro"]["id"] or "unknown distro"
    machine = f" {host['machine_type']}" if host["machine_type"] else ""
    if snd["present"]:
        sound = f"{snd['name']} on {snd['transport']}, driver {snd['driver'] or 'none'}"
    else:
        sound = "none" if snd["present"] is False else "unknown"
    return (
        f"kernel {system['kernel_release'] or '?'} ({system['arch'] or '?'}), {distro}; "
        f"host {host['vmm'] or 'unknown'}{machine}; virtio sound: {sound}"
    )


def _clip(value: str | None, unknown: str) -> str:
    """A field of a bundle's manifest, already escaped, cut to one short phrase."""
    if not value:
        return unknown
    return value if len(value) <= 64 else value[:61] + "..."


def _provenance(source: dict[str, Any] | None) -> list[str]:
    """The header's lines on where the evidence came from: none for this machine's own run;
    for a bundle or a snapshot, who collected it when, and whether its rules were these."""
    if not source or source["kind"] == "live":
        return []
    user = _clip(source["user"], "an unknown user")
    if source["uid"]:
        user += f" (uid {_clip(source['uid'], '?')})"
    lines = [
        f"from {source['kind']} {source['path'] or '?'}, collected "
        f"{_clip(source['collected_at'], 'at an unknown time')} by {user} with snddiag "
        f"{_clip(source['snddiag_version'], '(version unknown)')}"
    ]
    if source["kind"] == "bundle":
        rules = {
            True: "rules: not the collector's (another snddiag version or --rules)",
            False: "rules: the collector's",
            None: "rules: the collector's are not recorded",
        }[source["rules_differ"]]
        then = source["collected_status"]
        lines.append(f"verdict when collected: {_clip(then, 'not recorded')}; {rules}")
    return lines


def _data_path_lines(data_path: dict[str, Any]) -> list[tuple[str, str]]:
    """One line a direction: what the device did, or why it failed or did not run."""
    lines = []
    for side, moved, verb in (
        ("playback", "frames_consumed", "consumed"),
        ("capture", "frames_delivered", "delivered"),
    ):
        result = data_path[side]
        where = f" on {result['device']}" if result["device"] else ""
        if result["status"] == "ok":
            rate = result["measured_rate_hz"]
            measured = f", {rate:.0f} Hz measured" if rate is not None else ""
            text = (
                f"ok{where}: {result[moved]} frames {verb} at {result['rate_hz']} Hz "
                f"{result['format']} x{result['channels']}{measured}, {result['xruns']} xruns"
            )
        else:
            text = f"{result['status'].replace('_', ' ')}{where}: {result['reason']}"
        lines.append((f"{side:8}", text))
    return lines


def render_terminal(
    document: dict[str, Any], stream: IO[str], *, color: bool | None = None
) -> None:
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    # Every string of the document may come from the guest or a bundle: escaped before use.
    document = escape_document(document, prose=_PROSE)
    dot = " \u00b7 " if encodes(stream, "\u00b7") else " - "
    target = Console(file=stream, highlight=False, emoji=False)
    styled = color is True or (
        color is None and "NO_COLOR" not in os.environ and target.is_terminal
    )
    # Render into a buffer at the stream's width, then drop rich's trailing padding: reports get
    # pasted into tickets and diffed. Unstyled means no escape sequence at all, bold included.
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=target.width,
        color_system=("auto" if target.is_terminal else "standard") if styled else None,
        force_terminal=styled,
        highlight=False,
        emoji=False,
    )

    def numbered(rows: list[tuple[str, Text]], indent: int) -> None:
        # A grid gives wrapped lines a hanging indent under their text, not under the number.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for label, text in rows:
            grid.add_row(Text(label, style="dim"), text)
        console.print(Padding(grid, (0, 0, 0, indent), expand=False))

    line = Text("snddiag: ", style="bold")
    line.append(*_VERDICT[document["status"]])
    console.print(line)
    for said in _provenance(document.get("source")):
        # Unwrapped: a bundle's path is not broken across lines (the terminal folds it).
        console.print(Text(said, style="dim"), soft_wrap=True)
    console.print(Text(_summary(document), style="dim"))
    for number, finding in enumerate(document["findings"], start=1):
        console.print()
        head = Text(f"{number}. ")
        head.append(finding["severity"].upper(), style=_STYLE[finding["severity"]])
        head.append(f" {finding['title']} ")
        head.append(f"[{finding['rule']}]", style="dim")
        console.print(head)
        console.print(Padding(Text(finding["explain"]), (0, 0, 0, _INDENT), expand=False))
        if finding["evidence"]:
            console.print(
                Padding(Text("Evidence:", style="bold"), (0, 0, 0, _INDENT), expand=False)
            )
            numbered([(">", Text(quoted, style="cyan")) for quoted in finding["evidence"]], 5)
        if finding["remediation"]:
            console.print(
                Padding(Text("What to do:", style="bold"), (0, 0, 0, _INDENT), expand=False)
            )
            steps = []
            for step_no, step in enumerate(finding["remediation"], start=1):
                text = Text(
                    f"[{step['side']}" + (f"{dot}{step['tool']}" if step["tool"] else "") + "] ",
                    style="dim",
                )
                text.append(step["step"], style="default")
                steps.append((f"{step_no}.", text))
            numbered(steps, 5)
        for reference in finding["references"]:
            console.print(
                Padding(Text(f"See: {reference}", style="dim"), (0, 0, 0, _INDENT), expand=False)
            )
    if document["not_checked"]:
        console.print()
        console.print(Text("Not checked (could not read what they need):", style="bold magenta"))
        rows = []
        for item in document["not_checked"]:
            missing = ", ".join(item["missing_sources"]) or ", ".join(item["unknown_facts"])
            rows.append(("-", Text(f"{item['title']} [{item['rule']}]: needs {missing}")))
        numbered(rows, 2)
    if document.get("data_path"):
        console.print()
        console.print(Text("Data path (--play):", style="bold"))
        numbered([(a, Text(b)) for a, b in _data_path_lines(document["data_path"])], 2)
    if document["inventory"]:
        console.print()
        console.print(Text("Devices (paravirtualized / emulated):", style="bold"))
        rows = []
        for item in document["inventory"]:
            para = ", ".join(item["paravirtual"]) or "-"
            emulated = ", ".join(item["emulated"]) or "-"
            rows.append((f"{item['class']:8}", Text(f"{para} / {emulated}")))
        numbered(rows, 2)
    if document["unreadable_sources"]:
        sources = ", ".join(s["source"] for s in document["unreadable_sources"][:6])
        more = len(document["unreadable_sources"]) - 6
        console.print(
            Text(
                f"Unreadable here: {sources}" + (f" (+{more} more)" if more > 0 else ""),
                style="dim",
            )
        )
    stream.write("".join(line.rstrip(" ") + "\n" for line in buffer.getvalue().splitlines()))
