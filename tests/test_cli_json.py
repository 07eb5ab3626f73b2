"""Every command that takes --json prints exactly one JSON document on stdout, and nothing else
there (command.schema.json; a failure prints error.schema.json's), through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from snddiag.cli import main
from snddiag.engine.load import default_rule_dirs, load_rules, rule_files
from snddiag.engine.paths import FACTS_BY_PATH
from snddiag.evidence import MANIFEST_NAME, load_directory
from tests.guests import REPO
from tests.site_rules import SITE_RULE
from tests.trees import write_files

REPORT = REPO / "snddiag" / "report"
SCHEMA = json.loads((REPORT / "command.schema.json").read_text())
ERROR_SCHEMA = json.loads((REPORT / "error.schema.json").read_text())


def _document(capsys: pytest.CaptureFixture[str], kind: str) -> dict[str, Any]:
    """The whole of stdout as one JSON document of `kind`, valid against the schema."""
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    assert document["kind"] == kind
    return document


def _shipped_rule_files() -> list[Path]:
    return [p for d in default_rule_dirs() for p in rule_files(d)]


@pytest.mark.parametrize("argv", [["rules", "list", "--json"], ["--json", "rules", "list"]])
def test_rules_list_json_lists_every_rule_with_its_file(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    listed = _document(capsys, "rule-list")["rules"]
    rules = load_rules(default_rule_dirs())
    assert [r["rule"] for r in listed] == [r.rule_id for r in rules]
    by_id = {r.rule_id: r for r in rules}
    for item in listed:
        rule = by_id[item["rule"]]
        assert (item["severity"], item["title"]) == (rule.severity.value, rule.title)
        assert Path(item["file"]).stem == item["rule"]
        assert Path(item["file"]).is_file()


def test_rules_list_json_includes_a_site_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site-always.yaml").write_text(SITE_RULE)
    assert main(["rules", "list", "--json", "--rules", str(tmp_path)]) == 0
    listed = {r["rule"]: r for r in _document(capsys, "rule-list")["rules"]}
    assert listed["site-always"]["file"] == str(tmp_path / "site-always.yaml")
    assert listed["site-always"]["severity"] == "info"


def test_rules_facts_json_is_one_document_of_every_fact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "facts", "--json"]) == 0
    facts = _document(capsys, "fact-list")["facts"]
    assert len(facts) == len(FACTS_BY_PATH)
    assert {"virtio.snd.transport", "driver.params.<name>"} <= {f["fact"] for f in facts}


def test_rules_check_json_on_the_shipped_rules_finds_no_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "check", "--json"]) == 0
    document = _document(capsys, "rule-check")
    assert document["problems"] == []
    assert document["files_checked"] == len(_shipped_rule_files()) > 0


def test_rules_check_json_lists_each_problem_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "site-always.yaml").write_text(SITE_RULE)
    (tmp_path / "bad.yaml").write_text("id: bad\nseverity: info\n")
    (tmp_path / "typo.yaml").write_text(
        SITE_RULE.replace("site-always", "typo").replace("ker", "k")
    )
    (tmp_path / "misnamed.yml").write_text(SITE_RULE)
    assert main(["--json", "rules", "check", "--rules", str(tmp_path)]) == 65
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    jsonschema.validate(document, SCHEMA)
    assert document["files_checked"] == len(_shipped_rule_files()) + 3
    problems = {Path(p["file"]).name: p for p in document["problems"]}
    assert set(problems) == {"bad.yaml", "typo.yaml", "misnamed.yml"}
    assert problems["typo.yaml"]["line"] == 4
    assert "unknown fact 'system.knel_release'" in problems["typo.yaml"]["message"]
    assert problems["misnamed.yml"]["line"] is None
    # The text form stays on stderr, one `file:line: problem` a problem, then the count.
    text = captured.err.splitlines()
    assert f"{tmp_path / 'typo.yaml'}:4: {problems['typo.yaml']['message']}" in text
    assert f"{tmp_path / 'misnamed.yml'}: {problems['misnamed.yml']['message']}" in text
    assert text[-1].endswith("3 problem(s)")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small system tree with a host name to redact (collect --root reads files only)."""
    root = tmp_path / "tree"
    files = {
        "proc/sys/kernel/osrelease": "6.1.0-13-amd64\n",
        "proc/sys/kernel/hostname": "json-host\n",
        "etc/hostname": "json-host\n",
        "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
        "proc/modules": "virtio_snd 45056 0 - Live 0x0000000000000000\n",
    }
    return write_files(root, files)


def _bundle_member(path: Path, name: str) -> Any:
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/" + name))
        handle = tar.extractfile(member)
        assert handle is not None
        return json.loads(handle.read())


def test_collect_json_summarises_the_bundle_it_wrote(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.tar.gz"
    assert main(["--root", str(tree), "collect", "-o", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    jsonschema.validate(document, SCHEMA)
    manifest = _bundle_member(out, MANIFEST_NAME)
    diagnosis = _bundle_member(out, "diagnosis.json")
    assert document["output"] == str(out)
    assert document["format"] == "bundle"
    assert document["entries"] == len(manifest["entries"])
    assert document["redaction"] == manifest["bundle"]["redaction"]
    assert document["redaction"]["classes"]["hostname"]["values"] == 1
    assert document["verdict"] == {
        "status": diagnosis["status"],
        "exit_code": diagnosis["exit_code"],
    }
    # The line for people stays on stderr.
    assert f"bundle written to {out} ({document['entries']} entries, redacted: 1 host name" in (
        captured.err
    )


def test_collect_json_without_redaction_says_so(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.tar.gz"
    assert main(["--json", "--root", str(tree), "collect", "--no-redact", "-o", str(out)]) == 0
    document = _document(capsys, "collect")
    assert document["redaction"] == {"enabled": False, "classes": {}}
    assert document["verdict"]["status"] in ("ok", "warning", "error", "incomplete")


def test_collect_dir_json_names_the_directory_and_no_verdict(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "snap"
    assert main(["--root", str(tree), "collect", "--dir", str(target), "--json"]) == 0
    document = _document(capsys, "collect")
    assert document["output"] == str(target)
    assert document["format"] == "directory"
    assert document["entries"] == len(load_directory(target))
    assert document["redaction"]["enabled"] is True  # redacted by default, as a bundle is
    assert document["redaction"]["classes"]["hostname"]["values"] == 1
    assert document["verdict"] is None
    kept = tmp_path / "kept"
    argv = ["--root", str(tree), "collect", "--dir", str(kept), "--no-redact", "--json"]
    assert main(argv) == 0
    assert _document(capsys, "collect")["redaction"] == {"enabled": False, "classes": {}}


def test_collect_to_stdout_with_json_is_a_usage_error(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(tree), "collect", "-o", "-", "--json"]) == 64
    out, err = capsys.readouterr()
    document = json.loads(out)
    jsonschema.validate(document, ERROR_SCHEMA)
    message = "collect -o - writes the bundle to stdout, so --json cannot: use -o FILE --json"
    assert document["error"] == message
    assert err == f"snddiag: {message}\n"


def test_collect_json_that_cannot_write_prints_the_error_document(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-dir" / "b.tar.gz"
    code = main(["--root", str(tree), "collect", "-o", str(out), "--json"])
    assert code == 73
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    jsonschema.validate(document, ERROR_SCHEMA)
    assert document["exit_code"] == 73
    assert captured.err == f"snddiag: {document['error']}\n"
    assert str(out) in document["error"]


def _in_a_process(*argv: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    """`python3 -m snddiag ARGV`: it succeeded, and its stdout is one valid document."""
    done = subprocess.run(
        [sys.executable, "-m", "snddiag", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.validate(document, SCHEMA)
    return done, document


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["rules", "list", "--json"], "rule-list"),
        (["rules", "facts", "--json"], "fact-list"),
        (["rules", "check", "--json"], "rule-check"),
    ],
)
def test_the_installed_entry_point_prints_one_document(argv: list[str], kind: str) -> None:
    _done, document = _in_a_process(*argv)
    assert document["kind"] == kind


def test_collect_json_in_a_real_process_keeps_stdout_for_the_document(
    tree: Path, tmp_path: Path
) -> None:
    out = tmp_path / "b.tar.gz"
    done, document = _in_a_process("--root", str(tree), "collect", "-o", str(out), "--json")
    assert document["output"] == str(out)
    assert done.stderr.startswith(f"snddiag: bundle written to {out} (")


def test_readme_and_man_page_describe_every_document_kind() -> None:
    readme = (REPO / "README.md").read_text()
    manual = (REPO / "man" / "snddiag.1").read_text()
    kinds = SCHEMA["properties"]["kind"]["enum"]
    assert kinds == [branch["properties"]["kind"]["const"] for branch in SCHEMA["oneOf"]]
    for kind in kinds:
        assert f"| `{kind}` |" in readme, kind
        assert f".B {kind.replace('-', chr(92) + '-')}\n" in manual, kind
    assert "command.schema.json" in readme
    assert "command.schema.json" in manual
