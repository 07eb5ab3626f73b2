"""`snddiag --root TREE collect` collects TREE (its files, no commands), never this machine."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from snddiag.bundle.read import read_bundle
from snddiag.cli import main
from snddiag.evidence import Evidence, Kind, load_directory
from tests.trees import write_files

MARKER = "BOOT_IMAGE=/vmlinuz-tree root=/dev/vda1 tree-only-marker"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    files = {
        "proc/cmdline": MARKER + "\n",
        "proc/sys/kernel/osrelease": "6.1.0-13-amd64\n",
        "proc/sys/kernel/hostname": "tree-host\n",
        "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
        "proc/modules": "virtio_snd 45056 0 - Live 0x0000000000000000\n",
    }
    return write_files(root, files)


def test_bundle_holds_the_trees_files_and_nothing_of_this_machine(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tree.tar.gz"
    assert main(["--root", str(tree), "collect", "--no-redact", "-o", str(out)]) == 0
    bundle = read_bundle(out)
    assert bundle.evidence.text("proc/cmdline") == MARKER + "\n"
    assert bundle.evidence.text("proc/sys/kernel/hostname") == "tree-host\n"
    assert only_the_mounted_journal(bundle.evidence, tree)
    assert not bundle.evidence.keys_under("lib/udev") + bundle.evidence.keys_under("lib/psutil")
    assert not {"uid", "user", "gids", "groups"} & set(bundle.evidence.meta)
    with tarfile.open(out) as tar:
        assert tar.getnames()[0].startswith("snddiag-tree-host-")
    assert bundle.diagnosis is not None
    capsys.readouterr()
    assert main(["--root", str(tree), "--json"]) == bundle.diagnosis["exit_code"]
    assert json.loads(capsys.readouterr().out)["status"] == bundle.diagnosis["status"]


def test_snapshot_directory_of_the_tree(tree: Path, tmp_path: Path) -> None:
    target = tmp_path / "snap"
    assert main(["--root", str(tree), "collect", "--dir", str(target)]) == 0
    snapshot = load_directory(target)
    assert snapshot.text("proc/cmdline") == MARKER + "\n"
    assert only_the_mounted_journal(snapshot, tree)


def test_root_that_does_not_exist_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.tar.gz"
    assert main(["--root", str(tmp_path / "nope"), "collect", "-o", str(out)]) == 64
    assert capsys.readouterr().err == f"snddiag: --root {tmp_path / 'nope'}: no such directory\n"
    assert not out.exists()


def only_the_mounted_journal(evidence: Evidence, tree: Path) -> bool:
    """Offline, the one command run is journalctl on the tree's own journal (`--root TREE`)."""
    commands = [e for e in evidence if e.kind is Kind.COMMAND]
    return [(e.key, e.argv[1:3]) for e in commands] == [("cmd/journalctl-k", ("--root", str(tree)))]
