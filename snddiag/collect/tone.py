"""The test tone, and the measurements that recognise it again (level and frequency).

Samples are floats in [-1, 1]; `encode`/`decode` convert to and from the PCM formats of
pcm_abi.FORMATS (interleaved, little-endian).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

TONE_HZ = 440
TONE_DBFS = -20.0

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
    """The frequency of a clean tone from its rising zero crossings; None without two of them.

    Enough to tell 440 Hz from a rate error (a tone played at 44.1 kHz into a 48 kHz device reads
    479 Hz); not a spectrum."""
    rising = [n for n in range(1, len(samples)) if samples[n - 1] < 0 <= samples[n]]
    if len(rising) < 2:
        return None
    return (len(rising) - 1) * rate_hz / (rising[-1] - rising[0])
