"""The session parsers (pw-dump, pw-metadata, pactl info, ALSA defaults) on what the lab's
session guests printed."""

from __future__ import annotations

import pytest

from snddiag.parse.asound_conf import parse_asound_defaults
from snddiag.parse.pactl import parse_pactl_info
from snddiag.parse.pipewire import parse_pw_dump, parse_pw_metadata
from tests.guests import guest_text

DUMP = "session/999/pw-dump"


def test_pw_dump_of_a_healthy_session_has_the_virtio_device_sink_and_source() -> None:
    graph = parse_pw_dump(guest_text("session-healthy", DUMP)).value
    assert graph is not None
    assert graph.version == "1.4.2"
    (device,) = [d for d in graph.devices if d.alsa_driver == "virtio_snd"]
    assert device.profile == "output:stereo-fallback+input:stereo-fallback"
    assert set(device.profile_classes) == {"Audio/Sink", "Audio/Source"}
    assert "pro-audio" in device.profiles and "off" in device.profiles
    classes = {n.media_class for n in graph.nodes if n.alsa_driver == "virtio_snd"}
    assert classes == {"Audio/Sink", "Audio/Source"}
    assert graph.default_sink == "alsa_output.pci-0000_00_03.0.stereo-fallback"
    assert graph.default_source == "alsa_input.pci-0000_00_03.0.stereo-fallback"
    assert graph.settings["clock.min-quantum"] == "1024"

    assert graph.links == ()  # nothing plays


def test_a_stream_waiting_on_a_sink_that_cannot_start_has_links_stuck_in_init() -> None:
    graph = parse_pw_dump(guest_text("session-sink-stalled", DUMP)).value
    assert graph is not None
    (sink,) = [n for n in graph.nodes if n.media_class == "Audio/Sink" and n.alsa_driver]
    assert sink.state == "suspended"
    into = [link for link in graph.links if link.input_node == sink.id]
    assert len(into) == 2 and {link.state for link in into} == {"init"}
    (stream,) = [n for n in graph.nodes if n.id == into[0].output_node]
    assert stream.state == "idle"


def test_apple_dmi_leaves_the_min_quantum_at_32() -> None:
    graph = parse_pw_dump(guest_text("session-apple-dmi", DUMP)).value
    assert graph is not None and graph.settings["clock.min-quantum"] == "32"
    text = guest_text("session-apple-dmi", "session/999/pw-metadata-settings")
    settings = parse_pw_metadata(text)
    assert settings.value["clock.min-quantum"] == "32"
    assert settings.unparsed == ()


def test_two_cards_give_two_devices_and_the_hda_default() -> None:
    graph = parse_pw_dump(guest_text("session-hda-default", DUMP)).value
    assert graph is not None
    assert {d.alsa_driver for d in graph.devices} >= {"virtio_snd", "snd_hda_intel"}
    sink = next(n for n in graph.nodes if n.name == graph.default_sink)
    assert sink.alsa_driver == "snd_hda_intel"


def test_pactl_info_names_pipewire_pulse() -> None:
    info = parse_pactl_info(guest_text("session-healthy", "session/999/pactl-info")).value
    assert info is not None and info.on_pipewire
    assert info.server_name == "PulseAudio (on PipeWire 1.4.2)"
    assert info.default_sink == "alsa_output.pci-0000_00_03.0.stereo-fallback"


@pytest.mark.parametrize("junk", ["", "Connection failure: Connection refused", "\x00\xff"])
def test_pactl_without_a_server_gives_none(junk: str) -> None:
    assert parse_pactl_info(junk).value is None


@pytest.mark.parametrize("junk", ["", "[", "{}", "[1, 2]", '[{"type": 3, "info": []}]'])
def test_pw_dump_junk_gives_no_graph_or_an_empty_one(junk: str) -> None:
    graph = parse_pw_dump(junk).value
    assert graph is None or (graph.devices == () and graph.nodes == ())


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        ("pcm.!default {\n  type hw\n  card 3\n}\nctl.!default {\n  card 3\n}\n", ["3", "3"]),
        ('pcm.!default "plughw:SoundCard,0"\n', ["SoundCard"]),
        ('pcm.!default { type plug slave.pcm "hw:1,0" }\n', ["1"]),
        ("defaults.pcm.card 1\ndefaults.ctl.card 1\n", ["1", "1"]),
        ("# pcm.!default { type hw card 2 }\n", []),
        ("pcm.!default { type pulse }\n", [None]),
    ],
)
def test_asound_defaults_name_the_card(text: str, cards: list[str | None]) -> None:
    assert [d.card for d in parse_asound_defaults(text).value] == cards
