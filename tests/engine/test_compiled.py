"""The compiled shipped rules: equal to what the YAML gives, and ignored the moment they are not
exactly current (a rule file changed, added or removed, another version, a damaged file)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from snddiag.engine import compiled
from snddiag.engine.compiled import COMPILED_NAME, MAGIC, read_compiled
from snddiag.engine.load import load_rules
from tests.installed import install_copy

SITE_RULE = """\
id: {rule_id}
severity: info
layer: card
title: {title}
when: {{fact: virtio.snd.present, eq: true}}
explain: A site's own rule.
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return install_copy(tmp_path / "site-packages")


def _rewrite(path: Path, header: dict[str, object], payload: bytes) -> None:
    path.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + payload)


def _header(path: Path) -> tuple[dict[str, object], bytes]:
    line, _, payload = path.read_bytes()[len(MAGIC) :].partition(b"\n")
    header: dict[str, object] = json.loads(line)
    return header, payload


def test_compiled_rules_equal_the_yaml(rules: Path) -> None:
    from_yaml = load_rules([rules])
    found = read_compiled(rules)
    assert found is not None
    assert found == from_yaml
    assert [r.path for r in found] == [r.path for r in from_yaml]  # paths where installed now


def test_compiled_rules_follow_the_package_when_moved(rules: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    rules.parent.rename(moved)
    found = read_compiled(moved / "rules")
    assert found is not None
    assert all(str(r.path).startswith(str(moved / "rules") + "/") for r in found)


def test_a_changed_rule_file_makes_them_stale(rules: Path) -> None:
    path = sorted(rules.rglob("*.yaml"))[0]
    path.write_text(path.read_text() + "# edited\n")
    assert read_compiled(rules) is None


def test_an_added_rule_file_makes_them_stale(rules: Path) -> None:
    (rules / "site-extra.yaml").write_text(SITE_RULE.format(rule_id="site-extra", title="x"))
    assert read_compiled(rules) is None


def test_a_removed_rule_file_makes_them_stale(rules: Path) -> None:
    sorted(rules.rglob("*.yaml"))[-1].unlink()
    assert read_compiled(rules) is None


def test_another_snddiag_version_is_ignored(rules: Path) -> None:
    header, payload = _header(rules / COMPILED_NAME)
    _rewrite(rules / COMPILED_NAME, {**header, "snddiag": "0.0.1"}, payload)
    assert read_compiled(rules) is None


@pytest.mark.parametrize("where", [0, 100, -1])
def test_a_damaged_payload_is_ignored(rules: Path, where: int) -> None:
    header, payload = _header(rules / COMPILED_NAME)
    damaged = bytearray(payload)
    damaged[where] ^= 0x20
    _rewrite(rules / COMPILED_NAME, header, bytes(damaged))
    assert read_compiled(rules) is None


def test_a_payload_with_a_matching_checksum_must_still_be_rules(rules: Path) -> None:
    import zlib

    header, _payload = _header(rules / COMPILED_NAME)
    payload = pickle.dumps(["not", "rules"], protocol=4)
    header["payload"] = f"{len(payload)}:{zlib.crc32(payload):08x}"
    _rewrite(rules / COMPILED_NAME, header, payload)
    assert read_compiled(rules) is None


@pytest.mark.parametrize("content", [b"", b"junk", MAGIC, MAGIC + b"{not json\n", MAGIC + b"[]\n"])
def test_a_truncated_or_foreign_file_is_ignored(rules: Path, content: bytes) -> None:
    (rules / COMPILED_NAME).write_bytes(content)
    assert read_compiled(rules) is None


def test_stale_compiled_rules_fall_back_to_the_yaml(
    rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "shipped_rules", lambda: rules)
    path = sorted(rules.rglob("*.yaml"))[0]
    text = path.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    path.write_text(text.replace(title, "title: Retitled since the rules were compiled"))
    loaded = {r.path: r for r in compiled.load_rules([rules])}
    assert loaded[path].title == "Retitled since the rules were compiled"


def test_site_rules_load_from_yaml_and_replace_shipped_ones(
    rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "shipped_rules", lambda: rules)
    read: list[Path] = []
    real = compiled.read_compiled

    def recording(directory: Path) -> object:
        read.append(directory)
        return real(directory)

    monkeypatch.setattr(compiled, "read_compiled", recording)
    site = tmp_path / "site-rules"
    site.mkdir()
    shipped_id = sorted(rules.rglob("*.yaml"))[0].name.removesuffix(".yaml")
    for rule_id in (shipped_id, "site-only"):
        (site / f"{rule_id}.yaml").write_text(SITE_RULE.format(rule_id=rule_id, title="Site"))
    # A compiled file in a site directory is never read: only the shipped one is trusted.
    (site / COMPILED_NAME).write_bytes((rules / COMPILED_NAME).read_bytes())
    loaded = {r.rule_id: r for r in compiled.load_rules([rules, site])}
    assert read == [rules]
    assert loaded[shipped_id].title == "Site"
    assert loaded["site-only"].path == site / "site-only.yaml"
    assert len(loaded) == len(load_rules([rules])) + 1


def test_no_compiled_file_loads_the_yaml(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (rules / COMPILED_NAME).unlink()
    monkeypatch.setattr(compiled, "shipped_rules", lambda: rules)
    assert read_compiled(rules) is None
    assert compiled.load_rules([rules]) == load_rules([rules])


def test_an_archive_without_compiled_rules_loads_the_yaml(tmp_path: Path) -> None:
    import zipfile
    from typing import cast

    archive = tmp_path / "rules.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("rules/a/one.yaml", SITE_RULE.format(rule_id="one", title="One"))
    assert read_compiled(cast(Path, zipfile.Path(archive, "rules/"))) is None


def test_compiled_rules_from_another_rule_model_are_ignored(rules: Path) -> None:
    header, payload = _header(rules / COMPILED_NAME)
    assert "Rule:rule_id," in str(header["model"])
    _rewrite(rules / COMPILED_NAME, {**header, "model": "Rule:rule_id"}, payload)
    assert read_compiled(rules) is None
