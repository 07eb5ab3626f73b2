"""A live collection runs a command only when the files that hold the same facts fall short."""

from __future__ import annotations

from pathlib import Path

import pytest

from snddiag.collect import collect
from snddiag.collect.plan import KERNEL_LOGS, PLAN, STAND_INS, key_of
from snddiag.evidence import Kind

RELEASE = "6.12.95+deb12-amd64"
DEP_LINE = "kernel/sound/virtio/virtio_snd.ko.xz: kernel/sound/core/snd-pcm.ko.xz\n"
FILES = {
    "proc/sys/kernel/osrelease": f"{RELEASE}\n",
    "proc/sys/kernel/arch": "x86_64\n",
    "proc/modules": "virtio_snd 45056 0 - Live 0x0000000000000000\n",
    f"lib/modules/{RELEASE}/modules.dep": DEP_LINE,
    "dev/kmsg": "6,1,100,-;virtio_snd virtio0: hello\n",
}


def _root(tmp_path: Path, files: dict[str, str]) -> Path:
    for key, text in files.items():
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _commands(root: Path) -> set[str]:
    return {e.key for e in collect(root, live=True) if e.kind is Kind.COMMAND}


def test_files_that_hold_the_facts_run_no_command(tmp_path: Path) -> None:
    assert _commands(_root(tmp_path, FILES)) == set()


def test_each_command_runs_when_its_files_fall_short(tmp_path: Path) -> None:
    files = {
        **FILES,
        "proc/sys/kernel/arch": "",  # read, but empty: uname -m is still wanted
        f"lib/modules/{RELEASE}/modules.dep": "kernel/sound/virtio/virtio_snd_x.ko:\n",
        "dev/kmsg": "",
    }
    del files["proc/modules"]
    ran = _commands(_root(tmp_path, files))
    assert {"cmd/uname", "cmd/lsmod", "cmd/modinfo-virtio_snd", "cmd/dmesg"} <= ran


@pytest.mark.parametrize(
    ("line", "stands_in"),
    [
        (DEP_LINE, True),
        ("kernel/sound/virtio/virtio_snd.ko:\n", True),
        ("updates/virtio-snd.ko.zst: kernel/sound/core/snd.ko.zst\n", True),
        ("kernel/sound/virtio/virtio_snd_x.ko.xz:\n", False),
        ("kernel/drivers/virtio/virtio_net.ko.xz:\n", False),
        ("virtio_snd.ko.xz:\n", True),
        ("kernel/x.ko: kernel/sound/virtio/virtio_snd.ko\n", False),  # only needed by another
        ("kernel/sound/virtio/virtio_snd.ko\n", False),  # no colon: no module line
    ],
)
def test_modinfo_runs_only_without_a_modules_dep_line(
    tmp_path: Path, line: str, stands_in: bool
) -> None:
    ran = _commands(_root(tmp_path, {**FILES, f"lib/modules/{RELEASE}/modules.dep": line}))
    assert ("cmd/modinfo-virtio_snd" not in ran) == stands_in


def test_stand_ins_name_commands_of_the_plan() -> None:
    commands = {key_of(source) for source in PLAN if key_of(source).startswith("cmd/")}
    assert {stand_in.command for stand_in in STAND_INS} <= commands


def test_kmsg_comes_before_the_dmesg_command() -> None:
    keys = [key_of(log.source) for log in KERNEL_LOGS]
    assert keys.index("dev/kmsg") < keys.index("cmd/dmesg") < keys.index("cmd/journalctl-k")
