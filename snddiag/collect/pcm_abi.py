"""The ALSA PCM ioctl interface of include/uapi/sound/asound.h, as bytes for `fcntl.ioctl`.

Only what a short write/read test needs: hw_params refinement, prepare/start/drop/drain and
the status. Layouts are for 64-bit Linux (LP64: x86_64, aarch64), checked against the header
with a C compiler on x86_64:

- `struct snd_mask` (8 x u32) and `struct snd_interval` (two u32 and one u32 of bit-fields) are
  the same on every architecture.
- `struct snd_pcm_hw_params` differs only in its trailing `snd_pcm_uframes_t fifo_size`
  (unsigned long): 608 bytes on LP64, 604 on 32-bit ABIs. Offsets before it are fixed.
- `struct snd_pcm_status` holds longs and `struct timespec`s: 152 bytes on LP64; 32-bit ABIs
  have other sizes (and time64 variants), which this module does not speak.
- The ioctl number encoding is asm-generic's (x86 and arm64 alike): 2 direction bits, 14 size
  bits, 8 type bits, 8 number bits. powerpc, mips, sparc and alpha encode differently.
"""

from __future__ import annotations

import struct
import sys

from snddiag.records import dataclass

# asm-generic/ioctl.h
_IOC_NONE = 0
_IOC_WRITE = 1
_IOC_READ = 2


def ioc(direction: int, kind: str, number: int, size: int) -> int:
    """_IOC(dir, type, nr, size) of asm-generic/ioctl.h."""
    return (direction << 30) | (size << 16) | (ord(kind) << 8) | number


HW_PARAMS_SIZE = 608
STATUS_SIZE = 152

SNDRV_PCM_IOCTL_HW_REFINE = ioc(_IOC_READ | _IOC_WRITE, "A", 0x10, HW_PARAMS_SIZE)
SNDRV_PCM_IOCTL_HW_PARAMS = ioc(_IOC_READ | _IOC_WRITE, "A", 0x11, HW_PARAMS_SIZE)
SNDRV_PCM_IOCTL_STATUS = ioc(_IOC_READ, "A", 0x20, STATUS_SIZE)
SNDRV_PCM_IOCTL_PREPARE = ioc(_IOC_NONE, "A", 0x40, 0)
SNDRV_PCM_IOCTL_START = ioc(_IOC_NONE, "A", 0x42, 0)
SNDRV_PCM_IOCTL_DROP = ioc(_IOC_NONE, "A", 0x43, 0)
SNDRV_PCM_IOCTL_DRAIN = ioc(_IOC_NONE, "A", 0x44, 0)
SNDRV_PCM_IOCTL_PAUSE = ioc(_IOC_WRITE, "A", 0x45, 4)  # int: 1 pauses, 0 resumes

# hw_params parameters: masks 0-2, intervals 8-19.
PARAM_ACCESS = 0
PARAM_FORMAT = 1
PARAM_SUBFORMAT = 2
PARAM_SAMPLE_BITS = 8
PARAM_FRAME_BITS = 9
PARAM_CHANNELS = 10
PARAM_RATE = 11
PARAM_PERIOD_TIME = 12
PARAM_PERIOD_SIZE = 13
PARAM_PERIOD_BYTES = 14
PARAM_PERIODS = 15
PARAM_BUFFER_TIME = 16
PARAM_BUFFER_SIZE = 17
PARAM_BUFFER_BYTES = 18
PARAM_TICK_TIME = 19
_FIRST_INTERVAL = PARAM_SAMPLE_BITS
_LAST_INTERVAL = PARAM_TICK_TIME

ACCESS_RW_INTERLEAVED = 3

# hw_params info bits (SNDRV_PCM_INFO_*)
INFO_BATCH = 0x10
INFO_PAUSE = 0x80000

# snd_pcm_format_t values -> (name, bytes per sample) for the formats a tone can be written in.
FORMATS: dict[int, tuple[str, int]] = {
    2: ("S16_LE", 2),
    10: ("S32_LE", 4),
    6: ("S24_LE", 4),
    14: ("FLOAT_LE", 4),
    1: ("U8", 1),
}

STATES = (
    "open",
    "setup",
    "prepared",
    "running",
    "xrun",
    "draining",
    "paused",
    "suspended",
    "disconnected",
)
STATE_SETUP = 1
STATE_PREPARED = 2
STATE_RUNNING = 3
STATE_XRUN = 4
STATE_DRAINING = 5

# struct snd_pcm_hw_params offsets (asound.h): flags u32, masks[3] + mres[5] (32 bytes each),
# intervals[12] + ires[9] (12 bytes each), rmask, cmask, info, msbits, rate_num, rate_den.
_MASK_SIZE = 32
_MASKS_AT = 4
_INTERVAL_SIZE = 12
_INTERVALS_AT = _MASKS_AT + 8 * _MASK_SIZE
_RMASK_AT = _INTERVALS_AT + 21 * _INTERVAL_SIZE
_CMASK_AT = _RMASK_AT + 4
_INFO_AT = _RMASK_AT + 8
_UINT_MAX = 0xFFFFFFFF
_INTERVAL_INTEGER = 1 << 2
_INTERVAL_EMPTY = 1 << 3


def supported_abi() -> bool:
    """True where the layouts above hold: 64-bit Linux."""
    return sys.platform.startswith("linux") and struct.calcsize("P") == 8


class HwParams:
    """A `struct snd_pcm_hw_params` buffer, started as "anything" (alsa-lib's _any)."""

    def __init__(self, raw: bytes | None = None) -> None:
        if raw is not None:
            self.raw = bytearray(raw)
            return
        self.raw = bytearray(HW_PARAMS_SIZE)
        for param in range(PARAM_ACCESS, PARAM_SUBFORMAT + 1):
            at = _MASKS_AT + param * _MASK_SIZE
            self.raw[at : at + _MASK_SIZE] = b"\xff" * _MASK_SIZE
        for param in range(_FIRST_INTERVAL, _LAST_INTERVAL + 1):
            self.set_interval(param, 0, _UINT_MAX, integer=False)
        struct.pack_into("=III", self.raw, _RMASK_AT, _UINT_MAX, 0, _UINT_MAX)

    def request_all(self) -> None:
        """Ask the kernel to refine every parameter (it clears rmask after each refine)."""
        struct.pack_into("=I", self.raw, _RMASK_AT, _UINT_MAX)

    def copy(self) -> HwParams:
        return HwParams(bytes(self.raw))

    def mask(self, param: int) -> int:
        """The mask as one integer, bit n = value n."""
        at = _MASKS_AT + param * _MASK_SIZE
        return int.from_bytes(self.raw[at : at + _MASK_SIZE], "little")

    def set_mask(self, param: int, values: int) -> None:
        at = _MASKS_AT + param * _MASK_SIZE
        self.raw[at : at + _MASK_SIZE] = values.to_bytes(_MASK_SIZE, "little")

    def only(self, param: int, value: int) -> None:
        self.set_mask(param, 1 << value)

    def interval(self, param: int) -> tuple[int, int]:
        at = _INTERVALS_AT + (param - _FIRST_INTERVAL) * _INTERVAL_SIZE
        low, high, _bits = struct.unpack_from("=III", self.raw, at)
        return low, high

    def set_interval(self, param: int, low: int, high: int, *, integer: bool = True) -> None:
        at = _INTERVALS_AT + (param - _FIRST_INTERVAL) * _INTERVAL_SIZE
        bits = _INTERVAL_INTEGER if integer else 0
        struct.pack_into("=III", self.raw, at, low, high, bits)

    def exact(self, param: int, value: int) -> None:
        self.set_interval(param, value, value)

    def info(self) -> int:
        """The device's SNDRV_PCM_INFO_* bits, as hw_refine or hw_params set them."""
        return int(struct.unpack_from("=I", self.raw, _INFO_AT)[0])

    def value(self, param: int) -> int | None:
        """The interval's single value, or None while it is still a range."""
        low, high = self.interval(param)
        return low if low == high else None


@dataclass(frozen=True)
class Status:
    """The fields of `struct snd_pcm_status` the test reads."""

    state: int
    appl_ptr: int
    hw_ptr: int
    delay: int
    avail: int
    avail_max: int

    @property
    def state_name(self) -> str:
        return STATES[self.state] if 0 <= self.state < len(STATES) else f"state-{self.state}"


# state (int) + pad to 8, trigger_tstamp and tstamp (2 x timespec, 16 bytes each), then
# appl_ptr, hw_ptr (unsigned long), delay (long), avail, avail_max (unsigned long).
_STATUS_HEAD = struct.Struct("=i4x32xQQqQQ")


def unpack_status(raw: bytes | bytearray) -> Status:
    state, appl_ptr, hw_ptr, delay, avail, avail_max = _STATUS_HEAD.unpack_from(raw)
    return Status(state, appl_ptr, hw_ptr, delay, avail, avail_max)
