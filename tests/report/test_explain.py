"""`snddiag explain RULE_ID`: wrapped as the report is, and `--json` as one document, through the
real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
import yaml

from snddiag import __version__
from snddiag.cli import main
from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.report.explain import rule_data
from tests.guests import REPO

RULES = {rule.rule_id: rule for rule in load_rules(default_rule_dirs())}
LONG = "vmm-without-virtio-sound"  # long prose, steps with filters, a reference over 80 columns


def _fits(lines: list[str], width: int) -> None:
    """Every line fits `width`, but the file's path and a line that is one long URL."""
    for line in lines:
        if len(line) > width:
            assert line.startswith("file: ") or line.split()[-1].startswith("https://"), line
            assert len(line.split()) <= 2, line


def _snddiag(argv: list[str], columns: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    return subprocess.run(
        [sys.executable, "-m", "snddiag", *argv],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("width", [50, 72, 100])
def test_explain_is_wrapped_at_the_width_of_the_terminal(
    width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["explain", LONG]) == 0
    lines = capsys.readouterr().out.splitlines()
    _fits(lines, width)
    rule = RULES[LONG]
    start = lines.index("") + 1
    paragraph = lines[start : lines.index("", start)]
    assert len(paragraph) > 1
    assert " ".join(paragraph) == " ".join(rule.explain.split())
    for reference in rule.references:
        assert f"See: {reference.url}" in lines
    assert max(len(line) for line in lines if not line.startswith(("file:", "See:"))) > width - 8


def test_explain_piped_is_wrapped_at_80_columns_as_the_report() -> None:
    done = _snddiag(["explain", LONG], columns=None)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    _fits(lines, 80)
    assert "\x1b[" not in done.stdout
    assert all(line == line.rstrip() for line in lines)
    assert any(len(line) > 72 for line in lines if not line.startswith(("file:", "See:")))


def test_explain_steps_hang_under_their_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert main(["explain", LONG]) == 0
    out = capsys.readouterr().out
    steps = out.split("run time):\n")[1].split("See: ")[0].splitlines()
    assert steps[0].startswith("  1. [host] Firecracker has no sound device")
    assert all(line.startswith(("  ", "     ")) for line in steps)
    continued = [line for line in steps if not line.lstrip()[:1].isdigit()]
    assert continued and all(line.startswith(" " * 5) and line[5] != " " for line in continued)
    assert "(when vmm=firecracker)" in " ".join(out.split())


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "legacy-mmio-transport", "--json"],
        ["--json", "explain", "legacy-mmio-transport"],
    ],
)
def test_explain_json_is_one_document_of_the_rule(argv: list[str]) -> None:
    done = _snddiag(argv, columns="40")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(
        document, json.loads((REPO / "snddiag/report/command.schema.json").read_text())
    )
    assert (document["schema_version"], document["kind"]) == (1, "rule")
    assert document["tool"] == {"name": "snddiag", "version": __version__}
    rule = document["rule"]
    assert set(rule) == {
        "rule", "severity", "layer", "moot_if", "title", "file", "explain", "remediation",
        "references", "when",
    }  # fmt: skip
    source = yaml.safe_load((REPO / "rules/device/legacy-mmio-transport.yaml").read_text())
    assert rule["rule"] == source["id"] == "legacy-mmio-transport"
    assert rule["severity"] == "error"
    assert rule["file"] == str(REPO / "rules/device/legacy-mmio-transport.yaml")
    assert rule["explain"] == source["explain"].strip()
    assert rule["references"] == source["references"]
    assert rule["when"] == source["when"]
    assert [set(step) for step in rule["remediation"]] == [{"side", "tool", "step", "when"}] * 3
    assert rule["remediation"][1]["tool"] == "qemu"
    assert "virtio-mmio.force-legacy=false" in rule["remediation"][1]["step"]


def test_explain_json_gives_step_filters_as_lists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", LONG, "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["rule"]["remediation"]
    assert [step["when"] for step in steps] == [
        {"vmm": [vmm]}
        for vmm in ("firecracker", "cloud-hypervisor", "rust-vmm", "virtualbox", "vmware", "hyperv")
    ]


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_rules_condition_as_data_is_its_yaml(rule_id: str) -> None:
    rule = RULES[rule_id]
    source = yaml.safe_load(rule.path.read_text())
    data = rule_data(rule)
    assert data["when"] == source["when"]
    assert json.loads(json.dumps(data)) == data
    for step, written in zip(data["remediation"], source.get("remediation", [])):
        filters = {k: v for k, v in written.items() if k not in ("side", "tool", "step")}
        assert step["when"] == {k: v if isinstance(v, list) else [v] for k, v in filters.items()}


def test_explain_json_keeps_exact_values_of_a_site_rule(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loud.yaml").write_text(
        'id: loud\nseverity: info\nlayer: host\ntitle: "Loud \\e]0;pwned\\a rule"\n'
        "explain: x\nwhen: {fact: system.arch, eq: x}\n"
    )
    assert main(["explain", "loud", "--json", "--rules", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["rule"]["title"] == "Loud \x1b]0;pwned\x07 rule"
    assert "\x1b" not in out
