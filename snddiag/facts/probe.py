"""What the kernel log says of virtio_snd's probe: did it fail, with which error, and why."""

from __future__ import annotations

from enum import Enum

from snddiag.collect.plan import KERNEL_LOG_KEYS
from snddiag.facts.docs import fact
from snddiag.parse.kmsg import KernelLine
from snddiag.patterns import compiled_later
from snddiag.records import dataclass

MODULE = "virtio_snd"
SOURCES: dict[str, tuple[str, ...]] = {"probe": KERNEL_LOG_KEYS}
NO_LOG = "the kernel log could not be read"

# The errors virtio_snd's probe can return (sound/virtio/*.c), by errno value.
ERRNO_NAMES = {
    2: "ENOENT", 5: "EIO", 12: "ENOMEM", 19: "ENODEV", 22: "EINVAL", 95: "EOPNOTSUPP",
    110: "ETIMEDOUT",
}  # fmt: skip
EOPNOTSUPP = 95
ETIMEDOUT = 110


class ProbeCause(str, Enum):
    """Why the probe failed, from the driver's own messages (sound/virtio/*.c)."""

    NONE = "none"  # the log was read and shows no failure
    LEGACY_TRANSPORT = "legacy-transport"  # no VIRTIO_F_VERSION_1: a legacy virtio transport
    BAD_PARAMETER = "bad-parameter"  # a module parameter failed validation
    TIMEOUT = "timeout"  # a control request got no answer within msg_timeout_ms
    NOT_SUPPORTED = "not-supported"  # -EOPNOTSUPP: the device refused a request (QEMU jacks)
    OTHER = "other"  # a failure without one of the messages above

    def __str__(self) -> str:
        return self.value


# Every expression here is linear on a long line: literals, and bounded repeats between them.
_PROBE_FAILED = compiled_later(
    # <= 6.8: "virtio_snd: probe of virtio0 failed with error -22";
    # >= 6.9: "virtio_snd virtio0: probe with driver virtio_snd failed with error -22".
    r"virtio_snd(?::| virtio[0-9]{1,10}:) probe (?:of virtio[0-9]{1,10} |with driver virtio_snd )?"
    r"failed with error (-[0-9]{1,10})"
)
# virtsnd_validate(): "device does not comply with spec version 1.x".
_LEGACY = compiled_later(r"does not comply with spec version 1\.x")
# virtsnd_validate() and virtsnd_pcm_validate(): "msg_timeout_ms value cannot be zero",
# "pcm_buffer_ms(=%u) value cannot be < %u ms", "pcm_period_ms_max(=%u) value cannot be > %u ms",
# "invalid range [%u %u] of the number of PCM periods" / "... of the size of the PCM period".
_BAD_PARAMETER = compiled_later(
    r"value cannot be|invalid range \[\d{1,10} \d{1,10}\] of the (?:number|size) of"
)
# virtsnd_ctl_msg_send(): "control message (0x%08x) timeout".
_TIMEOUT = compiled_later(r"control message \(0x[0-9a-f]{1,8}\) timeout")


@dataclass(frozen=True)
class Probe:
    failed: bool | None = fact("the log shows virtio_snd's probe failing", NO_LOG)
    error_code: int | None = fact(
        "the last probe failure's error code (-22, -95, -110)", "the log is unread or shows none"
    )
    error_name: str | None = fact(
        "that error's errno name (EINVAL, EOPNOTSUPP, ETIMEDOUT; unknown)",
        "the log is unread or shows no failure",
    )
    cause: ProbeCause | None = fact(
        "why: none, legacy-transport, bad-parameter, timeout, not-supported or other", NO_LOG
    )
    messages: tuple[str, ...] | None = fact(
        "the log lines that name virtio_snd or virtio-snd", NO_LOG
    )
    text: str | None = fact("those lines as one text", NO_LOG)


def probe_cause(lines: tuple[str, ...], error_code: int | None) -> ProbeCause:
    """The driver says why for validation and timeouts; -EOPNOTSUPP comes without a message."""
    if any(_LEGACY.search(line) for line in lines):
        return ProbeCause.LEGACY_TRANSPORT
    if any(_BAD_PARAMETER.search(line) for line in lines):
        return ProbeCause.BAD_PARAMETER
    if error_code is None:
        return ProbeCause.NONE
    if error_code == -ETIMEDOUT or any(_TIMEOUT.search(line) for line in lines):
        return ProbeCause.TIMEOUT
    if error_code == -EOPNOTSUPP:
        return ProbeCause.NOT_SUPPORTED
    return ProbeCause.OTHER


def build_probe(log: tuple[KernelLine, ...] | None) -> Probe:
    if log is None:
        return Probe(
            failed=None, error_code=None, error_name=None, cause=None, messages=None, text=None
        )
    lines = tuple(line.text for line in log if MODULE in line.text or "virtio-snd" in line.text)
    codes = [int(m.group(1)) for line in lines if (m := _PROBE_FAILED.search(line))]
    code = codes[-1] if codes else None
    return Probe(
        failed=bool(codes),
        error_code=code,
        error_name=ERRNO_NAMES.get(-code, "unknown") if code is not None else None,
        cause=probe_cause(lines, code),
        messages=lines,
        text="\n".join(lines),
    )
