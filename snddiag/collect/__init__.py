"""collect: read the system (or a directory standing in for it) into an Evidence snapshot."""

from __future__ import annotations

import grp
import os
import pwd
import re
import time
from pathlib import Path

from snddiag import __version__
from snddiag.collect import plan
from snddiag.collect.libraries import read_sound_servers, read_udev_sound
from snddiag.collect.session import read_sessions
from snddiag.collect.sources import Command, Source, lines_holding, run_sources
from snddiag.evidence import Evidence, kernel_release


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


def _capabilities() -> dict[str, str]:
    """The effective capability mask (hex, as /proc/self/status shows it): root in a container
    may lack CAP_SYSLOG, which reading the kernel log needs under dmesg_restrict."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return {"cap_eff": line.split(":", 1)[1].strip()}
    except OSError:
        pass  # no procfs: the capabilities stay unknown
    return {}


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _stands_in(evidence: Evidence, stand_in: plan.StandIn, release: str) -> bool:
    """Whether the stand-in's files were read (and show what they must) in place of its command."""
    for path in stand_in.paths:
        if "{release}" in path and not release:
            return False
        entry = evidence.get(path.format(release=release))
        if entry is None or not entry.ok or not entry.data.strip():
            return False
    if not stand_in.shows:
        return True
    data = evidence.entries[stand_in.paths[0].format(release=release)].data
    found_by = [literal.encode() for literal in stand_in.found_by]
    shows = re.compile(stand_in.shows.encode())
    return any(shows.match(line) for line in lines_holding(data, found_by))


def _run_unless_stood_in(
    sources: tuple[Source, ...], root: Path, evidence: Evidence, release: str
) -> None:
    """Run the commands among `sources` whose stand-in files did not give what they print."""
    stand_ins = {stand_in.command: stand_in for stand_in in plan.STAND_INS}
    for source in sources:
        stand_in = stand_ins.get(source.key) if isinstance(source, Command) else None
        if stand_in is not None and not _stands_in(evidence, stand_in, release):
            run_sources((source,), root, evidence)


def _read_kernel_log(root: Path, evidence: Evidence, *, live: bool = True) -> None:
    """The kernel log from the first place, in the plan's order, that gives any lines; for a
    mounted system (not `live`), from its own log files and journal."""
    logs = (
        tuple(log.source for log in plan.KERNEL_LOGS)
        if live
        else plan.mounted_kernel_logs(str(root))
    )
    for source in logs:
        run_sources((source,), root, evidence)
        entry = evidence.get(plan.key_of(source))
        if entry is not None and entry.ok and entry.data.strip():
            return


def collect(
    root: Path = Path("/"), *, live: bool = True, play: bool = False, stress: bool = True
) -> Evidence:
    """Everything snddiag reads. `live` also runs commands and asks pyudev and psutil; `play`
    (only with `live`, only for `snddiag --play`) then runs the data-path test, which makes a
    short sound on the virtio card, and with `stress` its lifecycle stress."""
    evidence = Evidence()
    evidence.meta.update(
        {
            "snddiag_version": __version__,
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    if live:
        evidence.meta.update(_identity())
        evidence.meta.update(_capabilities())

    deferred = {stand_in.command for stand_in in plan.STAND_INS}

    def runnable(sources: tuple[Source, ...]) -> tuple[Source, ...]:
        # Offline (--root), a command would describe this machine, not the one under DIR.
        # Live, a command with stand-in files waits until those files have been read.
        return tuple(
            s
            for s in sources
            if not isinstance(s, Command) or (live and plan.key_of(s) not in deferred)
        )

    run_sources(runnable(plan.SYSTEM), root, evidence)
    if live:
        _run_unless_stood_in(plan.SYSTEM, root, evidence, "")
    release = kernel_release(evidence) or ""
    rest = plan.MODULES + plan.VIRTIO + plan.ALSA + plan.HOST_IDENTITY + plan.MODULE_FILES
    run_sources(plan.with_release(runnable(rest), release), root, evidence)
    if live:
        _run_unless_stood_in(rest, root, evidence, release)
    _read_kernel_log(root, evidence, live=live)
    if live:
        evidence.add(read_udev_sound())
        evidence.add(read_sound_servers())
    read_sessions(evidence, root, live=live)
    if live and play:
        from snddiag.collect.data_path import read_data_path

        evidence.add(read_data_path(lifecycle=stress))
        from snddiag.collect.server_play import read_server_playback

        through_server = read_server_playback(evidence)
        if through_server is not None:
            evidence.add(through_server)
    return evidence
