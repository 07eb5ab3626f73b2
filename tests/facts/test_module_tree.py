"""A module tree without its index: driver.module_index_present and the module file."""

from __future__ import annotations

from snddiag.evidence import Status
from snddiag.facts import build_facts
from snddiag.facts.driver import build_driver
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

RELEASE = "6.12.1-test"
TREE = f"lib/modules/{RELEASE}"


def test_the_empty_tree_guest_has_a_tree_without_index_or_module() -> None:
    driver = build_facts(guest_evidence("empty-module-tree")).driver
    assert (driver.module_tree_present, driver.module_index_present) == (True, False)
    assert (driver.installed, driver.in_kernel, driver.loaded) == (False, True, False)


def test_a_full_tree_has_its_index() -> None:
    driver = build_facts(guest_evidence("healthy-pci")).driver
    assert (driver.module_tree_present, driver.module_index_present) == (True, True)


def test_a_missing_tree_has_no_index_to_judge() -> None:
    for guest in ("no-module-tree", "firecracker-no-modules"):
        driver = build_facts(guest_evidence(guest)).driver
        assert (driver.module_tree_present, driver.module_index_present) == (False, None), guest


def test_a_tree_without_index_but_with_the_module_file() -> None:
    evidence = evidence_of(
        {"proc/sys/kernel/osrelease": RELEASE},
        links={TREE: f"/{TREE}"},
        listings={f"{TREE}/kernel/sound/virtio": ("virtio_snd.ko.zst",)},
        statuses={f"{TREE}/modules.dep": Status.MISSING, f"{TREE}/modules.builtin": Status.MISSING},
    )
    driver = build_driver(evidence, {"CONFIG_SND_VIRTIO": "m"}, "")
    assert (driver.module_index_present, driver.installed) == (False, True)
