"""Benchmark: snddiag's start-up and one full diagnosis in the healthy lab guest, same boot.

    python3 benchmarks/bench_diagnosis.py [--runs N] [--source] [--smoke] [--scenario NAME]
                                          [--then-without-server]

Builds a wheel and snddiag.pyz from this checkout (into build/bench-diagnosis/, which the guest
reads through its 9p root), boots the lab's healthy-pci guest (or NAME: session-healthy runs a
desktop session's PipeWire) (tests/guest; needs tests/guest/setup-lab) and, in that one boot,
installs the wheel with pip (as a user would: the bytecode compiled, the rules compiled by the
wheel's build), then runs N rounds of these, one of each a round, so that a change in the host's
load touches every command of a round alike:

- `python3 -c pass`: the interpreter's own start-up, the floor for any Python tool;
- `python3 -c 'import snddiag.cli, snddiag.commands'`: the entry every command imports;
- `snddiag --json`: one full live diagnosis, from the installed wheel, through the `snddiag`
  script the wheel installs, as a user runs it (run by the timed interpreter; `-m snddiag` would
  add runpy and importlib.util, 0.1 s in the guest); with `--source`, `python3 -m snddiag`;
- `python3 snddiag.pyz --json`: the same from the single-file archive (built with
  `--compile`: bytecode for the Python that builds it, the lab's guests' minor version);
- `alsa-info --stdout --no-upload`: ALSA's own collector, for scale;
- benchmarks/phases.py: each phase of a diagnosis (entry, rules load, collect, facts, rules
  run, report) in one interpreter.

It prints each command's median and best wall time and peak RSS, the median over rounds of each
round's ratios (snddiag against `python3 -c pass` and against alsa-info), the phases, the
slowest evidence sources, the modules a run imports and the slowest of them, and the host's
load. `--source` runs snddiag from the read-only checkout the lab shares instead of the wheel
(no bytecode; Python compiles every module on each run, as the guest tests do). The guest runs
under TCG on a shared host, so absolute times vary from boot to boot: compare lines of one run.
`--smoke` runs it all once on this host, no guest (benchmarks/here.py): the test suite runs it
so that the benchmark cannot break unseen; its figures mean nothing.
`--then-without-server` (a session guest) stops the session's servers after the rounds and runs
them again in the same boot: the session stays, nothing answers, so the difference is what
asking the servers costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.guest.lab import DISTRO_PYTHON, LAB_USER, GuestRun, run_in_guest  # noqa: E402
from tests.guest.scenarios import BY_NAME  # noqa: E402

BUILD = REPO / "build" / "bench-diagnosis"
LAB_PYTHON = '"$PYTHON"'  # the interpreter the lab runs its guest commands with
ALSA_INFO = "$(command -v alsa-info || command -v alsa-info.sh || echo /usr/sbin/alsa-info)"
INSTALLED = "/tmp/snddiag-bench"
HEAVY = ("yaml", "rich", "pyudev", "psutil", "snddiag.cli", "snddiag.commands", "snddiag.engine")
MEASURE = '"$PYTHON" "$REPO/benchmarks/measure.py" 1'
STOP_SERVERS = f"pkill -x -u {LAB_USER} 'pipewire|wireplumber|pipewire-pulse'; sleep 2; true"
WITHOUT_SERVER = "bare-"


def build_artifacts(directory: Path) -> tuple[Path, Path]:
    """(the wheel, snddiag.pyz), built from this checkout into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.whl"):
        old.unlink()
    for argv in (
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(directory)],
        # With bytecode, as the wheel is installed: else every run compiles every module.
        [
            sys.executable,
            "packaging/zipapp/build",
            "--compile",
            "--output",
            str(directory / "snddiag.pyz"),
        ],
    ):
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"bench_diagnosis: {' '.join(argv[1:3])} failed:\n{done.stderr[-3000:]}")
    (wheel,) = directory.glob("*.whl")
    return wheel, directory / "snddiag.pyz"


def _snddiag(source: bool, installed: str) -> str:
    """How the timed interpreter starts snddiag: the wheel's script, or -m from the checkout."""
    return "-m snddiag" if source else f"{installed}/bin/snddiag"


def timed(source: bool, installed: str, pyz: Path) -> dict[str, str]:
    env = "" if source else f"PYTHONPATH={installed} "
    return {
        "python3 -c pass": '"$PYTHON" -c pass',
        "import entry": f'env {env}"$PYTHON" -c "import snddiag.cli, snddiag.commands"',
        "snddiag --json": f'env {env}"$PYTHON" {_snddiag(source, installed)} --json',
        "snddiag.pyz --json": f'"$PYTHON" {shlex.quote(str(pyz))} --json',
        "alsa-info": f"{ALSA_INFO} --stdout --no-upload",
    }


def guest_commands(
    runs: int,
    source: bool,
    wheel: Path,
    pyz: Path,
    installed: str = INSTALLED,
    stop_servers: str | None = None,
    python: str | None = None,
) -> dict[str, str]:
    """The guest's commands; with `stop_servers`, that command after the rounds and the rounds
    again; with `python`, every timed command runs that interpreter instead of the lab's."""
    env = "" if source else f"PYTHONPATH={installed} "
    commands = {}
    if not source:
        # pip is the lab's (a distro's Python may have none); the bytecode is the timed one's.
        commands["install"] = (
            f'"$PYTHON" -m pip install --quiet --no-cache-dir --no-deps --no-index '
            f"--target {installed} {shlex.quote(str(wheel))}"
            f" && {shlex.quote(python) if python else LAB_PYTHON} -m compileall -q"
            f" {installed}/snddiag"
        )
    # One untimed run of each first: the share's files and the kernel's caches are warm.
    commands["warm-up"] = (
        f'{env}"$PYTHON" {_snddiag(source, installed)} --json >/dev/null;'
        f' "$PYTHON" {shlex.quote(str(pyz))} --json'
        " >/dev/null; true"
    )
    # A lab command each (the lab times every command out on its own, and a loaded host
    # makes a whole round longer than that), in round order: the commands of a round still
    # run one after the other.
    steps = [f"{MEASURE} {command}" for command in timed(source, installed, pyz).values()]
    steps.append(f'{env}"$PYTHON" "$REPO/benchmarks/phases.py"')
    for number in range(runs):
        for step, command in enumerate(steps):
            commands[f"round-{number}-{step}"] = command
    if stop_servers is not None:
        commands["stop-servers"] = stop_servers
        for number in range(runs):
            for step, command in enumerate(steps):
                commands[f"{WITHOUT_SERVER}round-{number}-{step}"] = command
    commands["imports"] = (
        f'{env}"$PYTHON" -X importtime {_snddiag(source, installed)} --json 2>&1 >/dev/null; true'
    )
    commands["floor-imports"] = '"$PYTHON" -X importtime -c pass 2>&1; true'
    commands["load"] = "cat /proc/loadavg"
    if python is None:
        return commands
    return {
        name: command if name == "install" else f"PYTHON={shlex.quote(python)}; {command}"
        for name, command in commands.items()
    }


def _median_of(records: list[dict[str, float]]) -> dict[str, float]:
    names = {name for record in records for name in record}
    medians = {name: statistics.median(r.get(name, 0.0) for r in records) for name in names}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def _imports(text: str) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) of each line of `-X importtime`."""
    found = []
    for line in text.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            found.append((int(fields[0]), int(fields[1]), fields[2].strip()))
    return found


def _rounds(run: GuestRun, prefix: str = "") -> list[list[dict[str, Any]]]:
    """Each complete round's results (the measured commands in order, then the phases); a
    round with a command that failed or timed out is left out."""
    by_round: dict[str, list[tuple[int, Any]]] = {}
    complete: dict[str, bool] = {}
    for name, result in run.commands.items():
        if not name.startswith(f"{prefix}round-"):
            continue
        _, number, step = name.removeprefix(prefix).split("-")
        ok = result.exit_code == 0
        complete[number] = complete.get(number, True) and ok
        if ok:
            by_round.setdefault(number, []).append((int(step), json.loads(result.stdout)))
    return [[r for _, r in sorted(by_round[n])] for n in by_round if complete[n]]


def _report_rounds(rounds: list[list[dict[str, Any]]]) -> None:
    labels = list(timed(False, "", Path()))
    for number, label in enumerate(labels):
        times = [r[number]["median_s"] for r in rounds]
        print(
            f"  {label:19} median {statistics.median(times):.3f} s  best {min(times):.3f} s  "
            f"peak RSS {max(r[number]['peak_rss_mib'] for r in rounds):.1f} MiB"
        )
    floor, alsa = labels.index("python3 -c pass"), labels.index("alsa-info")
    print("ratios (median over rounds of each round's ratio):")
    for label in ("snddiag --json", "snddiag.pyz --json"):
        at = labels.index(label)
        to_pass = statistics.median(r[at]["median_s"] / r[floor]["median_s"] for r in rounds)
        to_alsa = statistics.median(r[at]["median_s"] / r[alsa]["median_s"] for r in rounds)
        print(f"  {label:19} {to_pass:.2f}x python3 -c pass, {to_alsa:.2f}x alsa-info")
    records = [r[-1] for r in rounds]
    phases = [r["phases"] for r in records]
    print("phases of one diagnosis (median s, in-process, imports counted where first needed):")
    medians = _median_of(phases)
    print("  " + "  ".join(f"{name} {medians[name]:.3f}" for name in phases[0]))
    print(f"  total {sum(medians.values()):.3f}")
    print("slowest sources (median s, Entry.duration_s):")
    for key, seconds in list(_median_of([r["sources"] for r in records]).items())[:6]:
        print(f"  {seconds:.3f}  {key}")


def report(
    run: GuestRun, runs: int, how: str, load: tuple[float, ...], scenario: str = "healthy-pci"
) -> int:
    for name, result in run.commands.items():
        if result.exit_code != 0 and "round-" not in name:
            print(f"{name} failed in the guest: {result.stderr[-2000:]}", file=sys.stderr)
            return 1
    rounds = _rounds(run)
    if not rounds:
        print("no round completed in the guest (each command has the lab's time limit)")
        return 1
    print(
        f"{scenario} guest, kernel {run.kernel_release}, {len(rounds)} of {runs} rounds "
        f"complete, snddiag {how}"
    )
    print("host load average (1, 5, 15 min) at the start: " + " ".join(f"{n:.1f}" for n in load))
    _report_rounds(rounds)
    bare = _rounds(run, WITHOUT_SERVER)
    if "stop-servers" in run.commands:
        print(f"the same after the session's servers were stopped ({len(bare)} rounds complete):")
        if bare:
            _report_rounds(bare)
    floor = _imports(run.commands["floor-imports"].stdout)
    # A .pth file in the guest's site-packages runs at every start: it raises the floor.
    print(
        f"`python3 -c pass` imports {len(floor)} modules, {sum(i[0] for i in floor) / 1e6:.3f} s"
        f" in all: {', '.join(sorted(i[2] for i in floor if '.' not in i[2]))}"
    )
    imports = _imports(run.commands["imports"].stdout)
    ours = [i for i in imports if i[2].startswith("snddiag")]
    print(
        f"a run imports {len(imports)} modules ({len(ours)} of snddiag), "
        f"{sum(i[0] for i in imports) / 1e6:.3f} s in all; slowest by their own time:"
    )
    for self_us, cumulative_us, name in sorted(imports, reverse=True)[:20]:
        print(f"  {self_us / 1e6:.3f} s (with what it imports {cumulative_us / 1e6:.3f} s)  {name}")
    heavy = [i for i in imports if i[2] in HEAVY]
    print("  heavy ones: " + (", ".join(f"{i[2]} {i[1] / 1e6:.3f} s" for i in heavy) or "none"))
    print(f"guest load average at the end: {run.commands['load'].stdout.strip()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--source", action="store_true", help="run from the read-only checkout, no bytecode"
    )
    parser.add_argument("--smoke", action="store_true", help="once, on this host, no guest")
    parser.add_argument(
        "--scenario",
        default="healthy-pci",
        choices=sorted(BY_NAME),
        help="the guest (session-healthy: a desktop session's PipeWire, whose questions it adds)",
    )
    parser.add_argument(
        "--then-without-server",
        action="store_true",
        help="a session guest: stop its servers after the rounds and run them again",
    )
    parser.add_argument(
        "--python",
        choices=("distro", "lab"),
        default="distro" if Path(DISTRO_PYTHON).exists() else "lab",
        help=f"time {DISTRO_PYTHON} with the distro's libraries, as a guest's user runs it"
        " (the default where it exists), or the lab's own interpreter (this one)",
    )
    args = parser.parse_args()
    python = DISTRO_PYTHON if args.python == "distro" else None
    load = os.getloadavg()
    if args.smoke:
        from benchmarks.here import run_here

        with tempfile.TemporaryDirectory(prefix="snddiag-bench-smoke-") as scratch:
            wheel, pyz = build_artifacts(Path(scratch, "build"))
            installed = str(Path(scratch, "installed"))
            # Nothing of this host is stopped: the second rounds run as the first.
            stop = "true" if args.then_without_server else None
            commands = guest_commands(1, args.source, wheel, pyz, installed, stop, python)
            run = run_here(BY_NAME["healthy-pci"], commands)
        return report(run, 1, "on this host (--smoke: the figures mean nothing)", load)
    wheel, pyz = build_artifacts(BUILD)  # where the guest sees it (its root is this host's)
    commands = guest_commands(
        args.runs,
        args.source,
        wheel,
        pyz,
        stop_servers=STOP_SERVERS if args.then_without_server else None,
        python=python,
    )
    run = run_in_guest(BY_NAME[args.scenario], commands, timeout_s=1800)
    how = "from the checkout, no bytecode" if args.source else "installed from the wheel, bytecode"
    how += f", {python or 'the lab interpreter'}"
    return report(run, args.runs, how, load, args.scenario)


if __name__ == "__main__":
    sys.exit(main())
