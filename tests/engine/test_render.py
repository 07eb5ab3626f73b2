"""Remediation steps are chosen by distro, flavour, architecture and VMM; placeholders filled."""

from __future__ import annotations

from snddiag.engine import run_rules
from snddiag.engine.load import default_rule_dirs, load_rules
from snddiag.facts import Facts, build_facts
from snddiag.records import replace
from tests.guests import guest_evidence

RULES = {r.rule_id: r for r in load_rules(default_rule_dirs())}


def _steps(facts: Facts, rule_id: str) -> list[str]:
    diagnosis = run_rules([RULES[rule_id]], facts)
    assert len(diagnosis.findings) == 1
    return [s.text for s in diagnosis.findings[0].remediation]


def _no_config() -> Facts:
    return build_facts(guest_evidence("no-config-snd-virtio"))


def test_debian_guest_gets_the_backports_kernel_and_not_other_distros_steps() -> None:
    steps = " ".join(_steps(_no_config(), "driver-not-in-kernel"))
    assert "bookworm-backports" in steps
    assert "apk add" not in steps
    assert "dnf install" not in steps
    assert "-cloud kernels" not in steps  # the flavour here is amd64, not cloud-amd64


def test_cloud_flavour_gets_the_generic_kernel_step() -> None:
    facts = _no_config()
    cloud = replace(facts, system=replace(facts.system, kernel_flavour="cloud-amd64"))
    assert any("-cloud kernels" in s for s in _steps(cloud, "driver-not-in-kernel"))


def test_alpine_guest_gets_alpine_steps_only() -> None:
    facts = _no_config()
    alpine = replace(facts, system=replace(facts.system, distro_id="alpine", distro_like=()))
    steps = " ".join(_steps(alpine, "driver-not-in-kernel"))
    assert "apk add linux-virt" in steps
    assert "bookworm-backports" not in steps


def test_unknown_distro_shows_every_distro_step() -> None:
    facts = _no_config()
    unknown = replace(facts, system=replace(facts.system, distro_id=None, distro_like=None))
    steps = " ".join(_steps(unknown, "driver-not-in-kernel"))
    assert "bookworm-backports" in steps
    assert "apk add linux-virt" in steps


def test_vmm_filter_hides_apple_steps_on_qemu() -> None:
    facts = build_facts(guest_evidence("no-sound-device"))
    assert facts.host.vmm == "qemu"
    steps = " ".join(_steps(facts, "no-virtio-sound-device"))
    assert "virtio-sound-pci" in steps
    assert "Enable Sound" not in steps


def test_placeholders_are_filled_from_facts() -> None:
    diagnosis = run_rules([RULES["driver-not-in-kernel"]], _no_config())
    title = diagnosis.findings[0].title
    assert "${" not in title
    assert "6.1.0-" in title
