"""data_path.server_playback: the tone through the session's server, in the JSON document."""

from __future__ import annotations

import json

import jsonschema

from snddiag.engine.load import load_rules
from snddiag.pipeline import diagnose
from tests.guests import REPO, guest_evidence

SCHEMA = json.loads((REPO / "snddiag" / "report" / "schema.json").read_text())
RULES = load_rules([REPO / "rules"])


def _document(guest: str) -> dict[str, object]:
    document = diagnose(guest_evidence(guest), RULES).document
    jsonschema.validate(document, SCHEMA)
    return document


def test_a_played_session_reports_the_stream_through_the_server() -> None:
    data_path = _document("play-session")["data_path"]
    assert isinstance(data_path, dict)
    server = data_path["server_playback"]
    assert server["status"] == "ok" and server["reason"] is None
    assert server["device"] == "alsa_output.pci-0000_00_03.0.stereo-fallback"
    assert (server["rate_hz"], server["format"], server["channels"]) == (48000, "S16_LE", 2)
    assert server["frames_written"] == 48000
    assert server["server_errors"] == server["xruns"] == 0
    assert data_path["playback"]["status"] == "ok"  # the ALSA test, reported beside it


def test_without_a_session_server_there_is_no_server_playback() -> None:
    data_path = _document("play-session-busy")["data_path"]
    assert isinstance(data_path, dict)
    assert "server_playback" not in data_path
    assert data_path["playback"]["status"] == "failed"


def test_without_play_there_is_no_data_path() -> None:
    assert _document("session-healthy")["data_path"] is None
