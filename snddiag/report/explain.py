"""`snddiag explain RULE_ID`: one rule in full, laid out as the report is, or as one JSON document.

The text is wrapped to the terminal's width (80 columns when piped, as the report), URLs and
paths whole; a rule file is text like any other and is escaped before it reaches the terminal.
"""

from __future__ import annotations

from typing import IO, Any

from snddiag.engine.model import AllOf, AnyOf, Condition, Leaf, NotOf, Rule
from snddiag.report.escape import encodes, escape
from snddiag.report.layout import SEVERITY_STYLE, page, print_hanging


def _operand(value: Any) -> Any:
    """An operand as the rule file wrote it: a compiled regex is its pattern, a tuple a list."""
    if hasattr(value, "pattern"):
        return value.pattern
    if isinstance(value, tuple):
        return [_operand(v) for v in value]
    return value


def condition_data(condition: Condition) -> dict[str, Any]:
    """A rule's `when` as the YAML wrote it: `{fact, OP: value}` leaves under all/any/not."""
    if isinstance(condition, Leaf):
        return {"fact": condition.fact, condition.op: _operand(condition.value)}
    if isinstance(condition, AllOf):
        return {"all": [condition_data(c) for c in condition.items]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_data(c) for c in condition.items]}
    if isinstance(condition, NotOf):
        return {"not": condition_data(condition.item)}
    raise TypeError(f"not a condition: {condition!r}")


def rule_data(rule: Rule) -> dict[str, Any]:
    return {
        "rule": rule.rule_id,
        "severity": rule.severity.value,
        "layer": rule.layer,
        "moot_if": list(rule.moot_if),
        "title": rule.title,
        "file": str(rule.path),
        "explain": rule.explain,
        "remediation": [
            {
                "side": step.side,
                "tool": step.tool or None,
                "step": step.text,
                "when": {key: list(values) for key, values in step.filters},
            }
            for step in rule.remediation
        ],
        "references": [r.url for r in rule.references],
        "when": condition_data(rule.when),
    }


def render_explain_json(rule: Rule) -> str:
    """What `explain RULE_ID --json` prints: exact values, not escaped (json.dumps writes every
    control character as \\u00XX)."""
    from snddiag.report.command_json import render_command

    return render_command("rule", {"rule": rule_data(rule)})


def render_explain(rule: Rule, stream: IO[str], *, color: bool | None = None) -> None:
    """A rule in full, laid out as the report is (layout.page)."""
    from rich.text import Text

    dot = " \u00b7 " if encodes(stream, "\u00b7") else " - "
    with page(stream, color=color) as console:
        head = Text(f"{rule.rule_id} (")
        head.append(rule.severity.value, style=SEVERITY_STYLE[rule.severity.value])
        head.append(f", {rule.layer}): ")
        print_hanging(console, Text(escape(rule.title)), label=head)
        # One line whatever its length: a path is copied, never wrapped.
        console.print(Text(f"file: {escape(str(rule.path))}", style="dim"), soft_wrap=True)
        if rule.moot_if:
            waits = escape(", ".join(rule.moot_if))
            print_hanging(console, Text(f"comes after: {waits} (when that fired too)", style="dim"))
        console.print()
        print_hanging(console, Text(escape(rule.explain)))
        if rule.remediation:
            console.print()
            heading = "Remediation (steps are chosen by distro, architecture and VMM at run time):"
            print_hanging(console, Text(heading, style="bold"))
            for number, step in enumerate(rule.remediation, start=1):
                filters = escape("; ".join(f"{k}={','.join(v)}" for k, v in step.filters))
                label = step.side + (f"{dot}{escape(step.tool)}" if step.tool else "")
                text = Text()
                text.append(f"[{label}]", style="dim")
                text.append(f" {escape(step.text)}")
                if filters:
                    text.append(f"  (when {filters})", style="dim")
                print_hanging(console, text, indent=2, label=Text(f"{number}. ", style="dim"))
        for reference in rule.references:
            print_hanging(console, Text(escape(reference.url)), label=Text("See: ", style="dim"))
