"""Kernel facts: which log is read, the config, and the sources a rule lacks without them."""

from __future__ import annotations

import gzip

import pytest

from snddiag.collect.plan import KERNEL_LOG_KEYS, KERNEL_LOGS, PLAN, key_of
from snddiag.evidence import Entry, Kind, Status
from snddiag.facts import FACT_SOURCES, build_facts, sources_for
from snddiag.facts.kernel import LOG_PARSERS, build_kernel, read_kernel_config, read_kernel_log
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

LINE = "virtio_snd virtio2: probe with driver virtio_snd failed with error -95"


def test_the_healthy_guest_log_comes_from_dmesg() -> None:
    kernel = build_facts(guest_evidence("healthy-pci")).kernel
    assert kernel.log_source == "dmesg"
    assert kernel.log is not None and kernel.log.startswith("Linux version 6.12.95")
    assert kernel.log_restricted is False
    assert kernel.config_source == "/boot/config-6.12.95+deb12-amd64"
    assert kernel.modules_disabled is False
    assert kernel.cmdline is not None and "console=ttyS0" in kernel.cmdline


def test_a_restricted_log_for_an_unprivileged_user() -> None:
    kernel = build_facts(guest_evidence("non-root-dmesg-restrict")).kernel
    assert (kernel.log, kernel.log_source, kernel.log_restricted) == (None, None, True)


@pytest.mark.parametrize(
    ("key", "text", "label"),
    [
        ("dev/kmsg", f"3,339,5140900,-;{LINE}\n SUBSYSTEM=virtio\n", "/dev/kmsg"),
        ("var/log/kern.log", f"Nov 29 14:00:00 vm kernel: [    1.2] {LINE}\n", "/var/log/kern.log"),
        ("var/log/messages", f"Nov 29 14:00:00 vm kernel: {LINE}\n", "/var/log/messages"),
        ("cmd/journalctl-k", f"[    1.234567] vm kernel: {LINE}\n", "journalctl -k"),
    ],
)
def test_each_fallback_log_is_read_when_dmesg_gave_nothing(key: str, text: str, label: str) -> None:
    evidence = evidence_of({"cmd/dmesg": "\n", key: text})
    lines, source = read_kernel_log(evidence)
    assert source == label
    assert lines is not None and lines[-1].text == LINE


def test_a_log_whose_lines_do_not_parse_is_skipped() -> None:
    evidence = evidence_of({"cmd/journalctl-k": "-- No entries --\n", "var/log/messages": ""})
    assert read_kernel_log(evidence) == (None, None)


def test_dmesg_denied_means_restricted() -> None:
    evidence = evidence_of(statuses={"cmd/dmesg": Status.DENIED})
    assert build_kernel(evidence, None, None, None).log_restricted is True


def test_dmesg_restrict_for_root_is_not_restricted() -> None:
    evidence = evidence_of({"proc/sys/kernel/dmesg_restrict": "1\n"}, meta={"uid": "0"})
    assert build_kernel(evidence, None, None, None).log_restricted is False


def test_dmesg_restrict_without_a_known_user_is_unknown() -> None:
    evidence = evidence_of({"proc/sys/kernel/dmesg_restrict": "1\n"})
    assert build_kernel(evidence, None, None, None).log_restricted is None


def test_modules_disabled() -> None:
    evidence = evidence_of({"proc/sys/kernel/modules_disabled": "1\n"})
    assert build_kernel(evidence, None, None, None).modules_disabled is True


def test_config_gz_is_preferred_and_a_corrupt_one_falls_back_to_boot() -> None:
    good = evidence_of()
    good.add(_gz("CONFIG_SND_VIRTIO=y\n"))
    assert read_kernel_config(good) == ({"CONFIG_SND_VIRTIO": "y"}, "/proc/config.gz")
    bad = evidence_of({"boot/config-6.1.0": "CONFIG_SND_VIRTIO=m\n"})
    bad.add(_gz("CONFIG_SND_VIRTIO=y\n", corrupt=True))
    assert read_kernel_config(bad) == ({"CONFIG_SND_VIRTIO": "m"}, "/boot/config-6.1.0")
    assert read_kernel_config(evidence_of()) == (None, None)


def _gz(text: str, *, corrupt: bool = False) -> Entry:
    data = gzip.compress(text.encode())
    return Entry("proc/config.gz", Kind.FILE, Status.OK, data=data[:12] if corrupt else data)


def test_kernel_log_sources_are_the_plans_in_one_list() -> None:
    assert KERNEL_LOG_KEYS == (
        "dev/kmsg",
        "cmd/dmesg",
        "var/log/kern.log",
        "var/log/messages",
        "var/log/syslog",
        "cmd/journalctl-k",
    )
    assert {log.layout for log in KERNEL_LOGS} <= set(LOG_PARSERS)
    assert "var/log/messages" in sources_for("kernel.log")
    assert sources_for("probe.failed") == KERNEL_LOG_KEYS


def test_every_fact_source_is_in_the_collection_plan() -> None:
    from snddiag.collect.data_path import DATA_PATH_KEY
    from snddiag.collect.libraries import PROCESSES_KEY, UDEV_KEY
    from snddiag.collect.plan import SERVER_PLAYBACK_KEY
    from snddiag.collect.session import SESSION_KEYS

    # Besides the plan: the libraries' entries, the sessions', and the data-path test's.
    planned = {key_of(source) for source in PLAN} | {UDEV_KEY, PROCESSES_KEY, DATA_PATH_KEY}
    planned |= {*SESSION_KEYS, SERVER_PLAYBACK_KEY}
    for prefix, keys in FACT_SOURCES.items():
        assert set(keys) <= planned, prefix


def test_the_longest_prefix_names_the_sources() -> None:
    assert sources_for("driver.config") == ("proc/config.gz", "boot/config-{release}")
    assert "lib/modules/{release}/modules.dep" in sources_for("driver.installed")
    assert sources_for("no.such.fact") == ()


def test_only_a_readable_boot_config_counts() -> None:
    evidence = evidence_of(
        {"boot/vmlinuz-6.1.0": "kernel"}, statuses={"boot/config-6.1.0": Status.DENIED}
    )
    assert read_kernel_config(evidence) == (None, None)
