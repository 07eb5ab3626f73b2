"""The kernel: its log (from the first place that could be read), command line and config."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from snddiag.collect.plan import KERNEL_LOG_KEYS, KERNEL_LOGS, declared, key_of
from snddiag.evidence import MAX_FILE_BYTES, Evidence, Status
from snddiag.facts.docs import fact
from snddiag.parse import Parsed
from snddiag.parse.kconfig import parse_kconfig
from snddiag.parse.kmsg import KernelLine, parse_dmesg, parse_journal, parse_kmsg, parse_syslog

LogLines = tuple[KernelLine, ...]
Config = dict[str, str]

# The plan names each kernel-log source's layout; these read them.
LOG_PARSERS = {
    "dmesg": parse_dmesg,
    "kmsg": parse_kmsg,
    "journal": parse_journal,
    "syslog": parse_syslog,
}

CONFIG_KEYS = declared("proc/config.gz", "boot/config-{release}")
SOURCES: dict[str, tuple[str, ...]] = {
    "kernel.log": KERNEL_LOG_KEYS,
    "kernel.log_source": KERNEL_LOG_KEYS,
    "kernel.log_restricted": declared("cmd/dmesg", "proc/sys/kernel/dmesg_restrict"),
    "kernel.cmdline": declared("proc/cmdline"),
    "kernel.config_source": CONFIG_KEYS,
    "kernel.modules_disabled": declared("proc/sys/kernel/modules_disabled"),
}
NO_LOG = "no kernel log could be read (dmesg, /dev/kmsg, log files, journal)"


@dataclass(frozen=True)
class Kernel:
    log: str | None = fact("the kernel log of this boot, message text only", NO_LOG)
    log_source: str | None = fact("where the log was read (dmesg, /dev/kmsg, ...)", NO_LOG)
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


def read_kernel_config(evidence: Evidence) -> tuple[Config | None, str | None]:
    entry = evidence.get("proc/config.gz")
    if entry is not None and entry.ok and entry.data and not entry.truncated:
        decompressed = gunzip_config(entry.data)
        if decompressed is not None:  # else corrupt, truncated or too big: fall back to /boot
            return parse_kconfig(decompressed).value, "/proc/config.gz"
    for key in evidence.keys_under("boot"):
        if key.startswith("boot/config-"):
            config_text = evidence.text(key)
            if config_text is not None:
                return parse_kconfig(config_text).value, "/" + key
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


def build_kernel(
    evidence: Evidence, log: LogLines | None, log_source: str | None, config_source: str | None
) -> Kernel:
    disabled = _strip(evidence, "proc/sys/kernel/modules_disabled")
    return Kernel(
        log="\n".join(line.text for line in log) if log is not None else None,
        log_source=log_source,
        log_restricted=_log_restricted(evidence),
        cmdline=_strip(evidence, "proc/cmdline"),
        config_source=config_source,
        modules_disabled=(disabled == "1") if disabled is not None else None,
    )
