"""The host's side of a guest's audio: QEMU's wav file, or a real sound server with a microphone.

A scenario names its host paths with placeholders (WAV_PATH, PULSE_SOCKET) in its QEMU
arguments; `host_side` fills them in for one boot and, for PULSE_SOCKET, runs a PulseAudio of
its own on a unix socket for the length of the boot:

- `lab_mic`, a null sink that module-sine plays a 440 Hz tone into: the guest records its
  monitor (QEMU's `in.name=lab_mic.monitor`), a microphone that hears a steady tone;
- `lab_speakers`, a null sink the guest plays into.

module-sine-source would be the obvious microphone, but it hands out its tone in blocks of two
seconds whatever a client asks for: QEMU's capture then delivers a period or two and waits (the
guest's arecord ends with "read error: Input/output error"). A null sink's monitor is clocked
like a real device.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .lab import LabError, Scenario

WAV_PATH = "@WAV@"
"""Stands for the host file QEMU's wav backend writes."""
PULSE_SOCKET = "@PULSE@"
"""Stands for the unix socket of the host's PulseAudio (host_side starts it)."""
TONE_HZ = 440

_PA_CONFIG = f"""\
load-module module-native-protocol-unix socket={{socket}} auth-anonymous=1
load-module module-null-sink sink_name=lab_speakers rate=48000
set-default-sink lab_speakers
load-module module-null-sink sink_name=lab_mic rate=48000
load-module module-sine sink=lab_mic frequency={TONE_HZ}
set-default-source lab_mic.monitor
"""
# The default sink is set before the tone starts: PulseAudio moves streams that did not choose
# their sink (module-sine's) to a new default sink.
START_S = 15.0


def _uses(scenario: Scenario, placeholder: str) -> bool:
    return any(placeholder in arg for arg in scenario.qemu_args)


@contextlib.contextmanager
def pulseaudio(log_path: Path) -> Iterator[Path]:
    """A PulseAudio with the lab's microphone and speakers, listening on a unix socket only (in
    a short directory of its own: a socket path holds at most 107 bytes); its log goes to
    `log_path`. Stopped, waited for and removed on the way out."""
    exe = shutil.which("pulseaudio")
    if exe is None:
        raise LabError("pulseaudio is not installed (tests/guest/setup-lab installs it)")
    with tempfile.TemporaryDirectory(prefix="snddiag-pa-") as runtime:
        socket = Path(runtime) / "native"
        config = Path(runtime) / "lab.pa"
        config.write_text(_PA_CONFIG.format(socket=socket))
        env = {**os.environ, "HOME": runtime, "XDG_RUNTIME_DIR": runtime, "LC_ALL": "C"}
        env.pop("PULSE_SERVER", None)
        argv = [
            exe, "-n", "-F", str(config), "--daemonize=no", "--system=false",
            "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
            "--log-target=stderr",
        ]  # fmt: skip
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + START_S
            while not socket.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise LabError(f"the host's PulseAudio did not start:\n{tail}")
                time.sleep(0.1)
            yield socket
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wav_of(work: Path) -> Path:
    """Where host_side(..., work) has QEMU's wav backend write."""
    return work / "qemu.wav"


@contextlib.contextmanager
def host_side(scenario: Scenario, work: Path) -> Iterator[Scenario]:
    """The scenario with its host files in `work` (wav_of, pulseaudio.log) and, when it uses
    PULSE_SOCKET, the host's PulseAudio running."""
    work.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        socket = (
            str(stack.enter_context(pulseaudio(work / "pulseaudio.log")))
            if _uses(scenario, PULSE_SOCKET)
            else PULSE_SOCKET
        )
        args = tuple(
            a.replace(WAV_PATH, str(wav_of(work))).replace(PULSE_SOCKET, socket)
            for a in scenario.qemu_args
        )
        yield dataclasses.replace(scenario, qemu_args=args)
