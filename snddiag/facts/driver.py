"""The virtio_snd driver: built, installed, loaded, blocked, configured."""

from __future__ import annotations

from collections.abc import Container, Mapping

from snddiag.collect.plan import declared
from snddiag.evidence import Evidence, Status, kernel_release
from snddiag.facts.docs import NEVER_NONE, fact
from snddiag.parse.cmdline import blacklisted_on_cmdline, parse_cmdline
from snddiag.parse.lsmod import parse_lsmod, parse_proc_modules
from snddiag.parse.modinfo import parse_modinfo
from snddiag.parse.modprobe_conf import parse_modprobe_conf, parse_modules_list
from snddiag.parse.module_index import ModuleIndex
from snddiag.records import dataclass

MODULE = "virtio_snd"
MODPROBE_DIRS = ("etc/modprobe.d", "lib/modprobe.d", "usr/lib/modprobe.d", "run/modprobe.d")
AUTOLOAD_DIRS = ("etc/modules-load.d", "usr/lib/modules-load.d")
TREE = "lib/modules/{release}"
SOUND_VIRTIO_DIR = "kernel/sound/virtio"  # where every distribution installs virtio_snd.ko*

_MODPROBE_D = tuple(f"{d}/*" for d in MODPROBE_DIRS)
SOURCES: dict[str, tuple[str, ...]] = {
    "driver": declared(
        f"{TREE}/modules.dep", f"{TREE}/modules.builtin", "proc/config.gz", "proc/modules"
    ),
    "driver.config": declared("proc/config.gz", "boot/config-{release}"),
    "driver.loaded": declared("proc/modules", "cmd/lsmod", f"sys/module/{MODULE}/initstate"),
    "driver.module_path": declared(f"cmd/modinfo-{MODULE}", f"{TREE}/modules.dep"),
    "driver.module_tree_present": declared(TREE, f"{TREE}/modules.dep"),
    "driver.module_index_present": declared(TREE, f"{TREE}/modules.dep"),
    "driver.installed": declared(
        f"{TREE}/modules.dep", f"{TREE}/modules.builtin", f"{TREE}/{SOUND_VIRTIO_DIR}"
    ),
    "driver.blacklisted": declared(*_MODPROBE_D, "proc/cmdline"),
    "driver.blacklist_sources": declared(*_MODPROBE_D, "proc/cmdline"),
    "driver.params": declared(*_MODPROBE_D, "proc/cmdline", f"sys/module/{MODULE}/parameters/*"),
    "driver.autoload_listed": declared("etc/modules", *(f"{d}/*" for d in AUTOLOAD_DIRS)),
}
NO_CONFIG = "no kernel config could be read"


@dataclass(frozen=True)
class Driver:
    config: str | None = fact("CONFIG_SND_VIRTIO: y, m or n", NO_CONFIG)
    in_kernel: bool | None = fact(
        "this kernel has the driver: built in, as a module, or loaded (an out-of-tree build)",
        "neither the config, the module indexes nor the loaded modules tell",
    )
    builtin: bool | None = fact(
        "the driver is built into the kernel", "neither modules.builtin nor the config tell"
    )
    installed: bool | None = fact(
        "the driver is built in or its module file is in the module tree",
        "modules.dep or modules.builtin could not be read",
    )
    module_path: str | None = fact(
        "the module file (modinfo's filename, else modules.dep)",
        "not installed as a module, or neither modinfo nor modules.dep could be read",
    )
    module_tree_present: bool | None = fact(
        "/lib/modules/RELEASE exists for the running kernel", "no kernel release known"
    )
    module_index_present: bool | None = fact(
        "the running kernel's module tree has its index (modules.dep): without it modprobe "
        "finds no module",
        "the tree does not exist, or no kernel release known",
    )
    loaded: bool | None = fact(
        "virtio_snd is loaded (or built in)",
        "neither /proc/modules, lsmod nor sys/module could be read",
    )
    blacklisted: bool | None = fact(
        "modprobe.d or the kernel command line blocks loading virtio_snd",
        "nothing blocks it in modprobe.d, but the command line could not be read",
    )
    blacklist_sources: tuple[str, ...] = fact(
        "where it is blocked: file:line and directive, or the command line", NEVER_NONE
    )
    autoload_listed: bool | None = fact(
        "/etc/modules or modules-load.d lists virtio_snd", "never None: False when unreadable"
    )
    params: Mapping[str, str] = fact(
        "module parameters set by modprobe.d, the command line or live in sysfs, by name; "
        "driver.params.NAME is one of them (None when not set)",
        NEVER_NONE,
    )


@dataclass(frozen=True)
class _Index:
    """What the module tree of the running kernel says of virtio_snd."""

    tree: str | None
    in_tree: Mapping[str, str] | None  # modules.dep: name -> path
    builtin_names: Container[str] | None  # modules.builtin's module names
    tree_present: bool | None
    index_present: bool | None
    module_file: bool | None  # virtio_snd.ko* is in kernel/sound/virtio of the tree


def _strip(evidence: Evidence, key: str) -> str | None:
    text = evidence.text(key)
    return text.strip() if text is not None else None


def _index(evidence: Evidence) -> _Index:
    release = kernel_release(evidence)
    tree = TREE.format(release=release) if release else None
    if tree is None:
        return _Index(
            tree=None,
            in_tree=None,
            builtin_names=None,
            tree_present=None,
            index_present=None,
            module_file=None,
        )
    dep_text = evidence.text(f"{tree}/modules.dep")
    builtin_text = evidence.text(f"{tree}/modules.builtin")
    link = evidence.get(tree)
    tree_present = dep_text is not None or (link is not None and link.ok)
    if link is not None and link.status is Status.MISSING and dep_text is None:
        tree_present = False
    dep = evidence.get(f"{tree}/modules.dep")
    index_present = dep_text is not None or (
        False if tree_present and dep is not None and dep.status is Status.MISSING else None
    )
    return _Index(
        tree=tree,
        in_tree=ModuleIndex(dep_text) if dep_text is not None else None,
        builtin_names=ModuleIndex(builtin_text, builtin=True) if builtin_text is not None else None,
        tree_present=tree_present,
        index_present=index_present if tree_present else None,
        module_file=_module_file(evidence, f"{tree}/{SOUND_VIRTIO_DIR}"),
    )


def _module_file(evidence: Evidence, directory: str) -> bool | None:
    """Is virtio_snd.ko (or .ko.xz, .ko.zst, .ko.gz) in the directory? None when not listed."""
    names = evidence.listing(directory)
    if names is not None:
        return any(name.startswith(f"{MODULE}.ko") for name in names)
    entry = evidence.get(directory)
    return False if entry is not None and entry.status is Status.MISSING else None


def _builtin(index: _Index, option: str | None) -> bool | None:
    if index.builtin_names is not None:
        return MODULE in index.builtin_names
    return option == "y" if option is not None else None


def _installed(index: _Index, builtin: bool | None) -> bool | None:
    if builtin or (index.in_tree is not None and MODULE in index.in_tree):
        return True
    if index.in_tree is not None and index.builtin_names is not None:
        return False
    if index.index_present is False and builtin is False:
        return index.module_file  # a tree without its index: is the file there at all?
    return None


def _loaded(evidence: Evidence, builtin: bool | None) -> bool | None:
    if builtin:
        return True
    text = evidence.text("proc/modules")
    if text is not None:
        return MODULE in parse_proc_modules(text).value
    text = evidence.text("cmd/lsmod")
    if text is not None:
        return MODULE in parse_lsmod(text).value
    initstate = _strip(evidence, f"sys/module/{MODULE}/initstate")
    return initstate == "live" if initstate is not None else None


def _in_kernel(option: str | None, installed: bool | None, loaded: bool | None) -> bool | None:
    if loaded:  # an out-of-tree build loads into a kernel whose config says n
        return True
    if option is not None:
        return option in ("y", "m")
    if installed is not None:
        return installed
    return True if loaded else None


def _modprobe_settings(evidence: Evidence, blacklist: list[str], params: dict[str, str]) -> None:
    """`blacklist`, blocking `install` and `options` lines for virtio_snd in modprobe.d."""
    keys = [k for d in MODPROBE_DIRS for k in evidence.keys_under(d) if k.endswith(".conf")]
    for key in keys:
        for directive in parse_modprobe_conf(evidence.text(key) or "").value:
            if directive.module != MODULE:
                continue
            where = f"/{key}:{directive.line_no}"
            if directive.verb == "blacklist":
                blacklist.append(f"{where}: blacklist {MODULE}")
            elif directive.blocks_loading:
                blacklist.append(f"{where}: install {MODULE} {directive.args}")
            elif directive.verb == "options":
                for word in directive.args.split():
                    name, _sep, value = word.partition("=")
                    params[name] = value


def _cmdline_settings(cmdline: str, blacklist: list[str], params: dict[str, str]) -> None:
    """`module_blacklist=` / `modprobe.blacklist=` and `virtio_snd.NAME=VALUE`."""
    pairs = parse_cmdline(cmdline).value
    blocked = blacklisted_on_cmdline(pairs)
    if MODULE in blocked:
        blacklist.append(f"kernel command line: {blocked[MODULE]}")
    for name, value in pairs:
        if name.startswith(f"{MODULE}."):
            params[name.split(".", 1)[1]] = value


def _live_params(evidence: Evidence, params: dict[str, str]) -> None:
    for key in evidence.keys_under(f"sys/module/{MODULE}/parameters"):
        live_value = _strip(evidence, key)
        if live_value is not None:
            params[key.rsplit("/", 1)[1]] = live_value


def _autoload_listed(evidence: Evidence) -> bool:
    keys = ("etc/modules", *(k for d in AUTOLOAD_DIRS for k in evidence.keys_under(d)))
    return any(
        MODULE in parse_modules_list(text).value
        for key in keys
        if (text := evidence.text(key)) is not None
    )


def _module_path(evidence: Evidence, index: _Index) -> str | None:
    modinfo = evidence.text(f"cmd/modinfo-{MODULE}")
    if modinfo is not None:
        names = parse_modinfo(modinfo).value.get("filename", ())
        return names[0] if names else None
    if index.in_tree is not None and MODULE in index.in_tree:
        return f"/{index.tree}/{index.in_tree[MODULE]}"
    return None


def build_driver(
    evidence: Evidence, config: Mapping[str, str] | None, cmdline: str | None
) -> Driver:
    index = _index(evidence)
    option = config.get("CONFIG_SND_VIRTIO", "n") if config is not None else None
    builtin = _builtin(index, option)
    installed = _installed(index, builtin)
    loaded = _loaded(evidence, builtin)
    if builtin is False and config is not None and config.get("CONFIG_MODULES") != "y":
        # A kernel that loads no module and has no virtio_snd built in has none installed or
        # loaded; there is no module list to read, and none is needed to know.
        installed = False if installed is None else installed
        loaded = False if loaded is None else loaded
    elif option == "n" and installed is None:
        installed = False
    blacklist: list[str] = []
    params: dict[str, str] = {}
    _modprobe_settings(evidence, blacklist, params)
    if cmdline is not None:
        _cmdline_settings(cmdline, blacklist, params)
    _live_params(evidence, params)
    return Driver(
        config=option,
        in_kernel=_in_kernel(option, installed, loaded),
        builtin=builtin,
        installed=installed,
        module_path=_module_path(evidence, index),
        module_tree_present=index.tree_present,
        module_index_present=index.index_present,
        loaded=loaded,
        blacklisted=bool(blacklist) if cmdline is not None else (True if blacklist else None),
        blacklist_sources=tuple(blacklist),
        autoload_listed=_autoload_listed(evidence),
        params=params,
    )
