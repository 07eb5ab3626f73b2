"""collect: read the system (or a directory standing in for it) into an Evidence snapshot."""

from __future__ import annotations

import grp
import os
import pwd
import time
from pathlib import Path

from snddiag import __version__
from snddiag.collect import plan
from snddiag.collect.libraries import read_sound_servers, read_udev_sound
from snddiag.collect.sources import Command, Source, run_sources
from snddiag.evidence import Evidence, Status, kernel_release


def _identity() -> dict[str, str]:
    uid = os.geteuid()
    groups = sorted(set(os.getgroups()) | {os.getegid()})
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    names = [_group_name(gid) for gid in groups]
    return {
        "uid": str(uid),
        "user": user,
        "gids": ",".join(str(g) for g in groups),
        "groups": ",".join(names),
    }


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def collect(root: Path = Path("/"), *, live: bool = True, play: bool = False) -> Evidence:
    """Everything snddiag reads. `live` also runs commands and asks pyudev and psutil; `play`
    (only with `live`, only for `snddiag --play`) then runs the data-path test, which makes a
    short sound on the virtio card."""
    evidence = Evidence()
    evidence.meta.update(
        {
            "snddiag_version": __version__,
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    if live:
        evidence.meta.update(_identity())

    def runnable(sources: tuple[Source, ...]) -> tuple[Source, ...]:
        # Offline (--root), a command would describe this machine, not the one under DIR.
        return sources if live else tuple(s for s in sources if not isinstance(s, Command))

    run_sources(runnable(plan.SYSTEM), root, evidence)
    release = kernel_release(evidence) or ""
    first_log, *fallback_logs = plan.KERNEL_LOGS
    rest = plan.MODULES + plan.VIRTIO + plan.ALSA + ((first_log.source,) if live else ())
    run_sources(plan.with_release(runnable(rest), release), root, evidence)
    dmesg = evidence.get(plan.key_of(first_log.source))
    if live and (dmesg is None or dmesg.status is not Status.OK):
        for log in fallback_logs:
            run_sources((log.source,), root, evidence)
            if any(
                (e := evidence.get(k)) is not None and e.ok and e.data for k in plan.KERNEL_LOG_KEYS
            ):
                break
    if live:
        evidence.add(read_udev_sound())
        evidence.add(read_sound_servers())
    if live and play:
        from snddiag.collect.data_path import read_data_path

        evidence.add(read_data_path())
    return evidence
