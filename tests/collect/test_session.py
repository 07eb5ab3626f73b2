"""Collecting the user sessions: what is read from a tree, and what is never run."""

from __future__ import annotations

import json
from pathlib import Path

from snddiag.collect.server_play import _virtio_sink, pw_top_errors
from snddiag.collect.session import SESSIONS_KEY, read_sessions
from snddiag.evidence import Evidence, Kind, Status
from tests.guests import guest_text


def test_a_tree_without_run_user_has_no_session(tmp_path: Path) -> None:
    evidence = Evidence()
    read_sessions(evidence, tmp_path, live=False)
    assert evidence.entries[SESSIONS_KEY].status is Status.MISSING
    assert list(evidence.entries) == [SESSIONS_KEY]


def test_a_tree_lists_the_runtime_directories_and_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "run/user/1000/pulse").mkdir(parents=True)
    (tmp_path / "run/user/1000/pulse/native").write_text("")
    (tmp_path / "run/user/1000/pipewire-0").write_text("")
    (tmp_path / "run/user/not-a-uid").mkdir()
    evidence = Evidence()
    read_sessions(evidence, tmp_path, live=False)
    summary = json.loads(evidence.entries[SESSIONS_KEY].data)
    assert [s["uid"] for s in summary["sessions"]] == [1000]
    assert evidence.entries["session/1000/runtime-dir"].names == ("pipewire-0", "pulse")
    assert evidence.entries["session/1000/pulse-dir"].names == ("native",)
    assert not any(e.kind is Kind.COMMAND for e in evidence)


def test_the_virtio_sink_is_found_in_a_captured_graph() -> None:
    dump = guest_text("session-healthy", "session/999/pw-dump")
    assert _virtio_sink(dump) == "alsa_output.pci-0000_00_03.0.stereo-fallback"
    assert _virtio_sink(guest_text("session-no-server", "lib/session/sessions")) is None
    assert _virtio_sink("[") is None


def test_pw_top_errors_reads_the_err_column_of_the_node() -> None:
    text = (
        "S   ID  QUANT   RATE    WAIT    BUSY   W/Q   B/Q  ERR FORMAT           NAME\n"
        "R   48   1024  48000  10.2us  20.1us  0.00  0.00    3  S16LE 2 48000  sink-a\n"
        "R   48   1024  48000  10.2us  20.1us  0.00  0.00    5  S16LE 2 48000  sink-a\n"
        "R   50   1024  48000  10.2us  20.1us  0.00  0.00    9  S16LE 2 48000  sink-b\n"
    )
    assert pw_top_errors(text, "sink-a") == 5
    assert pw_top_errors(text, "sink-c") is None
    assert pw_top_errors("", "sink-a") is None
