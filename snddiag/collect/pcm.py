"""Does sound move? Play about a second of a quiet tone on a PCM, or record about a second, and
judge what the device did from its hardware pointer.

Pure Python over the ALSA PCM ioctls (pcm_abi.py): no alsa-lib, no alsa-utils. The node is
opened non-blocking and driven by poll() with short timeouts, so every run ends within
`seconds + GRACE_S`, and within STALL_S when the pointer never moves. The descriptor is
always closed. It makes a sound: only an explicit request (`snddiag --play`, through
collect/data_path.py) may call it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import time
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from snddiag.collect import pcm_abi as abi
from snddiag.collect import tone
from snddiag.collect.pcm_open import PcmError, open_pcm
from snddiag.collect.pcm_pointer import PointerWatch, measure_rate, stall_reason
from snddiag.records import asdict, dataclass, replace

STALL_S = 2.0
"""A pointer that has not moved this long after the start never will."""
GRACE_S = 2.0
"""Time allowed beyond the audio's own length (buffer latency, a slow TCG guest)."""
POLL_MS = 5
PREFERRED_RATES = (48000, 44100)
PREFERRED_CHANNELS = (2, 1)
# S16_LE first, then what the tone can be written in (pcm_abi.FORMATS order).
PREFERRED_FORMATS = tuple(abi.FORMATS)
# A 20 ms period, so that a second is a whole number of them; 1024 frames otherwise.
PERIOD_MS = 20
PERIOD_FRAMES = (1024,)
# 8 x 20 ms: a TCG guest on a loaded host stalls past 80 ms (an underrun with 4 periods was
# seen in the lab); the run lasts as long whatever the buffer.
PERIODS = (8, 4)


class Outcome(str, Enum):
    OK = "ok"
    FAILED = "failed"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class PlaybackResult:
    status: Outcome
    device: str | None = None
    rate_hz: int | None = None
    format: str | None = None
    channels: int | None = None
    frames_written: int = 0
    frames_consumed: int = 0
    measured_rate_hz: float | None = None
    xruns: int = 0
    reason: str | None = None
    state: str | None = None
    max_delay_frames: int | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class CaptureResult:
    status: Outcome
    device: str | None = None
    rate_hz: int | None = None
    format: str | None = None
    channels: int | None = None
    frames_read: int = 0
    frames_delivered: int = 0
    measured_rate_hz: float | None = None
    xruns: int = 0
    reason: str | None = None
    state: str | None = None
    max_delay_frames: int | None = None
    elapsed_s: float = 0.0
    # What was recorded (tone.content), None when nothing was read.
    peak_dbfs: float | None = None
    rms_dbfs: float | None = None
    silent: bool | None = None
    dc_offset: float | None = None
    clipped_samples: int | None = None
    tone_hz: float | None = None


@dataclass(frozen=True)
class Setup:
    """What hw_params settled on."""

    rate_hz: int
    format: str
    sample_bytes: int
    channels: int
    period_frames: int | None
    buffer_frames: int | None

    @property
    def frame_bytes(self) -> int:
        return self.sample_bytes * self.channels


def _ioctl(fd: int, request: int, arg: bytearray | None = None) -> None:
    if arg is None:
        fcntl.ioctl(fd, request)
    else:
        fcntl.ioctl(fd, request, arg, True)


def _refine(fd: int, params: abi.HwParams, request: int = abi.SNDRV_PCM_IOCTL_HW_REFINE) -> None:
    params.request_all()
    _ioctl(fd, request, params.raw)


def _narrow(fd: int, params: abi.HwParams, param: int, wanted: Sequence[int]) -> abi.HwParams:
    """The first wanted value the device accepts for `param`, or `params` left as they were."""
    for value in wanted:
        trial = params.copy()
        trial.exact(param, value)
        try:
            _refine(fd, trial)
        except OSError:
            continue
        return trial
    return params


def _format_names(mask: int) -> str:
    names = [abi.FORMATS.get(n, (f"format {n}", 0))[0] for n in range(256) if mask >> n & 1]
    return ", ".join(names) or "none"


def offered(fd: int) -> abi.HwParams:
    """Everything the device offers with interleaved read/write access (hw_refine of "any")."""
    params = abi.HwParams()
    try:
        _refine(fd, params)
    except OSError as exc:
        raise PcmError(
            f"the device refused every configuration: {exc.strerror}", exc.errno
        ) from None
    if not params.mask(abi.PARAM_ACCESS) >> abi.ACCESS_RW_INTERLEAVED & 1:
        raise PcmError("the device offers no interleaved read/write access")
    params.only(abi.PARAM_ACCESS, abi.ACCESS_RW_INTERLEAVED)
    return params


def negotiate(
    fd: int,
    *,
    rates: Sequence[int] = PREFERRED_RATES,
    formats: Sequence[int] = PREFERRED_FORMATS,
    period_frames: Sequence[int] = (),
) -> Setup:
    """hw_refine towards the first of `rates` and `formats` the device takes (48 kHz S16_LE
    stereo by default) with a period of 20 ms unless `period_frames` are given, then hw_params
    and prepare."""
    params = offered(fd)
    available = params.mask(abi.PARAM_FORMAT)
    fmt = next((f for f in formats if available >> f & 1), None)
    if fmt is None:
        raise PcmError(f"unsupported format: the device offers only {_format_names(available)}")
    params.only(abi.PARAM_FORMAT, fmt)
    params = _narrow(fd, params, abi.PARAM_RATE, rates)
    params = _narrow(fd, params, abi.PARAM_CHANNELS, PREFERRED_CHANNELS)
    rate = params.value(abi.PARAM_RATE)
    twenty_ms = (rate * PERIOD_MS // 1000,) if rate else ()
    params = _narrow(
        fd, params, abi.PARAM_PERIOD_SIZE, tuple(period_frames) or twenty_ms + PERIOD_FRAMES
    )
    params = _narrow(fd, params, abi.PARAM_PERIODS, PERIODS)
    try:
        _refine(fd, params, abi.SNDRV_PCM_IOCTL_HW_PARAMS)
        _ioctl(fd, abi.SNDRV_PCM_IOCTL_PREPARE)
    except OSError as exc:
        raise PcmError(f"hw_params failed: {exc.strerror}", exc.errno) from None
    rate, channels = params.value(abi.PARAM_RATE), params.value(abi.PARAM_CHANNELS)
    if rate is None or channels is None:
        raise PcmError("hw_params left the rate or the channel count open")
    name, width = abi.FORMATS[fmt]
    return Setup(
        rate_hz=rate,
        format=name,
        sample_bytes=width,
        channels=channels,
        period_frames=params.value(abi.PARAM_PERIOD_SIZE),
        buffer_frames=params.value(abi.PARAM_BUFFER_SIZE),
    )


def status(fd: int) -> abi.Status:
    raw = bytearray(abi.STATUS_SIZE)
    _ioctl(fd, abi.SNDRV_PCM_IOCTL_STATUS, raw)
    return abi.unpack_status(raw)


def _recover(fd: int, exc: OSError, restart: bool) -> None:
    """After EPIPE (an xrun): prepare again, and for capture start again."""
    if exc.errno != errno.EPIPE:
        raise PcmError(f"the stream failed: {exc.strerror}") from None
    _ioctl(fd, abi.SNDRV_PCM_IOCTL_PREPARE)
    if restart:
        _ioctl(fd, abi.SNDRV_PCM_IOCTL_START)


def _write_tone(fd: int, setup: Setup, seconds: float) -> tuple[int, int, PointerWatch, str | None]:
    frames = round(setup.rate_hz * seconds)
    # Seen with virtio_snd on 6.12: the device is handed whole periods only, so a partial last
    # period is never played and the drain never ends. Pad the tone with silence to a period.
    period = setup.period_frames or 1
    total = -(-frames // period) * period
    samples = tone.sine(setup.rate_hz, frames) + [0.0] * (total - frames)
    data = tone.encode(samples, setup.format, setup.channels)
    watch = PointerWatch(status(fd), time.monotonic)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    written = xruns = 0
    draining = False
    while True:
        watch.update(status(fd))
        if draining and watch.last.state not in (abi.STATE_DRAINING, abi.STATE_RUNNING):
            return written, xruns, watch, None
        elapsed = watch.elapsed()
        if (watch.moved == 0 and elapsed > STALL_S) or elapsed > seconds + GRACE_S:
            return written, xruns, watch, stall_reason(watch.moved, total, elapsed, "consumed")
        if written < total:
            try:
                written += os.write(fd, data[written * setup.frame_bytes :]) // setup.frame_bytes
            except BlockingIOError:
                pass
            except OSError as exc:
                xruns += 1
                _recover(fd, exc, restart=False)
            poller.poll(POLL_MS)
        elif not draining:
            draining = True
            # A non-blocking drain returns EAGAIN at once; the stream drains while we watch.
            with contextlib.suppress(BlockingIOError):
                _ioctl(fd, abi.SNDRV_PCM_IOCTL_DRAIN)
        else:
            time.sleep(POLL_MS / 1000)


def _read_second(
    fd: int, setup: Setup, seconds: float
) -> tuple[bytes, int, PointerWatch, str | None]:
    total = round(setup.rate_hz * seconds)
    _ioctl(fd, abi.SNDRV_PCM_IOCTL_START)
    watch = PointerWatch(status(fd), time.monotonic)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    chunks: list[bytes] = []
    got = xruns = 0
    while got < total:
        watch.update(status(fd))
        elapsed = watch.elapsed()
        if (watch.moved == 0 and elapsed > STALL_S) or elapsed > seconds + GRACE_S:
            return (
                b"".join(chunks),
                xruns,
                watch,
                stall_reason(watch.moved, total, elapsed, "delivered"),
            )
        try:
            chunk = os.read(fd, (total - got) * setup.frame_bytes)
            chunks.append(chunk)
            got += len(chunk) // setup.frame_bytes
        except BlockingIOError:
            pass
        except OSError as exc:
            xruns += 1
            _recover(fd, exc, restart=True)
        poller.poll(POLL_MS)
    watch.update(status(fd))
    return b"".join(chunks), xruns, watch, None


def _device(card: int, device: int) -> str:
    return f"hw:{card},{device}"


def _node(dev_dir: Path, card: int, device: int, suffix: str) -> Path:
    return dev_dir / f"pcmC{card}D{device}{suffix}"


_Result = TypeVar("_Result", PlaybackResult, CaptureResult)


def _run(
    result: _Result, node: Path, proc_dir: Path, transfer: Callable[[int, Setup], dict[str, Any]]
) -> _Result:
    """Open the PCM, negotiate, let `transfer` move the frames (it returns the result's fields),
    and close it whatever happens; every failure becomes the result's one-line reason."""
    if not abi.supported_abi():
        return replace(result, status=Outcome.NOT_RUN, reason="needs 64-bit Linux")
    started = time.monotonic()
    try:
        fd = open_pcm(node, proc_dir)
    except PcmError as exc:
        return replace(result, reason=str(exc))
    try:
        setup = negotiate(fd)
        result = replace(
            result, rate_hz=setup.rate_hz, format=setup.format, channels=setup.channels
        )
        result = replace(result, **transfer(fd, setup))
    except PcmError as exc:
        result = replace(result, reason=str(exc))
    except OSError as exc:
        result = replace(result, reason=f"the device failed: {exc.strerror or exc}")
    finally:
        _close(fd)
    return replace(result, elapsed_s=round(time.monotonic() - started, 3))


def _watched(reason: str | None, xruns: int, watch: PointerWatch) -> dict[str, Any]:
    return {
        "status": Outcome.FAILED if reason else Outcome.OK,
        "measured_rate_hz": measure_rate(watch.samples),
        "xruns": xruns,
        "reason": reason,
        "state": watch.last.state_name,
        "max_delay_frames": watch.max_delay,
    }


def play(
    card: int,
    device: int,
    *,
    seconds: float = 1.0,
    dev_dir: Path = Path("/dev/snd"),
    proc_dir: Path = Path("/proc"),
) -> PlaybackResult:
    """Play `seconds` of a 440 Hz sine at -20 dBFS on hw:card,device and watch it go."""

    def transfer(fd: int, setup: Setup) -> dict[str, Any]:
        written, xruns, watch, reason = _write_tone(fd, setup, seconds)
        return {
            "frames_written": written,
            "frames_consumed": watch.moved,
            **_watched(reason, xruns, watch),
        }

    result = PlaybackResult(Outcome.FAILED, device=_device(card, device))
    return _run(result, _node(dev_dir, card, device, "p"), proc_dir, transfer)


def record(
    card: int,
    device: int,
    *,
    seconds: float = 1.0,
    dev_dir: Path = Path("/dev/snd"),
    proc_dir: Path = Path("/proc"),
) -> CaptureResult:
    """Record `seconds` from hw:card,device and watch the device deliver them."""

    def transfer(fd: int, setup: Setup) -> dict[str, Any]:
        data, xruns, watch, reason = _read_second(fd, setup, seconds)
        samples = tone.decode(data, setup.format, setup.channels)
        heard = asdict(tone.content(samples, setup.rate_hz)) if samples else {}
        return {
            "frames_read": len(data) // setup.frame_bytes,
            "frames_delivered": watch.moved,
            **heard,
            **_watched(reason, xruns, watch),
        }

    result = CaptureResult(Outcome.FAILED, device=_device(card, device))
    return _run(result, _node(dev_dir, card, device, "c"), proc_dir, transfer)


def _close(fd: int) -> None:
    try:
        _ioctl(fd, abi.SNDRV_PCM_IOCTL_DROP)
    except OSError:
        pass  # not set up yet, or already stopped: closing is what matters
    finally:
        os.close(fd)
