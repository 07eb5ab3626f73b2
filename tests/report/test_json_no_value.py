"""Every JSON document snddiag writes, from real captured guests: each validates against its
schema, no field spells "no value" two ways (null in one place, "" in another, across
documents too: a remediation step's `tool` is null in the diagnosis and in `explain --json`),
and every top-level field is documented where a reader of that document looks.

`null` means "not known", an empty list or object "known, and there is none": both may appear
in one field (`virtio.sound.features` is null without a device, [] with a device that
negotiated nothing). Only null beside "" is two spellings of one thing.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from snddiag.bundle.write import write_bundle
from snddiag.cli import main
from snddiag.engine.load import load_rules
from snddiag.evidence import well_formed
from snddiag.pipeline import diagnose
from snddiag.report.json_doc import meta_source, with_source
from tests.bundle.tars import CREATED
from tests.guests import GUESTS, REPO, captured_guests, guest_evidence

SCHEMAS = REPO / "snddiag" / "report"
SCHEMA_OF = {
    "diagnosis": "schema.json",
    "summary": "summary.schema.json",
    "command": "command.schema.json",
    "error": "error.schema.json",
}
# Where a reader of each document finds its top-level fields.
DOCUMENTED_IN = {
    "diagnosis": "README.md#JSON for scripts",
    "summary": "README.md#JSON for scripts",
    "command": "README.md#JSON for scripts",
    "error": "README.md#Exit codes",
    "manifest": "docs/bundles.md",
}
FAILING = (
    ["--frobnicate", "--json"],
    ["analyze", "--root", "/", "--json"],
    ["explain", "no-such-rule", "--json"],
)

Documents = dict[str, list[dict[str, Any]]]


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue()


def _json(argv: list[str]) -> dict[str, Any]:
    _code, out = _run(argv)
    document = json.loads(out)
    assert isinstance(document, dict), argv
    return document


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Documents:
    docs: Documents = defaultdict(list)
    rules = load_rules([REPO / "rules"])
    for guest in captured_guests():
        # What `analyze --root` prints, without a worker process per guest (the command line
        # itself runs on the bundles below).
        evidence = guest_evidence(guest)
        source = meta_source("snapshot", str(GUESTS / guest), evidence.meta)
        document = with_source(diagnose(evidence, rules).document, source)
        docs["diagnosis"].append(json.loads(json.dumps(well_formed(document))))
        docs["manifest"].append(json.loads((GUESTS / guest / "manifest.json").read_text()))
    rule_list = _json(["rules", "list", "--json"])
    docs["command"] += [rule_list, _json(["rules", "facts", "--json"])]
    docs["command"].append(_json(["rules", "check", "--json"]))
    docs["command"] += [_json(["explain", r["rule"], "--json"]) for r in rule_list["rules"]]
    where = tmp_path_factory.mktemp("bundles")
    bundles = []
    for guest in ("healthy-pci", "no-sound-device", "non-root-dmesg-restrict"):
        bundle = where / f"{guest}.tar.gz"
        document = _json(["analyze", "--root", str(GUESTS / guest), "--json"])
        docs["diagnosis"].append(document)
        assert write_bundle(guest_evidence(guest), document, str(bundle), created=CREATED) == 0
        bundles.append(str(bundle))
        docs["diagnosis"].append(_json(["analyze", str(bundle), "--json"]))
        with tarfile.open(bundle) as tar:
            for member in tar.getmembers():
                if member.name.endswith(("/manifest.json", "/diagnosis.json")):
                    read = tar.extractfile(member)
                    assert read is not None
                    kind = "manifest" if member.name.endswith("manifest.json") else "diagnosis"
                    docs[kind].append(json.loads(read.read()))
    broken = where / "broken.tar.gz"
    broken.write_bytes(Path(bundles[0]).read_bytes()[:300])
    docs["summary"].append(_json(["analyze", *bundles, str(broken), "--json"]))
    docs["command"].append(
        _json(
            ["--root", str(GUESTS / "healthy-pci"), "collect", "-o", str(where / "c.tgz"), "--json"]
        )
    )
    docs["diagnosis"].append(diagnose(guest_evidence("healthy-pci"), []).document)
    docs["error"] += [_json(argv) for argv in FAILING]
    return docs


def _empties(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, spelling) of every empty value: lists' items share their list's path."""
    if value is None:
        yield path, "null"
    elif value == "":
        yield path, '""'
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _empties(item, f"{path}[]")


def test_no_field_spells_no_value_two_ways(documents: Documents) -> None:
    by_path: dict[str, set[str]] = defaultdict(set)
    by_key: dict[str, set[str]] = defaultdict(set)
    for kind, docs in documents.items():
        for document in docs:
            for path, spelling in _empties(document, kind):
                by_path[path].add(spelling)
                by_key[re.sub(r"\[\]$", "", path.rsplit(".", 1)[-1])].add(spelling)
    assert by_path, "no empty value anywhere: the walk saw nothing"
    assert not [p for p, s in by_path.items() if len(s) > 1]
    assert not [k for k, s in by_key.items() if len(s) > 1]


def test_the_audit_sees_both_spellings_where_they_differ() -> None:
    paths = dict(_empties({"a": [{"tool": None}, {"tool": ""}], "b": [], "c": 0}, "d"))
    assert list(_empties({"a": [{"tool": None}, {"tool": ""}]}, "d")) == [
        ("d.a[].tool", "null"),
        ("d.a[].tool", '""'),
    ]
    assert "d.b" not in paths and "d.c" not in paths


@pytest.mark.parametrize("kind", sorted(SCHEMA_OF))
def test_every_document_validates_against_its_schema(documents: Documents, kind: str) -> None:
    schema = json.loads((SCHEMAS / SCHEMA_OF[kind]).read_text())
    assert documents[kind]
    for document in documents[kind]:
        jsonschema.validate(document, schema)


def _section(where: str) -> str:
    path, _, heading = where.partition("#")
    text = (REPO / path).read_text()
    if not heading:
        return text
    start = text.index(f"### {heading}\n")
    end = text.find("\n## ", start)
    return text[start : end if end >= 0 else None]


@pytest.mark.parametrize("kind", sorted(DOCUMENTED_IN))
def test_every_top_level_field_is_documented(documents: Documents, kind: str) -> None:
    text = _section(DOCUMENTED_IN[kind])
    fields = {key for document in documents[kind] for key in document}
    if kind in SCHEMA_OF:
        fields |= set(json.loads((SCHEMAS / SCHEMA_OF[kind]).read_text())["properties"])
    undocumented = sorted(f for f in fields if f"`{f}`" not in text)
    assert not undocumented, f"{DOCUMENTED_IN[kind]} does not name {undocumented}"
