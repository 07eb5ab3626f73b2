"""Facts: what the evidence says, as frozen dataclasses that rules address by dotted path.

`None` means "could not be read"; an empty tuple means "read, and there was nothing". Groups
(`system`, `virtio.snd`, ...) always exist, so every rule path resolves to a value or None.
One module per group owns its dataclass, its builder and the sources it reads (`SOURCES`,
checked against the collection plan); every fact is documented beside its field (`fact(...)`).
"""

from __future__ import annotations

from snddiag.evidence import Evidence
from snddiag.facts import alsa, data_path, devices, driver, kernel, probe, session, system
from snddiag.facts.alsa import Alsa, Userspace, build_alsa, build_userspace
from snddiag.facts.data_path import DataPath, DataPathCause, build_data_path
from snddiag.facts.devices import (
    InventoryItem,
    Pci,
    Virtio,
    build_inventory,
    build_pci,
    build_virtio,
)
from snddiag.facts.docs import NEVER_NONE, fact
from snddiag.facts.driver import Driver, build_driver
from snddiag.facts.kernel import Kernel, build_kernel, read_kernel_config, read_kernel_log
from snddiag.facts.probe import Probe, ProbeCause, build_probe
from snddiag.facts.session import Session, build_session
from snddiag.facts.system import Host, System, build_host, build_system
from snddiag.records import dataclass

__all__ = [
    "FACT_SOURCES", "DataPathCause", "Facts", "ProbeCause", "build_facts", "does_not_apply",
    "expected_failure", "sources_for",
]  # fmt: skip


@dataclass(frozen=True)
class Facts:
    system: System
    host: Host
    kernel: Kernel
    driver: Driver
    probe: Probe
    virtio: Virtio
    pci: Pci
    alsa: Alsa
    userspace: Userspace
    data_path: DataPath
    session: Session
    inventory: tuple[InventoryItem, ...] = fact(
        "per device class (sound, net, block, ...): the paravirtualized and emulated devices",
        NEVER_NONE,
        default=(),
    )


# Where each fact (or group of facts) comes from: a rule that cannot be evaluated names these as
# the sources it lacked. Each group module declares its own, in the plan's key syntax.
FACT_SOURCES: dict[str, tuple[str, ...]] = {
    **system.SOURCES,
    **kernel.SOURCES,
    **driver.SOURCES,
    **probe.SOURCES,
    **devices.SOURCES,
    **alsa.SOURCES,
    **data_path.SOURCES,
    **session.SOURCES,
}


# Facts that cannot exist on some systems, and why: None there is not "could not be read".
_NEEDS_SOUND = ("alsa.", "data_path.")


def does_not_apply(path: str, facts: Facts) -> str | None:
    """Why the fact `path` has no value on this system whatever snddiag could read (a kernel
    without sound has no ALSA), or None when its value is simply unknown."""
    if facts.kernel.sound_supported is False and path.startswith(_NEEDS_SOUND):
        return "this kernel has no sound support"
    return None


_NEEDS_MODULES = ("cmd/lsmod", "proc/modules", "cmd/modinfo-")
_NEEDS_SOUND_SOURCES = ("proc/asound", "dev/snd")


def expected_failure(key: str, facts: Facts) -> bool:
    """Whether a source failing here is what this system is expected to do: `lsmod` on a kernel
    without modules, modinfo of a driver the kernel does not have, ALSA on a kernel without
    sound. Those are no reading problem."""
    if facts.kernel.modules_supported is False and key.startswith(_NEEDS_MODULES):
        return True
    if facts.driver.in_kernel is False and key.startswith("cmd/modinfo-"):
        return True
    return facts.kernel.sound_supported is False and key.startswith(_NEEDS_SOUND_SOURCES)


def sources_for(path: str) -> tuple[str, ...]:
    """The sources of the longest declared prefix of a fact path (`driver.config`, `driver`)."""
    best = ""
    for prefix in FACT_SOURCES:
        if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return FACT_SOURCES.get(best, ())


def build_facts(evidence: Evidence) -> Facts:
    log, log_source = read_kernel_log(evidence)
    config, config_source = read_kernel_config(evidence)
    kernel_facts = build_kernel(evidence, log, log_source, config_source, config)
    virtio = build_virtio(evidence)
    pci = build_pci(evidence)
    alsa_facts = build_alsa(evidence)
    return Facts(
        system=build_system(evidence),
        host=build_host(evidence, virtio, kernel_facts.log),
        kernel=kernel_facts,
        driver=build_driver(evidence, config, kernel_facts.cmdline),
        probe=build_probe(log),
        virtio=virtio,
        pci=pci,
        alsa=alsa_facts,
        userspace=build_userspace(evidence),
        data_path=build_data_path(evidence),
        session=build_session(evidence, alsa_facts),
        inventory=build_inventory(virtio, pci),
    )
