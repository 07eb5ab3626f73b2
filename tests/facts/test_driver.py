"""driver.*: built, installed, loaded, blocked and configured, on captured and built evidence."""

from __future__ import annotations

from snddiag.evidence import Status
from snddiag.facts import build_facts
from snddiag.facts.driver import Driver, build_driver
from tests.facts.kit import evidence_of
from tests.guests import guest_evidence

RELEASE = "6.12.1-test"
TREE = f"lib/modules/{RELEASE}"
DEP = "kernel/sound/virtio/virtio_snd.ko.xz: kernel/sound/core/snd.ko.xz\n"


def _driver(
    files: dict[str, str], cmdline: str | None = "", config: dict[str, str] | None = None
) -> Driver:
    evidence = evidence_of({"proc/sys/kernel/osrelease": RELEASE, **files})
    return build_driver(evidence, config, cmdline)


def test_healthy_guest_has_the_module_loaded() -> None:
    driver = build_facts(guest_evidence("healthy-pci")).driver
    assert (driver.config, driver.in_kernel, driver.builtin, driver.installed) == (
        "m",
        True,
        False,
        True,
    )
    assert (driver.loaded, driver.blacklisted, driver.module_tree_present) == (True, False, True)
    assert driver.module_path is not None and driver.module_path.endswith("virtio_snd.ko.xz")
    assert driver.params["msg_timeout_ms"] == "1000"


def test_kernel_without_the_driver() -> None:
    driver = build_facts(guest_evidence("no-config-snd-virtio")).driver
    assert (driver.config, driver.in_kernel, driver.installed, driver.module_path) == (
        "n",
        False,
        False,
        None,
    )


def test_hidden_module_tree() -> None:
    driver = build_facts(guest_evidence("no-module-tree")).driver
    assert (driver.module_tree_present, driver.installed, driver.in_kernel) == (False, None, True)


def test_blacklisted_by_command_line_and_by_modprobe_d() -> None:
    cmdline = build_facts(guest_evidence("blacklisted-cmdline")).driver
    assert cmdline.blacklist_sources == ("kernel command line: module_blacklist=virtio_snd",)
    modprobe = build_facts(guest_evidence("blacklisted-modprobe")).driver
    assert modprobe.blacklisted is True
    assert [s.split(": ", 1)[1] for s in modprobe.blacklist_sources] == [
        "blacklist virtio_snd",
        "install virtio_snd /bin/false",
    ]


def test_parameter_from_the_command_line() -> None:
    driver = build_facts(guest_evidence("bad-module-param")).driver
    assert driver.params["msg_timeout_ms"] == "0"


def test_module_not_loaded() -> None:
    assert build_facts(guest_evidence("module-not-loaded")).driver.loaded is False


def test_builtin_from_modules_builtin() -> None:
    driver = _driver(
        {
            f"{TREE}/modules.builtin": "kernel/sound/virtio/virtio_snd.ko\n",
            f"{TREE}/modules.dep": "",
        }
    )
    assert (driver.builtin, driver.installed, driver.loaded, driver.in_kernel) == (
        True,
        True,
        True,
        True,
    )


def test_builtin_from_the_config_when_the_tree_is_unread() -> None:
    driver = _driver({}, config={"CONFIG_SND_VIRTIO": "y"})
    assert (driver.config, driver.builtin, driver.installed, driver.loaded) == (
        "y",
        True,
        True,
        True,
    )


def test_config_without_the_option_means_n() -> None:
    assert _driver({}, config={}).config == "n"


def test_installed_module_path_from_modules_dep_without_modinfo() -> None:
    driver = _driver({f"{TREE}/modules.dep": DEP, f"{TREE}/modules.builtin": ""})
    assert (driver.installed, driver.in_kernel) == (True, True)
    assert driver.module_path == f"/{TREE}/kernel/sound/virtio/virtio_snd.ko.xz"


def test_module_path_from_modinfo() -> None:
    driver = _driver({"cmd/modinfo-virtio_snd": "filename:       /x/virtio_snd.ko\n"})
    assert driver.module_path == "/x/virtio_snd.ko"
    assert _driver({"cmd/modinfo-virtio_snd": "license: GPL\n"}).module_path is None


def test_loaded_from_lsmod_then_initstate() -> None:
    lsmod = "Module                  Size  Used by\nvirtio_snd             45056  0\n"
    assert _driver({"cmd/lsmod": lsmod}).loaded is True
    assert _driver({"sys/module/virtio_snd/initstate": "live\n"}).loaded is True
    assert _driver({"sys/module/virtio_snd/initstate": "coming\n"}).loaded is False
    assert _driver({"proc/modules": "virtio_net 1 0 - Live 0x0\n"}).loaded is False


def test_nothing_read_leaves_presence_unknown() -> None:
    driver = build_driver(evidence_of(), None, None)
    assert (driver.config, driver.in_kernel, driver.builtin, driver.installed) == (None,) * 4
    assert (driver.loaded, driver.module_tree_present, driver.blacklisted) == (None,) * 3
    assert (driver.blacklist_sources, dict(driver.params), driver.autoload_listed) == (
        (),
        {},
        False,
    )


def test_loaded_without_config_or_tree_means_in_kernel() -> None:
    assert _driver({"proc/modules": "virtio_snd 45056 0 - Live 0x0\n"}).in_kernel is True


def test_an_out_of_tree_build_loaded_into_a_kernel_without_the_driver() -> None:
    driver = build_facts(guest_evidence("old-driver-6-1")).driver
    assert (driver.config, driver.installed) == ("n", False)
    assert (driver.loaded, driver.in_kernel) == (True, True)


def test_a_modprobe_blacklist_without_a_readable_command_line_is_still_a_blacklist() -> None:
    conf = "blacklist virtio_snd\noptions virtio_snd pcm_buffer_ms=320 flag\noptions other x=1\n"
    driver = _driver(
        {"etc/modprobe.d/local.conf": conf, "etc/modprobe.d/README": "x"}, cmdline=None
    )
    assert driver.blacklisted is True
    assert driver.blacklist_sources == ("/etc/modprobe.d/local.conf:1: blacklist virtio_snd",)
    assert dict(driver.params) == {"pcm_buffer_ms": "320", "flag": ""}
    assert _driver({}, cmdline=None).blacklisted is None


def test_parameters_command_line_then_live_values_win() -> None:
    driver = _driver(
        {
            "etc/modprobe.d/a.conf": "options virtio_snd msg_timeout_ms=5\n",
            "sys/module/virtio_snd/parameters/msg_timeout_ms": "7\n",
        },
        cmdline="quiet virtio_snd.msg_timeout_ms=6 virtio_snd.pcm_periods_min=3",
    )
    assert dict(driver.params) == {"msg_timeout_ms": "7", "pcm_periods_min": "3"}


def test_autoload_lists() -> None:
    assert _driver({"etc/modules": "# boot\nvirtio_snd\n"}).autoload_listed is True
    assert _driver({"etc/modules-load.d/snd.conf": "snd_hda_intel\n"}).autoload_listed is False


def test_module_tree_link_present_or_missing() -> None:
    present = evidence_of({"proc/sys/kernel/osrelease": RELEASE}, links={TREE: "/.modloop/modules"})
    assert build_driver(present, None, "").module_tree_present is True
    missing = evidence_of({"proc/sys/kernel/osrelease": RELEASE}, statuses={TREE: Status.MISSING})
    assert build_driver(missing, None, "").module_tree_present is False


def test_other_directives_and_unreadable_parameters_are_ignored() -> None:
    conf = "softdep virtio_snd pre: snd_pcm\n"
    evidence = evidence_of(
        {"proc/sys/kernel/osrelease": RELEASE, "etc/modprobe.d/s.conf": conf},
        statuses={"sys/module/virtio_snd/parameters/pcm_buffer_ms": Status.DENIED},
    )
    driver = build_driver(evidence, None, "")
    assert (driver.blacklist_sources, dict(driver.params)) == ((), {})


def test_autoload_lists_under_usr_lib() -> None:
    assert _driver({"usr/lib/modules-load.d/snd.conf": "virtio_snd\n"}).autoload_listed is True
