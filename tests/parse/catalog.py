"""Every parser of snddiag/parse and the shape of its result, for the hostile-input tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import snddiag.parse
from snddiag.parse import Parsed
from snddiag.parse.alsa import Card, PcmDevice, parse_asound_conf_default, parse_cards, parse_pcm
from snddiag.parse.asound_conf import DefaultDevice, parse_asound_defaults
from snddiag.parse.cmdline import parse_cmdline
from snddiag.parse.json_text import parse_json_list
from snddiag.parse.kconfig import parse_kconfig
from snddiag.parse.kmsg import KernelLine, parse_dmesg, parse_kmsg
from snddiag.parse.lockdown import LOCKDOWN_MODES, parse_lockdown
from snddiag.parse.lsmod import LoadedModule, parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import (
    ModprobeDirective,
    parse_modprobe_conf,
    parse_modules_list,
)
from snddiag.parse.module_index import (
    module_name,
    parse_modules_builtin,
    parse_modules_dep,
)
from snddiag.parse.os_release import parse_os_release
from snddiag.parse.pactl import PulseInfo, parse_pactl_info
from snddiag.parse.pipewire import (
    PwGraph,
    ServerPlaybackRecord,
    parse_pw_dump,
    parse_pw_metadata,
    parse_server_playback,
)
from snddiag.parse.shell_words import split_words
from snddiag.parse.syslog import parse_log_file
from snddiag.parse.virtio_sysfs import (
    MAX_FEATURE_BITS,
    parse_features,
    parse_hex,
    pci_address_of,
    transport_of,
)


def _strs(values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _tuple_of(value: Any, kind: type) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, kind) for v in value)


def _str_dict(value: Any) -> bool:
    return isinstance(value, dict) and _strs(value) and _strs(value.values())


def _cards(value: Any) -> bool:
    return _tuple_of(value, Card) and all(
        isinstance(c.index, int) and _strs((c.card_id, c.driver, c.name, c.long_name))
        for c in value
    )


def _pcms(value: Any) -> bool:
    return _tuple_of(value, PcmDevice) and all(
        all(isinstance(n, int) and n >= 0 for n in (p.card, p.device, p.playback, p.capture))
        and isinstance(p.name, str)
        for p in value
    )


def _kernel_lines(value: Any) -> bool:
    # A time stamp is a finite float (JSON has no inf) or None.
    return _tuple_of(value, KernelLine) and all(
        isinstance(k.text, str)
        and (k.time_s is None or (isinstance(k.time_s, float) and math.isfinite(k.time_s)))
        for k in value
    )


def _modules(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(m, LoadedModule) and m.name == name and type(m.size_bytes) is int
        for name, m in value.items()
    )


def _multi_dict(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _strs(value)
        and all(isinstance(v, tuple) and _strs(v) for v in value.values())
    )


def _directives(value: Any) -> bool:
    return _tuple_of(value, ModprobeDirective) and all(
        _strs((d.verb, d.module, d.args)) and isinstance(d.line_no, int) for d in value
    )


def _cmdline(value: Any) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(p, tuple) and len(p) == 2 and _strs(p) for p in value
    )


def _json_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _features(value: Any) -> bool:
    return value is None or (
        isinstance(value, frozenset)
        and all(type(b) is int and 0 <= b < MAX_FEATURE_BITS for b in value)
    )


def _hex(value: Any) -> bool:
    return value is None or (type(value) is int and 0 <= value < 2**64)


@dataclass(frozen=True)
class Case:
    parser: Callable[[str], Any]
    valid: Callable[[Any], bool]  # the documented shape of the parser's value
    plain: bool = False  # returns the value itself, not a `Parsed`

    @property
    def name(self) -> str:
        return self.parser.__name__


PARSERS: tuple[Case, ...] = (
    Case(parse_cards, _cards),
    Case(parse_pcm, _pcms),
    Case(parse_asound_conf_default, lambda v: v is None or isinstance(v, str)),
    Case(parse_cmdline, _cmdline),
    Case(parse_json_list, _json_list),
    Case(parse_kconfig, _str_dict),
    Case(parse_dmesg, _kernel_lines),
    Case(parse_kmsg, _kernel_lines),
    Case(parse_log_file, _kernel_lines),
    Case(parse_lsmod, _modules),
    Case(parse_proc_modules, _modules),
    Case(parse_modinfo, _multi_dict),
    Case(parse_modprobe_conf, _directives),
    Case(parse_modules_list, lambda v: _tuple_of(v, str)),
    Case(parse_modules_builtin, lambda v: isinstance(v, frozenset) and _strs(v)),
    Case(parse_modules_dep, _str_dict),
    Case(parse_os_release, _str_dict),
    Case(parse_features, _features),
    Case(parse_hex, _hex),
    Case(parse_asound_defaults, lambda v: _tuple_of(v, DefaultDevice)),
    Case(parse_pactl_info, lambda v: v is None or isinstance(v, PulseInfo)),
    Case(parse_pw_dump, lambda v: v is None or isinstance(v, PwGraph)),
    Case(parse_pw_metadata, _str_dict),
    Case(parse_server_playback, lambda v: v is None or isinstance(v, ServerPlaybackRecord)),
    Case(parse_lockdown, lambda v: v is None or v in LOCKDOWN_MODES),
)

# The helpers that take a string but return a plain value rather than a `Parsed`.
HELPERS: tuple[Case, ...] = (
    Case(split_words, lambda v: v is None or (isinstance(v, list) and _strs(v)), plain=True),
    Case(module_name, lambda v: isinstance(v, str), plain=True),
    Case(transport_of, lambda v: v in ("pci", "mmio", "ccw", "unknown"), plain=True),
    Case(pci_address_of, lambda v: v is None or isinstance(v, str), plain=True),
)


def check(case: Case, text: str) -> None:
    """`case.parser(text)` returns its documented shape (and, for a parser, bounded `unparsed`)."""
    result = case.parser(text)
    if case.plain:
        assert case.valid(result), (case.name, result)
        return
    assert isinstance(result, Parsed), case.name
    assert case.valid(result.value), (case.name, repr(result.value)[:300])
    assert isinstance(result.unparsed, tuple), case.name
    cap = snddiag.parse.MAX_LINE_CHARS  # read here: the linearity tests raise it
    assert all(isinstance(u, str) and len(u) <= cap for u in result.unparsed)
