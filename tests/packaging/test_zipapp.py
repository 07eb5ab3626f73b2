"""snddiag.pyz (packaging/zipapp/build): built once per session, run as a support script would.

Every run is a real interpreter on the real archive. `python3 -I -S` has no site directory at
all, so PyYAML, rich and pyudev can only come from the copies in the archive (and psutil is
absent, so sound servers come from /proc); `-I` keeps the site directory (the installed
libraries win); Debian's /usr/bin/python3 uses the distribution's python3-* packages.
Verdicts are compared with the installed tool's (`python3 -m snddiag` from this checkout).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest

from snddiag.engine.compiled import COMPILED_NAME, read_compiled
from snddiag.engine.load import load_rules
from tests.guests import GUESTS, REPO
from tests.python39 import python39

BUILD = REPO / "packaging" / "zipapp" / "build"
BARE = ("-I", "-S")
FIXTURES = (
    "healthy-pci",
    "legacy-mmio",
    "no-sound-device",
    "no-config-snd-virtio",
    "busybox-tools",
)


# (name, interpreter and its options): every way a guest may run the archive.
INTERPRETERS = {
    "bare": (sys.executable, *BARE),
    "isolated-with-site": (sys.executable, "-I"),
    "plain": (sys.executable,),
    "python3.9-bare": (python39(), *BARE),
    "debian-python3": ("/usr/bin/python3", "-I"),
}


def build(output: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(BUILD), "--output", str(output)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pyz") / "snddiag.pyz"
    build(path)
    return path


def run(argv: list[str] | tuple[str, ...], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        list(argv), cwd=REPO, env=env, capture_output=True, text=True, check=False, **kwargs
    )


@functools.cache
def installed(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed tool's run (this checkout's `python3 -m snddiag`), once per argument list."""
    return run([sys.executable, "-m", "snddiag", *args])


def document(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


def verdict(doc: dict[str, Any]) -> tuple[str, int, list[str]]:
    return doc["status"], doc["exit_code"], sorted(f["rule"] for f in doc["findings"])


def test_two_builds_give_identical_bytes(pyz: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.pyz"
    build(again)
    assert again.read_bytes() == pyz.read_bytes()


def test_archive_is_an_executable_zipapp_with_a_python3_shebang(pyz: Path) -> None:
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert os.access(pyz, os.X_OK)
    assert zipfile.is_zipfile(pyz)


def test_archive_holds_the_rules_and_only_pure_python_copies(pyz: Path) -> None:
    names = zipfile.ZipFile(pyz).namelist()
    shipped = {
        "snddiag/rules/" + p.relative_to(REPO / "rules").as_posix()
        for p in (REPO / "rules").rglob("*.yaml")
        if not p.name.endswith(".test.yaml")
    }
    shipped.add(f"snddiag/rules/{COMPILED_NAME}")
    assert shipped == {n for n in names if n.startswith("snddiag/rules/")}
    vendored = {n.split("/")[1] for n in names if n.startswith("_vendor/")}
    assert {"yaml", "rich", "pyudev"} <= vendored
    assert not vendored & {"psutil", "pygments", "markdown_it", "mdurl", "_yaml"}
    assert [n for n in names if n.endswith((".so", ".pyc", ".pyd"))] == []
    licences = [n for n in names if re.search(r"\.dist-info/(licenses/)?(LICENSE|COPYING)", n)]
    assert len(licences) == 3, licences


def test_archive_rules_are_compiled_and_a_run_needs_no_yaml(pyz: Path) -> None:
    rules = zipfile.Path(pyz, "snddiag/rules/")
    found = read_compiled(cast(Path, rules))
    assert found is not None
    from_yaml = load_rules([cast(Path, rules)])
    assert [(r.rule_id, r.title, r.when, str(r.path)) for r in found] == [
        (r.rule_id, r.title, r.when, str(r.path)) for r in from_yaml
    ]
    done = run([*INTERPRETERS["bare"], "-X", "importtime", str(pyz), "--json"])
    assert done.returncode in (0, 1, 2, 3), done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "snddiag.engine.compiled" in imported
    assert not {"yaml", "snddiag.engine.load", "zipfile", "importlib.resources"} & imported


def test_every_vendored_module_imports_on_a_bare_interpreter(pyz: Path) -> None:
    modules = sorted(
        n[len("_vendor/") : -len(".py")].replace("/", ".").removesuffix(".__init__")
        for n in zipfile.ZipFile(pyz).namelist()
        if n.startswith("_vendor/") and n.endswith(".py")
    )
    code = (
        f"import importlib, sys; sys.path.append({str(pyz) + '/_vendor'!r})\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
    )
    done = run([*INTERPRETERS["bare"], "-c", code])
    assert done.returncode == 0, done.stderr


def test_a_bare_interpreter_has_none_of_the_libraries() -> None:
    """What makes the `bare` runs meaningful: nothing but the archive can provide them."""
    for module in ("yaml", "rich", "pyudev", "psutil"):
        done = run([*INTERPRETERS["bare"], "-c", f"import {module}"])
        assert "ModuleNotFoundError" in done.stderr, module


def _loaders(pyz: Path, interpreter: tuple[str, ...], *args: str) -> dict[str, str]:
    """{module: the loader that imported it}, from `python -v`."""
    done = run([*interpreter, "-v", str(pyz), *args])
    found = re.findall(r"^import '(yaml|rich|pyudev|psutil)' # (.*)$", done.stderr, re.M)
    return dict(found)


# A text report (rich) with site rules (YAML: the shipped rules are compiled).
ANALYZE_WITH_SITE_RULES = (
    "analyze",
    "--root",
    str(GUESTS / "healthy-pci"),
    "--rules",
    str(REPO / "rules"),
)


def test_bare_run_uses_the_copies_in_the_archive(pyz: Path) -> None:
    loaders = _loaders(pyz, INTERPRETERS["bare"], *ANALYZE_WITH_SITE_RULES)
    assert set(loaders) == {"yaml", "rich"}
    assert all(f'"{pyz}/_vendor/"' in loader for loader in loaders.values()), loaders
    live = _loaders(pyz, INTERPRETERS["bare"], "--json")
    assert "psutil" not in live


def test_run_with_site_packages_uses_the_installed_libraries(pyz: Path) -> None:
    loaders = _loaders(pyz, INTERPRETERS["plain"], *ANALYZE_WITH_SITE_RULES)
    assert set(loaders) == {"yaml", "rich"}
    assert not any("zipimporter" in loader for loader in loaders.values()), loaders


# Every captured guest bare; every interpreter on two of them.
CAPTURED = sorted(
    {("bare", guest) for guest in FIXTURES}
    | {(interpreter, guest) for interpreter in INTERPRETERS for guest in FIXTURES[:2]}
)


@pytest.mark.parametrize(("interpreter", "guest"), CAPTURED)
def test_captured_guest_gives_the_installed_tools_document(
    pyz: Path, interpreter: str, guest: str
) -> None:
    args = ("analyze", "--root", str(GUESTS / guest), "--json")
    ours = run([*INTERPRETERS[interpreter], str(pyz), *args])
    theirs = installed(*args)
    assert ours.returncode == theirs.returncode
    assert document(ours) == document(theirs)


@pytest.mark.parametrize("interpreter", ["bare", "python3.9-bare"])
def test_text_report_is_the_installed_tools(pyz: Path, interpreter: str) -> None:
    args = ("analyze", "--root", str(GUESTS / "legacy-mmio"), "--no-color")
    ours = run([*INTERPRETERS[interpreter], str(pyz), *args])
    assert "Traceback" not in ours.stderr, ours.stderr
    assert ours.stdout == installed(*args).stdout
    assert "legacy-mmio-transport" in ours.stdout


@pytest.mark.parametrize("interpreter", sorted(INTERPRETERS))
def test_live_run_gives_the_installed_tools_verdict(pyz: Path, interpreter: str) -> None:
    ours = run([*INTERPRETERS[interpreter], str(pyz), "--json"])
    theirs = installed("--json")
    assert ours.returncode == theirs.returncode
    assert verdict(document(ours)) == verdict(document(theirs))
    assert document(ours)["sound_servers"] == document(theirs)["sound_servers"]


def test_collect_to_stdout_writes_a_bundle_the_installed_tool_reads(
    pyz: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "guest.tar.gz"
    with open(bundle, "wb") as out:
        done = subprocess.run(
            [*INTERPRETERS["bare"], str(pyz), "collect", "-o", "-"],
            cwd=REPO, stdout=out, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    analyzed = installed("analyze", str(bundle), "--json")
    live = document(run([*INTERPRETERS["bare"], str(pyz), "--json"]))
    assert verdict(document(analyzed)) == verdict(live)
    # The archive's rules (zip members) digest as the checkout's: the same rule set.
    assert document(analyzed)["source"]["rules_differ"] is False


@pytest.mark.parametrize(
    "args", [("rules", "list"), ("rules", "check"), ("explain", "probe-failed")]
)
def test_rule_commands_read_the_rules_inside_the_archive(pyz: Path, args: tuple[str, ...]) -> None:
    ours = run([*INTERPRETERS["bare"], str(pyz), *args])
    theirs = installed(*args)
    # explain names the rule's file: a member of the archive here, of the checkout there.
    output = (ours.stdout + ours.stderr).replace(f"{pyz}/snddiag/rules/", f"{REPO}/rules/")
    assert (ours.returncode, output) == (theirs.returncode, theirs.stdout + theirs.stderr)
    assert output.strip()


def test_broken_site_rule_is_reported_with_its_file_and_line(pyz: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\nseverity: fatal\n")
    ours = run([*INTERPRETERS["bare"], str(pyz), "rules", "check", "--rules", str(tmp_path)])
    theirs = installed("rules", "check", "--rules", str(tmp_path))
    assert ours.returncode == theirs.returncode != 0
    assert (ours.stdout, ours.stderr) == (theirs.stdout, theirs.stderr)
    assert f"{tmp_path / 'bad.yaml'}:" in ours.stdout + ours.stderr


def _in_archive(pyz: Path, code: str, interpreter: tuple[str, ...] = INTERPRETERS["bare"]) -> Any:
    """What `code` (which sets `result`) makes of snddiag imported from the archive."""
    prelude = f"import json, sys; sys.path[:0] = [{str(pyz)!r}, {str(pyz) + '/_vendor'!r}]\n"
    done = run([*interpreter, "-c", prelude + code + "\nprint(json.dumps(result))"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


RULES_AS_THE_ARCHIVE_SEES_THEM = """
from snddiag.engine.rule_dirs import shipped_rules, rule_files
from snddiag.engine.compiled import read_compiled
rules = shipped_rules()
files = rule_files(rules)
compiled = read_compiled(rules)
result = {
    "kind": type(rules).__name__,
    "files": [str(p) for p in files],
    "bytes": [len(p.read_bytes()) for p in files],
    "compiled": None if compiled is None else [(r.rule_id, r.title, str(r.path)) for r in compiled],
    "zipfile": "zipfile" in sys.modules,
}
"""


@pytest.mark.parametrize("interpreter", ["bare", "python3.9-bare"])
def test_archive_rules_are_read_with_the_archives_own_importer(pyz: Path, interpreter: str) -> None:
    seen = _in_archive(pyz, RULES_AS_THE_ARCHIVE_SEES_THEM, INTERPRETERS[interpreter])
    with zipfile.ZipFile(pyz) as archive:
        members = {
            f"{pyz}/{i.filename}": i.file_size
            for i in archive.infolist()
            if i.filename.startswith("snddiag/rules/") and i.filename.endswith(".yaml")
        }
    assert seen["kind"] == "ArchivePath"
    assert dict(zip(seen["files"], seen["bytes"])) == members
    assert seen["compiled"] is not None
    from_zipfile = load_rules([cast(Path, zipfile.Path(pyz, "snddiag/rules/"))])
    assert [tuple(r) for r in seen["compiled"]] == [
        (r.rule_id, r.title, str(r.path)) for r in from_zipfile
    ]
    assert not seen["zipfile"], "zipfile read the archive's directory a second time"


def test_without_the_importers_table_zipfile_lists_the_archive(pyz: Path) -> None:
    # A Python that keeps zipimport's table elsewhere: the same rules, through zipfile.
    code = (
        "import zipimport, zipfile, snddiag.engine.compiled\n"  # what it needs, imported first
        "del zipimport._zip_directory_cache\n"
    )
    seen = _in_archive(pyz, code + RULES_AS_THE_ARCHIVE_SEES_THEM)
    assert seen["zipfile"]
    assert seen["compiled"] == _in_archive(pyz, RULES_AS_THE_ARCHIVE_SEES_THEM)["compiled"]


def _rewritten(pyz: Path, output: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of the archive with members replaced, added (bytes) or removed (None)."""
    with zipfile.ZipFile(pyz) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            if info.filename not in change:
                target.writestr(info, source.read(info))
        for name, data in change.items():
            if data is not None:
                target.writestr(name, data)
    return output


def test_a_rule_edited_added_or_removed_in_the_archive_is_read_from_its_yaml(
    pyz: Path, tmp_path: Path
) -> None:
    name = "snddiag/rules/alsa/virtio-card-no-capture.yaml"
    with zipfile.ZipFile(pyz) as archive:
        text = archive.read(name).decode()
    title = re.search(r"^title: (.*)$", text, re.M)
    assert title is not None
    edited = text.replace(title.group(0), "title: Edited inside the archive")
    added = text.replace("id: virtio-card-no-capture", "id: added-inside-the-archive")
    cases = {
        "edited": {name: edited.encode()},
        "added": {
            name.replace("virtio-card-no-capture", "added-inside-the-archive"): added.encode()
        },
        "removed": {name: None},
    }
    for case, change in cases.items():
        copy = _rewritten(pyz, tmp_path / f"{case}.pyz", change)
        code = RULES_AS_THE_ARCHIVE_SEES_THEM + (
            "from snddiag.engine.compiled import load_rules\n"
            "result['loaded'] = sorted((r.rule_id, r.title) for r in load_rules([rules]))\n"
        )
        seen = _in_archive(copy, code)
        assert seen["compiled"] is None, case
        loaded = dict(tuple(r) for r in seen["loaded"])
        if case == "edited":
            assert loaded["virtio-card-no-capture"] == "Edited inside the archive"
        elif case == "added":
            assert "added-inside-the-archive" in loaded
        else:
            assert "virtio-card-no-capture" not in loaded


@pytest.fixture(scope="module")
def compiled_pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compiled") / "compiled.pyz"
    done = subprocess.run(
        [sys.executable, str(BUILD), "--compile", "--output", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


WHO_LOADED_THE_CLI = """
import snddiag.cli
loader = snddiag.cli.__spec__.loader
source = loader.get_source("snddiag.cli") if hasattr(loader, "get_source") else None
result = {
    "loader": type(loader).__name__,
    "file": snddiag.cli.__file__,
    "source": (source or "")[:40],
    "rules": type(__import__("snddiag.engine.rule_dirs").engine.rule_dirs.shipped_rules()).__name__,
}
"""


def _as_main(pyz: Path, code: str) -> str:
    """`code` run after the archive's own __main__ set-up (its first lines, without the run)."""
    with zipfile.ZipFile(pyz) as archive:
        main = archive.read("__main__.py").decode()
    set_up = main[: main.index("from snddiag.cli import main_entry")]
    return (
        f"import runpy, sys, zipimport\n__file__ = {str(pyz) + '/__main__.py'!r}\n"
        f"__loader__ = zipimport.zipimporter({str(pyz)!r})\n" + set_up + code
    )


def test_a_compiled_archive_holds_snddiags_bytecode_in_one_member(compiled_pyz: Path) -> None:
    with zipfile.ZipFile(compiled_pyz) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        code = archive.read("snddiag-code.marshal")
    assert infos["snddiag-code.marshal"].compress_type == zipfile.ZIP_STORED
    vendored = [n for n in infos if n.startswith("_vendor/") and n.endswith(".py")]
    assert vendored and all(n[:-3] + ".pyc" in infos for n in vendored)
    ours = [n for n in infos if n.startswith("snddiag/") and n.endswith(".pyc")]
    assert sorted(ours) == ["snddiag/__init__.pyc", "snddiag/archive_code.pyc"]
    import importlib.util
    import marshal

    assert code.startswith(importlib.util.MAGIC_NUMBER)
    modules = marshal.loads(code[len(importlib.util.MAGIC_NUMBER) :])  # noqa: S302 - ours
    sources = {
        n[: -len(".py")].removesuffix("/__init__").replace("/", ".")
        for n in infos
        if n.startswith("snddiag/") and n.endswith(".py")
    }
    assert set(modules) == sources


def test_on_its_own_python_a_compiled_archive_serves_its_modules_from_that_member(
    compiled_pyz: Path,
) -> None:
    seen = _in_archive(compiled_pyz, _as_main(compiled_pyz, WHO_LOADED_THE_CLI))
    assert seen == {
        "loader": "_ArchiveCode",
        "file": f"{compiled_pyz}/snddiag/cli.py",
        "source": '"""Command line: options -> pipeline -> ',
        "rules": "ArchivePath",
    }


def test_on_another_python_the_zip_importer_compiles_the_sources(compiled_pyz: Path) -> None:
    seen = _in_archive(
        compiled_pyz, _as_main(compiled_pyz, WHO_LOADED_THE_CLI), INTERPRETERS["python3.9-bare"]
    )
    assert seen["loader"] == "zipimporter"
    assert seen["file"] == f"{compiled_pyz}/snddiag/cli.py"


def test_a_damaged_code_member_leaves_the_zip_importer_in_charge(
    compiled_pyz: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(compiled_pyz) as archive:
        code = archive.read("snddiag-code.marshal")
    for case, data in {
        "other-python": b"\0\0\r\n" + code[4:],
        "truncated": code[: len(code) // 2],
        "not-a-table": code[:4] + __import__("marshal").dumps([1, 2]),
    }.items():
        copy = _rewritten(compiled_pyz, tmp_path / f"{case}.pyz", {"snddiag-code.marshal": data})
        seen = _in_archive(copy, _as_main(copy, WHO_LOADED_THE_CLI))
        assert seen["loader"] == "zipimporter", case


def test_a_compiled_archive_gives_the_same_verdict(pyz: Path, compiled_pyz: Path) -> None:
    args = ("analyze", "--json", "--root", str(GUESTS / "healthy-pci"))
    for interpreter in ("bare", "python3.9-bare", "debian-python3"):
        runs = [run([*INTERPRETERS[interpreter], str(p), *args]) for p in (pyz, compiled_pyz)]
        assert verdict(document(runs[0])) == verdict(document(runs[1])), interpreter
