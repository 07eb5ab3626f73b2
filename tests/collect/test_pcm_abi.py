"""The ALSA PCM ioctl layouts against include/uapi/sound/asound.h.

The expected numbers were printed by a C program including <sound/asound.h> (sizeof, offsetof
and the SNDRV_PCM_IOCTL_* macros) with gcc on x86_64 Linux; aarch64 has the same LP64 layout and
the same asm-generic ioctl encoding."""

from __future__ import annotations

import struct

import pytest

from snddiag.collect import pcm_abi as abi


def test_hw_params_is_608_bytes_with_the_header_offsets() -> None:
    assert abi.HW_PARAMS_SIZE == len(abi.HwParams().raw) == 608
    assert abi._MASKS_AT == 4
    assert abi._INTERVALS_AT == 260
    assert abi._RMASK_AT == 512
    assert abi._INFO_AT == 520


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("SNDRV_PCM_IOCTL_HW_REFINE", 0xC2604110),
        ("SNDRV_PCM_IOCTL_HW_PARAMS", 0xC2604111),
        ("SNDRV_PCM_IOCTL_STATUS", 0x80984120),
        ("SNDRV_PCM_IOCTL_PREPARE", 0x4140),
        ("SNDRV_PCM_IOCTL_START", 0x4142),
        ("SNDRV_PCM_IOCTL_DROP", 0x4143),
        ("SNDRV_PCM_IOCTL_DRAIN", 0x4144),
    ],
)
def test_ioctl_numbers_match_the_header(name: str, number: int) -> None:
    assert getattr(abi, name) == number


def test_ioc_encodes_direction_size_type_and_number() -> None:
    assert abi.ioc(2, "A", 0x01, 288) == 0x81204101  # SNDRV_PCM_IOCTL_INFO


def test_any_params_allow_everything_and_request_every_parameter() -> None:
    params = abi.HwParams()
    assert params.mask(abi.PARAM_FORMAT) == (1 << 256) - 1
    assert params.interval(abi.PARAM_RATE) == (0, 0xFFFFFFFF)
    assert params.interval(abi.PARAM_TICK_TIME) == (0, 0xFFFFFFFF)
    rmask, cmask, info = struct.unpack_from("=III", params.raw, 512)
    assert (rmask, cmask, info) == (0xFFFFFFFF, 0, 0xFFFFFFFF)


def test_narrowing_writes_where_the_kernel_reads() -> None:
    params = abi.HwParams()
    params.only(abi.PARAM_FORMAT, 2)
    params.exact(abi.PARAM_RATE, 48000)
    # masks[1] starts at 4 + 32; intervals[RATE - SAMPLE_BITS] at 260 + 3 * 12.
    assert params.raw[36:40] == b"\x04\x00\x00\x00"
    assert struct.unpack_from("=III", params.raw, 296) == (48000, 48000, 1 << 2)
    assert params.value(abi.PARAM_RATE) == 48000
    assert params.value(abi.PARAM_CHANNELS) is None


def test_request_all_sets_rmask_again_after_a_refine_cleared_it() -> None:
    params = abi.HwParams()
    struct.pack_into("=I", params.raw, 512, 0)
    params.request_all()
    assert struct.unpack_from("=I", params.raw, 512) == (0xFFFFFFFF,)


def test_copy_is_independent() -> None:
    params = abi.HwParams()
    trial = params.copy()
    trial.exact(abi.PARAM_CHANNELS, 2)
    assert params.value(abi.PARAM_CHANNELS) is None


def test_status_is_read_at_the_header_offsets() -> None:
    raw = bytearray(abi.STATUS_SIZE)
    assert len(raw) == 152
    struct.pack_into("=i", raw, 0, 3)
    struct.pack_into("=QQqQQ", raw, 40, 4800, 3840, 960, 2880, 3000)
    status = abi.unpack_status(raw)
    assert status == abi.Status(
        state=3, appl_ptr=4800, hw_ptr=3840, delay=960, avail=2880, avail_max=3000
    )
    assert status.state_name == "running"


def test_negative_delay_and_unknown_state_are_kept() -> None:
    raw = bytearray(abi.STATUS_SIZE)
    struct.pack_into("=i", raw, 0, 42)
    struct.pack_into("=q", raw, 56, -5)
    status = abi.unpack_status(raw)
    assert status.delay == -5
    assert status.state_name == "state-42"


def test_this_interpreter_speaks_the_abi() -> None:
    # The lab and the development machines are x86_64 Linux; aarch64 guests are LP64 too.
    assert abi.supported_abi()
