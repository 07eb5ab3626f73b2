"""The report for people: verdict first, then the findings from the root cause on (each one
followed, indented, by those that only matter once it is fixed), then what was not checked.

Every string from the system or a rule file enters rich as `Text`, never as markup.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from snddiag.report.escape import encodes, escape_document
from snddiag.report.layout import SEVERITY_STYLE, page, print_hanging

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_VERDICT = {
    "ok": ("virtio sound looks healthy", "bold green"),
    "warning": ("virtio sound works, with warnings", "bold yellow"),
    "error": ("virtio sound does not work", "bold red"),
    "incomplete": ("diagnosis incomplete: some checks could not run", "bold magenta"),
}
_INDENT = 3


def _summary(document: dict[str, Any]) -> str:
    system, host, snd = document["system"], document["host"], document["virtio"]["sound"]
    distro = system["distro"]["name"] or system["distro"]["id"] or "unknown distro"
    machine = f" {host['machine_type']}" if host["machine_type"] else ""
    if snd["present"]:
        sound = f"{snd['name']} on {snd['transport']}, driver {snd['driver'] or 'none'}"
    else:
        sound = "none" if snd["present"] is False else "unknown"
    log = document.get("kernel_log", {}).get("source") or "none could be read"
    return (
        f"kernel {system['kernel_release'] or '?'} ({system['arch'] or '?'}), {distro}; "
        f"host {_host_name(host, system)}{machine}; virtio sound: {sound}; kernel log: {log}"
    )


def _host_name(host: dict[str, Any], system: dict[str, Any]) -> str:
    """The VMM as the header names it; never a guess where only root could have told."""
    if host["vmm"] == "rust-vmm":
        return "Firecracker, Cloud Hypervisor or Dragonball (their PCI host bridge)"
    if host["vmm_source"] in (None, "cpu-flag") and system["is_root"] is False:
        return "not identified without root" + (" (a VM)" if host["vmm"] else "")
    return str(host["vmm"] or "unknown")


def _clip(value: str | None, unknown: str) -> str:
    """A field of a bundle's manifest, already escaped, cut to one short phrase."""
    if not value:
        return unknown
    return value if len(value) <= 64 else value[:61] + "..."


def _collector(source: dict[str, Any]) -> str:
    """Who collected it, as `id` writes a user (uid=1000(name)): no space to wrap at."""
    uid, user = source["uid"], source["user"]
    if uid and user:
        return f"uid={_clip(uid, '?')}({_clip(user, '?')})"
    if uid or user:
        return f"uid={_clip(uid, '?')}" if uid else _clip(user, "?")
    return "an unknown user"


def _provenance(source: dict[str, Any] | None) -> list[str]:
    """The header's lines on where the evidence came from: none for this machine's own run;
    for a bundle or a snapshot, who collected it when, with which snddiag, and for a bundle
    its verdict then and whether its rules were these."""
    if not source or source["kind"] == "live":
        return []
    when = _clip(source["collected_at"], "at an unknown time")
    collected = f"from {source['kind']} {source['path'] or '?'}, collected {when}"
    version = f"with snddiag {_clip(source['snddiag_version'], '(version unknown)')}"
    if source["kind"] != "bundle":
        return [f"{collected} by {_collector(source)}", version]
    rules = {
        True: "rules: not the ones it was collected with (another snddiag version or --rules)",
        False: "rules: the ones it was collected with",
        None: "rules it was collected with: not recorded",
    }[source["rules_differ"]]
    then = _clip(source["collected_status"], "not recorded")
    return [f"{collected} by {_collector(source)}", f"{version}, verdict then: {then}; {rules}"]


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
    heard = _heard(data_path["capture"])
    if heard:
        lines.append(("recorded", heard))
    life = data_path.get("lifecycle")
    if life:
        lines.append(("stress  ", _stress(life)))
    return lines


def _stress(life: dict[str, Any]) -> str:
    """The lifecycle stress in one line: what ran, what it measured, the first failure."""
    if life["status"] == "not_run":
        return f"not run: {life['reason']}"
    rates = "/".join(str(r) for r in life["rates_tried"])
    text = f"{life['cycles']} cycles at {rates} Hz, {'/'.join(life['formats_tried'])}"
    if life["start_latency_ms"] is not None:
        text += f"; first pointer move after {life['start_latency_ms']:.0f} ms"
    if life["pointer_step_frames"] is not None:
        text += f", steps of {life['pointer_step_frames']} frames"
    if life["drain_ms"] is not None:
        text += f"; drain {life['drain_ms']:.0f} ms for {life['drain_expected_ms']:.0f} ms queued"
    failures = life["failures"]
    if not failures:
        return text + "; no call failed"
    first = failures[0]
    calls = "1 failed call" if len(failures) == 1 else f"{len(failures)} failed calls"
    return (
        f"{text}; {calls}, first: cycle {first['cycle']} {first['call']} "
        f"{first['errno'] or ''} ({first['detail']})"
    )


def _heard(capture: dict[str, Any]) -> str | None:
    """What the recording held: silence, or its levels and tone."""
    if capture.get("silent") is None:
        return None
    if capture["silent"]:
        return "digital silence (every sample zero)"
    tone = capture.get("tone_hz")
    text = f"peak {capture['peak_dbfs']} dBFS, RMS {capture['rms_dbfs']} dBFS"
    return text + (f", a {tone:.0f} Hz tone" if tone is not None else ", no single tone")


# How each status of an unreadable source reads (evidence.Status).
_UNREADABLE = {
    "denied": "permission denied",
    "timeout": "timed out",
    "not_found": "not installed",
    "failed": "failed",
}
# Listed one a line up to this many; `--json` lists them all.
_UNREADABLE_SHOWN = 8


def _unreadable_lines(sources: list[dict[str, Any]]) -> list[str]:
    """Each source with why it could not be read: the status, then what the system said."""
    lines = []
    for item in sources[:_UNREADABLE_SHOWN]:
        reason = _UNREADABLE.get(item["status"], item["status"].replace("_", " "))
        said = item.get("error") or ""
        # Not "permission denied (Permission denied)".
        shown = f" ({said})" if said and said.lower() != reason else ""
        lines.append(f"{item['source']}: {reason}{shown}")
    if len(sources) > _UNREADABLE_SHOWN:
        lines.append(f"... and {len(sources) - _UNREADABLE_SHOWN} more (--json lists them all)")
    return lines


def render_terminal(
    document: dict[str, Any], stream: IO[str], *, color: bool | None = None
) -> None:
    from rich.text import Text

    # Every string of the document may come from the guest or a bundle (rule prose too, with
    # values filled in): escaped before use, each shown on its own line only by the layout.
    document = escape_document(document)
    dot = " \u00b7 " if encodes(stream, "\u00b7") else " - "
    with page(stream, color=color) as console:
        line = Text("snddiag: ", style="bold")
        line.append(*_VERDICT[document["status"]])
        console.print(line, soft_wrap=True)
        for said in _provenance(document.get("source")):
            print_hanging(console, Text(said, style="dim"), hang_by=2)
        print_hanging(console, Text(_summary(document), style="dim"), hang_by=2)
        _print_findings(console, document, dot)
        _print_sections(console, document)


def _print_findings(console: Console, document: dict[str, Any], dot: str) -> None:
    from rich.text import Text

    findings = document["findings"]
    numbers: dict[str, int] = {}
    depth: dict[str, int] = {}
    for number, finding in enumerate(findings, start=1):
        numbers[finding["rule"]] = number
        after = finding["moot_because"]
        depth[finding["rule"]] = depth.get(after, -1) + 1 if after else 0
        indent = _INDENT * depth[finding["rule"]]
        note = None
        if finding["rule"] == document["root_cause"] and len(findings) > 1:
            note = Text("Root cause: fix this first.", style="bold")
        elif after:
            note = Text(
                f"Comes after {numbers[after]} [{after}]: fix that first, then check this again.",
                style="bold",
            )
        console.print()
        _print_finding(console, number, finding, dot, indent, note)


def _numbered(console: Console, rows: list[tuple[str, Text]], indent: int) -> None:
    """A hanging indent: wrapped lines start under their text, not under the label."""
    from rich.text import Text

    for label, text in rows:
        print_hanging(console, text, indent=indent, label=Text(f"{label} ", style="dim"))


def _print_finding(
    console: Console,
    number: int,
    finding: dict[str, Any],
    dot: str,
    base: int = 0,
    note: Text | None = None,
) -> None:
    from rich.text import Text

    head = Text(f"{number}. ")
    head.append(finding["severity"].upper(), style=SEVERITY_STYLE[finding["severity"]])
    head.append(" ")
    # The title's further lines hang under its first word; the rule id has no space in it,
    # so it is never split, and moves to the next line whole when it does not fit.
    title = Text(f"{finding['title']} ")
    title.append(f"[{finding['rule']}]", style="dim")
    print_hanging(console, title, indent=base, label=head)
    if note is not None:
        print_hanging(console, note, indent=base + _INDENT)
    print_hanging(console, Text(finding["explain"]), indent=base + _INDENT)
    if finding["evidence"]:
        print_hanging(console, Text("Evidence:", style="bold"), indent=base + _INDENT)
        quoted = [(">", Text(line, style="cyan")) for line in finding["evidence"]]
        _numbered(console, quoted, base + 5)
    if finding["remediation"]:
        print_hanging(console, Text("What to do:", style="bold"), indent=base + _INDENT)
        steps = []
        for step_no, step in enumerate(finding["remediation"], start=1):
            # The step is the point of the report: its text in the normal style, only the
            # label subdued (a Text's own style would reach every character appended to it).
            label = f"[{step['side']}" + (f"{dot}{step['tool']}" if step["tool"] else "") + "]"
            text = Text()
            text.append(label, style="dim")
            text.append(f" {step['step']}")
            steps.append((f"{step_no}.", text))
        _numbered(console, steps, base + 5)
    for reference in finding["references"]:
        print_hanging(
            console, Text(reference), indent=base + _INDENT, label=Text("See: ", style="dim")
        )


def _print_sections(console: Console, document: dict[str, Any]) -> None:
    """What follows the findings: rules not checked, the data path, devices, unreadable."""
    from rich.text import Text

    def heading(text: str, style: str = "bold") -> None:
        console.print()
        console.print(Text(text, style=style), soft_wrap=True)

    if document["not_checked"]:
        heading("Not checked (could not read what they need):", "bold magenta")
        rows = []
        for item in document["not_checked"]:
            missing = ", ".join(item["missing_sources"]) or ", ".join(item["unknown_facts"])
            rows.append(("-", Text(f"{item['title']} [{item['rule']}]: needs {missing}")))
        _numbered(console, rows, 2)
    if document["does_not_apply"]:
        heading("Does not apply here:")
        rows = [
            ("-", Text(f"{item['title']} [{item['rule']}]: {item['reason']}"))
            for item in document["does_not_apply"]
        ]
        _numbered(console, rows, 2)
    if document.get("data_path"):
        heading("Data path (--play):")
        _numbered(console, [(a, Text(b)) for a, b in _data_path_lines(document["data_path"])], 2)
    if document["inventory"]:
        heading("Devices (paravirtualized / emulated):")
        rows = []
        for item in document["inventory"]:
            para = ", ".join(item["paravirtual"]) or "-"
            emulated = ", ".join(item["emulated"]) or "-"
            rows.append((f"{item['class']:8}", Text(f"{para} / {emulated}")))
        _numbered(console, rows, 2)
    if document["unreadable_sources"]:
        heading("Unreadable here:")
        lines = _unreadable_lines(document["unreadable_sources"])
        _numbered(console, [("-", Text(line)) for line in lines], 2)
