"""Every parser takes any text, garbage and truncation included, and never raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from snddiag.parse.alsa import parse_asound_conf_default, parse_cards, parse_pcm
from snddiag.parse.cmdline import parse_cmdline
from snddiag.parse.data_path import parse_data_path
from snddiag.parse.json_text import parse_json_list
from snddiag.parse.kconfig import parse_kconfig
from snddiag.parse.kmsg import parse_dmesg, parse_kmsg
from snddiag.parse.lsmod import parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import parse_modprobe_conf, parse_modules_list
from snddiag.parse.module_index import parse_modules_builtin, parse_modules_dep
from snddiag.parse.os_release import parse_os_release
from snddiag.parse.syslog import parse_log_file
from snddiag.parse.virtio_sysfs import parse_features, parse_hex

PARSERS: list[Callable[[str], Any]] = [
    parse_cards, parse_pcm, parse_asound_conf_default, parse_cmdline, parse_json_list,
    parse_kconfig, parse_dmesg, parse_kmsg, parse_log_file, parse_lsmod,
    parse_proc_modules, parse_modinfo, parse_modprobe_conf, parse_modules_list,
    parse_modules_builtin, parse_modules_dep, parse_os_release,
    parse_features, parse_hex, parse_data_path,
]  # fmt: skip

JUNK = [
    "",
    "\x00\xff\ufffd\ufffd",
    "Module Size Used by\ntruncated",
    "=" * 5000,
    "'unterminated \"quote",
    "\n\n\n",
    "a:b:c:d\n::::\n",
    "[ 12.3] \x1b[31mred\x1b[0m",
    bytes(range(256)).decode("latin-1"),
]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
def test_parsers_never_raise_on_junk(parser: Callable[[str], Any], junk: str) -> None:
    parser(junk)


def test_lsmod_junk_gives_no_modules() -> None:
    assert parse_lsmod("Module Size Used by\ntruncated").value == {}
    assert parse_lsmod("\x00\xff").value == {}


def test_features_reject_non_bit_strings() -> None:
    assert parse_features("01x1").value is None
    assert parse_features("").value is None


def test_hex_garbage_is_none() -> None:
    assert parse_hex("0xZZ").value is None


def test_json_list_rejects_other_shapes() -> None:
    assert parse_json_list('{"a": 1}').value is None
    assert parse_json_list("[1, 2]").value is None
    assert parse_json_list('[{"name": "pipewire"}]').value == [{"name": "pipewire"}]
