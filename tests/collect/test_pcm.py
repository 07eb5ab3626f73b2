"""The PCM data-path test without a sound card: rate from pointer samples, every reason a run
can end with before a device answers, the holder scan, and the choice of the virtio PCM."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from snddiag.collect import data_path, pcm
from snddiag.collect import pcm_abi as abi
from snddiag.collect.pcm import Outcome
from snddiag.collect.pcm_open import (
    PcmError,
    busy_reason,
    holders,
    open_failure,
    open_pcm,
    permission_reason,
)
from snddiag.collect.pcm_pointer import PointerWatch, measure_rate, stall_reason
from snddiag.evidence import Status

# ---- the rate from (time, hw_ptr) samples


def _periods(
    rate: float, period: int, count: int, *, jitter_s: float = 0.0
) -> list[tuple[float, int]]:
    """Pointer samples every 5 ms of a device moving `period` frames at a time at `rate`."""
    samples = []
    t = 0.0
    for n in range(round(count * period / rate / 0.005) + 1):
        t = n * 0.005
        done = int(t * rate / period) * period
        samples.append((t + (jitter_s if n % 2 else 0.0), min(done, count * period)))
    return samples


def test_a_device_at_48_khz_measures_48_khz() -> None:
    assert measure_rate(_periods(48000, 960, 50)) == pytest.approx(48000, rel=0.01)


def test_a_slow_device_measures_slow() -> None:
    assert measure_rate(_periods(45600, 960, 50)) == pytest.approx(45600, rel=0.01)


def test_poll_jitter_moves_the_rate_by_less_than_a_percent() -> None:
    measured = measure_rate(_periods(48000, 1024, 47, jitter_s=0.004))
    assert measured == pytest.approx(48000, rel=0.01)


def test_after_an_xrun_the_longest_run_of_the_pointer_counts() -> None:
    before = _periods(48000, 960, 10)
    after = [(t + 0.3, p) for t, p in _periods(48000, 960, 40)]
    assert measure_rate(before + after) == pytest.approx(48000, rel=0.01)


def test_a_burst_at_the_start_does_not_move_the_rate() -> None:
    # A starved guest sees five periods at once, then the device's steady pace.
    steady = [(0.1 + t, 4800 + p) for t, p in _periods(48000, 960, 45)]
    assert measure_rate([(0.0, 0), (0.1, 4800), *steady]) == pytest.approx(48000, rel=0.01)


def test_a_stalled_pointer_has_no_rate() -> None:
    assert measure_rate([(n * 0.005, 0) for n in range(400)]) is None


def test_one_step_or_a_short_run_has_no_rate() -> None:
    assert measure_rate([(0.0, 0), (0.02, 960), (0.5, 960)]) is None
    assert measure_rate([(0.0, 0), (0.02, 960), (0.04, 1920), (0.06, 2880)]) is None
    assert measure_rate([]) is None


# ---- the pointer's story, and why a run that ran out of time failed


def _status(hw_ptr: int, delay: int, state: int = abi.STATE_RUNNING) -> abi.Status:
    return abi.Status(
        state, appl_ptr=hw_ptr + delay, hw_ptr=hw_ptr, delay=delay, avail=0, avail_max=0
    )


def test_the_watch_counts_frames_moved_and_the_largest_delay() -> None:
    ticks = iter([0.0, 0.02, 0.04, 0.06, 0.08])
    watch = PointerWatch(_status(0, 3840), lambda: next(ticks))
    for ptr, delay in [(960, 6720), (960, 7680), (1920, 6720)]:
        watch.update(_status(ptr, delay))
    assert watch.moved == 1920
    assert watch.max_delay == 7680
    assert watch.samples == [(0.0, 0), (0.02, 960), (0.04, 960), (0.06, 1920)]
    assert watch.elapsed() == 0.08
    assert watch.last.state_name == "running"


def test_a_pointer_going_back_after_prepare_adds_nothing() -> None:
    watch = PointerWatch(_status(4800, 0), lambda: 0.0)
    watch.update(_status(960, 0))
    watch.update(_status(1920, 0))
    assert watch.moved == 960


def test_stall_reasons_say_what_the_device_did() -> None:
    assert stall_reason(0, 48000, 2.0, "consumed") == "the device never consumed a frame"
    assert stall_reason(0, 48000, 2.0, "delivered") == "the device never delivered a frame"
    assert (
        stall_reason(47104, 48000, 3.04, "consumed")
        == "the device consumed only 47104 of 48000 frames in 3.0 s"
    )


# ---- why a node could not be opened


def test_missing_node_is_named(tmp_path: Path) -> None:
    with pytest.raises(PcmError, match=r"^no such PCM node .*/pcmC0D0p$"):
        open_pcm(tmp_path / "pcmC0D0p")


def test_regular_file_is_not_a_character_device(tmp_path: Path) -> None:
    node = tmp_path / "pcmC0D0p"
    node.write_bytes(b"")
    with pytest.raises(PcmError, match=r"pcmC0D0p is not a character device$"):
        open_pcm(node)


def test_permission_names_the_group_that_grants_access(tmp_path: Path) -> None:
    st = os.stat_result((0o20660, 1, 1, 1, 0, 29, 0, 0, 0, 0))
    reason = permission_reason(Path("/dev/snd/pcmC0D0p"), st)
    group = "audio" if _group_exists(29, "audio") else "29"
    assert reason == (
        f"permission denied on /dev/snd/pcmC0D0p (crw-rw---- root:{group}): "
        f"members of group '{group}' may open it (usermod -aG {group} USER)"
    )


def _group_exists(gid: int, name: str) -> bool:
    import grp

    try:
        return grp.getgrgid(gid).gr_name == name
    except KeyError:
        return False


def test_permission_on_a_root_only_node_names_the_owner() -> None:
    st = os.stat_result((0o20600, 1, 1, 1, 0, 0, 0, 0, 0, 0))
    reason = permission_reason(Path("/dev/snd/pcmC0D0c"), st)
    assert reason.startswith("permission denied on /dev/snd/pcmC0D0c (crw------- root:root): ")
    assert "only root may open it" in reason


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (errno.EACCES, "permission denied on"),
        (errno.EPERM, "permission denied on"),
        (errno.EBUSY, "is busy: held by a process this user cannot see"),
        (errno.ENODEV, "has no device behind it"),
        (errno.ENXIO, "has no device behind it"),
        (errno.EIO, "cannot open"),
    ],
)
def test_every_open_error_has_its_reason(tmp_path: Path, code: int, expected: str) -> None:
    node = tmp_path / "pcmC0D0p"
    node.write_bytes(b"")
    reason = open_failure(node, os.stat(node), OSError(code, os.strerror(code)), tmp_path)
    assert expected in reason
    assert "\n" not in reason


def test_busy_names_holders_and_what_to_do() -> None:
    reason = busy_reason(Path("/dev/snd/pcmC0D0p"), [(812, "pipewire"), (900, "wireplumber")])
    assert reason == (
        "/dev/snd/pcmC0D0p is busy: held by pipewire (pid 812), wireplumber (pid 900); "
        "test through the sound server (pw-play, paplay) or stop it; snddiag never stops it"
    )


# ---- who holds a node


def test_this_process_is_found_holding_a_file(tmp_path: Path) -> None:
    node = tmp_path / "held"
    node.write_bytes(b"")
    comm = Path("/proc/self/comm").read_text().strip()
    with open(node, "rb"):
        assert (os.getpid(), comm) in holders(node)
    assert all(pid != os.getpid() for pid, _ in holders(node))


def test_holders_on_a_constructed_proc_tree(tmp_path: Path) -> None:
    node = tmp_path / "pcmC0D0p"
    node.write_bytes(b"")
    other = tmp_path / "other"
    other.write_bytes(b"")
    proc = tmp_path / "proc"
    for pid, comm, targets in [
        (812, "pipewire", [other, node]),
        (77, "bash", [other]),
        (900, "wireplumber", [node]),
    ]:
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
        for fd, target in enumerate(targets):
            (proc / str(pid) / "fd" / str(fd)).symlink_to(target)
    (proc / "self").mkdir()
    (proc / "1" / "fd").mkdir(parents=True)  # no comm, no matching fd
    assert holders(node, proc) == [(812, "pipewire"), (900, "wireplumber")]


def test_holders_of_a_missing_node_or_proc_are_none(tmp_path: Path) -> None:
    assert holders(tmp_path / "absent") == []
    node = tmp_path / "node"
    node.write_bytes(b"")
    assert holders(node, tmp_path / "no-proc") == []


# ---- whole runs that end before a device answers


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_play_without_a_node_fails_with_the_node_named(tmp_path: Path) -> None:
    result = pcm.play(0, 0, dev_dir=tmp_path)
    assert result.status is Outcome.FAILED
    assert result.device == "hw:0,0"
    assert result.reason == f"no such PCM node {tmp_path}/pcmC0D0p"
    assert result.frames_written == result.frames_consumed == 0


def test_record_on_a_regular_file_fails_as_not_a_character_device(tmp_path: Path) -> None:
    (tmp_path / "pcmC1D2c").write_bytes(b"")
    result = pcm.record(1, 2, dev_dir=tmp_path)
    assert result.status is Outcome.FAILED
    assert result.device == "hw:1,2"
    assert result.reason == f"{tmp_path}/pcmC1D2c is not a character device"


@pytest.mark.parametrize("run", [pcm.play, pcm.record])
def test_a_character_device_that_is_no_pcm_is_refused_and_closed(
    tmp_path: Path, run: object
) -> None:
    # /dev/null is a character device but not ALSA's: refused before it is opened.
    (tmp_path / "pcmC0D0p").symlink_to("/dev/null")
    (tmp_path / "pcmC0D0c").symlink_to("/dev/null")
    before = _open_fds()
    assert callable(run)
    result = run(0, 0, dev_dir=tmp_path)
    assert result.status is Outcome.FAILED
    assert result.reason.endswith("is not an ALSA device (device 1:3; ALSA's major is 116)")
    assert _open_fds() == before


# ---- which PCM: the virtio card's, from sysfs


def _sysfs(root: Path, cards: dict[int, str], pcms: list[str]) -> Path:
    sound = root / "class" / "sound"
    for number, driver in cards.items():
        device = root / "devices" / f"dev{number}"
        (root / "bus" / driver).mkdir(parents=True, exist_ok=True)
        device.mkdir(parents=True)
        (device / "driver").symlink_to(root / "bus" / driver)
        (sound / f"card{number}").mkdir(parents=True)
        (sound / f"card{number}" / "device").symlink_to(device)
    for name in pcms:
        (sound / name).mkdir(parents=True)
    (sound / "timer").mkdir(parents=True, exist_ok=True)
    return root


def test_the_virtio_card_is_chosen_over_others(tmp_path: Path) -> None:
    sys_dir = _sysfs(
        tmp_path,
        {0: "snd_hda_intel", 1: "virtio_snd"},
        ["pcmC0D0p", "pcmC1D3p", "pcmC1D1p", "pcmC1D0c"],
    )
    assert data_path.virtio_cards(sys_dir) == [1]
    assert data_path.choose_pcm("playback", sys_dir) == (1, 1)
    assert data_path.choose_pcm("capture", sys_dir) == (1, 0)


def test_no_virtio_card_and_no_capture_are_reasons(tmp_path: Path) -> None:
    no_modules = tmp_path / "no-modules"
    assert data_path.choose_pcm("playback", tmp_path, no_modules) == data_path.NO_SOUND_KERNEL
    # Sound as modules that nothing loaded (no sound device): the kernel has sound.
    (no_modules / os.uname().release / "kernel" / "sound").mkdir(parents=True)
    assert data_path.choose_pcm("playback", tmp_path, no_modules) == (
        "no ALSA card is bound to virtio_snd"
    )
    (tmp_path / "class" / "sound").mkdir(parents=True)
    assert data_path.choose_pcm("playback", tmp_path) == "no ALSA card is bound to virtio_snd"
    sys_dir = _sysfs(tmp_path, {0: "virtio_snd"}, ["pcmC0D0p"])
    assert data_path.choose_pcm("capture", sys_dir) == "card 0 (virtio_snd) has no capture PCM"


def test_without_a_card_nothing_runs(tmp_path: Path) -> None:
    (tmp_path / "class" / "sound").mkdir(parents=True)
    result = data_path.run_data_path(sys_dir=tmp_path, dev_dir=tmp_path)
    assert result.playback.status is result.capture.status is Outcome.NOT_RUN
    assert result.playback.reason == result.capture.reason == "no ALSA card is bound to virtio_snd"


def test_the_record_is_one_json_entry_of_both_directions(tmp_path: Path) -> None:
    # No card in this tree: nothing is opened, nothing sounds.
    (tmp_path / "class" / "sound").mkdir(parents=True)
    entry = data_path.read_data_path(sys_dir=tmp_path, dev_dir=tmp_path)
    assert (entry.key, entry.status) == (data_path.DATA_PATH_KEY, Status.OK)
    doc = json.loads(entry.data)
    assert set(doc) == {"playback", "capture", "lifecycle", "seconds"}
    assert doc["playback"]["status"] == doc["capture"]["status"] == "not_run"
    assert doc["capture"]["reason"] == "no ALSA card is bound to virtio_snd"
