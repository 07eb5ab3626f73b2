"""Session facts on the evidence of the lab's session guests."""

from __future__ import annotations

from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.facts import build_facts
from snddiag.facts.session import Session
from tests.guests import guest_evidence


def _session(name: str) -> Session:
    return build_facts(guest_evidence(name)).session


def test_a_healthy_session_uses_the_virtio_card() -> None:
    s = _session("session-healthy")
    assert (s.scope, s.count, s.user, s.asked) == ("all", 1, "snddiag-lab", True)
    assert s.servers == ("pipewire", "pipewire-pulse", "wireplumber")
    assert s.server_running and not s.servers_compete and not s.pulse_missing
    assert (s.pipewire_answer, s.pulse_answer) == ("ok", "ok")
    assert s.pulse_server == "PulseAudio (on PipeWire 1.4.2)"
    assert s.virtio_device and s.virtio_sink and s.virtio_source
    assert s.default_sink_is_virtio and s.default_source_is_virtio
    assert s.min_quantum == 1024
    assert s.virtio_profile_off is False and s.virtio_profile_output_only is False
    assert s.nodes_in_error == ()
    assert (s.virtio_sink_state, s.virtio_sink_stalled_links) == ("suspended", 0)
    assert s.server_playback.status is None  # no --play


def test_a_sink_that_cannot_start_keeps_its_stream_waiting() -> None:
    s = _session("session-sink-stalled")
    assert (s.virtio_sink_state, s.virtio_sink_stalled_links) == ("suspended", 2)
    assert s.nodes_in_error == ()  # WirePlumber suspended the node again at once


def test_apple_dmi_keeps_the_small_quantum() -> None:
    assert _session("session-apple-dmi").min_quantum == 32


def test_a_session_without_a_server() -> None:
    s = _session("session-no-server")
    assert (s.count, s.servers, s.server_running) == (1, (), False)
    assert s.pipewire_answer == "not-running"
    assert s.virtio_device is None


def test_the_hda_card_is_the_default_beside_the_virtio_card() -> None:
    s = _session("session-hda-default")
    assert s.alsa_sinks == 2
    assert s.default_sink_is_virtio is False and s.virtio_sink is True


def test_an_old_snapshot_without_sessions_knows_nothing() -> None:
    s = _session("healthy-pci")
    assert s.count is None and s.server_running is None


def test_no_runtime_directory_means_no_session() -> None:
    evidence = Evidence()
    evidence.add(Entry("lib/session/sessions", Kind.FILE, Status.MISSING))
    assert build_facts(evidence).session.count == 0


def test_a_non_root_run_says_it_saw_only_its_own_session() -> None:
    evidence = guest_evidence("session-healthy").without(())  # a copy: the cache is shared
    data = evidence.entries["lib/session/sessions"].data.replace(b'"all"', b'"own"')
    evidence.add(Entry("lib/session/sessions", Kind.FILE, Status.OK, data=data))
    s = build_facts(evidence).session
    assert s.scope == "own" and s.notes


def test_a_hung_server_is_a_timeout() -> None:
    evidence = guest_evidence("session-healthy").without(())  # a copy: the cache is shared
    evidence.add(Entry("session/999/pw-dump", Kind.COMMAND, Status.TIMEOUT, duration_s=10.0))
    s = build_facts(evidence).session
    assert (s.pipewire_answer, s.pipewire_error) == ("timeout", "no answer within 10 s")
    assert s.virtio_device is None


def test_the_tone_through_a_sink_that_cannot_start_fails_after_its_bound() -> None:
    facts = build_facts(guest_evidence("play-session-stalled"))
    played = facts.session.server_playback
    assert (played.status, played.reason) == (
        "failed",
        "the server did not take the stream within 9 s",
    )
    assert facts.data_path.playback.cause == "busy"


def test_debian_12s_own_pipewire_and_wireplumber_give_the_same_healthy_session() -> None:
    s = _session("session-bookworm")
    assert (s.pipewire_version, s.pulse_server) == ("0.3.65", "PulseAudio (on PipeWire 0.3.65)")
    assert s.virtio_profile == "output:stereo-fallback+input:stereo-fallback"
    assert s.default_sink_is_virtio and s.default_source_is_virtio
    assert s.min_quantum == 1024  # 0.3.65 knows QEMU's DMI too (vm.overrides)
