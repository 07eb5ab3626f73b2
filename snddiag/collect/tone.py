"""The test tone, and the measurements that recognise it again (level and frequency).

Samples are floats in [-1, 1]; `encode`/`decode` convert to and from the PCM formats of
pcm_abi.FORMATS (interleaved, little-endian).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from snddiag.records import dataclass

TONE_HZ = 440
TONE_DBFS = -20.0
CLIP_LEVEL = 32766 / 32767
"""A sample this close to full scale counts as clipped (S16's largest values either side)."""
TONE_SHARE = 0.5
"""A frequency is a tone when it carries at least this share of the signal's AC power."""

# format name -> (struct code, scale, offset)
_CODECS: dict[str, tuple[str, float, float]] = {
    "S16_LE": ("h", 32767.0, 0.0),
    "S32_LE": ("i", 2147483647.0, 0.0),
    "S24_LE": ("i", 8388607.0, 0.0),
    "FLOAT_LE": ("f", 1.0, 0.0),
    "U8": ("B", 127.0, 128.0),
}


def sine(
    rate_hz: int, frames: int, *, freq_hz: int = TONE_HZ, dbfs: float = TONE_DBFS
) -> list[float]:
    """`frames` samples of a sine starting at phase 0.

    One block of rate/gcd(rate, freq) samples holds a whole number of cycles and is repeated,
    so a length that is a multiple of it ends on a zero crossing (no click)."""
    amplitude = 10 ** (dbfs / 20)
    block = rate_hz // math.gcd(rate_hz, freq_hz)
    one = [amplitude * math.sin(2 * math.pi * freq_hz * n / rate_hz) for n in range(block)]
    whole, rest = divmod(frames, block)
    return one * whole + one[:rest]


def encode(samples: Sequence[float], fmt: str, channels: int) -> bytes:
    """Mono samples -> interleaved frames, every channel the same."""
    code, scale, offset = _CODECS[fmt]
    values: list[float | int] = []
    for s in samples:
        v: float | int = s * scale + offset if code == "f" else round(s * scale + offset)
        values.extend([v] * channels)
    return struct.pack(f"<{len(values)}{code}", *values)


def decode(raw: bytes, fmt: str, channels: int) -> list[float]:
    """Interleaved frames -> the first channel's samples (a partial frame is ignored)."""
    code, scale, offset = _CODECS[fmt]
    width = struct.calcsize(code)
    count = len(raw) // (width * channels) * channels
    values = struct.unpack_from(f"<{count}{code}", raw)
    if fmt == "S24_LE":
        # Low three bytes carry the sample; sign-extend from bit 23.
        values = tuple(((v & 0xFFFFFF) ^ 0x800000) - 0x800000 for v in values)
    return [(v - offset) / scale for v in values[::channels]]


def _dbfs(x: float) -> float | None:
    return round(20 * math.log10(x), 1) if x > 0 else None


def rms_dbfs(samples: Sequence[float]) -> float | None:
    """RMS level relative to a full-scale square wave; None for silence (a sine at amplitude a
    reads 20*log10(a) - 3.0)."""
    if not samples:
        return None
    return _dbfs(math.sqrt(sum(s * s for s in samples) / len(samples)))


def peak_dbfs(samples: Sequence[float]) -> float | None:
    """The largest sample relative to full scale; None for digital silence."""
    return _dbfs(max((abs(s) for s in samples), default=0.0))


def dominant_hz(samples: Sequence[float], rate_hz: int) -> float | None:
    """The frequency of a tone from the spacing of its rising crossings; None without enough.

    A crossing counts once the signal has gone below minus half its RMS and back above plus half
    of it (noise near zero adds none), and only spacings within 10 % of the median one count (a
    recording spliced where the host dropped a chunk keeps its pitch). Enough to tell 440 Hz from
    a rate error (a tone played at 44.1 kHz into a 48 kHz device reads 479 Hz); not a spectrum."""
    level = rms_dbfs(samples)
    if level is None:
        return None
    band = 10 ** (level / 20) / 2
    rising: list[int] = []
    low = False
    for n, s in enumerate(samples):
        if s < -band:
            low = True
        elif low and s > band:
            rising.append(n)
            low = False
    spacings = sorted(b - a for a, b in zip(rising, rising[1:]))
    if len(spacings) < 2:
        return None
    median = spacings[len(spacings) // 2]
    near = [d for d in spacings if abs(d - median) <= median / 10]
    return rate_hz * len(near) / sum(near)


def goertzel_power(samples: Sequence[float], rate_hz: int, freq_hz: float) -> float:
    """The mean power of `samples` at `freq_hz` (one DFT bin, in linear time): a sine of
    amplitude a at that frequency reads a*a/2, like its mean square."""
    count = len(samples)
    if count == 0:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * freq_hz / rate_hz)
    prev = prev2 = 0.0
    for s in samples:
        prev, prev2 = s + coeff * prev - prev2, prev
    power = prev * prev + prev2 * prev2 - coeff * prev * prev2
    return max(power, 0.0) * 2 / (count * count)


def tone_share(samples: Sequence[float], rate_hz: int, freq_hz: float) -> float:
    """The share of the signal's power at `freq_hz`, measured over 20 ms blocks: a recording
    spliced where the host dropped or repeated a chunk keeps its tone within each block."""
    block = max(rate_hz // 50, 1)
    total = sum(s * s for s in samples)
    if total <= 0:
        return 0.0
    at_freq = sum(
        goertzel_power(samples[n : n + block], rate_hz, freq_hz) * len(samples[n : n + block])
        for n in range(0, len(samples), block)
    )
    return at_freq / total


@dataclass(frozen=True)
class Content:
    """What a recording holds; levels are None for digital silence."""

    peak_dbfs: float | None
    rms_dbfs: float | None
    silent: bool
    dc_offset: float
    clipped_samples: int
    tone_hz: float | None


def content(samples: Sequence[float], rate_hz: int) -> Content:
    """Level, silence, DC offset, clipping and, when one frequency dominates, that frequency.

    The frequency comes from the zero crossings of the signal less its mean, and counts only when
    it holds TONE_SHARE of the power (tone_share): noise crosses zero too, a tone is the signal
    whose power sits where its crossings say."""
    count = len(samples)
    mean = sum(samples) / count if count else 0.0
    centred = [s - mean for s in samples]
    hz = dominant_hz(centred, rate_hz)
    if hz is not None and tone_share(centred, rate_hz, hz) < TONE_SHARE:
        hz = None
    return Content(
        peak_dbfs=peak_dbfs(samples),
        rms_dbfs=rms_dbfs(samples),
        silent=not any(samples),
        dc_offset=round(mean, 4),
        clipped_samples=sum(1 for s in samples if abs(s) >= CLIP_LEVEL),
        tone_hz=round(hz, 1) if hz is not None else None,
    )
