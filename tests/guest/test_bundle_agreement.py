"""A bundle collected in a guest, analyzed outside it, gives the verdict of the live run there.

Each boot (tests/guest/lab.py, SNDDIAG_COMMANDS) runs `snddiag --json` and
`snddiag collect -o $OUT/bundle.tar.gz` one after the other; here the bundle is analyzed on
the host with `snddiag analyze` and compared with the live document: same status, exit code
and set of fired rules. The bundle is redacted (the default), so this also shows that
redaction did not change the diagnosis.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from snddiag.bundle.read import read_bundle
from snddiag.cli import main

from .lab import GuestRun
from .scenarios import SCENARIOS, Scenario

pytestmark = pytest.mark.guest

by_scenario = pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])


def _live(run: GuestRun) -> tuple[dict[str, Any], int | None]:
    result = run.commands["json"]
    try:
        return json.loads(result.stdout), result.exit_code
    except ValueError:
        pytest.fail(f"no live JSON in {run.scenario.name}: {result.stderr[-2000:]}", pytrace=False)


def _verdict(document: dict[str, Any]) -> tuple[str, int, set[str]]:
    return document["status"], document["exit_code"], {f["rule"] for f in document["findings"]}


@by_scenario
def test_bundle_analysis_agrees_with_the_live_run(
    scenario: Scenario, guest_run: GuestRun, capsys: pytest.CaptureFixture[str]
) -> None:
    live, live_exit = _live(guest_run)
    collected = guest_run.commands["collect-bundle"]
    assert collected.exit_code == 0, collected.stderr[-4000:]
    bundle = guest_run.path("bundle.tar.gz")
    capsys.readouterr()
    code = main(["analyze", str(bundle), "--json"])
    analyzed = json.loads(capsys.readouterr().out)
    assert code == live_exit
    assert _verdict(analyzed) == _verdict(live)


@by_scenario
def test_bundle_is_redacted_and_carries_the_live_verdict(
    scenario: Scenario, guest_run: GuestRun
) -> None:
    live, _ = _live(guest_run)
    bundle = read_bundle(guest_run.path("bundle.tar.gz"))
    assert bundle.info["redaction"]["enabled"] is True
    assert bundle.diagnosis is not None
    assert _verdict(bundle.diagnosis) == _verdict(live)
    hostname = (bundle.evidence.text("proc/sys/kernel/hostname") or "").strip()
    assert hostname.startswith("redacted-host-") or hostname in ("", "localhost", "(none)")
