"""Rule files: what a broken one reports (file and line), and that the shipped ones load."""

from __future__ import annotations

from pathlib import Path

import pytest

from snddiag.engine.load import RuleFileError, check_rules, load_rule, load_rules
from tests.guests import REPO

GOOD = """\
id: {id}
severity: warning
layer: driver
title: A test rule
when:
  all:
    - {{fact: virtio.snd.present, eq: true}}
explain: Because.
remediation:
  - {{side: guest, step: "Do the thing."}}
"""


def _write(tmp_path: Path, text: str, name: str = "a-rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_rules_load() -> None:
    assert len(load_rules([REPO / "rules"])) >= 10


def test_good_rule_loads(tmp_path: Path) -> None:
    rule = load_rule(_write(tmp_path, GOOD.format(id="a-rule")))
    assert rule.rule_id == "a-rule"
    assert rule.remediation[0].side == "guest"


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("virtio.snd.present", "virtio.snd.presnet", 7, "unknown fact 'virtio.snd.presnet'"),
        ("eq: true", "equals: true", 7, "exactly one operator"),
        ("severity: warning", "severity: fatal", 2, "'severity' must be"),
        ("side: guest", "side: vm", 10, "'side' must be one of"),
        ("id: a-rule", "id: Another_Rule", 1, "kebab-case"),
        ("id: a-rule", "id: other-rule", 1, "file name"),
        ("title: A test rule", "title: A test ${kernel.lgo}", 4, "unknown fact 'kernel.lgo'"),
        ("explain: Because.", "explain: Because.\nexplain: Twice.", 9, "duplicate key"),
        ("  all:", "  all: [", 7, "YAML"),
        ("eq: true", "matches: '('", 7, "bad regular expression"),
        ("layer: driver", "layer: drivr", 3, "did you mean 'driver'"),
        ("layer: driver", "layer: [driver]", 3, "it must be one of host, device, transport"),
        ("layer: driver\n", "", 1, "'layer' is missing"),
        ("title: A test rule", "title: A test rule\nmoot_if: a-rule", 5, "list of rule ids"),
        ("title: A test rule", "title: A test rule\nmoot_if: [a-rule]", 5, "by itself"),
    ],
)
def test_broken_rule_names_file_and_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = _write(tmp_path, GOOD.format(id="a-rule").replace(old, new, 1))
    with pytest.raises(RuleFileError) as caught:
        load_rule(path)
    assert caught.value.path == path
    assert caught.value.line == line, str(caught.value)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_garbage_bytes_are_a_rule_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(RuleFileError) as caught:
        load_rule(path)
    assert "UTF-8" in caught.value.message


def test_unknown_fact_suggests_the_close_one(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.format(id="a-rule").replace("virtio.snd.present", "kernel.lgo"))
    with pytest.raises(RuleFileError, match=r"did you mean 'kernel\.log'"):
        load_rule(path)


def test_check_reports_every_broken_file(tmp_path: Path) -> None:
    _write(tmp_path, GOOD.format(id="a-rule"))
    _write(tmp_path, "id: [", "b-rule.yaml")
    _write(tmp_path, GOOD.format(id="c-rule").replace("warning", "bad"), "c-rule.yaml")
    problems = check_rules([tmp_path])
    assert sorted(p.path.name for p in problems) == ["b-rule.yaml", "c-rule.yaml"]


def test_later_directory_replaces_a_rule(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    replacement = GOOD.format(id="legacy-mmio-transport").replace("A test rule", "Site version")
    _write(site, replacement, "legacy-mmio-transport.yaml")
    rules = {r.rule_id: r for r in load_rules([REPO / "rules", site])}
    assert rules["legacy-mmio-transport"].title == "Site version"


def test_duplicate_ids_in_one_directory_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    _write(tmp_path, GOOD.format(id="a-rule"))
    _write(tmp_path / "x", GOOD.format(id="a-rule"))
    with pytest.raises(RuleFileError, match="duplicate rule id"):
        load_rules([tmp_path])


def _moot_rule(rule_id: str, layer: str, moot_if: str) -> str:
    return (
        GOOD.format(id=rule_id)
        .replace("layer: driver", f"layer: {layer}")
        .replace("title: A test rule", f"title: A test rule\nmoot_if: {moot_if}")
    )


@pytest.mark.parametrize(
    ("layer", "moot_if", "message"),
    [
        ("driver", "[no-virtio-sound-devcie]", "names no rule 'no-virtio-sound-devcie' (did you "
         "mean 'no-virtio-sound-device'?)"),
        ("host", "[no-virtio-sound-device]", "at layer device, after this rule's layer host"),
    ],
)  # fmt: skip
def test_moot_if_names_an_earlier_rule_of_the_set(
    tmp_path: Path, layer: str, moot_if: str, message: str
) -> None:
    path = _write(tmp_path, _moot_rule("a-rule", layer, moot_if))
    with pytest.raises(RuleFileError) as caught:
        load_rules([REPO / "rules", tmp_path])
    assert str(caught.value).startswith(f"{path}:5: moot_if ")
    assert message in str(caught.value)
    assert [str(p) for p in check_rules([REPO / "rules", tmp_path])] == [str(caught.value)]


def test_moot_if_may_not_make_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, _moot_rule("a-rule", "driver", "[b-rule]"))
    _write(tmp_path, _moot_rule("b-rule", "driver", "[a-rule]"), "b-rule.yaml")
    problems = check_rules([tmp_path])
    assert [p.message for p in problems] == [
        "moot_if makes a cycle back to 'a-rule'",
        "moot_if makes a cycle back to 'b-rule'",
    ]


def test_a_site_rule_may_wait_for_a_shipped_one(tmp_path: Path) -> None:
    _write(tmp_path, _moot_rule("a-rule", "driver", "[no-virtio-sound-device]"))
    rules = {r.rule_id: r for r in load_rules([REPO / "rules", tmp_path])}
    assert rules["a-rule"].moot_if == ("no-virtio-sound-device",)
    assert rules["a-rule"].layer == "driver"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{{fact: virtio.snd.present, eq: true}}", "{{fact: host.vmm, eq: firecraker}}",
         "host.vmm is never 'firecraker' (did you mean 'firecracker'?); its values: qemu,"),
        ("{{fact: virtio.snd.present, eq: true}}", "{{fact: virtio.snd.transport, in: [pci, mmi]}}",
         "virtio.snd.transport is never 'mmi' (did you mean 'mmio'?)"),
        ("{{fact: virtio.snd.present, eq: true}}", "{{fact: probe.cause, ne: time-out}}",
         "probe.cause is never 'time-out' (did you mean 'timeout'?)"),
        ("{{side: guest, step:", "{{side: host, vmm: [qemu, qmeu], step:",
         "host.vmm is never 'qmeu' (did you mean 'qemu'?)"),
        ("{{side: guest, step:", "{{side: guest, lockdown: integrty, step:",
         "kernel.lockdown is never 'integrty' (did you mean 'integrity'?)"),
        ("{{side: guest, step:", "{{side: guest, distro: [alpine, debain], step:",
         "system.distro_id 'debain' is no value snddiag knows: did you mean 'debian'?"),
        ("{{fact: virtio.snd.present, eq: true}}", "{{fact: system.distro_id, eq: ubunut}}",
         "did you mean 'ubuntu'?"),
        ("{{fact: virtio.snd.present, eq: true}}", "{{fact: system.distro_like, contains: fedroa}}",
         "did you mean 'fedora'?"),
    ],
)  # fmt: skip
def test_a_fact_with_a_closed_set_of_values_is_compared_with_those_only(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = GOOD.replace(old, new).format(id="a-rule")
    assert text != GOOD.format(id="a-rule")
    with pytest.raises(RuleFileError) as caught:
        load_rule(_write(tmp_path, text))
    assert message in caught.value.message


@pytest.mark.parametrize("distro", ["raspbian", "rocky", "opensuse-leap", "linuxmint", "nixos"])
def test_a_distribution_snddiag_does_not_know_is_taken_as_written(
    tmp_path: Path, distro: str
) -> None:
    old = "{{side: guest, step:"
    text = GOOD.replace(old, f"{{{{side: guest, distro: {distro}, step:").format(id="a-rule")
    assert text != GOOD.format(id="a-rule")
    assert load_rule(_write(tmp_path, text)).remediation[0].filters == (("distro", (distro,)),)


def test_the_known_distributions_are_those_the_shipped_advice_names() -> None:
    from snddiag.facts.system import KNOWN_DISTRO_IDS

    named = {
        value
        for rule in load_rules([REPO / "rules"])
        for item in (*rule.remediation, *rule.references)
        for name, values in item.filters
        if name == "distro"
        for value in values
    }
    assert named == set(KNOWN_DISTRO_IDS)
