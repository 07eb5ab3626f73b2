"""Property-based tests over every parser: any text is parsed without raising, into its documented
types; kernel-shaped text generated here reads back to the values it was made from.

Deterministic (`derandomize=True`, no example database) and bounded (examples, sizes, deadline), so
the file runs in a few seconds in CI and fails the same way on every machine.
"""

from __future__ import annotations

import shlex
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snddiag.parse import MAX_INT_DIGITS, MAX_LINE_CHARS, ascii_int, lines_of
from snddiag.parse.alsa import parse_cards, parse_pcm
from snddiag.parse.cmdline import blacklisted_on_cmdline, parse_cmdline
from snddiag.parse.kmsg import parse_dmesg, parse_journal, parse_kmsg, parse_syslog
from snddiag.parse.lsmod import parse_proc_modules
from snddiag.parse.shell_words import split_words
from snddiag.parse.virtio_sysfs import (
    MAX_FEATURE_BITS,
    SOUND_FEATURES,
    feature_names,
    parse_features,
    parse_hex,
    status_names,
)
from tests.parse.catalog import HELPERS, PARSERS, Case, check

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=timedelta(seconds=2),
)

# Pieces of the syntax every parser looks for, and the characters that broke them before: mixed
# at random they reach the corners that plain random text never does.
TOKENS = [
    "0", "1", "9", "00-00: ", " : ", "playback 1", "capture ", "[", "]", "]: ", " - ", " 0 [",
    "CONFIG_A", "=", "# ", " is not set", "\n", " ", "\t", "\\", "'", '"', "<6>", "[    1.5] ",
    "6,1,2,-;", "Nov 25 12:00:00 h kernel: ", "alias ", ".ko", ":", "0x", "f", "²", "٣", "\x00",
    "\x1b[31m", "\ufffd", "\u2028", "\r", "{", "}", ",", "Linux version ", "blacklist ",
    "install a /bin/true", "options ", "Module Size Used by", "virtio_snd 45056 0 - Live 0x0",
    "defaults.pcm.card ", "9" * 25, "1" * 70, "/pci0000:00/0000:00:04.0/virtio1",
]  # fmt: skip

TEXTS = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")),
    st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
)


@pytest.mark.parametrize("case", PARSERS + HELPERS, ids=lambda c: c.name)
@DETERMINISTIC
@given(text=TEXTS)
def test_any_text_gives_the_documented_types(case: Case, text: str) -> None:
    check(case, text)


@DETERMINISTIC
@given(text=st.text(alphabet=" \t\r\n'\"\\ab=#\x0b\xa0\x00", max_size=40))
def test_shell_words_are_shlex_words(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    assert split_words(text) == expected


@DETERMINISTIC
@given(pairs=st.lists(st.tuples(st.sampled_from(["a", "module_blacklist"]), st.text(max_size=9))))
def test_cmdline_pairs_feed_the_blacklist_reader(pairs: list[tuple[str, str]]) -> None:
    line = " ".join(shlex.quote(f"{name}={value}") for name, value in pairs)
    parsed = parse_cmdline(line).value
    assert parsed == tuple(pairs)
    blocked = blacklisted_on_cmdline(parsed)
    named = {m.replace("-", "_") for n, v in pairs if n != "a" for m in v.split(",") if m}
    assert set(blocked) == named


ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
ID1 = st.text(alphabet=ID_CHARS, min_size=1, max_size=15)
NAME = st.text(alphabet=ID_CHARS + " -.", max_size=40)
SMALL = st.integers(min_value=0, max_value=99)


@DETERMINISTIC
@given(index=SMALL, card_id=ID1, driver=ID1, name=NAME, long=NAME)
def test_cards_read_back_what_the_kernel_prints(
    index: int, card_id: str, driver: str, name: str, long: str
) -> None:
    text = f"{index:2d} [{card_id:<15s}]: {driver} - {name}\n                      {long}\n"
    (card,) = parse_cards(text).value
    assert (card.index, card.card_id, card.driver) == (index, card_id, driver)
    assert (card.name, card.long_name) == (name.strip(), long.strip())


@DETERMINISTIC
@given(
    card=SMALL,
    device=SMALL,
    pcm_id=ID1,
    name=NAME,
    playback=st.one_of(st.none(), SMALL),
    capture=st.one_of(st.none(), SMALL),
)
def test_pcm_reads_back_what_the_kernel_prints(
    card: int, device: int, pcm_id: str, name: str, playback: int | None, capture: int | None
) -> None:
    line = f"{card:02d}-{device:02d}: {pcm_id} : {name}"
    line += f" : playback {playback}" if playback is not None else ""
    line += f" : capture {capture}" if capture is not None else ""
    (pcm,) = parse_pcm(line + "\n").value
    assert (pcm.card, pcm.device, pcm.name) == (card, device, pcm_id)
    assert (pcm.playback, pcm.capture) == (playback or 0, capture or 0)


STAMP_SECONDS = st.integers(min_value=0, max_value=10**11)
STAMP_MICROS = st.integers(min_value=0, max_value=999_999)


@DETERMINISTIC
@given(seconds=STAMP_SECONDS, micros=STAMP_MICROS, message=NAME)
def test_kernel_log_stamps_read_back(seconds: int, micros: int, message: str) -> None:
    stamp = f"{seconds:5d}.{micros:06d}"
    expected = float(f"{seconds}.{micros:06d}")
    for parsed in (
        parse_dmesg(f"[{stamp}] {message}"),
        parse_journal(f"[{stamp}] host kernel: {message}"),
        parse_syslog(f"Nov 25 12:00:00 host kernel: [{stamp}] {message}"),
        parse_kmsg(f"6,339,{seconds * 10**6 + micros},-;{message}"),
    ):
        (line,) = parsed.value
        assert line.time_s == pytest.approx(expected)
        assert line.text == message


@DETERMINISTIC
@given(digits=st.integers(min_value=21, max_value=5000))
def test_overlong_stamps_are_not_stamps(digits: int) -> None:
    big = "9" * digits
    assert parse_dmesg(f"[{big}.000000] x").value[0].time_s is None
    assert parse_journal(f"[{big}.0] h kernel: x").value == ()
    assert parse_syslog(f"Nov 25 12:00:00 h kernel: [{big}.0] x").value[0].time_s is None
    assert parse_kmsg(f"6,1,{big},-;x").value == ()


@DETERMINISTIC
@given(text=st.text(max_size=30))
def test_ascii_int_is_int_of_ascii_digits_only(text: str) -> None:
    expected = (
        int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_INT_DIGITS else None
    )
    assert ascii_int(text) == expected


@DETERMINISTIC
@given(size=st.integers(min_value=0, max_value=2**64 - 1), upper=st.booleans())
def test_hex_reads_back_any_u64(size: int, upper: bool) -> None:
    text = f"0x{size:08x}\n"
    assert parse_hex(text.upper() if upper else text).value == size
    assert isinstance(status_names(size), tuple)


@DETERMINISTIC
@given(bits=st.frozensets(st.integers(min_value=0, max_value=MAX_FEATURE_BITS - 1)))
def test_features_read_back_any_bit_set(bits: frozenset[int]) -> None:
    width = max(bits, default=63) + 1
    text = "".join("1" if i in bits else "0" for i in range(width)) + "\n"
    assert parse_features(text).value == bits
    assert len(feature_names(bits, SOUND_FEATURES)) == len(bits)


@DETERMINISTIC
@given(size=st.integers(min_value=0, max_value=2**64 - 1), name=ID1)
def test_proc_modules_sizes_read_back(size: int, name: str) -> None:
    module = parse_proc_modules(f"{name} {size} 0 - Live 0x0\n").value[name]
    assert module.size_bytes == size


@DETERMINISTIC
@given(text=st.text(max_size=200), long=st.integers(min_value=0, max_value=3 * MAX_LINE_CHARS))
def test_lines_are_never_longer_than_the_cap(text: str, long: int) -> None:
    lines = lines_of(text + "x" * long)
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    assert [line[:50] for line in lines] == [line[:50] for line in (text + "x" * long).splitlines()]
