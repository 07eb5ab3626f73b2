from __future__ import annotations

from collections.abc import Iterator

import pytest

from .lab import GuestRun, LabError, boot_all, require_lab
from .scenarios import SCENARIOS, Scenario

_RUNS: dict[str, GuestRun | LabError] = {}


def _selected_scenarios(session: pytest.Session) -> list[Scenario]:
    """The scenarios that the collected guest tests ask for, in table order."""
    wanted: set[str] = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("scenario"), Scenario):
            wanted.add(callspec.params["scenario"].name)
    return [s for s in SCENARIOS if s.name in wanted]


@pytest.fixture(scope="session")
def guest_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, GuestRun | LabError]]:
    """Every selected scenario booted once, two at a time, before the first guest test runs."""
    scenarios = _selected_scenarios(request.session) or list(SCENARIOS)
    require_lab(scenarios)
    _RUNS.update(boot_all(scenarios, keep_root=tmp_path_factory.mktemp("guests")))
    yield _RUNS


@pytest.fixture
def guest_run(scenario: Scenario, guest_runs: dict[str, GuestRun | LabError]) -> GuestRun:
    run = guest_runs[scenario.name]
    if isinstance(run, LabError):
        pytest.fail(f"the {scenario.name} guest did not boot: {run}", pytrace=False)
    return run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _RUNS:
        return
    terminalreporter.section("guest boots")
    for name, run in _RUNS.items():
        if isinstance(run, LabError):
            terminalreporter.write_line(f"{name:26} FAILED: {str(run).splitlines()[0]}")
        else:
            terminalreporter.write_line(
                f"{name:26} {run.seconds:5.1f}s  {run.kernel_release:24} {run.out_dir}"
            )
