"""The Alpine package: packaging/alpine/APKBUILD, its release script, and the sdist and wheel
that abuild builds from.

The sdist is built once, by the release script on a scratch copy of the APKBUILD; the wheel is
built from that sdist, as abuild's build() does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALPINE = ROOT / "packaging" / "alpine"
APKBUILD = ALPINE / "APKBUILD"
UPDATE = ALPINE / "update"

# packaging/ is not in the sdist: these tests check a checkout of the repository.
pytestmark = pytest.mark.skipif(
    not APKBUILD.is_file(), reason="no packaging/alpine here (tests run from an sdist)"
)

# PyPI name (normalized as in PEP 503) -> Alpine package. A new runtime dependency must be added
# here, and to the APKBUILD's depends, before the tests pass.
ALPINE_NAMES = {
    "pyyaml": "py3-yaml",
    "psutil": "py3-psutil",
    "pyudev": "py3-udev",
    "rich": "py3-rich",
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_table() -> str:
    """The [project] table of pyproject.toml (tomllib is 3.11+, and this is all we need)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r"^\[project\][ \t]*\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "pyproject.toml has no [project] table"
    return match.group(1)


def project_string(key: str) -> str:
    match = re.search(rf'^{key}\s*=\s*"([^"]*)"', project_table(), re.MULTILINE)
    assert match, f"no {key} = in the [project] table of pyproject.toml"
    return match.group(1)


def project_dependencies() -> list[str]:
    """Names of the runtime dependencies, without versions, extras or markers."""
    match = re.search(r"^dependencies\s*=\s*\[(.*?)\]", project_table(), re.MULTILINE | re.DOTALL)
    assert match, "no dependencies = [...] in the [project] table of pyproject.toml"
    body = "\n".join(line.split("#", 1)[0] for line in match.group(1).splitlines())
    names = []
    for spec in re.findall(r"\"([^\"]+)\"|'([^']+)'", body):
        requirement = spec[0] or spec[1]
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        assert name, f"cannot read the requirement {requirement!r}"
        names.append(normalize(name.group(1)))
    return names


def apkbuild_vars(path: Path, *names: str) -> dict[str, str]:
    """Variables of an APKBUILD as abuild sees them: the file is sourced by sh."""
    for name in names:
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", name)
    script = '. "$1"; shift; for v; do eval "printf \'%s\\0\' \\"\\${$v}\\""; done'
    out = subprocess.run(
        ["sh", "-c", script, "sh", str(path), *names],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(zip(names, out.split("\0")))


def shellcheck() -> str:
    path = shutil.which("shellcheck")
    if path is None:
        pytest.fail("shellcheck is not installed (apt-get install shellcheck)")
    return path


def build_available() -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        pytest.fail("python3 -m build is not installed (pip install build hatchling)")


def no_isolation() -> list[str]:
    """Build without isolation when hatchling is installed: no download, and faster."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        return []
    return ["--no-isolation"]


def run_update(apkbuild: Path, dist: Path, srcdir: Path | None = None) -> Path:
    env = dict(os.environ, APKBUILD=str(apkbuild), DIST=str(dist))
    env.pop("SRCDIR", None)
    if srcdir is not None:
        env["SRCDIR"] = str(srcdir)
    done = subprocess.run(
        [str(UPDATE)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"update failed:\n{done.stdout}\n{done.stderr}"
    sdist = Path(done.stdout.strip().splitlines()[-1])
    assert sdist.parent == dist.resolve()
    assert sdist.is_file()
    return sdist


def repo_rules() -> list[str]:
    rules = sorted(
        p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").glob("**/*.yaml")
    )
    assert rules, "no rules/**/*.yaml in the repository"
    return rules


def sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def source_files(source: str) -> list[str]:
    """File names that abuild gives the entries of source= (name::url, or the url's last part)."""
    return [s.split("::", 1)[0] if "::" in s else s.rsplit("/", 1)[-1] for s in source.split()]


@dataclass(frozen=True)
class Release:
    apkbuild: Path
    sdist: Path


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The release script, run on a scratch copy of the APKBUILD (pkgrel=2: same version)."""
    build_available()
    tmp = tmp_path_factory.mktemp("alpine")
    apkbuild = tmp / "APKBUILD"
    text = APKBUILD.read_text(encoding="utf-8")
    apkbuild.write_text(re.sub(r"(?m)^pkgrel=.*$", "pkgrel=2", text), encoding="utf-8")
    return Release(apkbuild, run_update(apkbuild, tmp / "dist"))


@pytest.fixture(scope="module")
def sdist_names(release: Release) -> set[str]:
    with tarfile.open(release.sdist) as tar:
        return set(tar.getnames())


@pytest.fixture(scope="module")
def wheel(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the unpacked sdist, as gpep517 does in the APKBUILD's build()."""
    tmp = tmp_path_factory.mktemp("wheel")
    with tarfile.open(release.sdist) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp / "src", filter="data")
        else:
            tar.extractall(tmp / "src")  # noqa: S202 -- our own sdist, on a Python without filters
    (top,) = (tmp / "src").iterdir()
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", *no_isolation(), "--outdir", str(tmp / "dist")],
        cwd=top,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"the wheel does not build from the sdist:\n{done.stderr}"
    (whl,) = (tmp / "dist").glob("*.whl")
    return whl


def test_apkbuild_passes_shellcheck() -> None:
    done = subprocess.run(
        [shellcheck(), "-s", "sh", str(APKBUILD)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_release_script_passes_shellcheck() -> None:
    done = subprocess.run(
        [shellcheck(), "-s", "sh", str(UPDATE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.access(UPDATE, os.X_OK), "packaging/alpine/update is not executable"


def test_apkbuild_pkgver_is_the_project_version() -> None:
    assert apkbuild_vars(APKBUILD, "pkgver")["pkgver"] == project_string("version")


def test_module_version_is_the_project_version() -> None:
    init = (ROOT / "snddiag" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*"([^"]*)"', init, re.MULTILINE)
    if match is None:
        pytest.skip("snddiag/__init__.py spells out no __version__")
    assert match.group(1) == project_string("version")


def test_release_script_refuses_a_module_version_that_disagrees(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "snddiag").mkdir(parents=True)
    (tree / "snddiag" / "__init__.py").write_text('__version__ = "0.0.1"\n', encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    apkbuild = tmp_path / "APKBUILD"
    shutil.copy(APKBUILD, apkbuild)
    env = dict(os.environ, APKBUILD=str(apkbuild), DIST=str(tmp_path / "dist"), SRCDIR=str(tree))
    done = subprocess.run([str(UPDATE)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "snddiag/__init__.py says 0.0.1" in done.stderr
    assert apkbuild.read_text(encoding="utf-8") == APKBUILD.read_text(encoding="utf-8")
    assert not (tmp_path / "dist").exists() or not any((tmp_path / "dist").iterdir())


def test_apkbuild_license_is_the_project_license() -> None:
    assert apkbuild_vars(APKBUILD, "license")["license"] == project_string("license")


def test_apkbuild_depends_on_every_runtime_dependency() -> None:
    depends = apkbuild_vars(APKBUILD, "depends")["depends"].split()
    assert "python3" in depends
    unmapped = [name for name in project_dependencies() if name not in ALPINE_NAMES]
    assert not unmapped, f"no Alpine name for {unmapped}: add them to ALPINE_NAMES"
    missing = [ALPINE_NAMES[name] for name in project_dependencies()]
    missing = [pkg for pkg in missing if pkg not in depends]
    assert not missing, f"the APKBUILD's depends lacks {missing}"


def test_sdist_contains_rules_tests_and_man_page(release: Release, sdist_names: set[str]) -> None:
    top = release.sdist.name[: -len(".tar.gz")]
    wanted = [f"rules/{rule}" for rule in repo_rules()]
    wanted += [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tests").glob("**/*.py")
        if "__pycache__" not in p.parts
    ]
    wanted += ["man/snddiag.1", "pyproject.toml", "LICENSE", "README.md"]
    missing = [name for name in wanted if f"{top}/{name}" not in sdist_names]
    assert not missing, f"{release.sdist.name} lacks {missing}"


def test_release_script_names_and_sums_the_sdist(release: Release) -> None:
    found = apkbuild_vars(release.apkbuild, "pkgver", "pkgrel", "source", "sha512sums")
    version = project_string("version")
    assert found["pkgver"] == version
    assert found["pkgrel"] == "2", "pkgrel changed although the version did not"
    assert release.sdist.name == f"snddiag-{version}.tar.gz"
    assert source_files(found["source"]) == [release.sdist.name]
    assert found["sha512sums"].strip().splitlines() == [
        f"{sha512(release.sdist)}  {release.sdist.name}"
    ]
    # Nothing else in the APKBUILD changed.
    before = APKBUILD.read_text(encoding="utf-8").split("\nsha512sums=", 1)[0]
    after = release.apkbuild.read_text(encoding="utf-8").split("\nsha512sums=", 1)[0]
    assert re.sub(r"(?m)^pkgrel=.*$", "pkgrel=2", before) == after


def test_release_script_resets_pkgrel_on_a_new_version(tmp_path: Path) -> None:
    build_available()
    tree = tmp_path / "tree"
    (tree / "snddiag").mkdir(parents=True)
    (tree / "snddiag" / "__init__.py").write_text('__version__ = "99.1.0"\n', encoding="utf-8")
    for name in ("README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tree / "pyproject.toml").write_text(
        re.sub(r'(?m)^version\s*=\s*"[^"]*"', 'version = "99.1.0"', pyproject), encoding="utf-8"
    )
    apkbuild = tmp_path / "APKBUILD"
    text = APKBUILD.read_text(encoding="utf-8")
    apkbuild.write_text(re.sub(r"(?m)^pkgrel=.*$", "pkgrel=5", text), encoding="utf-8")

    sdist = run_update(apkbuild, tmp_path / "dist", srcdir=tree)

    found = apkbuild_vars(apkbuild, "pkgver", "pkgrel", "source", "sha512sums")
    assert (found["pkgver"], found["pkgrel"]) == ("99.1.0", "0")
    assert source_files(found["source"]) == [sdist.name] == ["snddiag-99.1.0.tar.gz"]
    assert found["sha512sums"].split() == [sha512(sdist), sdist.name]


def test_wheel_contains_rules_and_man_page(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    version = project_string("version")
    wanted = [f"snddiag/rules/{rule}" for rule in repo_rules()]
    wanted.append(f"snddiag-{version}.data/data/share/man/man1/snddiag.1")
    missing = [name for name in wanted if name not in names]
    assert not missing, f"{wheel.name} lacks {missing}"


def test_wheel_holds_the_rules_compiled_and_current(wheel: Path) -> None:
    from typing import cast

    from snddiag.engine.compiled import COMPILED_NAME, read_compiled

    rules = zipfile.Path(wheel, "snddiag/rules/")
    assert (rules / COMPILED_NAME).is_file()
    found = read_compiled(cast(Path, rules))
    assert found is not None
    shipped = [r for r in repo_rules() if not r.endswith(".test.yaml")]
    assert sorted(r.rule_id for r in found) == sorted(
        Path(r).name[: -len(".yaml")] for r in shipped
    )


def test_man_page_renders_without_warnings() -> None:
    page = ROOT / "man" / "snddiag.1"
    if shutil.which("groff"):
        command = ["groff", "-man", "-ww", "-z", str(page)]
    elif shutil.which("mandoc"):
        command = ["mandoc", "-Tlint", "-Wwarning", str(page)]
    else:
        pytest.skip("neither groff nor mandoc is installed")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not done.stderr, done.stderr


# Modules the test suite imports -> Alpine package (the runtime ones come from snddiag.needs).
TEST_MODULES = {
    "pytest": "py3-pytest",
    "jsonschema": "py3-jsonschema",
    "hypothesis": "py3-hypothesis",
}
# What check() leaves out (its --ignore options): these may import what Alpine does not package.
NOT_CHECKED = ("tests/packaging/", "tests/docs/", "tests/test_distro_floor.py")


def _third_party_imports(paths: list[Path]) -> dict[str, list[str]]:
    """Top-level modules imported anywhere in `paths` that are neither the standard library
    nor snddiag's or its tests' own -> the files importing each."""
    import ast

    own = {"snddiag", "tests", "benchmarks"}
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    found: dict[str, list[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in own or top in stdlib or top == "__future__" or _is_stdlib(top):
                    continue
                found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def _is_stdlib(name: str) -> bool:
    """For Python 3.9, which has no sys.stdlib_module_names: built in, or found outside
    site-packages."""
    import importlib.util

    if name in sys.builtin_module_names:
        return True
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    if origin is None:  # not installed, or a namespace package: not the standard library
        return False
    return origin in ("built-in", "frozen") or "-packages" not in origin


def test_checkdepends_hold_what_the_checked_tests_import() -> None:
    from snddiag.needs import BY_MODULE

    checkdepends = apkbuild_vars(APKBUILD, "checkdepends")["checkdepends"].split()
    depends = apkbuild_vars(APKBUILD, "depends")["depends"].split()
    files = [
        p
        for p in sorted((ROOT / "tests").rglob("*.py"))
        if not str(p.relative_to(ROOT)).startswith(NOT_CHECKED)
    ]
    imported = _third_party_imports(files)
    assert "hypothesis" in imported and "pytest" in imported  # the scan sees the suite
    names = {**{m: lib.alpine for m, lib in BY_MODULE.items()}, **TEST_MODULES}
    unknown = {m: where[:2] for m, where in imported.items() if m not in names}
    assert not unknown, f"no Alpine package known for {unknown}: add it to TEST_MODULES"
    missing = {m: names[m] for m in imported if names[m] not in checkdepends + depends}
    assert not missing, f"the APKBUILD's checkdepends lack {missing}"


def test_depends_hold_what_snddiag_imports() -> None:
    from snddiag.needs import BY_MODULE

    depends = apkbuild_vars(APKBUILD, "depends")["depends"].split()
    imported = _third_party_imports(sorted((ROOT / "snddiag").rglob("*.py")))
    assert "yaml" in imported
    unknown = sorted(m for m in imported if m not in BY_MODULE)
    assert not unknown, f"snddiag imports {unknown}: add them to snddiag/needs.py"
    missing = {m: BY_MODULE[m].alpine for m in imported if BY_MODULE[m].alpine not in depends}
    assert not missing, f"the APKBUILD's depends lack {missing}"
