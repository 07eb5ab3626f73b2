"""docs/rules.md lists every shipped rule with its severity, layer and title.

Regenerate the table with `python3 -m tests.docs.test_rule_table`.
"""

from __future__ import annotations

from snddiag.engine.load import load_rules
from tests.guests import REPO

PAGE = REPO / "docs" / "rules.md"
HEADER = "| rule | severity | layer | title |"


def rule_table() -> str:
    rows = [HEADER, "| --- | --- | --- | --- |"]
    for rule in sorted(load_rules([REPO / "rules"]), key=lambda r: r.rule_id):
        cells = (f"`{rule.rule_id}`", rule.severity.value, rule.layer, rule.title)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def test_the_rules_page_lists_every_shipped_rule() -> None:
    assert rule_table() in PAGE.read_text(), (
        "docs/rules.md's rule table is stale: python3 -m tests.docs.test_rule_table"
    )


if __name__ == "__main__":
    lines = PAGE.read_text().split("\n")
    start = lines.index(HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = rule_table().rstrip("\n").split("\n")
    PAGE.write_text("\n".join(lines))
