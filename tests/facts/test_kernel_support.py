"""kernel.modules_supported and kernel.sound_supported: from the config, else from what the
kernel shows (no /proc/modules, no /proc/asound, the sound core in the module indexes)."""

from __future__ import annotations

from snddiag.evidence import Status
from snddiag.facts import build_facts
from snddiag.facts.kernel import build_kernel
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

RELEASE = "6.12.1-test"
TREE = f"lib/modules/{RELEASE}"
PROC = {"proc/sys/kernel/osrelease": RELEASE}


def _support(
    files: dict[str, str],
    config: dict[str, str] | None = None,
    missing: tuple[str, ...] = (),
) -> tuple[bool | None, bool | None]:
    statuses = dict.fromkeys(missing, Status.MISSING)
    evidence = evidence_of({**PROC, **files}, statuses=statuses)
    kernel = build_kernel(evidence, None, None, None, config)
    return kernel.modules_supported, kernel.sound_supported


def test_this_machine_has_neither_modules_nor_sound() -> None:
    kernel = build_facts(guest_evidence("firecracker-no-modules")).kernel
    assert (kernel.modules_supported, kernel.sound_supported) == (False, False)


def test_lab_kernels_have_both() -> None:
    for guest in ("healthy-pci", "no-config-snd-virtio", "old-kernel-no-device"):
        kernel = build_facts(guest_evidence(guest)).kernel
        assert (kernel.modules_supported, kernel.sound_supported) == (True, True), guest


def test_the_config_decides() -> None:
    config = {"CONFIG_MODULES": "y", "CONFIG_SOUND": "m", "CONFIG_SND": "m"}
    assert _support({}, config) == (True, True)
    assert _support({}, {"CONFIG_MODULES": "y", "CONFIG_SOUND": "y", "CONFIG_SND": "n"}) == (
        True,
        False,
    )
    assert _support({}, {"CONFIG_MODULES": "n", "CONFIG_SOUND": "n"}) == (False, False)


def test_the_drivers_own_option_implies_sound() -> None:
    assert _support({"proc/modules": ""}, {"CONFIG_SND_VIRTIO": "m"}) == (True, True)


def test_without_a_config_procfs_tells() -> None:
    assert _support({"proc/modules": "", "proc/asound/version": "x"}) == (True, True)
    assert _support({}, missing=("proc/modules", "proc/asound/version")) == (False, False)


def test_without_a_config_the_module_indexes_tell() -> None:
    dep = "kernel/sound/core/snd.ko.xz: kernel/sound/soundcore.ko.xz\n"
    files = {"proc/modules": "", f"{TREE}/modules.dep": dep, f"{TREE}/modules.builtin": ""}
    assert _support(files) == (True, True)
    files[f"{TREE}/modules.dep"] = "kernel/fs/9p/9p.ko.xz:\n"
    assert _support(files) == (True, False)


def test_nothing_read_is_unknown() -> None:
    assert _support({"proc/modules": ""}) == (True, None)
    kernel = build_kernel(evidence_of(), None, None, None, None)
    assert (kernel.modules_supported, kernel.sound_supported) == (None, None)
