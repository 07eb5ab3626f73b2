"""The report for people: verdict first, then findings by severity, then what was not checked.

Every string from the system or a rule file enters rich as `Text`, never as markup.
"""

from __future__ import annotations

import os
from typing import IO, Any

_STYLE = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}
_VERDICT = {
    "ok": ("virtio sound looks healthy", "bold green"),
    "warning": ("virtio sound works, with warnings", "bold yellow"),
    "error": ("virtio sound does not work", "bold red"),
    "incomplete": ("diagnosis incomplete: some checks could not run", "bold magenta"),
}


def _side_label(side: str, tool: str | None) -> str:
    return f"{side} · {tool}" if tool else side


def render_terminal(
    document: dict[str, Any], stream: IO[str], *, color: bool | None = None
) -> None:
    from rich.console import Console
    from rich.text import Text

    no_color = color is False or (color is None and "NO_COLOR" in os.environ)
    console = Console(
        file=stream,
        no_color=no_color,
        highlight=False,
        emoji=False,
        force_terminal=True if color else None,
        soft_wrap=False,
    )
    status = document["status"]
    message, style = _VERDICT[status]
    line = Text("snddiag: ", style="bold")
    line.append(message, style=style)
    console.print(line)
    system, host, snd = document["system"], document["host"], document["virtio"]["sound"]
    summary = Text(
        f"kernel {system['kernel_release'] or '?'} ({system['arch'] or '?'}), "
        f"{system['distro']['name'] or system['distro']['id'] or 'unknown distro'}; "
        f"host {host['vmm'] or 'unknown'}"
        + (f" {host['machine_type']}" if host["machine_type"] else "")
        + "; virtio sound: "
        + (
            f"{snd['name']} on {snd['transport']}, driver {snd['driver'] or 'none'}"
            if snd["present"]
            else ("none" if snd["present"] is False else "unknown")
        ),
        style="dim",
    )
    console.print(summary)
    for number, finding in enumerate(document["findings"], start=1):
        console.print()
        head = Text(f"{number}. ")
        head.append(finding["severity"].upper(), style=_STYLE[finding["severity"]])
        head.append(f" {finding['title']} ")
        head.append(f"[{finding['rule']}]", style="dim")
        console.print(head)
        console.print(Text(finding["explain"]), style="default")
        if finding["evidence"]:
            console.print(Text("   Evidence:", style="bold"))
            for quoted in finding["evidence"]:
                console.print(Text(f"     > {quoted}", style="cyan"))
        if finding["remediation"]:
            console.print(Text("   What to do:", style="bold"))
            for step_no, step in enumerate(finding["remediation"], start=1):
                text = Text(f"     {step_no}. ")
                text.append(f"[{_side_label(step['side'], step['tool'])}] ", style="dim")
                text.append(step["step"])
                console.print(text)
        for reference in finding["references"]:
            console.print(Text(f"   See: {reference}", style="dim"))
    if document["not_checked"]:
        console.print()
        console.print(Text("Not checked (could not read what they need):", style="bold magenta"))
        for item in document["not_checked"]:
            missing = ", ".join(item["missing_sources"]) or ", ".join(item["unknown_facts"])
            console.print(Text(f"  - {item['title']} [{item['rule']}]: needs {missing}"))
    if document["unreadable_sources"]:
        sources = ", ".join(s["source"] for s in document["unreadable_sources"][:6])
        more = len(document["unreadable_sources"]) - 6
        console.print(
            Text(
                f"Unreadable here: {sources}" + (f" (+{more} more)" if more > 0 else ""),
                style="dim",
            )
        )
