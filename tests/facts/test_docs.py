"""Every fact is documented beside its field, shown by `snddiag rules facts` and in docs/facts.md.

Regenerate that page's table with `python3 -m tests.facts.test_docs`.
"""

from __future__ import annotations

import json

import pytest

from snddiag.cli import main
from snddiag.engine.paths import FACTS_BY_PATH, MAPPING_PATHS
from tests.guests import REPO


def readme_table() -> str:
    rows = ["| fact | type | meaning | None means |", "| --- | --- | --- | --- |"]
    for info in FACTS_BY_PATH.values():
        assert info.doc is not None, info.path
        path = info.path + (".<name>" if info.path in MAPPING_PATHS else "")
        cells = (f"`{path}`", f"`{info.type_name}`", info.doc.meaning, info.doc.unread)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def test_every_fact_has_a_meaning_and_a_none_meaning() -> None:
    undocumented = [p for p, i in FACTS_BY_PATH.items() if not (i.doc and i.doc.meaning)]
    assert undocumented == []
    assert all(i.doc and i.doc.unread for i in FACTS_BY_PATH.values())


def test_the_facts_page_lists_every_fact_as_documented() -> None:
    page = (REPO / "docs" / "facts.md").read_text()
    assert readme_table() in page, "docs/facts.md is stale: python3 -m tests.facts.test_docs"


def test_rules_facts_prints_type_meaning_and_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "facts"]) == 0
    out = capsys.readouterr().out
    assert "probe.cause  (ProbeCause | None)" in out
    assert "None: the kernel log could not be read" in out
    assert out.count("    None: ") == len(FACTS_BY_PATH)


def test_rules_facts_json_lists_the_same_facts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "facts", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)["facts"]
    assert len(listing) == len(FACTS_BY_PATH)
    by_fact = {item["fact"]: item for item in listing}
    assert by_fact["driver.params.<name>"]["type"] == "Mapping[str, str]"
    assert by_fact["probe.cause"]["none"] == "the kernel log could not be read"


if __name__ == "__main__":
    print(readme_table(), end="")
