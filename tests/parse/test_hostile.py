"""Hostile evidence, built here: every parser stays total, typed, fast, and linear in its input.

Times are CPU times of this process, asserted loosely (CI shares two cores): each case must take
under 2 s, and the worst-case shapes must grow about linearly (400 KB may cost at most 8 times
100 KB, where the former quadratic regexes cost 16 times and more: ` 0 [` then 100 KB of blanks
took 10 s in the old `/proc/asound/cards` regex).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import snddiag.parse
from snddiag.parse import MAX_LINE_CHARS
from snddiag.parse.alsa import parse_cards, parse_pcm
from snddiag.parse.cmdline import parse_cmdline
from snddiag.parse.json_text import parse_json_list
from snddiag.parse.kmsg import parse_dmesg, parse_kmsg
from snddiag.parse.lsmod import parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import parse_modprobe_conf
from snddiag.parse.os_release import parse_os_release
from snddiag.parse.syslog import parse_log_file
from snddiag.parse.virtio_sysfs import feature_names, parse_features, parse_hex
from tests.parse.catalog import HELPERS, PARSERS, Case, check

FOUR_MIB = 4 * 1024 * 1024
SLOW_S = 2.0


def _rep(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


# Lines shaped for the worst case of each parser's matching: the shapes that made the former
# regexes backtrack (blanks where a lazy group meets `\s*`, repeated ` : playback 1`, long digit
# runs where a number is expected, unclosed quotes for shlex), `size` characters long.
SHAPES: dict[str, list[Callable[[int], str]]] = {
    "parse_cards": [
        lambda n: " 0 [" + " " * n + "x",
        lambda n: " 0 [" + _rep("]: x", n),
        lambda n: " 0 [a]: " + _rep("d ", n),
        lambda n: _rep("0 ", n) + "[",
    ],
    "parse_pcm": [
        lambda n: "00-00: a : " + " " * n + "x",
        lambda n: "00-00: a : b" + _rep(" : playback 1", n) + "x",
        lambda n: "00-00: " + _rep(" : ", n),
        lambda n: "00-00: a :" + _rep(" capture 1 :", n),
    ],
    "parse_asound_conf_default": [
        lambda n: "defaults.pcm.card" + " " * n,
        lambda n: _rep("defaults.pcm.card ", n),
    ],
    "parse_cmdline": [
        lambda n: '"' + "a" * n,
        lambda n: _rep("a=b ", n),
        lambda n: _rep("\\", n) + "\\",
        lambda n: _rep("'", n) + "'",
        lambda n: _rep('"\\', n),
    ],
    "parse_json_list": [
        lambda n: "[" * n,
        lambda n: '[{"a": "' + _rep("\\u0041", n),
        lambda n: "[" + _rep("{},", n) + "{}]",
    ],
    "parse_kconfig": [
        lambda n: "CONFIG_" + "A" * n,
        lambda n: "# CONFIG_" + "A" * n + " is not",
        lambda n: "CONFIG_A=" + '"' * n,
    ],
    "parse_dmesg": [
        lambda n: "[" + " " * n + "x",
        lambda n: "[" + "1" * n + ".5] x",
        lambda n: "<" + "6" * n,
        lambda n: "[ 1." + "5" * n + "] x",
        lambda n: "[    1.0]" + _rep("[    T1]", n),
        lambda n: "kern" + " " * n + ":err   : x",
        lambda n: "<6>" * max(1, n // 3),
        lambda n: "[    1.0 <" + " " * n + ">] x",
        lambda n: "[Sun Nov 29 14:00:00 2026]" + " " * n,
    ],
    "parse_kmsg": [
        lambda n: "6,1,2," + "-" * n,
        lambda n: "1" * n + ",",
        lambda n: "6,1," + "2" * n + ",-;x",
    ],
    "parse_log_file": [
        lambda n: "Nov 25 12:00:00 h" + " " * n + "x",
        lambda n: "Nov " + "1" * n,
        lambda n: "Nov 25 12:00:00 h kernel: [" + " " * n,
        lambda n: "Nov 25 " + _rep("1:", n) + " h kernel: x",
        lambda n: "Nov 25 12:00:00 " + "h" * n + " kernel: x",
        lambda n: "Nov 25 12:00:00 h " + _rep("kern.err ", n) + "kernel: x",
        lambda n: "2026-11-29T14:00:00." + "1" * n + "+00:00 h kernel: x",
        lambda n: "Sun 2026-11-29 14:00:00 " + "U" * n + " h kernel: x",
        lambda n: "[ 1.0] " + "h" * n + " x",
        lambda n: "[" + " " * n,
        lambda n: "[ 1.0] h " + _rep("kernel ", n),
        lambda n: "[ 1.0] h kernel: x\n" + _rep("[ 1.0] h " + "kernel" * 20 + ": x\n", n),
        lambda n: '{"MESSAGE": ' + "[" * n,
        lambda n: '{"_TRANSPORT": "kernel", "MESSAGE": [' + _rep("255,", n) + "1]}",
        lambda n: "data: " + _rep('{"a": ', n),
        lambda n: "-- " + "-" * n,
        lambda n: "Linux version x\n" + _rep("a" * 63 + "\n", n),  # journalctl -o cat
        lambda n: "Nov 25 12:00:00 h kernel: x\n" + _rep(" continued" * 6 + "\n", n),
    ],
    "parse_lsmod": [lambda n: "a " + "1" * n, lambda n: _rep("x ", n)],
    "parse_proc_modules": [lambda n: "a " + "1" * n + " 0 - Live 0x0", lambda n: _rep("x ", n)],
    "parse_modinfo": [
        lambda n: "a" + "." * n + " x",
        lambda n: "a:" + " " * n,
        lambda n: "sig: a\n" + _rep("\tAB:CD:EF:01:23:45:67:89:\n", n),
    ],
    "parse_modprobe_conf": [
        lambda n: "options a \\\n" + _rep("b=1 \\\n", n) + "c=2",
        lambda n: "#" * n,
        lambda n: "blacklist " + "a" * n,
    ],
    "parse_modules_list": [lambda n: "a" * n, lambda n: _rep("a\n", n)],
    "parse_modules_builtin": [lambda n: _rep(".ko", n)],
    "parse_modules_dep": [lambda n: "a.ko:" + _rep(" b.ko", n)],
    "parse_os_release": [
        lambda n: 'NAME="' + "a" * n,
        lambda n: "A=" + _rep("'", n),
        lambda n: "A=" + _rep("a ", n),
        lambda n: "A=" + _rep("\\", n),
    ],
    "parse_features": [lambda n: "1" * n, lambda n: _rep("01", n) + "x"],
    "parse_hex": [lambda n: "0x" + "f" * n, lambda n: "0" * n],
    "split_words": [lambda n: '"' + "a" * n, lambda n: _rep("a'", n)],
    "module_name": [lambda n: _rep("/", n), lambda n: _rep(".ko", n)],
    "transport_of": [lambda n: _rep("/pci", n)],
    "pci_address_of": [lambda n: _rep("0:0:0./", n)],
    "parse_asound_defaults": [
        lambda n: "pcm.!default " + "{" * n,
        lambda n: _rep("pcm.!default {\n", n),
        lambda n: _rep("ctl.!default hw:", n),
    ],
    "parse_pactl_info": [lambda n: _rep("Server Name:", n), lambda n: ":" * n],
    "parse_pw_dump": [lambda n: "[" * n, lambda n: "[" + _rep('{"type":"Node"},', n)[:-1] + "]"],
    "parse_pw_metadata": [lambda n: _rep("update: id:0 key:'a' value:'b'\n", n)],
    "parse_server_playback": [lambda n: '{"status":"ok","device":"' + "a" * n + '"}'],
    "parse_lockdown": [lambda n: "[" * n, lambda n: _rep("[none] ", n)],
}
CASES = {case.name: case for case in PARSERS + HELPERS}
SHAPE_IDS = [(name, i) for name, shapes in SHAPES.items() for i in range(len(shapes))]


def test_every_parser_has_shapes() -> None:
    assert set(SHAPES) == set(CASES)


def _timed(case: Case, text: str) -> float:
    """CPU seconds of this process: other jobs on a shared CI machine do not count."""
    start = time.process_time()
    check(case, text)
    return time.process_time() - start


@pytest.mark.parametrize(("name", "shape"), SHAPE_IDS, ids=[f"{n}-{i}" for n, i in SHAPE_IDS])
def test_four_mib_line(name: str, shape: int) -> None:
    assert _timed(CASES[name], SHAPES[name][shape](FOUR_MIB)) < SLOW_S


@pytest.mark.parametrize(("name", "shape"), SHAPE_IDS, ids=[f"{n}-{i}" for n, i in SHAPE_IDS])
def test_worst_case_lines_grow_linearly(
    name: str, shape: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lines are not cut here, so each regex itself meets the whole 400 KB.
    monkeypatch.setattr(snddiag.parse, "MAX_LINE_CHARS", 1 << 30)
    case, build = CASES[name], SHAPES[name][shape]
    small = min(_timed(case, build(100_000)) for _ in range(3))
    large = min(_timed(case, build(400_000)) for _ in range(3))
    assert large < SLOW_S
    assert large <= 8 * small + 0.05, (small, large)


CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\x85\u2028\ufeff\x1b]0;title\x07\x1b[2J"
INVALID_UTF8 = (b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc" * 1000).decode(
    "utf-8", errors="replace"
)


@pytest.mark.parametrize("case", PARSERS + HELPERS, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "text",
    [
        "\x00" * 100_000,
        CONTROL * 1000,
        INVALID_UTF8,
        "²³¹⁰" * 1000,
        "9" * 5000,
        "[" + "9" * 300 + ".000000] x",
        (CONTROL + "\n") * 1000,
    ],
    ids=[
        "nul",
        "control",
        "invalid-utf8",
        "superscripts",
        "5000-digits",
        "300-digit-stamp",
        "lines",
    ],
)
def test_odd_characters(case: Case, text: str) -> None:
    assert _timed(case, text) < SLOW_S


# Where a number is read, a superscript, a non-ASCII digit or 5000 digits is not a number.
NOT_NUMBERS = ["²", "4²5", "٣", "9" * 5000, "1" * 21]


@pytest.mark.parametrize("number", NOT_NUMBERS, ids=["super", "mixed", "arabic", "5000", "21"])
def test_odd_numbers_are_not_read(number: str) -> None:
    assert parse_lsmod(f"Module Size Used by\nsnd_pcm {number} 1\n").value == {}
    assert parse_proc_modules(f"virtio_snd {number} 0 - Live 0x0\n").value == {}
    assert parse_cards(f"{number} [a  ]: drv - name\n").value == ()
    assert parse_pcm(f"{number}-00: a : b : playback 1\n").value == ()
    assert parse_pcm(f"00-00: a : b : playback {number}\n").value[0].playback == 0
    assert parse_kmsg(f"6,1,{number},-;x\n").value == ()
    assert parse_dmesg(f"[{number}.000000] x\n").value[0].time_s is None
    assert parse_hex(f"0x{number}").value is None


@pytest.mark.parametrize("digits", [300, 309, 400, 5000])
def test_long_time_stamps_are_no_stamps(digits: int) -> None:
    big = "9" * digits
    assert parse_dmesg(f"[{big}.000000] x").value[0].time_s is None
    assert parse_log_file(f"[{big}.000000] h kernel: x").value == ()
    assert parse_log_file(f"Nov 25 12:00:00 h kernel: [{big}.0] x").value[0].time_s is None
    (odd,) = parse_kmsg(f"6,1,{big},-;x").unparsed
    assert odd.startswith("6,1,999")


def test_32_mib_features_are_not_read() -> None:
    parsed = parse_features("1" * (32 * 1024 * 1024))
    assert parsed.value is None
    assert len(parsed.unparsed[0]) == MAX_LINE_CHARS
    assert parse_features("1" * 128).value == frozenset(range(128))
    assert len(feature_names(frozenset(range(128)), {})) == 128


def test_a_cut_line_is_read_as_its_head() -> None:
    long = "x" * (2 * MAX_LINE_CHARS)
    assert parse_dmesg(f"[    1.000000] {long}").value[0].text == long[: MAX_LINE_CHARS - 15]
    assert parse_os_release(f'NAME="{long}"').value == {}  # its closing quote was cut off
    assert parse_cmdline(f"a=1 {long}").value[0] == ("a", "1")


def test_deep_json_is_garbage() -> None:
    assert parse_json_list("[" * 100_000).value is None
    assert parse_json_list('[{"a": ' + "[" * 100_000).value is None
    assert parse_json_list('[{"a": ' + "9" * 5000 + "}]").value is None


def test_continued_lines_are_joined_once() -> None:
    text = "options virtio_snd \\\n" + "a=1 \\\n" * 200_000 + "b=2\n"
    (directive,) = parse_modprobe_conf(text).value
    assert directive.args.startswith("a=1  a=1")  # the `\\` becomes a blank
    assert len(directive.module) + len(directive.args) < MAX_LINE_CHARS
    signature = "sig_key: AB\n" + "\t\tCD:EF\n" * 200_000
    assert parse_modinfo(signature).value["sig_key"][0].startswith("ABCD:EFCD:EF")
