"""The operator table: operands checked per operator and fact kind at load time, each operator's
documented semantics, structured facts rendered as key=value, and the table in docs/rules.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from snddiag.engine import run_rules
from snddiag.engine.load import Leaf, RuleFileError, load_rule, load_rules
from snddiag.engine.operators import OPERATORS, markdown_table, version_key
from snddiag.engine.paths import KNOWN_PATHS
from snddiag.engine.values import Kind, fact_kind, kind_of, shown, texts
from snddiag.engine.when import evaluate
from snddiag.facts import Facts, build_facts
from snddiag.records import replace
from tests.guests import REPO, guest_evidence

RULE = """\
id: a-rule
severity: info
layer: host
title: A test rule
when:
  all:
    - {{fact: {fact}, {op}: {operand}}}
explain: Because.
evidence: [{{fact: {fact}}}]
"""


def _load(tmp_path: Path, fact: str, op: str, operand: str) -> Any:
    path = tmp_path / "a-rule.yaml"
    path.write_text(RULE.format(fact=fact, op=op, operand=operand))
    return load_rule(path)


@pytest.mark.parametrize(
    ("fact", "op", "operand", "message"),
    [
        ("system.kernel_release", "contains", "5", "'contains' on system.kernel_release (text): "),
        ("system.kernel_release", "lt", "5", "applies only to facts that are number"),
        ("probe.error_code", "lt", "'5'", "needs a number"),
        ("virtio.snd.present", "eq", "'yes'", "needs true or false"),
        ("virtio.snd.present", "matches", "'x'", "applies only to"),
        ("driver.config", "eq", "1", "needs a string"),
        ("driver.config", "in", "[y, 1]", "needs a list of strings"),
        ("alsa.cards", "contains", "Intel", "applies only to facts that are text, list of text"),
        ("alsa.cards", "eq", "[]", "applies only to"),
        ("host.qemu_machine_version", "version_lt", "8.10", "quoted"),
        ("host.qemu_machine_version", "version_lt", "'v8'", "does not start with a number"),
        ("kernel.log", "exists", "1", "needs true or false"),
        ("virtio.snd.features", "eq", "VIRTIO_F_VERSION_1", "needs a list of strings"),
    ],
)
def test_operand_that_does_not_suit_is_a_file_and_line_error(
    tmp_path: Path, fact: str, op: str, operand: str, message: str
) -> None:
    with pytest.raises(RuleFileError) as caught:
        _load(tmp_path, fact, op, operand)
    assert caught.value.line == 7
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{tmp_path / 'a-rule.yaml'}:7: '{op}' on {fact} (")


@pytest.mark.parametrize(
    ("fact", "op", "operand"),
    [
        ("system.kernel_release", "contains", "'6.1'"),
        ("system.groups", "contains", "audio"),
        ("driver.config", "in", "[y, m]"),
        ("driver.params.index", "eq", "'-2'"),
        ("virtio.snd.features", "eq", "[VIRTIO_F_VERSION_1]"),
        ("probe.error_code", "ge", "-22"),
        ("host.qemu_machine_version", "version_ge", "8"),
        ("alsa.cards", "matches", "'driver=HDA-Intel'"),
        ("driver.params", "matches", "'^index='"),
        ("alsa.cards", "exists", "true"),
    ],
)
def test_operand_that_suits_loads(tmp_path: Path, fact: str, op: str, operand: str) -> None:
    assert _load(tmp_path, fact, op, operand).when.items[0].op == op


def test_every_shipped_rule_passes_the_operand_checks() -> None:
    assert len(load_rules([REPO / "rules"])) >= 14


def test_every_fact_has_a_kind_the_operators_know() -> None:
    assert {p: fact_kind(p) for p in KNOWN_PATHS if fact_kind(p) is Kind.ANY} == {}
    assert fact_kind("driver.params.index") is Kind.TEXT


class _Owner:
    """Annotations below are resolved in this test module, where Facts and Kind are imported."""


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        ("Optional[str]", Kind.TEXT),
        ("tuple[str, ...] | None", Kind.TEXTS),
        ("None | int", Kind.NUMBER),
        ("Mapping[str, str]", Kind.MAPPING),
        ("tuple[Facts, ...] | None", Kind.RECORDS),
        ("Kind | None", Kind.TEXT),  # a str enum is text
        ("int | str", Kind.ANY),
        ("tuple[NoSuchName, ...]", Kind.ANY),
    ],
)
def test_kind_of_an_annotation(annotation: str, kind: Kind) -> None:
    assert kind_of(annotation, _Owner) is kind


def _truth(op: str, value: Any, operand: Any, kind: Kind) -> bool:
    operator = OPERATORS[op]
    return operator.test(value, operator.prepare(operand, kind))


@pytest.mark.parametrize(
    ("op", "value", "operand", "kind", "expected"),
    [
        ("eq", ("a", "b"), ["a", "b"], Kind.TEXTS, True),
        ("eq", ("a", "b"), ["b", "a"], Kind.TEXTS, False),
        ("ne", "mmio", "pci", Kind.TEXT, True),
        ("in", "m", ["y", "m"], Kind.TEXT, True),
        ("contains", "6.1.0-18-amd64", "18", Kind.TEXT, True),
        ("contains", ("audio", "video"), "aud", Kind.TEXTS, False),
        ("contains", ("audio", "video"), "audio", Kind.TEXTS, True),
        ("matches", ("one", "two"), "^tw", Kind.TEXTS, True),
        ("matches", -22, "^-2", Kind.NUMBER, True),
        ("lt", 3, 5, Kind.NUMBER, True),
        ("ge", 5, 5, Kind.NUMBER, True),
        ("gt", True, 0, Kind.ANY, False),  # a yes/no is not a number
        ("version_lt", "7.2", "8.2", Kind.TEXT, True),
        ("version_lt", "8.10", "8.2", Kind.TEXT, False),
        ("version_ge", "10.0rc1", "10.0", Kind.TEXT, True),
        ("version_lt", "10.0rc1", "10.0", Kind.TEXT, False),
        ("version_ge", "6.1.0-18-amd64", "6.1", Kind.TEXT, True),
        ("version_lt", "virt", "8.2", Kind.TEXT, False),
        ("version_ge", "virt", "8.2", Kind.TEXT, False),
        ("exists", (), True, Kind.TEXTS, True),
        ("exists", None, False, Kind.TEXT, True),
    ],
)
def test_operator_semantics(op: str, value: Any, operand: Any, kind: Kind, expected: bool) -> None:
    assert _truth(op, value, operand, kind) is expected


def test_a_guests_huge_version_number_compares_without_int_conversion() -> None:
    huge = "9" * 5000
    assert version_key(huge + ".1") > version_key("8.2")
    assert version_key("008.2") == version_key("8.2")


@pytest.mark.parametrize("op", sorted(set(OPERATORS) - {"exists"}))
def test_every_operator_but_exists_is_unknown_on_an_unread_fact(op: str) -> None:
    facts = build_facts(guest_evidence("healthy-pci"))
    unread = replace(facts, host=replace(facts.host, qemu_machine_version=None))
    operand = {"in": ("8.2",), "matches": re.compile("8")}.get(op, "8.2")
    unknown: set[str] = set()
    leaf = Leaf("host.qemu_machine_version", op, operand)
    assert evaluate(leaf, unread, unknown) is None
    assert unknown == {"host.qemu_machine_version"}


def _cards_facts() -> Facts:
    facts = build_facts(guest_evidence("intel-hda-and-virtio"))
    assert facts.alsa.cards is not None and len(facts.alsa.cards) == 2
    return facts


def test_records_read_as_key_value_pairs_never_as_reprs() -> None:
    facts = _cards_facts()
    lines = texts(facts.alsa.cards)
    assert len(lines) == 2
    assert all(line.startswith("index=") and "Card(" not in line for line in lines)
    assert any("driver=HDA-Intel" in line for line in lines)
    assert 'name="HDA Intel"' in shown(facts.alsa.cards)
    assert "; " in shown(facts.alsa.cards)


def test_matches_and_evidence_on_records_use_the_key_value_form(tmp_path: Path) -> None:
    path = tmp_path / "a-rule.yaml"
    path.write_text(
        RULE.format(fact="alsa.cards", op="matches", operand="'driver=HDA-Intel'").replace(
            "evidence: [{fact: alsa.cards}]",
            "evidence: [{fact: alsa.cards}, {fact: virtio.devices, matches: 'type_name=sound'}]",
        )
    )
    diagnosis = run_rules([load_rule(path)], _cards_facts())
    assert len(diagnosis.findings) == 1
    quoted = diagnosis.findings[0].evidence
    assert quoted[0].startswith("alsa.cards: index=0 ")
    assert "driver=HDA-Intel" in quoted[0]
    assert quoted[1].startswith("name=virtio") and "type_name=sound" in quoted[1]
    assert not any("Card(" in q or "VirtioDevice(" in q for q in quoted)


def test_the_operator_table_of_the_rules_page_is_the_generated_one() -> None:
    page = (REPO / "docs" / "rules.md").read_text()
    found = re.search(r"<!-- operators: begin -->\n(.*?)<!-- operators: end -->", page, re.S)
    assert found is not None, "docs/rules.md lost its operator table markers"
    assert found.group(1) == markdown_table(), (
        "docs/rules.md's operator table differs from snddiag/engine/operators.py; regenerate: "
        "python3 -c 'from snddiag.engine.operators import markdown_table; print(markdown_table())'"
    )
    assert list(OPERATORS) == re.findall(r"^\| `(\w+)` \|", found.group(1), re.M)


def test_a_mapping_fact_is_quoted_as_name_value_pairs() -> None:
    rules = {r.rule_id: r for r in load_rules([REPO / "rules"])}
    facts = build_facts(guest_evidence("bad-module-param"))
    diagnosis = run_rules([rules["bad-module-parameter"]], facts)
    params = [q for q in diagnosis.findings[0].evidence if q.startswith("driver.params: ")]
    assert params == [
        "driver.params: "
        + ", ".join(f"{name}={value}" for name, value in sorted(facts.driver.params.items()))
    ]
    assert "msg_timeout_ms=0, " in params[0]


def test_rules_check_and_a_diagnosis_refuse_a_bad_operand_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from snddiag.cli import main

    path = tmp_path / "a-rule.yaml"
    path.write_text(RULE.format(fact="system.kernel_release", op="contains", operand="5"))
    expected = f"{path}:7: 'contains' on system.kernel_release (text): needs a string\n"
    assert main(["rules", "check", "--rules", str(tmp_path)]) == 65
    assert capsys.readouterr().err.startswith(expected)
    guest = REPO / "tests" / "fixtures" / "guests" / "healthy-pci"
    assert main(["analyze", "--root", str(guest), "--rules", str(tmp_path)]) == 65
    assert capsys.readouterr().err == f"snddiag: {expected}"
