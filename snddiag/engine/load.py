"""Rule files (YAML) -> validated Rule objects; every problem names its file and line."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from snddiag.engine.model import (
    LAYERS,
    PLACEHOLDER,
    AllOf,
    AnyOf,
    Condition,
    Leaf,
    NotOf,
    Quote,
    Reference,
    Rule,
    RuleFileError,
    Severity,
    Step,
)
from snddiag.engine.operators import OPERATORS, OperandError, prepare
from snddiag.engine.paths import KNOWN_PATHS, is_known_path
from snddiag.engine.regex_risk import RegexRisk, check_regex
from snddiag.engine.rule_dirs import (
    RULE_SUFFIX,
    default_rule_dirs,
    files_below,
    rule_files,
)
from snddiag.engine.values import Kind, fact_kind, fact_values

# The rule model lives in engine/model.py; loading is here, and so is what callers import.
__all__ = [
    "LAYERS", "AllOf", "AnyOf", "Condition", "Leaf", "NotOf", "Quote", "Reference", "Rule",
    "RuleFileError", "Severity", "Step", "check_rules", "default_rule_dirs", "load_rule",
    "load_rules", "rule_files",
]  # fmt: skip

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SIDES = ("guest", "host")
STEP_FILTERS = ("distro", "arch", "vmm", "flavour", "lockdown")
# The filters whose values are checked as a condition on their fact is.
FILTER_FACTS = {"vmm": "host.vmm", "lockdown": "kernel.lockdown", "distro": "system.distro_id"}
# Open sets with values snddiag knows (facts.system.KNOWN_DISTRO_IDS): a value close to one of
# those (a typo) is refused, any other is taken as written (a distribution snddiag does not know).
OPEN_WITH_KNOWN = ("system.distro_id", "system.distro_like")
TYPO_SIMILARITY = 0.8  # difflib's ratio: 'debain' 0.83 from 'debian', 'raspbian' 0.71
RULE_KEYS = frozenset(
    {
        "id", "severity", "layer", "title", "when", "moot_if", "explain", "evidence",
        "remediation", "references",
    }
)  # fmt: skip


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


def _refuse_aliases(path: Path, text: str) -> None:
    """Anchors and aliases (`&a`, `*a`) let 1 KB of YAML expand to 10^9 nodes; no rule needs
    them. The parser's events show each one once, before anything is expanded."""
    for event in yaml.parse(text, Loader=_SafeBase):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            raise RuleFileError(
                path,
                mark.line + 1 if mark is not None else 1,
                "YAML anchors and aliases (&name, *name) are not allowed in rule files",
            )


# The largest shipped rule is a few KiB; a site's may be longer, never megabytes.
MAX_RULE_FILE_BYTES = 1024 * 1024
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def _read_rule_file(path: Path) -> bytes:
    """The bytes of a rule file: a regular file (a link to one is fine) of at most
    MAX_RULE_FILE_BYTES. A FIFO or a device is never opened (it would block, or have effects);
    O_NONBLOCK and the fstat after opening cover one swapped in meanwhile."""
    if not isinstance(path, Path):  # a member of snddiag.pyz: the archive's own
        data: bytes = path.read_bytes()
    else:
        from snddiag.collect.tree import describe

        seen = os.stat(path)
        if not stat.S_ISREG(seen.st_mode):
            raise RuleFileError(path, None, f"not a regular file: {describe(seen.st_mode)}")
        fd = os.open(path, _READ)
        with os.fdopen(fd, "rb") as handle:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino):
                raise RuleFileError(path, None, "replaced while it was opened")
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
    if len(data) > MAX_RULE_FILE_BYTES:
        raise RuleFileError(path, None, f"larger than {MAX_RULE_FILE_BYTES // 1024} KiB")
    return data


def load_yaml(path: Path) -> Any:
    try:
        text = _read_rule_file(path).decode("utf-8")
    except OSError as err:
        raise RuleFileError(path, None, f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise RuleFileError(path, 1, f"not UTF-8 text: {err.reason}") from err
    try:
        if "&" in text or "*" in text:
            _refuse_aliases(path, text)
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
        # Prose is one paragraph: a report shows every line break in it escaped, since a value
        # filled in from a guest (a user name, a device) could carry one to forge a report line.
        return " ".join(line.strip() for line in value.strip().splitlines() if line.strip())

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
            compiled = re.compile(pattern, re.MULTILINE)
        except re.error as err:
            raise self.fail(doc, f"bad regular expression: {err}", key) from err
        self.regex_risk(doc, key, pattern)
        return compiled

    def regex_risk(self, doc: LinedDict, key: str, pattern: str) -> None:
        try:
            check_regex(pattern)
        except RegexRisk as err:
            raise self.fail(
                doc, f"regular expression {pattern!r} could backtrack for hours: {err}", key
            ) from err

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
            leaf = Leaf(fact, op, prepare(op, node[op], kind))
        except OperandError as err:
            raise self.fail(node, f"'{op}' on {fact} ({kind.value}): {err}", op) from err
        if isinstance(leaf.value, re.Pattern):
            self.regex_risk(node, op, leaf.value.pattern)
        if op in ("eq", "ne", "in"):
            self.closed_values(node, op, fact, node[op])
        elif op == "contains" and fact_kind(fact) is Kind.TEXTS:
            self.near_known(node, op, fact, node[op])
        return leaf

    def closed_values(self, node: LinedDict, key: str, fact: str, operand: Any) -> None:
        """`{fact: host.vmm, eq: firecraker}` never matches: a fact with a closed set of values
        is compared only with those (a step's `vmm:` filter too)."""
        values = fact_values(fact)
        if not values:
            self.near_known(node, key, fact, operand)
            return
        for value in operand if isinstance(operand, list) else [operand]:
            if isinstance(value, str) and value not in values:
                hint = _closest_of(value, values)
                raise self.fail(
                    node,
                    f"{fact} is never '{value}'"
                    + (f" (did you mean '{hint}'?)" if hint else "")
                    + f"; its values: {', '.join(values)}",
                    key,
                )

    def near_known(self, node: LinedDict, key: str, fact: str, operand: Any) -> None:
        """`{fact: system.distro_id, eq: debain}`: a typo of a value snddiag knows, in a fact
        whose values are an open set."""
        if fact not in OPEN_WITH_KNOWN:
            return
        from snddiag.facts.system import KNOWN_DISTRO_IDS as known

        for value in operand if isinstance(operand, list) else [operand]:
            if isinstance(value, str) and value not in known:
                hint = _closest_of(value, known, TYPO_SIMILARITY)
                if hint:
                    raise self.fail(
                        node,
                        f"{fact} '{value}' is no value snddiag knows: did you mean '{hint}'? "
                        f"(known: {', '.join(known)}; a value far from those is taken as written)",
                        key,
                    )

    def quote(self, node: Any) -> Quote:
        if not isinstance(node, LinedDict):
            raise self.fail(node, "evidence items are mappings like {fact: kernel.log}")
        extra = set(node) - {"fact", "matches"}
        if extra:
            raise self.fail(node, f"unknown evidence key(s): {', '.join(sorted(extra))}")
        fact = self.fact(node)
        pattern = self.regex(node, "matches", node["matches"]) if "matches" in node else None
        return Quote(fact, pattern)

    def reference(self, doc: LinedDict, node: Any) -> Reference:
        """A URL, or {url: URL, vmm: [...]} (the step filters) for a source about one host."""
        if isinstance(node, str):
            return Reference(node)
        if not isinstance(node, LinedDict) or not isinstance(node.get("url"), str):
            raise self.fail(doc, "a reference is a URL or a mapping with 'url'", "references")
        extra = set(node) - {"url", *STEP_FILTERS}
        if extra:
            raise self.fail(node, f"unknown reference key(s): {', '.join(sorted(extra))}")
        return Reference(str(node["url"]), self.filters(node))

    def filters(self, node: LinedDict) -> tuple[tuple[str, tuple[str, ...]], ...]:
        filters = []
        for name in STEP_FILTERS:
            if name in node:
                values = node[name]
                if isinstance(values, str):
                    values = [values]
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise self.fail(node, f"'{name}' must be a string or a list of strings", name)
                if name in FILTER_FACTS:
                    self.closed_values(node, name, FILTER_FACTS[name], values)
                filters.append((name, tuple(values)))
        return tuple(filters)

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
        return Step(str(side), text, tool, self.filters(node))

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
        layer = doc.get("layer")
        if layer not in LAYERS:
            shown = f"'{layer}'" if isinstance(layer, str) else "missing"
            hint = _closest_of(layer, LAYERS) if isinstance(layer, str) else ""
            raise self.fail(
                doc,
                f"'layer' is {shown}: it must be one of {', '.join(LAYERS)}"
                + (f" (did you mean '{hint}'?)" if hint else ""),
                "layer",
            )
        if "when" not in doc:
            raise self.fail(doc, "a rule needs 'when'")
        moot_if = doc.get("moot_if", [])
        if not isinstance(moot_if, list) or not all(
            isinstance(m, str) and RULE_ID.match(m) for m in moot_if
        ):
            raise self.fail(doc, "'moot_if' must be a list of rule ids", "moot_if")
        if rule_id in moot_if:
            raise self.fail(doc, "a rule cannot be made moot by itself", "moot_if")
        evidence = doc.get("evidence", [])
        remediation = doc.get("remediation", [])
        references = doc.get("references", [])
        for key, value in (("evidence", evidence), ("remediation", remediation)):
            if not isinstance(value, list):
                raise self.fail(doc, f"'{key}' must be a list", key)
        if not isinstance(references, list):
            raise self.fail(doc, "'references' must be a list", "references")
        if severity is not Severity.INFO and not remediation:
            raise self.fail(doc, "an error or warning rule needs 'remediation'")
        return Rule(
            rule_id=rule_id,
            severity=severity,
            layer=str(layer),
            title=self.text(doc, "title"),
            when=self.condition(doc["when"]),
            explain=self.text(doc, "explain"),
            evidence=tuple(self.quote(q) for q in evidence),
            remediation=tuple(self.step(s) for s in remediation),
            references=tuple(self.reference(doc, r) for r in references),
            path=self.path,
            line=doc.line,
            moot_if=tuple(moot_if),
            moot_if_line=doc.key_lines.get("moot_if", doc.line),
        )


def _closest(fact: str) -> str:
    return _closest_of(fact, KNOWN_PATHS)


def _closest_of(word: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    import difflib

    found = difflib.get_close_matches(word, sorted(known), n=1, cutoff=cutoff)
    return found[0] if found else ""


def load_rule(path: Path) -> Rule:
    return _Checker(path).rule(load_yaml(path))


def _misnamed(directory: Path) -> list[Path]:
    """YAML files a site meant as rules but named so that they would never run (`x.yml`)."""
    return [
        p
        for p in files_below(directory)
        if p.name.lower().endswith((".yml", ".yaml")) and not p.name.endswith(RULE_SUFFIX)
    ]


def _directory(directory: Path) -> Iterator[Rule | RuleFileError]:
    """Each rule of a directory, or the problem of each file: the one walk that both a run
    (`load_rules`, stopping at the first problem) and `rules check` (listing all) make."""
    if not directory.is_dir():
        what = "not a directory" if directory.exists() else "no such directory"
        yield RuleFileError(directory, None, what)
        return
    for path in _misnamed(directory):
        yield RuleFileError(path, None, f"not read: rule files end in '{RULE_SUFFIX}'")
    seen: dict[str, Path] = {}
    for path in rule_files(directory):
        try:
            rule = load_rule(path)
        except RuleFileError as err:
            yield err
            continue
        if rule.rule_id in seen:
            yield RuleFileError(
                path,
                rule.line,
                f"duplicate rule id '{rule.rule_id}' (also {seen[rule.rule_id]})",
            )
            continue
        seen[rule.rule_id] = path
        yield rule


def _moot_problems(by_id: dict[str, Rule]) -> Iterator[RuleFileError]:
    """`moot_if` names rules of the set, at the rule's own layer or an earlier one (what makes
    a finding moot stands before it on the way a sound travels), without a cycle."""
    for rule in by_id.values():
        for other_id in rule.moot_if:
            other = by_id.get(other_id)
            if other is None:
                hint = _closest_of(other_id, by_id)
                yield RuleFileError(
                    rule.path,
                    rule.moot_if_line,
                    f"moot_if names no rule '{other_id}'"
                    + (f" (did you mean '{hint}'?)" if hint else ""),
                )
            elif other.layer_rank > rule.layer_rank:
                yield RuleFileError(
                    rule.path,
                    rule.moot_if_line,
                    f"moot_if names '{other_id}' at layer {other.layer}, after this rule's "
                    f"layer {rule.layer}: only an earlier blocker makes a finding moot",
                )
    for rule in by_id.values():
        if _moot_cycle(rule, by_id):
            yield RuleFileError(
                rule.path, rule.moot_if_line, f"moot_if makes a cycle back to '{rule.rule_id}'"
            )


def _moot_cycle(start: Rule, by_id: dict[str, Rule]) -> bool:
    seen: set[str] = set()
    todo = list(start.moot_if)
    while todo:
        rule_id = todo.pop()
        if rule_id == start.rule_id:
            return True
        if rule_id in seen or rule_id not in by_id:
            continue
        seen.add(rule_id)
        todo.extend(by_id[rule_id].moot_if)
    return False


def _merged(dirs: Iterable[Path]) -> tuple[dict[str, Rule], list[RuleFileError]]:
    by_id: dict[str, Rule] = {}
    problems: list[RuleFileError] = []
    for directory in dirs:
        for item in _directory(directory):
            if isinstance(item, RuleFileError):
                problems.append(item)
            else:
                by_id[item.rule_id] = item
    return by_id, problems


def load_rules(dirs: Iterable[Path]) -> list[Rule]:
    """Every rule of every directory; a later directory's rule replaces one with the same id."""
    by_id, problems = _merged(dirs)
    for problem in problems + list(_moot_problems(by_id)):
        raise problem
    return sorted(by_id.values(), key=lambda r: r.rule_id)


def check_rules(dirs: Iterable[Path]) -> list[RuleFileError]:
    """Every problem `load_rules` would stop at, not only the first."""
    by_id, problems = _merged(dirs)
    return problems + list(_moot_problems(by_id))
