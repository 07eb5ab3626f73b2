from __future__ import annotations

import pytest

# A skipped test hides a missing set-up step (no QEMU, no kernel, no shellcheck): count it as a
# failure of the run, here and in CI alike.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"{len(_skipped)} test(s) skipped: a skip is a set-up failure here "
            "(see docs/contributing.md: Run the tests)",
            red=True,
        )
