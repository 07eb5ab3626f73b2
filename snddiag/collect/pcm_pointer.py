"""What the hardware pointer says: frames moved, the rate against the monotonic clock, and why
a run that ran out of time failed. Pure: fed with `pcm_abi.Status` samples."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

from snddiag.collect import pcm_abi as abi

PAIR_S = 0.25
"""Steps closer than this are too noisy to pair for a slope."""


def measure_rate(samples: Sequence[tuple[float, int]]) -> float | None:
    """Frames per second from (monotonic time, hw_ptr) samples.

    The pointer moves in steps (virtio-snd: a period per completed message, which QEMU
    completes on its 10 ms audio timer), each timed when first seen. A starved guest sees steps
    late and a starved QEMU consumes in bursts, so the rate is the median slope between steps at
    least PAIR_S apart (Theil-Sen): bursts and late sightings are outliers, not the answer.
    After an xrun the prepare sets the pointer back to 0: only the longest run without that
    counts. None when the steps span less than PAIR_S."""
    runs: list[list[tuple[float, int]]] = [[]]
    for before, now in zip(samples, samples[1:]):
        if now[1] < before[1]:
            runs.append([])
        elif now[1] > before[1]:
            runs[-1].append(now)
    steps = max(runs, key=lambda r: r[-1][0] - r[0][0] if r else -1.0)
    slopes = [
        (p1 - p0) / (t1 - t0)
        for i, (t0, p0) in enumerate(steps)
        for t1, p1 in steps[i + 1 :]
        if t1 - t0 >= PAIR_S
    ]
    return round(statistics.median(slopes), 1) if slopes else None


class PointerWatch:
    """The pointer's story: frames moved, samples for the rate, the largest delay, the state."""

    def __init__(self, first: abi.Status, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()
        self.last = first
        self.moved = 0
        self.max_delay = first.delay
        self.samples: list[tuple[float, int]] = [(self.started, first.hw_ptr)]

    def update(self, now: abi.Status) -> None:
        if now.hw_ptr > self.last.hw_ptr:
            self.moved += now.hw_ptr - self.last.hw_ptr
        self.max_delay = max(self.max_delay, now.delay)
        self.last = now
        self.samples.append((self.clock(), now.hw_ptr))

    def elapsed(self) -> float:
        return self.clock() - self.started


def stall_reason(moved: int, total: int, elapsed_s: float, verb: str) -> str:
    """Why a run that hit its time limit failed; `verb` is "consumed" or "delivered"."""
    if moved == 0:
        return f"the device never {verb} a frame"
    return f"the device {verb} only {moved} of {total} frames in {elapsed_s:.1f} s"
