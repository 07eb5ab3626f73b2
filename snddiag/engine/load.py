"""Rule files (YAML) -> validated Rule objects; every problem names its file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, Union, cast

import yaml

from snddiag.engine.operators import OPERATORS, OperandError, prepare
from snddiag.engine.paths import KNOWN_PATHS, is_known_path
from snddiag.engine.values import fact_kind

SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
SOURCE_TREE_RULES = Path(__file__).resolve().parent.parent.parent / "rules"
SITE_RULES = Path("/etc/snddiag/rules.d")

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
SIDES = ("guest", "host")
STEP_FILTERS = ("distro", "arch", "vmm", "flavour")
RULE_KEYS = frozenset(
    {"id", "severity", "title", "when", "explain", "evidence", "remediation", "references"}
)


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class RuleFileError(Exception):
    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Leaf:
    fact: str
    op: str  # a key of operators.OPERATORS
    value: Any  # the operand as the operator prepared it (a compiled regex for `matches`)


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class NotOf:
    item: Condition


Condition = Union["Leaf", "AllOf", "AnyOf", "NotOf"]


@dataclass(frozen=True)
class Quote:
    """Evidence to show with a finding: a fact's value, or only its lines matching a regex."""

    fact: str
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Step:
    side: str
    text: str
    tool: str = ""  # utm | qemu | libvirt | proxmox | apple-vz | alpine ...: a label, not a filter
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: Severity
    title: str
    when: Condition
    explain: str
    evidence: tuple[Quote, ...]
    remediation: tuple[Step, ...]
    references: tuple[str, ...]
    path: Path
    line: int


# libyaml's parser, where PyYAML was built with it, reads the rules several times faster than
# the pure-Python one: on a small guest, rule loading is the largest part of a run.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader whose mappings remember the line of each key (1-based)."""


class LinedDict(dict):  # type: ignore[type-arg]
    line: int = 0
    key_lines: dict[str, int]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)
    result = LinedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, f"mapping key {key!r} is not a string", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RuleFileError(path, 0, f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise RuleFileError(path, 1, f"not UTF-8 text: {err.reason}") from err
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise RuleFileError(path, line, f"YAML: {err.problem or err.context}") from err
    except yaml.YAMLError as err:
        raise RuleFileError(path, 1, f"YAML: {err}") from err


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, message: str, key: str | None = None) -> RuleFileError:
        line = 1
        if isinstance(node, LinedDict):
            line = node.key_lines.get(key, node.line) if key else node.line
        return RuleFileError(self.path, line, message)

    def text(self, doc: LinedDict, key: str, required: bool = True) -> str:
        value = doc.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(doc, f"'{key}' must be a non-empty string", key)
        self.placeholders(doc, key, value)
        return value.strip()

    def placeholders(self, doc: LinedDict, key: str, value: str) -> None:
        for name in PLACEHOLDER.findall(value):
            if not is_known_path(name):
                raise self.fail(doc, f"unknown fact '{name}' in placeholder", key)

    def fact(self, doc: LinedDict) -> str:
        fact = doc.get("fact")
        if not isinstance(fact, str):
            raise self.fail(doc, "a condition needs 'fact: <path>'")
        if not is_known_path(fact):
            hint = _closest(fact)
            raise self.fail(
                doc,
                f"unknown fact '{fact}'" + (f" (did you mean '{hint}'?)" if hint else ""),
                "fact",
            )
        return fact

    def regex(self, doc: LinedDict, key: str, pattern: Any) -> re.Pattern[str]:
        if not isinstance(pattern, str):
            raise self.fail(doc, f"'{key}' needs a regular expression string", key)
        try:
            return re.compile(pattern, re.MULTILINE)
        except re.error as err:
            raise self.fail(doc, f"bad regular expression: {err}", key) from err

    def condition(self, node: Any) -> Condition:
        if not isinstance(node, LinedDict):
            raise self.fail(node, f"a condition must be a mapping, not {type(node).__name__}")
        combinators = [k for k in ("all", "any", "not") if k in node]
        if combinators:
            if len(node) != 1:
                raise self.fail(node, "a combinator ('all', 'any', 'not') stands alone")
            key = combinators[0]
            value = node[key]
            if key == "not":
                return NotOf(self.condition(value))
            if not isinstance(value, list) or not value:
                raise self.fail(node, f"'{key}' needs a non-empty list of conditions", key)
            items = tuple(self.condition(item) for item in value)
            return AllOf(items) if key == "all" else AnyOf(items)
        fact = self.fact(node)
        ops = [k for k in node if k != "fact"]
        if len(ops) != 1 or ops[0] not in OPERATORS:
            raise self.fail(
                node, f"a condition needs exactly one operator of: {', '.join(OPERATORS)}"
            )
        op = ops[0]
        kind = fact_kind(fact)
        try:
            return Leaf(fact, op, prepare(op, node[op], kind))
        except OperandError as err:
            raise self.fail(node, f"'{op}' on {fact} ({kind.value}): {err}", op) from err

    def quote(self, node: Any) -> Quote:
        if not isinstance(node, LinedDict):
            raise self.fail(node, "evidence items are mappings like {fact: kernel.log}")
        extra = set(node) - {"fact", "matches"}
        if extra:
            raise self.fail(node, f"unknown evidence key(s): {', '.join(sorted(extra))}")
        fact = self.fact(node)
        pattern = self.regex(node, "matches", node["matches"]) if "matches" in node else None
        return Quote(fact, pattern)

    def step(self, node: Any) -> Step:
        if not isinstance(node, LinedDict):
            raise self.fail(node, "a remediation step is a mapping with 'side' and 'step'")
        extra = set(node) - {"side", "step", "tool", *STEP_FILTERS}
        if extra:
            raise self.fail(node, f"unknown step key(s): {', '.join(sorted(extra))}")
        side = node.get("side")
        if side not in SIDES:
            raise self.fail(node, f"'side' must be one of: {', '.join(SIDES)}", "side")
        text = self.text(node, "step")
        tool = node.get("tool", "")
        if not isinstance(tool, str):
            raise self.fail(node, "'tool' must be a string", "tool")
        filters = []
        for name in STEP_FILTERS:
            if name in node:
                values = node[name]
                if isinstance(values, str):
                    values = [values]
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise self.fail(node, f"'{name}' must be a string or a list of strings", name)
                filters.append((name, tuple(values)))
        return Step(str(side), text, tool, tuple(filters))

    def rule(self, doc: Any) -> Rule:
        if not isinstance(doc, LinedDict):
            raise self.fail(doc, "a rule file holds one mapping")
        unknown = set(doc) - RULE_KEYS
        if unknown:
            first = sorted(unknown)[0]
            raise self.fail(doc, f"unknown key '{first}'", first)
        rule_id = self.text(doc, "id")
        if not RULE_ID.match(rule_id):
            raise self.fail(doc, f"id '{rule_id}' must be kebab-case", "id")
        if rule_id != self.path.name.removesuffix(".yaml"):
            raise self.fail(doc, f"id '{rule_id}' must equal the file name's stem", "id")
        severity_text = doc.get("severity")
        try:
            severity = Severity(severity_text)
        except ValueError:
            raise self.fail(doc, "'severity' must be error, warning or info", "severity") from None
        if "when" not in doc:
            raise self.fail(doc, "a rule needs 'when'")
        evidence = doc.get("evidence", [])
        remediation = doc.get("remediation", [])
        references = doc.get("references", [])
        for key, value in (("evidence", evidence), ("remediation", remediation)):
            if not isinstance(value, list):
                raise self.fail(doc, f"'{key}' must be a list", key)
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise self.fail(doc, "'references' must be a list of strings", "references")
        if severity is not Severity.INFO and not remediation:
            raise self.fail(doc, "an error or warning rule needs 'remediation'")
        return Rule(
            rule_id=rule_id,
            severity=severity,
            title=self.text(doc, "title"),
            when=self.condition(doc["when"]),
            explain=self.text(doc, "explain"),
            evidence=tuple(self.quote(q) for q in evidence),
            remediation=tuple(self.step(s) for s in remediation),
            references=tuple(references),
            path=self.path,
            line=doc.line,
        )


def _closest(fact: str) -> str:
    import difflib

    found = difflib.get_close_matches(fact, sorted(KNOWN_PATHS), n=1)
    return found[0] if found else ""


def load_rule(path: Path) -> Rule:
    return _Checker(path).rule(load_yaml(path))


def rule_files(directory: Path) -> list[Path]:
    # A walk over iterdir(), not rglob(): it also lists the rules inside snddiag.pyz, where
    # `directory` is a zipfile.Path (which has no rglob before Python 3.12).
    found: list[Path] = []
    for p in directory.iterdir():
        if p.is_dir():
            found += rule_files(p)
        elif p.name.endswith(".yaml") and not p.name.endswith(".test.yaml") and p.is_file():
            found.append(p)
    return sorted(found, key=lambda p: str(p).split("/"))


def _shipped_rules() -> Path:
    if SHIPPED_RULES.is_dir():
        return SHIPPED_RULES
    if SOURCE_TREE_RULES.is_dir():
        return SOURCE_TREE_RULES
    # In snddiag.pyz the rules are archive members: a zipfile.Path, read in place. It has what
    # this module uses of a Path (iterdir, is_dir, is_file, name, read_text, str).
    return cast(Path, resources.files("snddiag") / "rules")


def default_rule_dirs() -> list[Path]:
    dirs = [_shipped_rules()]
    if SITE_RULES.is_dir():
        dirs.append(SITE_RULES)
    return dirs


def load_rules(dirs: Iterable[Path]) -> list[Rule]:
    """Every rule of every directory; a later directory's rule replaces one with the same id."""
    by_id: dict[str, Rule] = {}
    for directory in dirs:
        if not directory.is_dir():
            raise RuleFileError(directory, 0, "not a directory of rules")
        seen: dict[str, Path] = {}
        for path in rule_files(directory):
            rule = load_rule(path)
            if rule.rule_id in seen:
                raise RuleFileError(
                    path,
                    rule.line,
                    f"duplicate rule id '{rule.rule_id}' (also {seen[rule.rule_id]})",
                )
            seen[rule.rule_id] = path
            by_id[rule.rule_id] = rule
    return sorted(by_id.values(), key=lambda r: r.rule_id)


def check_rules(dirs: Iterable[Path]) -> list[RuleFileError]:
    """Validate every file (not stopping at the first problem)."""
    problems: list[RuleFileError] = []
    for directory in dirs:
        if not directory.is_dir():
            problems.append(RuleFileError(directory, 0, "not a directory of rules"))
            continue
        problems.extend(p for p in map(_problem_of, rule_files(directory)) if p is not None)
    return problems


def _problem_of(path: Path) -> RuleFileError | None:
    try:
        load_rule(path)
    except RuleFileError as err:
        return err
    return None
