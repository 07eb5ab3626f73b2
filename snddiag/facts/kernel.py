"""The kernel: its log (from the first place that could be read), command line and config.

A log that was read but holds no line in a layout snddiag knows is not "unreadable": `kernel.log`
is then empty (not None: it was read), `kernel.log_unrecognised` shows its first line, and the
probe facts, which need the messages, stay None.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

from snddiag.collect.plan import KERNEL_LOG_KEYS, KERNEL_LOGS, declared, key_of
from snddiag.evidence import MAX_FILE_BYTES, Evidence, Status, kernel_release
from snddiag.facts.docs import fact
from snddiag.parse import Parsed
from snddiag.parse.kconfig import KernelConfig
from snddiag.parse.kmsg import KernelLine, parse_dmesg, parse_kmsg
from snddiag.parse.lockdown import LOCKDOWN_MODES, parse_lockdown
from snddiag.parse.syslog import parse_log_file
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

LogLines = tuple[KernelLine, ...]
Config = Mapping[str, str]

# The plan names each kernel-log source's layout; these read them.
LOG_PARSERS = {
    "dmesg": parse_dmesg,
    "kmsg": parse_kmsg,
    "log": parse_log_file,
}
SHOWN_CHARS = 160  # of an unrecognised line

CONFIG_KEYS = declared("proc/config.gz", "boot/config-{release}")
SOURCES: dict[str, tuple[str, ...]] = {
    "kernel.log": KERNEL_LOG_KEYS,
    "kernel.log_source": KERNEL_LOG_KEYS,
    "kernel.log_unrecognised": KERNEL_LOG_KEYS,
    "kernel.log_restricted": declared("cmd/dmesg", "proc/sys/kernel/dmesg_restrict"),
    "kernel.cmdline": declared("proc/cmdline"),
    "kernel.config_source": CONFIG_KEYS,
    "kernel.modules_disabled": declared("proc/sys/kernel/modules_disabled"),
    "kernel.lockdown": declared("sys/kernel/security/lockdown"),
    "kernel.modules_supported": declared(*CONFIG_KEYS, "proc/modules"),
    "kernel.sound_supported": declared(
        *CONFIG_KEYS,
        "proc/asound/version",
        "lib/modules/{release}/modules.dep",
        "lib/modules/{release}/modules.builtin",
    ),
}
INDEX_NAMES = ("modules.dep", "modules.builtin")
NO_LOG = "no kernel log could be read (dmesg, /dev/kmsg, log files, journal)"


@dataclass(frozen=True)
class Kernel:
    log: str | None = fact(
        "the kernel log of this boot, message text only (empty: a log was read but its layout "
        "is not known, see kernel.log_unrecognised)",
        NO_LOG,
    )
    log_source: str | None = fact("where the log was read (dmesg, /dev/kmsg, ...)", NO_LOG)
    log_unrecognised: str | None = fact(
        "the first line of a log that was read but is in no layout snddiag knows (escaped, "
        "cut to 160 characters)",
        "no log was read, or a log was read in a known layout",
    )
    log_restricted: bool | None = fact(
        "the log is closed to this user (dmesg denied, or dmesg_restrict=1 and not root)",
        "neither dmesg's status nor dmesg_restrict and the user are known",
    )
    cmdline: str | None = fact("the kernel command line (/proc/cmdline)")
    config_source: str | None = fact(
        "where the kernel config was read (/proc/config.gz, /boot/config-RELEASE)",
        "no kernel config could be read",
    )
    modules_disabled: bool | None = fact(
        "kernel.modules_disabled=1: no module can be loaded any more"
    )
    lockdown: str | None = fact(
        "the kernel lockdown in force (lockdown= on the command line, or Secure Boot): from "
        "integrity on, no unsigned module loads and module signing cannot be switched off",
        "securityfs not mounted at /sys/kernel/security, or a kernel without the lockdown LSM",
        values=LOCKDOWN_MODES,
    )
    modules_supported: bool | None = fact(
        "the kernel can load modules at all (CONFIG_MODULES; without it there is no /proc/modules)",
        "no kernel config and procfs could not be read",
    )
    sound_supported: bool | None = fact(
        "the kernel was built with sound (CONFIG_SOUND and CONFIG_SND; else ALSA's /proc/asound "
        "or the sound core in the module indexes)",
        "no kernel config, no /proc/asound, and the module indexes could not be read",
    )


def read_kernel_log(evidence: Evidence) -> tuple[LogLines | None, str | None]:
    """The first kernel log with lines in it, in the plan's order, and its label."""
    for log in KERNEL_LOGS:
        text = evidence.text(key_of(log.source))
        if text is None or not text.strip():
            continue
        parsed: Parsed[LogLines] = LOG_PARSERS[log.layout](text)
        if parsed.value:
            return parsed.value, log.label
    return None, None


def gunzip_config(data: bytes) -> str | None:
    """/proc/config.gz inflated, at most MAX_FILE_BYTES of it; None when it is corrupt,
    truncated, or inflates beyond that cap (a partial config would mislead every rule)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error:
        return None
    if len(plain) > MAX_FILE_BYTES or not inflater.eof:
        return None
    return plain.decode("utf-8", errors="replace")


def unrecognised_log(evidence: Evidence) -> tuple[str, str] | None:
    """The first log that was read but has no line in a known layout: its label and that line."""
    for log in KERNEL_LOGS:
        text = evidence.text(key_of(log.source))
        if text is None or not text.strip():
            continue
        parsed: Parsed[LogLines] = LOG_PARSERS[log.layout](text)
        if not parsed.value and parsed.unparsed:
            return log.label, shown(parsed.unparsed[0])
    return None


def shown(line: str) -> str:
    """`line` cut to `SHOWN_CHARS`, control and other unprintable characters as escapes."""
    cut = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in line[:SHOWN_CHARS]
    )
    return cut + "..." if len(line) > SHOWN_CHARS else cut


def read_kernel_config(evidence: Evidence) -> tuple[Config | None, str | None]:
    entry = evidence.get("proc/config.gz")
    if entry is not None and entry.ok and entry.data and not entry.truncated:
        decompressed = gunzip_config(entry.data)
        if decompressed is not None:  # else corrupt, truncated or too big: fall back to /boot
            return KernelConfig(decompressed), "/proc/config.gz"
    for key in evidence.keys_under("boot"):
        if key.startswith("boot/config-"):
            config_text = evidence.text(key)
            if config_text is not None:
                return KernelConfig(config_text), "/" + key
    return None, None


def _strip(evidence: Evidence, key: str) -> str | None:
    text = evidence.text(key)
    return text.strip() if text is not None else None


def _log_restricted(evidence: Evidence) -> bool | None:
    dmesg = evidence.get("cmd/dmesg")
    if dmesg is not None and dmesg.status is Status.DENIED:
        return True
    restrict = _strip(evidence, "proc/sys/kernel/dmesg_restrict")
    if restrict is not None and "uid" in evidence.meta:
        return restrict == "1" and evidence.meta.get("uid") != "0"
    return None


def _lockdown(evidence: Evidence) -> str | None:
    text = evidence.text("sys/kernel/security/lockdown")
    return parse_lockdown(text).value if text is not None else None


def _enabled(config: Config, option: str) -> bool:
    return config.get(option, "n") in ("y", "m")


def _modules_supported(evidence: Evidence, config: Config | None) -> bool | None:
    # A real config always names CONFIG_MODULES (=y or "is not set"); a partial one may not.
    if config is not None and "CONFIG_MODULES" in config:
        return _enabled(config, "CONFIG_MODULES")
    modules = evidence.get("proc/modules")
    if modules is None or evidence.text("proc/sys/kernel/osrelease") is None:
        return None  # procfs not read: its missing files prove nothing
    if modules.ok:
        return True
    return False if modules.status is Status.MISSING else None


# The sound core's module (sound/core/snd.ko) in modules.dep or modules.builtin.
_SOUND_CORE = compiled_later(r"(?:^|[\s/])sound/core/snd\.ko", re.MULTILINE)


def _sound_in_config(config: Config) -> bool | None:
    """CONFIG_SOUND=n hides every sound option; the driver's own option implies the core."""
    if config.get("CONFIG_SND_VIRTIO") in ("y", "m"):
        return True
    if config.get("CONFIG_SOUND") == "n" or config.get("CONFIG_SND") == "n":
        return False
    if "CONFIG_SOUND" in config and "CONFIG_SND" in config:
        return _enabled(config, "CONFIG_SOUND") and _enabled(config, "CONFIG_SND")
    return None


def _sound_supported(
    evidence: Evidence, config: Config | None, modules_supported: bool | None
) -> bool | None:
    if config is not None:
        known = _sound_in_config(config)
        if known is not None:
            return known
    asound = evidence.get("proc/asound/version")
    if asound is not None and asound.ok:
        return True
    if modules_supported is False and asound is not None and asound.status is Status.MISSING:
        return False  # nothing can be loaded, and no sound core is built in (no /proc/asound)
    release = kernel_release(evidence)
    if not release:
        return None
    indexes = [evidence.text(f"lib/modules/{release}/{name}") for name in INDEX_NAMES]
    if any(text is not None and _SOUND_CORE.search(text) for text in indexes):
        return True
    return False if all(text is not None for text in indexes) else None


def build_kernel(
    evidence: Evidence,
    log: LogLines | None,
    log_source: str | None,
    config_source: str | None,
    config: Config | None = None,
) -> Kernel:
    disabled = _strip(evidence, "proc/sys/kernel/modules_disabled")
    modules_supported = _modules_supported(evidence, config)

    text = "\n".join(line.text for line in log) if log is not None else None
    unknown = unrecognised_log(evidence) if log is None else None
    if unknown is not None:
        log_source, text = unknown[0], ""
    return Kernel(
        log=text,
        log_source=log_source,
        log_unrecognised=unknown[1] if unknown is not None else None,
        log_restricted=_log_restricted(evidence),
        cmdline=_strip(evidence, "proc/cmdline"),
        config_source=config_source,
        modules_disabled=(disabled == "1") if disabled is not None else None,
        lockdown=_lockdown(evidence),
        modules_supported=modules_supported,
        sound_supported=_sound_supported(evidence, config, modules_supported),
    )
