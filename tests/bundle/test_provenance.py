"""Where a report comes from: the `source` of every printed document, the header of the text
report, the provenance fields of many bundles, and the rules digest a bundle records."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from snddiag import __version__
from snddiag.bundle import Limits
from snddiag.bundle.analyze import analyze_one
from snddiag.bundle.provenance import rules_digest
from snddiag.bundle.read import read_bundle
from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import Rule, load_rules
from snddiag.evidence import Evidence
from snddiag.pipeline import diagnose
from tests.bundle.seeded import REPO, USER, make_tree
from tests.bundle.tars import CREATED
from tests.site_rules import SITE_RULE

SCHEMA = json.loads((REPO / "snddiag" / "report" / "schema.json").read_text())
WHEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _bundle(
    evidence: Evidence, rules: list[Rule] | None, path: Path, *, redact: bool = True
) -> str:
    document = diagnose(evidence, rules or load_rules([REPO / "rules"])).document
    code = write_bundle(evidence, document, str(path), redact=redact, created=CREATED, rules=rules)
    assert code == 0
    return str(path)


def _site(tmp_path: Path) -> str:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site-always.yaml").write_text(SITE_RULE)
    return str(site)


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    main(argv)
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


@pytest.fixture
def bundle(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    made = _bundle(evidence, rules, tmp_path / "guest.tar.gz")
    capsys.readouterr()
    return made


def test_bundle_source_in_json_names_the_collector(
    bundle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(["analyze", bundle, "--json"], capsys)
    jsonschema.validate(document, SCHEMA)
    source = document["source"]
    assert isinstance(source, dict)
    assert WHEN.fullmatch(source.pop("collected_at"))
    assert source == {
        "kind": "bundle",
        "path": bundle,
        "uid": "1000",
        "user": "redacted-user-1",  # the bundle's redaction token, never the name
        "snddiag_version": __version__,
        "rules_differ": False,
        "collected_status": "ok",
    }
    assert list(document)[:5] == ["schema_version", "tool", "status", "exit_code", "source"]


def test_bundle_collected_with_other_rules_says_so(
    bundle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(["analyze", bundle, "--json", "--rules", _site(tmp_path)], capsys)
    assert document["source"]["rules_differ"] is True  # type: ignore[index]


def test_bundle_without_a_rules_digest_is_unknown(
    evidence: Evidence, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _bundle(evidence, None, tmp_path / "old.tar.gz")  # as bundles were written before
    assert "rules_sha256" not in read_bundle(Path(old)).info
    document = _json(["analyze", old, "--json"], capsys)
    assert document["source"]["rules_differ"] is None  # type: ignore[index]
    assert main(["analyze", old, "--no-color"]) == 0
    assert "rules it was collected with: not recorded" in " ".join(capsys.readouterr().out.split())


def test_text_header_says_the_report_comes_from_a_bundle(
    bundle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", bundle, "--no-color"]) == 0
    out = capsys.readouterr().out
    title, header = out.split("\nkernel ")[0].split("\n", 1)
    assert title == "snddiag: virtio sound looks healthy"
    header = " ".join(header.split())  # wrapped at spaces to 80 columns
    assert re.fullmatch(
        rf"from bundle {re.escape(bundle)}, collected {WHEN.pattern} by "
        rf"uid=1000\(redacted-user-1\) with snddiag {re.escape(__version__)}, "
        r"verdict then: ok; rules: the ones it was collected with",
        header,
    )


def test_unredacted_bundle_shows_the_user(
    evidence: Evidence, rules: list[Rule], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _bundle(evidence, rules, tmp_path / "plain.tar.gz", redact=False)
    capsys.readouterr()
    assert analyze_one(plain, rules, Limits())["user"] == USER


def test_collect_records_the_rules_it_diagnosed_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tree(tmp_path / "root")
    out = tmp_path / "b.tar.gz"
    site = _site(tmp_path)
    assert main(["--root", str(tmp_path / "root"), "collect", "-o", str(out), "--rules", site]) == 0
    rules = load_rules([REPO / "rules", Path(site)])
    assert read_bundle(out).info["rules_sha256"] == rules_digest(rules)
    capsys.readouterr()
    item = analyze_one(str(out), rules, Limits())
    assert (item["rules_differ"], item["uid"], item["user"]) == (False, None, None)
    assert "site-always" in item["rules"]
    document = _json(["analyze", str(out), "--json"], capsys)  # without the site's rules
    assert document["source"]["rules_differ"] is True  # type: ignore[index]


def test_rules_digest_follows_ids_and_file_contents(tmp_path: Path) -> None:
    shipped = load_rules([REPO / "rules"])
    assert rules_digest(shipped) == rules_digest(list(reversed(shipped)))
    copy = tmp_path / "rules"
    shutil.copytree(REPO / "rules", copy)
    assert rules_digest(load_rules([copy])) == rules_digest(shipped)  # where they live: no
    edited = next(copy.rglob("legacy-mmio-transport.yaml"))
    edited.write_text(edited.read_text() + "# a site's comment\n")
    assert rules_digest(load_rules([copy])) != rules_digest(shipped)
    assert rules_digest(shipped[1:]) != rules_digest(shipped)


def test_live_and_snapshot_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    make_tree(root)
    live = _json(["--root", str(root), "--json"], capsys)
    jsonschema.validate(live, SCHEMA)
    source = live["source"]
    assert isinstance(source, dict)
    assert WHEN.fullmatch(source.pop("collected_at"))
    assert source == {
        "kind": "live",
        "path": str(root),
        "uid": None,  # --root reads files only: nothing of the user who runs snddiag
        "user": None,
        "snddiag_version": __version__,
        "rules_differ": False,
        "collected_status": None,
    }
    snapshot = tmp_path / "snap"
    assert main(["--root", str(root), "collect", "--dir", str(snapshot)]) == 0
    capsys.readouterr()
    document = _json(["analyze", "--root", str(snapshot), "--json"], capsys)
    jsonschema.validate(document, SCHEMA)
    assert document["source"]["kind"] == "snapshot"  # type: ignore[index]
    assert document["source"]["rules_differ"] is None  # type: ignore[index]
    assert main(["analyze", "--root", str(snapshot), "--no-color"]) == document["exit_code"]
    title_and_header = capsys.readouterr().out.split("\nkernel ")[0]
    header = " ".join(title_and_header.split("\n", 1)[1].split())
    assert header.startswith(f"from snapshot {snapshot}, collected ")
    assert header.endswith(f"with snddiag {__version__}")  # no verdict or rules recorded


def test_many_bundles_carry_provenance_and_say_when_rules_differ(
    bundle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [bundle, bundle]
    summary = _json(["analyze", *paths, "--json", "--jobs", "1"], capsys)
    items = summary["bundles"]
    assert isinstance(items, list)
    assert [(b["user"], b["rules_differ"], b["collected_status"]) for b in items] == [
        ("redacted-user-1", False, "ok")
    ] * 2
    assert main(["analyze", *paths, "--no-color", "--jobs", "1"]) == 0
    assert "collected with other rules" not in capsys.readouterr().out
    main(["analyze", *paths, "--no-color", "--jobs", "1", "--rules", _site(tmp_path)])
    assert "2 of them collected with other rules than these" in capsys.readouterr().out
