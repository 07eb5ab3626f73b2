"""Findings in the order a sound travels: the root cause first, what waits for it under it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from snddiag import records
from snddiag.engine import Diagnosis, run_rules
from snddiag.engine.load import LAYERS, default_rule_dirs, load_rules
from snddiag.facts import build_facts
from snddiag.pipeline import diagnose
from snddiag.report.terminal import render_terminal
from tests.guests import REPO, guest_evidence

RULES = load_rules(default_rule_dirs())


def _run(guest: str, rules_dir: Path | None = None) -> Diagnosis:
    rules = RULES if rules_dir is None else load_rules([REPO / "rules", rules_dir])
    return run_rules(rules, build_facts(guest_evidence(guest)))


def _order(diagnosis: Diagnosis) -> list[tuple[str, str | None]]:
    return [(f.rule.rule_id, f.moot_because) for f in diagnosis.findings]


def test_every_shipped_rule_has_a_layer_of_the_chain() -> None:
    assert {r.layer for r in RULES} <= set(LAYERS)
    assert {r.layer for r in RULES} >= {"host", "device", "transport", "kernel", "driver"}


def test_firecracker_microvm_leads_with_the_vmm() -> None:
    diagnosis = _run("firecracker-no-modules")
    assert diagnosis.root_cause == "vmm-without-virtio-sound"
    assert _order(diagnosis) == [
        ("vmm-without-virtio-sound", None),
        ("kernel-without-modules", "vmm-without-virtio-sound"),
        ("kernel-without-sound", "vmm-without-virtio-sound"),
    ]


@pytest.mark.parametrize(
    ("guest", "expected"),
    [
        # An old machine type is why the device is missing: a warning that an error waits for.
        (
            "old-machine-type",
            [
                ("qemu-machine-too-old", None),
                ("no-virtio-sound-device", "qemu-machine-too-old"),
                ("emulated-sound-only", None),
            ],
        ),
        # The probe failure is the legacy transport's consequence.
        (
            "legacy-mmio",
            [("legacy-mmio-transport", None), ("probe-failed", "legacy-mmio-transport")],
        ),
        (
            "old-kernel-no-device",
            [("no-virtio-sound-device", None), ("driver-not-in-kernel", "no-virtio-sound-device")],
        ),
        (
            "blacklisted-modprobe",
            [("driver-blacklisted", None), ("driver-not-loaded", "driver-blacklisted")],
        ),
    ],
)  # fmt: skip
def test_root_cause_then_what_waits_for_it(
    guest: str, expected: list[tuple[str, str | None]]
) -> None:
    diagnosis = _run(guest)
    assert _order(diagnosis) == expected
    assert diagnosis.root_cause == expected[0][0]


def test_no_error_no_root_cause() -> None:
    diagnosis = _run("non-root-dmesg-restrict")
    assert diagnosis.root_cause is None
    assert diagnosis.findings[0].rule.severity.value == "warning"


def test_an_error_at_a_later_layer_is_the_root_cause_over_an_earlier_warning(
    tmp_path: Path,
) -> None:
    # A site rule at the host layer that fires everywhere, as a warning waiting for nothing:
    # it comes after the root cause, which is an error.
    (tmp_path / "host-note.yaml").write_text(
        "id: host-note\nseverity: warning\nlayer: host\ntitle: A host note\n"
        "when: {fact: system.kernel_release, exists: true}\nexplain: x\n"
        "remediation: [{side: host, step: y}]\n"
    )
    diagnosis = _run("legacy-mmio", tmp_path)
    assert diagnosis.root_cause == "legacy-mmio-transport"
    assert [f.rule.rule_id for f in diagnosis.findings] == [
        "legacy-mmio-transport",
        "probe-failed",
        "host-note",
    ]


def test_json_has_root_cause_and_layers_and_the_schema_knows_them() -> None:
    document = diagnose(guest_evidence("firecracker-no-modules"), RULES).document
    assert document["root_cause"] == "vmm-without-virtio-sound"
    assert [f["layer"] for f in document["findings"]] == ["host", "kernel", "kernel"]
    assert [f["moot_because"] for f in document["findings"]] == [
        None,
        "vmm-without-virtio-sound",
        "vmm-without-virtio-sound",
    ]
    schema = json.loads((REPO / "snddiag" / "report" / "schema.json").read_text())
    finding = schema["properties"]["findings"]["items"]["properties"]
    assert tuple(finding["layer"]["enum"]) == LAYERS


def test_alsa_rules_do_not_apply_on_a_kernel_without_sound() -> None:
    """Not "not checked (could not read ...)": there is nothing to read on this kernel."""
    facts = build_facts(guest_evidence("firecracker-no-modules"))
    as_user = records.replace(facts, system=records.replace(facts.system, is_root=False))
    diagnosis = run_rules(RULES, as_user)
    assert diagnosis.not_checked == ()
    assert [(d.rule.rule_id, d.reason) for d in diagnosis.does_not_apply] == [
        ("sound-nodes-not-accessible", "this kernel has no sound support")
    ]
    # The same rule on a kernel with sound whose ALSA could not be read is not checked.
    healthy = build_facts(guest_evidence("healthy-pci").without(["proc/asound/", "dev/snd/"]))
    healthy = records.replace(healthy, system=records.replace(healthy.system, is_root=False))
    again = run_rules([r for r in RULES if r.rule_id == "sound-nodes-not-accessible"], healthy)
    assert [n.rule.rule_id for n in again.not_checked] == ["sound-nodes-not-accessible"]
    assert again.does_not_apply == ()


def test_expected_failures_are_not_unreadable() -> None:
    document = diagnose(guest_evidence("firecracker-no-modules"), RULES).document
    # lsmod fails on a kernel without modules, modinfo finds no driver the kernel lacks.
    assert document["unreadable_sources"] == []
    assert document["driver"]["installed"] is False
    assert document["driver"]["loaded"] is False


def test_without_root_the_microvm_is_named_from_what_a_user_can_read() -> None:
    """A user cannot read the ACPI tables (0400) or a restricted kernel log: the PCI host
    bridge, which anyone can read, still tells a VMM without sound; never "other"."""
    evidence = guest_evidence("firecracker-no-modules").without(
        ["cmd/dmesg", "sys/firmware/acpi/tables/FACP"]
    )
    document = diagnose(evidence, RULES).document
    assert (document["host"]["vmm"], document["host"]["vmm_source"]) == (
        "rust-vmm",
        "pci-host-bridge",
    )
    assert document["root_cause"] == "vmm-without-virtio-sound"
    steps = document["findings"][0]["remediation"]
    assert [s["step"][:40] for s in steps] == ["The VM's PCI host bridge (8086:0d57) is "]
    text = io.StringIO()
    render_terminal(document, text, color=False)
    assert "host Firecracker, Cloud Hypervisor or Dragonball" in " ".join(text.getvalue().split())


def test_a_host_only_root_could_name_is_said_so() -> None:
    evidence = guest_evidence("firecracker-no-modules").without(
        ["cmd/dmesg", "sys/firmware/acpi/tables/FACP", "sys/bus/pci/devices/0000:00:00.0/"]
    )
    document = diagnose(evidence, RULES).document
    document["system"]["is_root"] = False
    text = io.StringIO()
    render_terminal(document, text, color=False)
    assert "host not identified without root" in " ".join(text.getvalue().split())
