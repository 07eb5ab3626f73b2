"""snddiag inside real guests: one boot per scenario (see scenarios.py), verdicts checked here."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from . import arm64, lab
from .lab import GuestRun, LabMissing
from .scenarios import SCENARIOS, Scenario


def by_scenario(test: Any) -> Any:
    """A live test: marked `guest`, run once per scenario against that scenario's boot."""
    ids = [s.name for s in SCENARIOS]
    return pytest.mark.guest(pytest.mark.parametrize("scenario", SCENARIOS, ids=ids)(test))


def _report(run: GuestRun) -> dict[str, Any]:
    result = run.commands["json"]
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        pytest.fail(
            f"snddiag --json in {run.scenario.name} printed no JSON (exit {result.exit_code}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    assert isinstance(doc, dict)
    return doc


def _summary(doc: dict[str, Any]) -> str:
    lines = [f"status={doc.get('status')} exit_code={doc.get('exit_code')}"]
    lines += [f"  {f.get('severity')} {f.get('rule')}: {f.get('title')}" for f in doc["findings"]]
    return "\n".join(lines)


@by_scenario
def test_guest_is_what_the_scenario_says(scenario: Scenario, guest_run: GuestRun) -> None:
    for pattern in scenario.guest_dmesg:
        assert guest_run.dmesg_lines(pattern), f"no dmesg line matches {pattern!r}"
    assert ("virtio_snd" in guest_run.loaded_modules()) == scenario.guest_snd_loaded
    if scenario.guest_cards is not None:
        cards = guest_run.extra["asound_cards"]
        assert re.search(scenario.guest_cards, cards, re.MULTILINE), cards
    assert guest_run.extra["machine"].strip() == scenario.arch
    if scenario.arch == "aarch64":
        # EDK2 gives DMI and ACPI instead of the device tree; a direct boot only the latter.
        vendor, compatible = guest_run.extra["dmi_vendor"].strip(), guest_run.extra["dt_compatible"]
        if scenario.uefi:
            assert (vendor, compatible) == ("QEMU", "")
        else:
            assert (vendor, compatible.split()) == ("", ["linux,dummy-virt"])


@by_scenario
def test_exit_code(scenario: Scenario, guest_run: GuestRun) -> None:
    doc = _report(guest_run)
    assert guest_run.commands["json"].exit_code == scenario.expect_exit, _summary(doc)
    assert doc.get("exit_code", scenario.expect_exit) == scenario.expect_exit


@by_scenario
def test_status(scenario: Scenario, guest_run: GuestRun) -> None:
    doc = _report(guest_run)
    assert doc["status"] == scenario.expect_status, _summary(doc)


@by_scenario
def test_rules_fired(scenario: Scenario, guest_run: GuestRun) -> None:
    doc = _report(guest_run)
    fired = {f["rule"] for f in doc["findings"]}
    assert fired == set(scenario.expect_rules), _summary(doc)


@by_scenario
def test_remediation_words(scenario: Scenario, guest_run: GuestRun) -> None:
    doc = _report(guest_run)
    text = "\n".join(
        str(step.get("step", "")) for f in doc["findings"] for step in f.get("remediation", ())
    ).lower()
    missing = [w for w in scenario.expect_words if w.lower() not in text]
    assert not missing, f"remediation lacks {missing}:\n{text}"


@by_scenario
def test_collect_dir_writes_an_evidence_snapshot(scenario: Scenario, guest_run: GuestRun) -> None:
    result = guest_run.commands["collect-dir"]
    assert result.exit_code == 0, result.stderr[-4000:]
    manifest = json.loads(guest_run.path("evidence/manifest.json").read_text())
    assert manifest, "empty manifest"


@by_scenario
def test_collect_bundle_writes_a_tarball(scenario: Scenario, guest_run: GuestRun) -> None:
    result = guest_run.commands["collect-bundle"]
    assert result.exit_code == 0, result.stderr[-4000:]
    bundle = guest_run.path("bundle.tar.gz")
    assert tarfile.is_tarfile(bundle)


# The lab itself, without booting anything.


def test_missing_kernel_names_setup_lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(lab, "BOOT_DIR", tmp_path)
    with pytest.raises(LabMissing, match="run tests/guest/setup-lab"):
        lab.find_kernel("6.12")


def test_missing_qemu_names_setup_lab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "QEMU", "qemu-system-does-not-exist")
    with pytest.raises(LabMissing, match="run tests/guest/setup-lab"):
        lab.require_lab(SCENARIOS)


def test_scenario_names_are_unique_and_plain() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)


def test_stage2_runs_commands_as_the_scenario_user() -> None:
    scenario = next(s for s in SCENARIOS if s.run_as == "nobody")
    script = lab.stage2_script(scenario, {"json": "true"})
    assert "setpriv --reuid=65534 --regid=65534 --clear-groups -- timeout" in script
    assert "echo 1 > /proc/sys/kernel/dmesg_restrict" in script


SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "snddiag" / "report" / "schema.json").read_text()
)


@by_scenario
def test_report_validates_against_the_json_schema(scenario: Scenario, guest_run: GuestRun) -> None:
    import jsonschema

    doc = _report(guest_run)
    jsonschema.validate(doc, SCHEMA)
    assert doc["system"]["kernel_release"] == guest_run.kernel_release


def test_arm64_root_key_changes_with_the_package_list(monkeypatch: pytest.MonkeyPatch) -> None:
    before = arm64.root_key("linux-image-6.12.95+deb12-arm64")
    monkeypatch.setattr(arm64, "PACKAGES", (*arm64.PACKAGES, "procps"))
    assert arm64.root_key("linux-image-6.12.95+deb12-arm64") != before


def test_arm64_root_key_changes_with_the_kernel() -> None:
    assert arm64.root_key("linux-image-6.12.95+deb12-arm64") != arm64.root_key(
        "linux-image-6.12.96+deb12-arm64"
    )


def test_aarch64_stage2_runs_the_roots_python_on_the_shared_checkout() -> None:
    scenario = next(s for s in SCENARIOS if s.arch == "aarch64")
    script = lab.stage2_script(scenario, {"json": "true"})
    assert f"export PYTHON={arm64.PYTHON} " in script
    assert f"{lab.CHECKOUT_TAG} {arm64.CHECKOUT}\n" in script
    assert "lab-hostroot" not in script
