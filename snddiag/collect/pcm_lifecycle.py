"""A playback stream's whole life, over and over, as programs live it: open, hw_params, prepare,
write (which starts it), drain, drop, close; at 48 and 44.1 kHz, in S16_LE and the widest format
the device offers, with its smallest and its largest period, once with a pause and a resume.

Every call that fails is recorded with its name, its errno and its cycle, and the test goes on
with the next cycle (a device that fails once may work again: a program would retry). Each cycle
ends within its buffer's length plus STALL_S; no cycle starts after BUDGET_S; the descriptor is
closed whatever happens, Ctrl-C included. Makes a short, quiet sound: only `snddiag --play`.
"""

from __future__ import annotations

import contextlib
import errno as errnos
import fcntl
import os
import select
import time
from collections.abc import Callable
from pathlib import Path

from snddiag.collect import pcm_abi as abi
from snddiag.collect import tone
from snddiag.collect.pcm import (
    PREFERRED_CHANNELS,
    STALL_S,
    Outcome,
    negotiate,
    offered,
    status,
)
from snddiag.collect.pcm_open import OPEN_FLAGS, PcmError, busy_reason, holders
from snddiag.records import dataclass, field

BUDGET_S = 20.0
"""No cycle starts after this (the whole test then ends within a cycle's limit of it)."""
REPEATS = 3
"""The first configuration runs this often back to back: a re-open right after a close."""
RATES = (48000, 44100)
POLL_S = 0.002
SMALLEST_PERIOD_MS = 5
"""The small period tried is the device's smallest, but not below what low-latency programs
use (virtio_snd allows 13 frames at 48 kHz: its 10 ms minimum is reckoned at the lowest rate)."""
FORMAT_S16 = 2
# The widest of the formats the tone is written in, widest first (pcm_abi.FORMATS).
WIDEST_FIRST = (10, 14, 6)  # S32_LE, FLOAT_LE, S24_LE


@dataclass(frozen=True)
class Plan:
    """One cycle's configuration; `period_frames` None is the usual 20 ms."""

    rate_hz: int
    format: int
    period_frames: int | None = None
    pause: bool = False

    def label(self) -> str:
        period = f", period {self.period_frames}" if self.period_frames else ""
        pause = ", pause" if self.pause else ""
        return f"{self.rate_hz} Hz {abi.FORMATS[self.format][0]}{period}{pause}"


@dataclass(frozen=True)
class Failure:
    """A call that failed: which, its errno name (ETIMEDOUT for a wait that never ended), in
    which cycle (from 1) and configuration, and what was seen."""

    cycle: int
    call: str
    errno: str | None
    config: str
    detail: str


@dataclass
class _Cycle:
    """What one cycle measured."""

    period_frames: int | None = None
    buffer_frames: int | None = None
    start_latency_ms: float | None = None
    steps: list[int] = field(default_factory=list)
    drain_ms: float | None = None
    drain_expected_ms: float | None = None
    pause: str | None = None
    xrun: bool = False


@dataclass(frozen=True)
class LifecycleResult:
    status: Outcome
    device: str | None = None
    cycles: int = 0
    planned: int = 0
    failures: tuple[Failure, ...] = ()
    rates_tried: tuple[int, ...] = ()
    formats_tried: tuple[str, ...] = ()
    period_frames_tried: tuple[int, ...] = ()
    start_latency_ms: float | None = None
    pointer_step_frames: int | None = None
    period_frames: int | None = None
    batch: bool | None = None
    drain_ms: float | None = None
    drain_expected_ms: float | None = None
    pause: str | None = None
    xruns: int = 0
    reason: str | None = None
    elapsed_s: float = 0.0


class _Failed(Exception):
    def __init__(self, call: str, code: int | None, detail: str) -> None:
        super().__init__(detail)
        self.call = call
        self.code = code


def _errno_name(code: int | None) -> str | None:
    return errnos.errorcode.get(code, str(code)) if code is not None else None


def plans(fd: int, params: abi.HwParams) -> list[Plan]:
    """The cycles for the device open on `fd`, which offers `params` (pcm.offered)."""
    low, high = params.interval(abi.PARAM_RATE)
    rates = [r for r in RATES if low <= r <= high]
    formats_offered = params.mask(abi.PARAM_FORMAT)
    formats = [FORMAT_S16] if formats_offered >> FORMAT_S16 & 1 else []
    formats += [f for f in WIDEST_FIRST if formats_offered >> f & 1][:1]
    if not rates or not formats:
        return []
    base = Plan(rates[0], formats[0])
    cycles = [base] * REPEATS
    cycles += [Plan(r, f) for r in rates for f in formats if (r, f) != (base.rate_hz, base.format)]
    smallest, largest = _period_range(fd, params, base)
    cycles += [Plan(base.rate_hz, base.format, p) for p in sorted({smallest, largest}) if p]
    cycles.append(Plan(base.rate_hz, base.format, pause=True))
    return cycles


def _period_range(fd: int, params: abi.HwParams, base: Plan) -> tuple[int, int]:
    """The smallest and largest period (frames) the device allows at the base configuration
    (ranges read from "any" configuration span every rate and width, so they are too wide)."""
    fixed = params.copy()
    fixed.only(abi.PARAM_FORMAT, base.format)
    fixed.exact(abi.PARAM_RATE, base.rate_hz)
    for channels in PREFERRED_CHANNELS:
        trial = fixed.copy()
        trial.exact(abi.PARAM_CHANNELS, channels)
        with contextlib.suppress(OSError):
            trial.request_all()
            fcntl.ioctl(fd, abi.SNDRV_PCM_IOCTL_HW_REFINE, trial.raw, True)
            low, high = trial.interval(abi.PARAM_PERIOD_SIZE)
            low = max(low, base.rate_hz * SMALLEST_PERIOD_MS // 1000)
            return (low, high) if 0 < low <= high < 0xFFFFFFFF else (0, 0)
    return 0, 0


def _watch_until(
    fd: int, done: Callable[[abi.Status], bool], limit_s: float, steps: list[int]
) -> abi.Status | None:
    """Poll the status every POLL_S until `done(status)` or `limit_s`; every forward step of the
    pointer is added to `steps`. None when the limit passed."""
    deadline = time.monotonic() + limit_s
    last = status(fd)
    while True:
        now = status(fd)
        if now.hw_ptr > last.hw_ptr:
            steps.append(now.hw_ptr - last.hw_ptr)
        last = now
        if done(now):
            return now
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_S)


def _call(fd: int, call: str, request: int, arg: int = 0) -> None:
    try:
        fcntl.ioctl(fd, request, arg)
    except BlockingIOError:
        raise
    except OSError as exc:
        raise _Failed(call, exc.errno, exc.strerror or str(exc)) from None


def _write_some(fd: int, data: bytes) -> int:
    """Frames' bytes the buffer took now (0 when it is full)."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
    except OSError as exc:
        raise _Failed("write", exc.errno, exc.strerror or str(exc)) from None


def _write_all(fd: int, data: bytes) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    deadline = time.monotonic() + STALL_S
    at = 0
    while at < len(data):
        took = _write_some(fd, data[at:])
        at += took
        if not took:
            if time.monotonic() > deadline:
                raise _Failed("write", errnos.ETIMEDOUT, "the buffer never took the data")
            poller.poll(5)


def _pause_resume(fd: int, info: int, period_s: float, seen: _Cycle) -> None:
    if not info & abi.INFO_PAUSE:
        seen.pause = "unsupported"
        return
    # PAUSE takes its int by value, not through a pointer: 1 pushes, 0 releases.
    _call(fd, "pause", abi.SNDRV_PCM_IOCTL_PAUSE, 1)
    held = status(fd)
    time.sleep(3 * period_s)
    after = status(fd)
    if after.hw_ptr != held.hw_ptr or after.state_name != "paused":
        raise _Failed("pause", None, f"the pointer moved while paused (state {after.state_name})")
    _call(fd, "resume", abi.SNDRV_PCM_IOCTL_PAUSE, 0)
    moved = _watch_until(fd, lambda s: s.hw_ptr > after.hw_ptr, STALL_S, seen.steps)
    if moved is None:
        raise _Failed("resume", errnos.ETIMEDOUT, "the pointer never moved again after resume")
    seen.pause = "ok"


def _run_cycle(fd: int, plan: Plan, info: int, seen: _Cycle) -> None:
    try:
        setup = negotiate(
            fd,
            rates=(plan.rate_hz,),
            formats=(plan.format,),
            period_frames=(plan.period_frames,) if plan.period_frames else (),
        )
    except PcmError as exc:
        raise _Failed("hw_params", exc.errno, str(exc)) from None
    if setup.rate_hz != plan.rate_hz:
        raise _Failed(
            "hw_params", errnos.EINVAL, f"the device lists {plan.rate_hz} Hz, set {setup.rate_hz}"
        )
    seen.period_frames, seen.buffer_frames = setup.period_frames, setup.buffer_frames
    frames = setup.buffer_frames or setup.rate_hz // 10
    data = tone.encode(tone.sine(setup.rate_hz, frames), setup.format, setup.channels)
    started = time.monotonic()
    _write_all(fd, data)  # the first write starts the stream (start threshold 1)
    first = _watch_until(fd, lambda s: s.hw_ptr > 0 or s.state == abi.STATE_XRUN, STALL_S, [])
    if first is None or first.hw_ptr == 0:
        raise _Failed("start", errnos.ETIMEDOUT, f"the pointer never moved in {STALL_S:.0f} s")
    seen.start_latency_ms = round((time.monotonic() - started) * 1000, 1)
    seen.steps.append(first.hw_ptr)
    period_s = (setup.period_frames or frames) / setup.rate_hz
    if plan.pause:
        _pause_resume(fd, info, period_s, seen)
    before = status(fd)
    if before.state == abi.STATE_XRUN:
        seen.xrun = True  # snddiag itself was late (a starved guest): nothing to drain
    else:
        queued_s = max(before.delay, 0) / setup.rate_hz
        drain_at = time.monotonic()
        with contextlib.suppress(BlockingIOError):
            _call(fd, "drain", abi.SNDRV_PCM_IOCTL_DRAIN)
        ended = _watch_until(
            fd,
            lambda s: s.state not in (abi.STATE_RUNNING, abi.STATE_DRAINING),
            queued_s + STALL_S,
            seen.steps,
        )
        if ended is None:
            raise _Failed(
                "drain",
                errnos.ETIMEDOUT,
                f"the drain of {queued_s * 1000:.0f} ms did not end in {queued_s + STALL_S:.1f} s",
            )
        seen.drain_ms = round((time.monotonic() - drain_at) * 1000, 1)
        seen.drain_expected_ms = round(queued_s * 1000, 1)
    _call(fd, "drop", abi.SNDRV_PCM_IOCTL_DROP)


def _open_failure(node: Path, number: int, config: str, exc: OSError) -> Failure:
    detail = (
        busy_reason(node, holders(node))
        if exc.errno == errnos.EBUSY
        else f"cannot open {node}: {exc.strerror or exc}"
    )
    return Failure(number, "open", _errno_name(exc.errno), config, detail)


def _cycle(node: Path, number: int, plan: Plan, info: int) -> tuple[_Cycle, Failure | None]:
    seen = _Cycle()
    failure: Failure | None = None
    try:
        fd = os.open(node, OPEN_FLAGS)
    except OSError as exc:
        return seen, _open_failure(node, number, plan.label(), exc)
    try:
        _run_cycle(fd, plan, info, seen)
    except _Failed as exc:
        failure = Failure(number, exc.call, _errno_name(exc.code), plan.label(), str(exc))
        with contextlib.suppress(OSError):
            fcntl.ioctl(fd, abi.SNDRV_PCM_IOCTL_DROP)
    except OSError as exc:  # a status that failed: the device went away
        failure = Failure(
            number, "status", _errno_name(exc.errno), plan.label(), exc.strerror or str(exc)
        )
    finally:
        try:
            os.close(fd)
        except OSError as exc:
            if failure is None:
                failure = Failure(
                    number, "close", _errno_name(exc.errno), plan.label(), exc.strerror or ""
                )
    return seen, failure


def stress(node: Path, device: str) -> LifecycleResult:
    """Run every planned cycle on the playback PCM `node` (hw:card,device as `device`)."""
    if not abi.supported_abi():
        return LifecycleResult(Outcome.NOT_RUN, device, reason="needs 64-bit Linux")
    started = time.monotonic()
    try:
        fd = os.open(node, OPEN_FLAGS)
    except OSError as exc:
        # The first cycle's open, which reads what the device offers before any plan exists.
        first = _open_failure(node, 1, "reading what the device offers", exc)
        return LifecycleResult(
            Outcome.FAILED, device, cycles=1, failures=(first,), reason=first.detail
        )
    try:
        params = offered(fd)
        planned = plans(fd, params)
    except PcmError as exc:
        return LifecycleResult(Outcome.FAILED, device, reason=str(exc))
    finally:
        os.close(fd)
    if not planned:
        return LifecycleResult(
            Outcome.NOT_RUN, device, reason="the device offers neither 48 nor 44.1 kHz in S16_LE"
        )
    failures: list[Failure] = []
    seen: list[tuple[Plan, _Cycle]] = []
    for number, plan in enumerate(planned, start=1):
        if time.monotonic() - started > BUDGET_S:
            break
        cycle, failure = _cycle(node, number, plan, params.info())
        seen.append((plan, cycle))
        if failure is not None:
            failures.append(failure)
    return _summary(device, planned, seen, failures, time.monotonic() - started)


def _summary(
    device: str,
    planned: list[Plan],
    seen: list[tuple[Plan, _Cycle]],
    failures: list[Failure],
    elapsed_s: float,
) -> LifecycleResult:
    cycles = [c for _p, c in seen]
    # On a batch device the pointer first moves after a whole period: the start latency is
    # read from the cycles with the usual 20 ms period, not the large-period one.
    latencies = [
        c.start_latency_ms
        for p, c in seen
        if c.start_latency_ms is not None and p.period_frames is None
    ]
    drains = [c for c in cycles if c.drain_ms is not None and c.drain_expected_ms is not None]
    slowest = max(
        drains, key=lambda c: (c.drain_ms or 0) - (c.drain_expected_ms or 0), default=None
    )
    base = [c for p, c in seen if p == planned[0] and c.steps]
    steps = [s for c in base for s in c.steps]
    measured = [c for c in cycles if c.steps and c.period_frames]
    return LifecycleResult(
        Outcome.FAILED if failures else Outcome.OK,
        device,
        cycles=len(seen),
        planned=len(planned),
        failures=tuple(failures),
        rates_tried=tuple(sorted({p.rate_hz for p, _c in seen}, reverse=True)),
        formats_tried=tuple(dict.fromkeys(abi.FORMATS[p.format][0] for p, _c in seen)),
        period_frames_tried=tuple(sorted({c.period_frames for c in cycles if c.period_frames})),
        start_latency_ms=max(latencies) if latencies else None,
        pointer_step_frames=min(steps) if steps else None,
        period_frames=base[0].period_frames if base else None,
        batch=all(s % (c.period_frames or 1) == 0 for c in measured for s in c.steps)
        if measured
        else None,
        drain_ms=slowest.drain_ms if slowest else None,
        drain_expected_ms=slowest.drain_expected_ms if slowest else None,
        pause=next((c.pause for c in cycles if c.pause), None),
        xruns=sum(c.xrun for c in cycles),
        reason=f"{len(failures)} of {len(seen)} cycles failed" if failures else None,
        elapsed_s=round(elapsed_s, 3),
    )
