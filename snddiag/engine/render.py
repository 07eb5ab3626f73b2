"""A fired rule's text for this system: `${fact.path}` placeholders and the steps that apply."""

from __future__ import annotations

from snddiag.engine.model import PLACEHOLDER, Quote, Step
from snddiag.engine.paths import resolve
from snddiag.engine.values import shown, texts
from snddiag.facts import Facts

MAX_QUOTED_LINES = 8


def fill(text: str, facts: Facts) -> str:
    return PLACEHOLDER.sub(lambda m: shown(resolve(facts, m.group(1))), text)


def _matches_filter(name: str, wanted: tuple[str, ...], facts: Facts) -> bool:
    system, host = facts.system, facts.host
    if name == "distro":
        have = [system.distro_id, *(system.distro_like or ())]
        known = system.distro_id is not None
    elif name == "arch":
        have, known = [system.arch], system.arch is not None
    elif name == "vmm":
        have, known = [host.vmm], host.vmm is not None
    elif name == "lockdown":
        lockdown = facts.kernel.lockdown
        have, known = [lockdown], lockdown is not None
    else:  # flavour: a substring of the kernel flavour ("cloud" matches "cloud-amd64")
        flavour = system.kernel_flavour
        if flavour is None:
            return True
        return any(w in flavour for w in wanted)
    # When the fact is unknown, a step for any value may apply: show it rather than hide it.
    return not known or any(h in wanted for h in have if h)


def applies(filters: tuple[tuple[str, tuple[str, ...]], ...], facts: Facts) -> bool:
    """Whether a step or reference with these filters (vmm, distro, ...) is for this system."""
    return all(_matches_filter(name, wanted, facts) for name, wanted in filters)


def applicable_steps(steps: tuple[Step, ...], facts: Facts) -> list[Step]:
    return [s for s in steps if applies(s.filters, facts)]


def quote(item: Quote, facts: Facts) -> list[str]:
    value = resolve(facts, item.fact)
    if value is None:
        return []
    if item.pattern is None:
        return [f"{item.fact}: {shown(value)}"]
    lines = [
        line for text in texts(value) for line in text.splitlines() if item.pattern.search(line)
    ]
    return lines[-MAX_QUOTED_LINES:]
