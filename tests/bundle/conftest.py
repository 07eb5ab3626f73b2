from __future__ import annotations

from pathlib import Path

import pytest

from snddiag.engine.load import Rule, load_rules
from snddiag.evidence import Evidence
from tests.bundle.seeded import REPO, seeded_evidence


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    return seeded_evidence(tmp_path / "root")


@pytest.fixture(scope="session")
def rules() -> list[Rule]:
    return load_rules([REPO / "rules"])
