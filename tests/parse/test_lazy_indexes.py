"""KernelConfig and ModuleIndex look a name up in the text instead of parsing it all: each
must say what the full parse says, on every captured guest and on made-up text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snddiag.parse.kconfig import KernelConfig, parse_kconfig
from snddiag.parse.module_index import ModuleIndex, parse_modules_builtin, parse_modules_dep

GUESTS = Path(__file__).resolve().parent.parent / "fixtures" / "guests"
CONFIGS = sorted(GUESTS.glob("*/data/boot/config-*"))
MODULE_INDEXES = sorted(GUESTS.glob("*/data/lib/modules/*/modules.dep"))
BUILTIN_LISTS = sorted(GUESTS.glob("*/data/lib/modules/*/modules.builtin"))


def _same(lazy: KernelConfig | ModuleIndex, full: dict[str, str], names: list[str]) -> None:
    for name in names:
        if name in full:
            assert lazy[name] == full[name], name
        else:
            with pytest.raises(KeyError):
                lazy[name]
            assert lazy.get(name) is None


def test_there_are_captured_indexes() -> None:
    assert len(CONFIGS) >= 10 and len(MODULE_INDEXES) >= 10 and len(BUILTIN_LISTS) >= 10


CAPTURED = [
    *[(path, KernelConfig, parse_kconfig) for path in CONFIGS],
    *[(path, ModuleIndex, parse_modules_dep) for path in MODULE_INDEXES],
]
ASKED = {
    KernelConfig: [
        "CONFIG_SND_VIRTIO",
        "CONFIG_MODULES",
        "CONFIG_SOUND",
        "CONFIG_SND",
        "CONFIG_NOPE",
    ],
    ModuleIndex: ["virtio_snd", "snd_hda_intel", "snd_pcm", "no_such_module", "a_b_c_d_e_f"],
}


@pytest.mark.parametrize(
    ("path", "index", "parse"),
    CAPTURED,
    ids=[f"{index.__name__}-{path.relative_to(GUESTS).parts[0]}" for path, index, _ in CAPTURED],
)
def test_index_of_a_captured_guest(path: Path, index: type, parse: Any) -> None:
    """What the facts ask, a name of no line, and a sample of every name the text holds."""
    text = path.read_text(errors="replace")
    full = parse(text).value
    _same(index(text), full, ASKED[index] + sorted(full)[::53])


_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\u2028"])
_CONFIG_LINES = st.sampled_from(
    [
        "CONFIG_A=y", "CONFIG_A=m", '"CONFIG_A=y"', "CONFIG_AB=y", "CONFIG_BA=n",
        "# CONFIG_A is not set", "# CONFIG_AB is not set", "#CONFIG_A=y", "xCONFIG_A=y",
        "CONFIG_A", "CONFIG_A=\"x y\"", "# comment", "", "CONFIG_B=CONFIG_A=y",
        "X" * 20_000 + "CONFIG_A=y",
    ]
)  # fmt: skip


@given(st.lists(st.tuples(_CONFIG_LINES, _ENDS), max_size=12))
def test_kernel_config_of_made_up_text(lines: list[tuple[str, str]]) -> None:
    text = "".join(line + end for line, end in lines)
    _same(KernelConfig(text), parse_kconfig(text).value, ["CONFIG_A", "CONFIG_AB", "CONFIG_B"])


_DEP_LINES = st.sampled_from(
    [
        "kernel/sound/virtio/virtio_snd.ko.xz: kernel/sound/core/snd.ko.xz",
        "kernel/x/virtio-snd.ko:", "kernel/x/virtio_snd.ko.zst: a/b.ko", "virtio_snd.ko:",
        "kernel/x/my_virtio_snd.ko:", "kernel/x/foo.ko: kernel/x/virtio_snd.ko",
        "kernel/x/virtio_snd.kofoo.ko:", "kernel/x/virtio_snd.ko", "  kernel/x/virtio_snd.ko  :",
        "kernel/a-b_c.ko:", "kernel/a_b-c.ko.gz:", "garbage", "", "X" * 20_000 + "/virtio_snd.ko:",
    ]
)  # fmt: skip


@given(st.lists(st.tuples(_DEP_LINES, _ENDS), max_size=12))
def test_module_index_of_made_up_text(lines: list[tuple[str, str]]) -> None:
    text = "".join(line + end for line, end in lines)
    full = parse_modules_dep(text).value
    _same(ModuleIndex(text), full, ["virtio_snd", "a_b_c", "foo", "my_virtio_snd", "b"])


def _same_names(text: str, names: list[str]) -> None:
    full = parse_modules_builtin(text).value
    lazy = ModuleIndex(text, builtin=True)
    for name in names:
        assert (name in lazy) == (name in full), name


@pytest.mark.parametrize("path", BUILTIN_LISTS, ids=lambda p: p.parts[-6])
def test_builtin_list_of_a_captured_guest(path: Path) -> None:
    text = path.read_text(errors="replace")
    full = sorted(parse_modules_builtin(text).value)
    _same_names(text, ["virtio_snd", "snd", "snd_pcm", "no_such_module", *full[::41]])


_BUILTIN_LINES = st.sampled_from(
    [
        "kernel/sound/virtio/virtio_snd.ko", "kernel/x/virtio-snd.ko", "  virtio_snd.ko  ",
        "kernel/x/my_virtio_snd.ko", "kernel/x/virtio_snd", "kernel/a-b_c.ko", "garbage", "",
        "X" * 20_000 + "/virtio_snd.ko",
    ]
)  # fmt: skip


@given(st.lists(st.tuples(_BUILTIN_LINES, _ENDS), max_size=10))
def test_builtin_list_of_made_up_text(lines: list[tuple[str, str]]) -> None:
    _same_names("".join(line + end for line, end in lines), ["virtio_snd", "a_b_c", "snd"])


def test_a_line_holding_the_name_many_times_is_read_once() -> None:
    """Linear on hostile text: a line full of `virtio_snd.ko` is one line to read, not one
    read of the whole line for each time it holds the name."""
    line = "kernel/x/foo.ko:" + " kernel/x/virtio_snd.ko" * 50_000
    index = ModuleIndex(f"{line}\nkernel/x/bar.ko:\n", builtin=False)
    read: list[str] = []
    path_of = index._path_of

    def counted(text: str) -> str | None:
        read.append(text)
        return path_of(text)

    index._path_of = counted  # type: ignore[method-assign]
    assert "virtio_snd" not in index  # it is only ever a dependency here
    assert len(read) <= 2  # the long line once, for each of the two spellings at most
