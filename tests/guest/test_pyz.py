"""snddiag.pyz in real guests: a bare interpreter (`python3 -I -S`: only the archive's copies of
PyYAML, rich and pyudev, no psutil), $PYTHON with its site packages, and Debian's python3 with
Debian's libraries, each reach the installed tool's verdict in the same boot (lab.PYZ_COMMANDS),
and so does the README's first command for Debian (Debian's python3 -m snddiag, empty environment).

The healthy guest then starts the real systemd-udevd, which writes its database for the sound
devices, and the udev records snddiag reads from sysfs and /run/udev/data are compared with
pyudev's (libudev's) there.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from . import lab
from .lab import GuestRun, LabError
from .scenarios import BY_NAME, Scenario

PYZ_SCENARIOS = ("healthy-pci", "legacy-mmio")
UDEV_SCENARIO = "healthy-pci"
RUNS = ("pyz-bare", "pyz-site", "pyz-distro", "readme-debian")

_UDEV_PAIR = """
import json, pathlib, pyudev
from snddiag.collect.libraries import udev_devices
theirs = [
    {"sys_path": d.sys_path, "driver": d.driver or "", "properties": dict(d.properties),
     "tags": sorted(d.tags), "initialized": bool(d.is_initialized)}
    for d in pyudev.Context().list_devices(subsystem="sound")
]
ours = udev_devices(pathlib.Path("/"), "sound")
print(json.dumps({"files": ours, "pyudev": sorted(theirs, key=lambda d: d["sys_path"])}))
"""
UDEV_AGREEMENT = (
    "/lib/systemd/systemd-udevd --daemon"
    " && udevadm trigger --action=add --subsystem-match=sound"
    " && udevadm settle --timeout=60"
    f' && "$PYTHON" -c {shlex.quote(_UDEV_PAIR)}'
)
# What a plain live run imports beyond the interpreter's own start-up, on Debian's python3.
_RUN_AND_LIST = """
import os, sys
first = set(sys.modules)
sys.stdout = open(os.devnull, "w")
from snddiag import cli
cli.main(["--json"])
print(" ".join(sorted(set(sys.modules) - first)), file=sys.__stdout__)
"""
STOCK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
LIBRARIES = ("yaml", "rich", "psutil", "pyudev")
_WHERE = f"import {', '.join(LIBRARIES)}; print({', '.join(m + '.__file__' for m in LIBRARIES)})"
COMMANDS = {
    **lab.PYZ_COMMANDS,
    # The README's first command on Debian: Debian's python3 and python3-* packages, nothing
    # from this environment.
    "readme-debian": f'cd "$REPO" && env -i PATH={STOCK_PATH} python3 -m snddiag --json',
    "bare-yaml": '"$PYTHON" -I -S -c "import yaml"',
    "distro-libraries": f"{lab.DISTRO_PYTHON} -I -c {shlex.quote(_WHERE)}",
    "udev-agreement": UDEV_AGREEMENT,
    "modules-of-a-run": f'cd "$REPO" && {lab.DISTRO_PYTHON} -c {shlex.quote(_RUN_AND_LIST)}',
    # -v names each module's loader: the archive's code member, on both interpreters.
    "pyz-loaders": f'for p in "$PYTHON" {lab.DISTRO_PYTHON}; do "$p" -I -S -v'
    f" {shlex.quote(str(lab.PYZ))} --json 2>&1 >/dev/null | grep \"^import 'snddiag.cli'\"; done",
}

by_scenario = pytest.mark.parametrize("pyz_scenario", PYZ_SCENARIOS)
pytestmark = pytest.mark.guest


# Eight runs of snddiag in one TCG boot: more than the lab's default deadline on a busy host.
PYZ_BOOT_TIMEOUT_S = 600.0


@pytest.fixture(scope="module")
def pyz_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GuestRun | LabError]]:
    scenarios = [BY_NAME[name] for name in PYZ_SCENARIOS]
    lab.require_lab(scenarios)
    lab.build_pyz()
    for series in {s.kernel for s in scenarios}:
        lab.build_initramfs(lab.find_kernel(series))
    keep = tmp_path_factory.mktemp("pyz-guests")

    def boot(scenario: Scenario) -> GuestRun | LabError:
        # udevd only in the guest with a card, last, after every verdict has been taken.
        commands = dict(COMMANDS)
        if scenario.name != UDEV_SCENARIO:
            del commands["udev-agreement"]
        try:
            return lab.run_in_guest(
                scenario, commands, keep_dir=keep / scenario.name, timeout_s=PYZ_BOOT_TIMEOUT_S
            )
        except LabError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(zip(PYZ_SCENARIOS, pool.map(boot, scenarios)))


def _run(runs: dict[str, GuestRun | LabError], name: str) -> GuestRun:
    run = runs[name]
    if isinstance(run, LabError):
        pytest.fail(f"the {name} guest did not boot: {run}", pytrace=False)
    return run


def _document(run: GuestRun, command: str) -> dict[str, Any]:
    result = run.commands[command]
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        pytest.fail(
            f"{command} in {run.scenario.name} printed no JSON (exit {result.exit_code}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    assert isinstance(doc, dict)
    return doc


def _verdict(doc: dict[str, Any]) -> tuple[str, int, list[str]]:
    return doc["status"], doc["exit_code"], sorted(f["rule"] for f in doc["findings"])


@by_scenario
@pytest.mark.parametrize("command", RUNS)
def test_each_way_to_run_gives_the_installed_tools_verdict(
    pyz_runs: dict[str, GuestRun | LabError], pyz_scenario: str, command: str
) -> None:
    run = _run(pyz_runs, pyz_scenario)
    installed = _document(run, "json")
    ours = _document(run, command)
    assert run.commands[command].exit_code == run.commands["json"].exit_code
    assert _verdict(ours) == _verdict(installed)
    assert _verdict(ours)[:2] == (BY_NAME[pyz_scenario].expect_status, run.scenario.expect_exit)
    assert ours["system"] == installed["system"]
    assert ours["sound_servers"] == installed["sound_servers"]


@by_scenario
def test_the_runs_are_what_they_claim(
    pyz_runs: dict[str, GuestRun | LabError], pyz_scenario: str
) -> None:
    """Without the archive the bare interpreter imports no PyYAML; Debian's python3 imports all
    four libraries from Debian's packages (the archive's copies come after them)."""
    run = _run(pyz_runs, pyz_scenario)
    bare = run.commands["bare-yaml"]
    assert bare.exit_code == 1 and "ModuleNotFoundError" in bare.stderr, bare.stderr
    distro = run.commands["distro-libraries"]
    assert distro.exit_code == 0, distro.stderr
    paths = distro.stdout.split()
    assert len(paths) == len(LIBRARIES)
    assert all(p.startswith("/usr/lib/python3/dist-packages/") for p in paths), paths


@by_scenario
def test_a_plain_run_imports_neither_argparse_nor_subprocess_when_files_stand_in(
    pyz_runs: dict[str, GuestRun | LabError], pyz_scenario: str
) -> None:
    """In these guests /proc/modules, modules.dep and the release files stand in for lsmod,
    modinfo and uname, and /dev/kmsg for dmesg: no command runs, so neither subprocess (with
    threading, selectors, signal, locale) nor argparse for a plain `--json` is imported."""
    result = _run(pyz_runs, pyz_scenario).commands["modules-of-a-run"]
    assert result.exit_code == 0, result.stderr[-4000:]
    imported = set(result.stdout.split())
    assert "snddiag.facts" in imported and "snddiag.engine.compiled" in imported
    assert not {"subprocess", "argparse", "gettext", "snddiag.options"} & imported


def test_the_archives_modules_come_from_its_code_member_on_both_interpreters(
    pyz_runs: dict[str, GuestRun | LabError],
) -> None:
    result = _run(pyz_runs, UDEV_SCENARIO).commands["pyz-loaders"]
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout + result.stderr[-2000:]
    assert all("_ArchiveCode" in line for line in lines), lines


def _unordered(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """libudev joins TAGS, CURRENT_TAGS and DEVLINKS in its hash set's order, snddiag sorts."""
    for device in devices:
        for key in ("TAGS", "CURRENT_TAGS", "DEVLINKS"):
            if key in device["properties"]:
                value = device["properties"][key]
                device["properties"][key] = sorted(value.replace(":", " ").split())
    return devices


def test_udev_records_from_files_agree_with_pyudev_after_real_udevd(
    pyz_runs: dict[str, GuestRun | LabError],
) -> None:
    run = _run(pyz_runs, UDEV_SCENARIO)
    result = run.commands["udev-agreement"]
    assert result.exit_code == 0, result.stderr[-4000:]
    pair = json.loads(result.stdout)
    assert _unordered(pair["files"]) == _unordered(pair["pyudev"])
    card = next(d for d in pair["files"] if d["sys_path"].endswith("/card0"))
    assert card["initialized"] is True
    assert card["properties"].get("SOUND_INITIALIZED") == "1", card
