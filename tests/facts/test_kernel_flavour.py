"""The kernel flavour: the part of the release after its last numeric component."""

from __future__ import annotations

import random
import re
import time

import pytest

from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.facts import build_facts

# The expression used before 0.2, kept here as the reference the linear version must agree with.
_QUADRATIC = re.compile(r"-(?:\d+-)?([a-z][a-z0-9-]*)$")


def _flavour(release: str) -> str | None:
    evidence = Evidence()
    data = (release + "\n").encode()
    evidence.add(Entry("proc/sys/kernel/osrelease", Kind.FILE, Status.OK, data=data))
    return build_facts(evidence).system.kernel_flavour


@pytest.mark.parametrize(
    ("release", "flavour"),
    [
        ("6.6.31-0-virt", "virt"),
        ("6.1.0-56-cloud-amd64", "cloud-amd64"),
        ("6.12.95+deb12-amd64", "amd64"),
        ("6.8.0-45-generic", "generic"),
        ("6.11.4-301.fc41.x86_64", None),
        ("6.12.1", None),
        ("6.12.1-arch1-1", "arch1-1"),
    ],
)
def test_flavour_of_distribution_releases(release: str, flavour: str | None) -> None:
    assert _flavour(release) == flavour


def test_flavour_agrees_with_the_reference_expression() -> None:
    rng = random.Random(9)  # noqa: S311 (test data, not a secret)
    alphabet = "a1-.+Z_x0"
    for _ in range(5000):
        release = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 14)))
        found = _QUADRATIC.search(release)
        assert _flavour(release) == (found.group(1) if found else None), release


@pytest.mark.parametrize("filler", ["a-", "-a", "9-a-"])
def test_flavour_of_a_400_kb_release_is_linear(filler: str) -> None:
    release = filler * (200_000 // len(filler)) + "X"
    started = time.perf_counter()
    assert _flavour(release) is None
    assert time.perf_counter() - started < 1.0
