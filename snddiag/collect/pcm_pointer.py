"""What the hardware pointer says: frames moved, the rate against the monotonic clock, and why
a run that ran out of time failed. Pure: fed with `pcm_abi.Status` samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from snddiag.collect import pcm_abi as abi


def measure_rate(samples: Sequence[tuple[float, int]]) -> float | None:
    """Frames per second from (monotonic time, hw_ptr) samples.

    The pointer moves in steps (virtio-snd: a period per completed message, which QEMU
    completes on its 10 ms audio timer), so each step is timed when first seen and the rate is
    the least-squares slope through the steps: one early or late step moves it little. After an
    xrun the prepare sets the pointer back to 0: only the longest run without that counts.
    None with fewer than three steps or less than 0.2 s between the first and the last."""
    runs: list[list[tuple[float, int]]] = [[]]
    for before, now in zip(samples, samples[1:]):
        if now[1] < before[1]:
            runs.append([])
        elif now[1] > before[1]:
            runs[-1].append(now)
    steps = max(runs, key=lambda r: r[-1][0] - r[0][0] if r else -1.0)
    if len(steps) < 3 or steps[-1][0] - steps[0][0] < 0.2:
        return None
    mean_t = sum(t for t, _ in steps) / len(steps)
    mean_p = sum(p for _, p in steps) / len(steps)
    spread = sum((t - mean_t) ** 2 for t, _ in steps)
    return round(sum((t - mean_t) * (p - mean_p) for t, p in steps) / spread, 1)


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
