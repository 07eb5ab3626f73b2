"""The pool of bounded workers: long-lived, replaced only when one fails or exceeds a limit."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from snddiag.bundle import MIB, Limits
from snddiag.bundle.workers import Done, Failed, run_bounded, time_text

_kept: list[bytearray] = []


# Worker bodies (module level: a worker may be spawned, not forked).
def _pid() -> int:
    return os.getpid()


def _stall(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _keep(mib: int) -> int:
    """Memory a worker keeps after the call, as a leak would."""
    _kept.append(bytearray(mib * MIB))
    return os.getpid()


def _outcomes(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], limits: Limits) -> list[Any]:
    found = dict(run_bounded(calls, limits, workers=2))
    assert sorted(found) == list(range(len(calls)))
    return [found[i] for i in range(len(calls))]


def test_workers_serve_call_after_call() -> None:
    outcomes = _outcomes([(_pid, ())] * 40, Limits())
    pids = {o.value for o in outcomes if isinstance(o, Done)}
    assert len(outcomes) == 40 and all(isinstance(o, Done) for o in outcomes)
    assert 1 <= len(pids) <= 2
    assert os.getpid() not in pids


def test_a_worker_past_its_time_is_replaced_and_the_rest_go_on() -> None:
    limits = Limits(timeout_s=0.5)
    calls = [(_pid, ()), (_stall, (30.0,)), *[(_pid, ())] * 6]
    started = time.monotonic()
    outcomes = _outcomes(calls, limits)
    assert time.monotonic() - started < 10
    assert outcomes[1] == Failed(time_text(limits))
    assert all(isinstance(o, Done) for i, o in enumerate(outcomes) if i != 1)
    # The killed worker's pid is gone; the others ran in at most two live workers plus the
    # replacement.
    assert len({o.value for o in outcomes if isinstance(o, Done)}) <= 3


def test_what_earlier_calls_left_behind_does_not_fail_a_call() -> None:
    # Each call keeps 40 MiB; a worker may add 64 MiB: the second call in one worker would
    # exceed that, and is run again in a fresh worker, where it fits.
    limits = Limits(max_memory_bytes=64 * MIB)
    outcomes = _outcomes([(_keep, (40,))] * 4, limits)
    assert all(isinstance(o, Done) for o in outcomes), outcomes
    assert len({o.value for o in outcomes}) == 4  # four fresh workers


def test_a_call_that_alone_exceeds_the_memory_is_not_retried_forever() -> None:
    limits = Limits(max_memory_bytes=64 * MIB)
    outcomes = _outcomes([(_pid, ()), (_keep, (200,)), (_pid, ())], limits)
    assert isinstance(outcomes[1], Failed) and "--max-memory-mb" in outcomes[1].reason
    assert isinstance(outcomes[0], Done) and isinstance(outcomes[2], Done)


def test_idle_workers_end_by_themselves_when_the_run_is_done(monkeypatch: Any) -> None:
    """Closing a worker's pipe ends it: no worker still holds the parent's end of its own pipe
    or of another's (a fork copies them), which would leave it waiting for a next call until
    stop() killed it, a second at the end of every run for each worker."""
    from snddiag.bundle import workers

    ended: list[int | None] = []
    stop = workers._Worker.stop

    def stop_and_note(worker: Any) -> None:
        stop(worker)
        ended.append(worker.process.exitcode)

    monkeypatch.setattr(workers._Worker, "stop", stop_and_note)
    outcomes = _outcomes([(_pid, ())] * 8, Limits())
    assert all(isinstance(o, Done) for o in outcomes)
    assert ended == [0, 0]  # exit status 0, not killed by SIGKILL (-9)
