"""Property-based fuzzing of the three readers of untrusted input: the bundle reader, the snapshot
directory reader and the rule loader. Each gets arbitrary manifests, records, bytes and YAML,
and may only succeed or refuse with its own error (BundleError, EvidenceError, RuleFileError);
what it accepts is then diagnosed and rendered without error. The budget is fixed (a number of
examples, derandomized, so CI runs the same cases in under a minute); a crash found is kept as an
`@example` below it.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from snddiag.bundle import BundleError, Limits
from snddiag.bundle.read import read_bundle
from snddiag.engine.load import RuleFileError, load_rule, load_rules
from snddiag.evidence import EvidenceError, load_directory
from snddiag.pipeline import diagnose
from snddiag.report.json_doc import render_json
from snddiag.report.terminal import render_terminal
from tests.bundle.tars import as_tar, bundle_members, write_tar_gz
from tests.guests import REPO, guest_evidence

BUDGET = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RULES = load_rules([REPO / "rules"])

# JSON values of every kind, numbers at their edges, strings with controls and surrogates.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too: json.dumps writes them as NaN, Infinity
    st.text(max_size=40),
    st.sampled_from(["ok", "file", "command", "link", "node", "directory", "missing", "777"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.one_of(
    st.sampled_from(["proc/cmdline", "cmd/dmesg", "proc/modules", "sys/x", "../x", "/etc/x"]),
    st.text(max_size=20),
)
RECORD = st.fixed_dictionaries(
    {"kind": st.sampled_from(["file", "command", "link", "node", "directory", "x"])},
    optional={
        "status": st.sampled_from(["ok", "missing", "denied", "failed", "x"]),
        "exit_code": JSON,
        "duration_s": JSON,
        "stderr": JSON,
        "argv": JSON,
        "target": JSON,
        "names": JSON,
        "node": JSON,
        "truncated": JSON,
        "kept_lines": JSON,
    },
)
MANIFEST = st.fixed_dictionaries(
    {"entries": st.dictionaries(KEYS, st.one_of(RECORD, JSON), max_size=6)},
    optional={"snapshot_format": JSON, "meta": JSON, "bundle": JSON},
)


def _diagnosed(evidence: Any) -> None:
    document = diagnose(evidence, RULES).document
    json.loads(render_json(document))
    render_terminal(document, io.StringIO(), color=False)


@BUDGET
@given(manifest=MANIFEST, data=st.binary(max_size=64))
@example(manifest={"entries": {"proc/cmdline": {"kind": "file", "status": "ok"}}}, data=b"")
@example(manifest={"entries": {}, "meta": {"user": "\ud800"}}, data=b"")
def test_snapshot_reader_refuses_or_reads(manifest: dict[str, Any], data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp)
        (snapshot / "manifest.json").write_text(json.dumps(manifest))
        (snapshot / "data" / "proc").mkdir(parents=True)
        (snapshot / "data" / "proc" / "cmdline").write_bytes(data)
        try:
            evidence = load_directory(snapshot)
        except EvidenceError:
            return
        _diagnosed(evidence)


def _bundle_with(manifest: dict[str, Any], path: Path) -> Path:
    members = bundle_members(guest_evidence("legacy-mmio"))
    changed = []
    for name, data in members:
        if name.endswith("/manifest.json"):
            original = json.loads(data)
            original.update(manifest)
            data = json.dumps(original).encode()
        changed.append((name, data))
    return write_tar_gz(path, as_tar(changed))


@BUDGET
@given(manifest=MANIFEST)
@example(manifest={"entries": {}, "bundle": {"format": 10**40}})
def test_bundle_reader_refuses_or_reads(manifest: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _bundle_with(manifest, Path(tmp) / "b.tar.gz")
        try:
            bundle = read_bundle(path, Limits())
        except BundleError:
            return
        _diagnosed(bundle.evidence)


RULE_KEYS = ["id", "severity", "layer", "title", "when", "explain", "evidence", "remediation", "x"]
YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.dictionaries(st.sampled_from(RULE_KEYS), JSON, max_size=8).map(json.dumps),
    st.builds(
        lambda title, when, steps: (
            f"id: fuzz\nseverity: info\nlayer: host\ntitle: {json.dumps(title)}\n"
            f"explain: e ${{system.user}}\n"
            f"when: {json.dumps(when)}\nremediation: {json.dumps(steps)}\n"
        ),
        st.text(max_size=30),
        JSON,
        JSON,
    ),
)


@BUDGET
@given(text=YAML_TEXT)
@example(text="id: fuzz\nwhen: &a [*a]\n")
@example(text="\ud800")
def test_rule_loader_refuses_or_loads(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            rule = load_rule(path)
        except RuleFileError:
            return
        diagnose(guest_evidence("healthy-pci"), [rule])
