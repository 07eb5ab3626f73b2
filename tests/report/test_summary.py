"""The summary of many bundles: exit code by a run's precedence, short names, the JSON document
against summary.schema.json, and the text table (from real bundles of captured guests)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from snddiag.bundle import Limits
from snddiag.bundle.analyze import analyze_many
from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule, load_rules
from snddiag.pipeline import diagnose
from snddiag.report.summary import build_summary, overall_exit, render_summary, short_names
from tests.guests import REPO, guest_evidence

SCHEMA = json.loads((REPO / "snddiag" / "report" / "summary.schema.json").read_text())
GUESTS = ("healthy-pci", "legacy-mmio", "intel-hda-and-virtio", "non-root-dmesg-restrict")


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules([REPO / "rules"])


@pytest.fixture(scope="module")
def bundles(rules: list[Rule], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    directory = tmp_path_factory.mktemp("bundles")
    paths = []
    for guest in GUESTS:
        evidence = guest_evidence(guest)
        path = directory / f"{guest}.tar.gz"
        assert write_bundle(evidence, diagnose(evidence, rules).document, str(path)) == 0
        paths.append(str(path))
    broken = directory / "broken.tar.gz"
    broken.write_bytes(Path(paths[0]).read_bytes()[:300])
    return [*paths, str(broken)]


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([0, 0], 0),
        ([0, 3], 3),
        ([3, 1], 1),
        ([1, 2, 3], 2),
        ([], 0),
    ],
)
def test_overall_exit_follows_a_runs_precedence(codes: list[int], expected: int) -> None:
    assert overall_exit([{"exit_code": c} for c in codes]) == expected


def test_any_unreadable_bundle_makes_exit_65() -> None:
    unreadable = {"path": "x", "error": "truncated", "exit_code": 65}
    assert overall_exit([{"exit_code": 2}, unreadable]) == 65


def test_a_bug_on_any_bundle_makes_exit_70() -> None:
    bug = {"path": "y", "error": "internal error: ValueError()", "exit_code": 70}
    unreadable = {"path": "x", "error": "truncated", "exit_code": 65}
    assert overall_exit([{"exit_code": 2}, unreadable, bug]) == 70


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["a/x.tar.gz", "b/y.tar.gz"], ["x.tar.gz", "y.tar.gz"]),
        (["g/one/out/b.tar.gz", "g/two/out/b.tar.gz"], ["one/out/b.tar.gz", "two/out/b.tar.gz"]),
        (["b.tar.gz", "b.tar.gz"], ["b.tar.gz", "b.tar.gz"]),
    ],
)
def test_short_names_tell_bundles_apart(paths: list[str], expected: list[str]) -> None:
    names = short_names(paths)
    assert [names[p] for p in paths] == expected


def test_summary_of_captured_guests_validates_against_its_schema(
    bundles: list[str], rules: list[Rule]
) -> None:
    summary = build_summary(list(analyze_many(bundles, rules, Limits(), jobs=1)), rules)
    jsonschema.validate(summary, SCHEMA)
    assert summary["statuses"] == {
        "ok": 1,
        "warning": 2,
        "error": 1,
        "incomplete": 0,
        "unreadable": 1,
    }
    assert summary["rules"]["legacy-mmio-transport"]["bundles"] == [bundles[1]]


def test_summary_json_from_the_command_line_validates(
    bundles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", *bundles, "--json", "--jobs", "1"]) == 65
    jsonschema.validate(json.loads(capsys.readouterr().out), SCHEMA)


def test_schema_refuses_a_bundle_item_of_neither_shape(
    bundles: list[str], rules: list[Rule]
) -> None:
    summary = build_summary(list(analyze_many(bundles[:1], rules, Limits(), jobs=1)), rules)
    summary["bundles"][0]["error"] = "both shapes at once"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(summary, SCHEMA)


def test_text_summary_counts_rules_and_unreadable_bundles(
    bundles: list[str], rules: list[Rule]
) -> None:
    summary = build_summary(list(analyze_many(bundles, rules, Limits(), jobs=1)), rules)
    out = io.StringIO()
    render_summary(summary, out, color=None)
    text = out.getvalue()
    assert text.startswith("snddiag: 5 bundles: 1 ok, 2 warning, 1 error, 1 unreadable\n")
    assert "legacy-mmio-transport" in text and "legacy-mmio.tar.gz" in text
    assert f"{bundles[-1]}: " in text
    assert "\x1b[" not in text


def test_every_bundle_item_has_a_status_the_schema_demands(
    bundles: list[str], rules: list[Rule]
) -> None:
    summary = build_summary(list(analyze_many(bundles[-2:], rules, Limits(), jobs=1)), rules)
    jsonschema.validate(summary, SCHEMA)
    readable, unreadable = summary["bundles"]
    assert (readable["status"], unreadable["status"]) == ("warning", "unreadable")
    del unreadable["status"]  # schema version 2's shape of an unreadable bundle
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(summary, SCHEMA)
