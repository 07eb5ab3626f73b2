"""The test tone: level, frequency, clean ends, and every PCM format it is written in."""

from __future__ import annotations

import pytest

from snddiag.collect import tone


def test_tone_is_440_hz_at_minus_20_dbfs() -> None:
    samples = tone.sine(48000, 48000)
    assert len(samples) == 48000
    assert tone.peak_dbfs(samples) == pytest.approx(-20.0, abs=0.05)
    assert tone.rms_dbfs(samples) == pytest.approx(-23.0, abs=0.1)
    assert tone.dominant_hz(samples, 48000) == pytest.approx(440.0, abs=0.5)


@pytest.mark.parametrize("rate", [48000, 44100, 16000])
def test_tone_frequency_holds_at_every_rate(rate: int) -> None:
    assert tone.dominant_hz(tone.sine(rate, rate), rate) == pytest.approx(440.0, abs=0.5)


def test_a_second_at_48_khz_ends_where_it_began() -> None:
    # 48000 is a multiple of the 1200-sample block (11 cycles): the next sample would be phase 0.
    samples = tone.sine(48000, 48000)
    assert samples[0] == 0.0
    assert samples[1199] < 0 < samples[1] and samples[1200] == 0.0


def test_a_rate_error_shows_as_a_wrong_frequency() -> None:
    # Written for 44.1 kHz, played at 48 kHz: the pitch rises by 48/44.1.
    played = tone.sine(44100, 48000)
    assert tone.dominant_hz(played, 48000) == pytest.approx(478.9, abs=0.5)


def test_silence_has_no_level_and_no_frequency() -> None:
    silence = [0.0] * 4800
    assert tone.peak_dbfs(silence) is None
    assert tone.rms_dbfs(silence) is None
    assert tone.rms_dbfs([]) is None
    assert tone.dominant_hz(silence, 48000) is None


@pytest.mark.parametrize("fmt", ["S16_LE", "S32_LE", "S24_LE", "FLOAT_LE", "U8"])
def test_encode_then_decode_gives_the_tone_back(fmt: str) -> None:
    samples = tone.sine(48000, 1200)
    raw = tone.encode(samples, fmt, 2)
    width = {"S16_LE": 2, "U8": 1}.get(fmt, 4)
    assert len(raw) == 1200 * 2 * width
    back = tone.decode(raw, fmt, 2)
    assert back == pytest.approx(samples, abs=1 / 100)


def test_s16_frames_are_little_endian_and_interleaved() -> None:
    raw = tone.encode([0.5, -0.5], "S16_LE", 2)
    assert len(raw) == 8
    assert raw[:4] == (16384).to_bytes(2, "little") * 2
    assert raw[4:] == (-16384).to_bytes(2, "little", signed=True) * 2


def test_decode_ignores_a_partial_frame() -> None:
    raw = tone.encode([0.25, 0.25], "S16_LE", 2) + b"\x01"
    assert len(tone.decode(raw, "S16_LE", 2)) == 2
