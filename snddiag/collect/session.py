"""The user sessions' sound servers: PipeWire's graph and settings, PulseAudio's view, ~/.asoundrc.

A session is a runtime directory `/run/user/UID`. Root asks every session's server as that
session's user (its uid, groups, XDG_RUNTIME_DIR and HOME); anyone else asks only their own.
Nothing here starts a server: PipeWire's tools run only where a PipeWire process of that user
runs (connecting to a socket-activated `pipewire-0` would start one), and pactl is given the
session's socket explicitly, which turns libpulse's autospawn off.
"""

from __future__ import annotations

import json
import os
import pwd
import time
from pathlib import Path

from snddiag.collect import tree
from snddiag.collect.sources import RunAs, read_file, read_listing, run_command
from snddiag.evidence import Entry, Evidence, Kind, Status
from snddiag.records import dataclass, replace

RUNTIME_ROOT = "run/user"
SESSIONS_KEY = "lib/session/sessions"
# One bound for each question: a server that does not answer in this time is hung, a finding.
COMMAND_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SessionCommand:
    name: str
    argv: tuple[str, ...]
    server: str  # the process that must run for this user before the command is run


def session_commands(pulse_socket: str) -> tuple[SessionCommand, ...]:
    return (
        SessionCommand("pw-dump", ("pw-dump",), "pipewire"),
        SessionCommand("pw-metadata-settings", ("pw-metadata", "-n", "settings"), "pipewire"),
        SessionCommand("pactl-info", ("pactl", "-s", f"unix:{pulse_socket}", "info"), ""),
    )


def session_key(uid: int | str, name: str) -> str:
    return f"session/{uid}/{name}"


# Every key this module fills, as patterns (`*`: the uid).
SESSION_KEYS: tuple[str, ...] = (
    SESSIONS_KEY,
    *(session_key("*", c.name) for c in session_commands("")),
    *(session_key("*", name) for name in ("runtime-dir", "pulse-dir", "asoundrc")),
)


def _sessions(root: Path) -> list[int] | None:
    try:
        names = tree.list_names(root, RUNTIME_ROOT)
    except OSError:
        return None
    return sorted(int(n) for n in names if n.isdigit())


def _user(uid: int) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwuid(uid)
    except KeyError:
        return None


def _groups(user: pwd.struct_passwd) -> tuple[int, ...]:
    try:
        return tuple(os.getgrouplist(user.pw_name, user.pw_gid))
    except OSError:
        return (user.pw_gid,)


def _run_as(user: pwd.struct_passwd) -> RunAs:
    return RunAs(
        uid=user.pw_uid,
        gid=user.pw_gid,
        groups=_groups(user),
        env=(
            ("HOME", user.pw_dir),
            ("USER", user.pw_name),
            ("XDG_RUNTIME_DIR", f"/{RUNTIME_ROOT}/{user.pw_uid}"),
        ),
    )


def session_run_as(uid: int) -> RunAs | None:
    """How to run a command in the session of `uid` (None for a uid without a passwd entry)."""
    user = _user(uid)
    return _run_as(user) if user is not None else None


def _running(evidence: Evidence, user: str) -> set[str]:
    """The sound servers running as `user`, from the process list collect already read."""
    from snddiag.collect.libraries import PROCESSES_KEY

    text = evidence.text(PROCESSES_KEY)
    try:
        processes = json.loads(text) if text else []
    except ValueError:
        return set()
    return {
        str(p.get("name")) for p in processes if isinstance(p, dict) and str(p.get("user")) == user
    }


def read_sessions(evidence: Evidence, root: Path = Path("/"), *, live: bool = True) -> None:
    """Add every visible session's evidence: a summary entry (SESSIONS_KEY), each runtime
    directory's listing, ~/.asoundrc, and (live) what the session's servers answer."""
    started = time.monotonic()
    me = os.geteuid()
    everyone = me == 0
    summary: list[dict[str, object]] = []
    uids = _sessions(root)
    if uids is None:
        # No /run/user: no session (a headless guest); recorded as missing, not as an error.
        evidence.add(Entry(SESSIONS_KEY, Kind.FILE, Status.MISSING))
        return
    for uid in uids:
        # Offline, this machine's passwd says nothing of the snapshot's users.
        user = _user(uid) if live else None
        entry: dict[str, object] = {"uid": uid, "user": user.pw_name if user else None}
        asked = everyone or uid == me
        entry["asked"] = asked
        summary.append(entry)
        runtime = f"{RUNTIME_ROOT}/{uid}"
        for rel, name in ((runtime, "runtime-dir"), (f"{runtime}/pulse", "pulse-dir")):
            evidence.add(_renamed(read_listing(root, rel), session_key(uid, name)))
        if user is None:
            continue
        if user.pw_dir.strip("/"):
            asoundrc = read_file(root, f"{user.pw_dir.strip('/')}/.asoundrc")
            evidence.add(_renamed(asoundrc, session_key(uid, "asoundrc")))
        if not (live and asked):
            continue
        running = _running(evidence, user.pw_name)
        run_as = _run_as(user)
        for command in session_commands(f"/{runtime}/pulse/native"):
            key = session_key(uid, command.name)
            if command.server and command.server not in running:
                continue
            if not command.server and "native" not in _names(evidence, uid, "pulse-dir"):
                continue
            answer = run_command(
                command.name, command.argv, COMMAND_TIMEOUT_S, key=key, run_as=run_as
            )
            evidence.add(answer)
            if answer.status is Status.TIMEOUT:
                break  # a hung server: its other questions would each wait out the bound too
    data = json.dumps(
        {"scope": "all" if everyone else "own", "uid": me, "sessions": summary},
        indent=1,
        sort_keys=True,
    ).encode()
    evidence.add(
        Entry(SESSIONS_KEY, Kind.FILE, Status.OK, data=data, duration_s=time.monotonic() - started)
    )


def _renamed(entry: Entry, key: str) -> Entry:
    return replace(entry, key=key)


def _names(evidence: Evidence, uid: int, what: str) -> tuple[str, ...]:
    entry = evidence.get(session_key(uid, what))
    return entry.names if entry is not None and entry.ok else ()
