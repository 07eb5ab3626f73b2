"""The test tone: level, frequency, clean ends, and every PCM format it is written in."""

from __future__ import annotations

import random

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


# ---- what a recording holds (tone.content)


def _noise(count: int, amplitude: float, seed: int = 1) -> list[float]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test noise
    return [rng.uniform(-amplitude, amplitude) for _ in range(count)]


def test_a_recorded_tone_reads_its_level_and_frequency() -> None:
    heard = tone.content(tone.sine(48000, 48000), 48000)
    assert (heard.peak_dbfs, heard.rms_dbfs, heard.silent) == (-20.0, -23.0, False)
    assert (heard.dc_offset, heard.clipped_samples) == (0.0, 0)
    assert heard.tone_hz == pytest.approx(440.0, abs=0.5)


def test_digital_silence_is_silent_without_levels() -> None:
    heard = tone.content([0.0] * 48000, 48000)
    assert heard.silent
    assert heard.peak_dbfs is heard.rms_dbfs is heard.tone_hz is None
    assert (heard.dc_offset, heard.clipped_samples) == (0.0, 0)


def test_noise_has_a_level_and_no_tone() -> None:
    heard = tone.content(_noise(48000, 0.1), 48000)
    assert heard.peak_dbfs == pytest.approx(-20.0, abs=0.1)
    assert not heard.silent
    assert heard.tone_hz is None


def test_a_tone_in_noise_is_still_found() -> None:
    mixed = [s + n for s, n in zip(tone.sine(48000, 48000), _noise(48000, 0.03))]
    assert tone.content(mixed, 48000).tone_hz == pytest.approx(440.0, abs=1.0)


def test_a_tone_spliced_where_chunks_were_dropped_keeps_its_pitch() -> None:
    # A host that drops a chunk now and then (a period, or 37 frames) breaks the phase, not the
    # pitch: seen in the lab's PulseAudio capture.
    whole = tone.sine(48000, 96000)
    rng = random.Random(2)  # noqa: S311 - reproducible test splices
    spliced: list[float] = []
    at = 0
    while len(spliced) < 48000:
        spliced += whole[at : at + 960]
        at += 960 + rng.choice([0, 0, 37, 500])
    assert tone.content(spliced, 48000).tone_hz == pytest.approx(440.0, abs=1.0)


def test_an_offset_is_measured_and_the_tone_found_around_it() -> None:
    heard = tone.content([s + 0.25 for s in tone.sine(48000, 48000)], 48000)
    assert heard.dc_offset == pytest.approx(0.25, abs=0.001)
    assert heard.tone_hz == pytest.approx(440.0, abs=0.5)


def test_full_scale_samples_count_as_clipped() -> None:
    clipped = [max(-1.0, min(1.0, 3 * s)) for s in tone.sine(48000, 4800, dbfs=0.0)]
    raw = tone.decode(tone.encode(clipped, "S16_LE", 1), "S16_LE", 1)
    heard = tone.content(raw, 48000)
    assert heard.peak_dbfs == 0.0
    assert heard.clipped_samples > 1000
    assert tone.content(tone.sine(48000, 4800), 48000).clipped_samples == 0


def test_a_constant_is_an_offset_not_a_tone() -> None:
    heard = tone.content([0.5] * 4800, 48000)
    assert (heard.dc_offset, heard.tone_hz, heard.silent) == (0.5, None, False)
