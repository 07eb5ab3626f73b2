from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import jsonschema
import pytest

from snddiag.bundle import Limits
from snddiag.bundle.analyze import analyze_many, analyze_one, diagnose_bundle
from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule
from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.pipeline import diagnose
from tests.bundle.seeded import without_sound_device
from tests.bundle.tars import CREATED


def _bundle(evidence: Evidence, rules: list[Rule], path: Path) -> Path:
    document = diagnose(evidence, rules).document
    assert write_bundle(evidence, document, str(path), created=CREATED) == 0
    return path


@pytest.fixture
def bundles(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Path]:
    made = {
        "healthy": _bundle(evidence, rules, tmp_path / "healthy.tar.gz"),
        "no-device": _bundle(without_sound_device(evidence), rules, tmp_path / "nodev.tar.gz"),
        "no-server": _bundle(
            evidence.without(["lib/psutil/"]), rules, tmp_path / "noserver.tar.gz"
        ),
    }
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(made["healthy"].read_bytes()[:300])
    made["broken"] = broken
    capsys.readouterr()
    return made


def test_one_bundle_gives_the_live_report_and_exit_code(
    evidence: Evidence,
    rules: list[Rule],
    bundles: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    live = diagnose(without_sound_device(evidence), rules).document
    assert main(["analyze", str(bundles["no-device"]), "--json"]) == live["exit_code"] == 2
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == live["status"]
    assert [f["rule"] for f in document["findings"]] == [f["rule"] for f in live["findings"]]


def test_one_bundle_terminal_report(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(bundles["healthy"]), "--no-color"]) == 0
    assert capsys.readouterr().out.startswith("snddiag: virtio sound looks healthy")


def test_many_bundles_json_summary(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(bundles[k]) for k in ("healthy", "no-device", "no-server", "broken")]
    assert main(["analyze", *paths, "--json", "--jobs", "2"]) == 65
    summary = json.loads(capsys.readouterr().out)
    assert summary["schema_version"] == 3
    assert summary["exit_code"] == 65
    assert summary["statuses"] == {
        "ok": 1,
        "warning": 0,
        "error": 1,
        "incomplete": 1,
        "unreadable": 1,
    }
    assert summary["rules"] == {
        "no-virtio-sound-device": {
            "severity": "error",
            "count": 1,
            "bundles": [str(bundles["no-device"])],
        }
    }
    assert [b["path"] for b in summary["bundles"]] == paths
    assert summary["bundles"][0]["status"] == "ok"
    assert summary["bundles"][0]["collected_status"] == "ok"
    assert summary["bundles"][3]["status"] == "unreadable"
    assert summary["bundles"][3]["error"].startswith("truncated")


def test_many_readable_bundles_exit_with_the_worst_verdict(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(bundles[k]) for k in ("healthy", "no-server", "no-device")]
    assert main(["analyze", *paths, "--json", "--jobs", "1"]) == 2


def test_many_bundles_terminal_summary(
    bundles: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(p) for p in bundles.values()]
    assert main(["analyze", *paths, "--no-color"]) == 65
    out = capsys.readouterr().out
    assert out.startswith("snddiag: 4 bundles: 1 ok, 1 error, 1 incomplete, 1 unreadable")
    assert "no-virtio-sound-device" in out
    assert "nodev.tar.gz" in out
    assert f"{bundles['broken']}: truncated" in out
    assert "\x1b[" not in out


def test_parallel_and_serial_runs_agree(bundles: dict[str, Path], rules: list[Rule]) -> None:
    paths = [str(p) for p in bundles.values()] * 3
    serial = list(analyze_many(paths, rules, Limits(), jobs=1))
    parallel = list(analyze_many(paths, rules, Limits(), jobs=4))
    assert serial == parallel


def test_one_bundle_as_data_for_scripts(
    evidence: Evidence, rules: list[Rule], bundles: dict[str, Path]
) -> None:
    found = diagnose_bundle(bundles["no-device"], rules, Limits())
    live = diagnose(without_sound_device(evidence), rules).document
    assert found.document["findings"] == live["findings"]  # the rest is redacted in the bundle
    assert found.collected_status == "error"
    assert found.collected_by == "0.1.0"
    result = analyze_one(str(bundles["no-device"]), rules, Limits())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result.pop("collected_at"))
    assert result == {
        "path": str(bundles["no-device"]),
        "status": "error",
        "exit_code": 2,
        "rules": ["no-virtio-sound-device"],
        "not_checked": [n["rule"] for n in live["not_checked"]],
        "uid": "1000",
        "user": "redacted-user-1",
        "snddiag_version": "0.1.0",
        "rules_differ": None,  # written without rules: no digest recorded
        "collected_status": "error",
    }
    broken = analyze_one(str(bundles["broken"]), rules, Limits())
    assert broken == {
        "path": str(bundles["broken"]),
        "status": "unreadable",
        "error": "truncated: the gzip stream ends early",
        "exit_code": 65,
    }


def test_rules_survive_the_trip_to_a_worker(rules: list[Rule]) -> None:
    assert pickle.loads(pickle.dumps(rules)) == rules  # noqa: S301 - our own rules


def test_verdict_changed_since_collection_is_noted(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.tar.gz"
    write_bundle(evidence, {"status": "error", "findings": []}, str(path), created=CREATED)
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    assert "when collected the verdict was 'error'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option", [["--max-member-mb", "0"], ["--max-total-mb", "-1"], ["--jobs", "-2"]]
)
def test_bad_limits_are_usage_errors(
    bundles: dict[str, Path], option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(bundles["healthy"]), *option]) == 64
    assert capsys.readouterr().err.count("\n") == 1


def test_member_limit_from_the_command_line(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big_log = os.urandom(3 * 1024 * 1024).hex().encode()
    evidence.add(Entry("var/log/kern.log", Kind.FILE, Status.OK, data=big_log))
    path = _bundle(evidence, rules, tmp_path / "big.tar.gz")
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(path), "--max-member-mb", "2"]) == 65
    err = capsys.readouterr().err
    assert "data/var/log/kern.log" in err and "--max-member-mb limit (2 MB)" in err


def _yaml_missing_in_the_worker(monkeypatch: pytest.MonkeyPatch) -> str:
    """The diagnosis inside each worker meets a PyYAML that is not installed; returns the line
    the command line gives for that."""
    from snddiag.bundle import analyze
    from snddiag.needs import BY_MODULE, install_hint

    def missing(*_args: object) -> object:
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr(analyze, "diagnose", missing)
    return install_hint(BY_MODULE["yaml"])


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("what", ["bundle", "snapshot"])
def test_a_library_missing_in_the_worker_exits_69_with_its_install_line(
    bundles: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    as_json: bool,
    what: str,
) -> None:
    hint = _yaml_missing_in_the_worker(monkeypatch)
    target = (
        [str(bundles["healthy"])]
        if what == "bundle"
        else ["--root", str(Path(__file__).parents[1] / "fixtures" / "guests" / "healthy-pci")]
    )
    assert main(["analyze", *target, *(["--json"] if as_json else [])]) == 69
    out, err = capsys.readouterr()
    assert err == f"snddiag: {hint}\n"
    if as_json:
        document = json.loads(out)
        assert (document["status"], document["exit_code"], document["error"]) == (
            "failed",
            69,
            hint,
        )
    else:
        assert out == ""


def test_a_library_missing_in_the_workers_of_many_bundles_is_69_per_bundle_and_overall(
    bundles: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hint = _yaml_missing_in_the_worker(monkeypatch)
    paths = [str(bundles["healthy"]), str(bundles["broken"])]
    assert main(["analyze", *paths, "--json"]) == 69
    document = json.loads(capsys.readouterr().out)
    schema = Path(__file__).parents[2] / "snddiag" / "report" / "summary.schema.json"
    jsonschema.validate(document, json.loads(schema.read_text()))
    assert document["exit_code"] == 69
    healthy, broken = document["bundles"]
    assert (healthy["status"], healthy["exit_code"], healthy["error"]) == ("unreadable", 69, hint)
    assert (broken["status"], broken["exit_code"]) == ("unreadable", 65)
