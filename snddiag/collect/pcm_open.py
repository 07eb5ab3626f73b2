"""Opening a PCM device node, and saying precisely why it could not be opened.

A busy node names the processes holding it (from /proc/*/fd); a node the user may not open names
its owner, group and mode. Nothing here ever signals or stops another process.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
from pathlib import Path

OPEN_FLAGS = os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC
ALSA_MAJOR = 116  # CONFIG_SND_MAJOR, include/sound/core.h: every ALSA node, dynamic minors too


class PcmError(Exception):
    """The test cannot go on; the message is the one-line reason for the report, `errno` the
    error number of the call that failed, when one did."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.errno = code


def _name(lookup: str, number: int) -> str:
    try:
        if lookup == "group":
            return grp.getgrgid(number).gr_name
        return pwd.getpwuid(number).pw_name
    except KeyError:
        return str(number)


def holders(node: Path, proc_dir: Path = Path("/proc")) -> list[tuple[int, str]]:
    """(pid, command name) of every process with an open descriptor on `node`, by pid.

    A character device matches by device number (another path to the same device counts), any
    other file by inode. Processes whose descriptors this user may not read are not seen."""
    try:
        target = os.stat(node)
    except OSError:
        return []
    is_chr = stat.S_ISCHR(target.st_mode)
    found: list[tuple[int, str]] = []
    try:
        pids = sorted(int(p.name) for p in proc_dir.iterdir() if p.name.isdigit())
    except OSError:
        return []
    for pid in pids:
        fd_dir = proc_dir / str(pid) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(fd_dir / fd)
            except OSError:
                continue
            same = (
                stat.S_ISCHR(st.st_mode) and st.st_rdev == target.st_rdev
                if is_chr
                else (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino)
            )
            if same:
                try:
                    comm = (proc_dir / str(pid) / "comm").read_text().strip()
                except OSError:
                    comm = "?"
                found.append((pid, comm))
                break
    return found


def busy_reason(node: Path, held_by: list[tuple[int, str]]) -> str:
    advice = "test through the sound server (pw-play, paplay) or stop it; snddiag never stops it"
    if not held_by:
        return f"{node} is busy: held by a process this user cannot see; {advice}"
    who = ", ".join(f"{comm} (pid {pid})" for pid, comm in held_by)
    return f"{node} is busy: held by {who}; {advice}"


def permission_reason(node: Path, st: os.stat_result) -> str:
    owner, group = _name("user", st.st_uid), _name("group", st.st_gid)
    what = f"permission denied on {node} ({stat.filemode(st.st_mode)} {owner}:{group})"
    if st.st_mode & 0o060 == 0o060 and st.st_gid != 0:
        return f"{what}: members of group '{group}' may open it (usermod -aG {group} USER)"
    return f"{what}: only {owner} may open it (udev rules usually give sound nodes to 'audio')"


def open_failure(node: Path, st: os.stat_result, exc: OSError, proc_dir: Path) -> str:
    """The one-line reason for an open() of an existing character device that failed."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return permission_reason(node, st)
    if exc.errno == errno.EBUSY:
        return busy_reason(node, holders(node, proc_dir))
    if exc.errno in (errno.ENODEV, errno.ENXIO):
        return f"{node} has no device behind it (the sound card went away or was never bound)"
    return f"cannot open {node}: {exc.strerror or exc}"


def open_pcm(node: Path, proc_dir: Path = Path("/proc"), sys_dir: Path = Path("/sys")) -> int:
    """A non-blocking read-write descriptor on the PCM node, or PcmError with the reason."""
    try:
        st = os.stat(node)
    except FileNotFoundError:
        raise PcmError(f"no such PCM node {node}") from None
    except OSError as exc:
        raise PcmError(f"cannot look at {node}: {exc.strerror or exc}") from None
    if not stat.S_ISCHR(st.st_mode):
        raise PcmError(f"{node} is not a character device")
    check_alsa_pcm(node, st.st_rdev, sys_dir)
    try:
        fd = os.open(node, OPEN_FLAGS)
    except OSError as exc:
        raise PcmError(open_failure(node, st, exc, proc_dir), exc.errno) from None
    if os.fstat(fd).st_rdev != st.st_rdev:  # swapped for another node meanwhile
        os.close(fd)
        raise PcmError(f"{node} was replaced while it was opened")
    return fd


def check_alsa_pcm(node: Path, rdev: int, sys_dir: Path = Path("/sys")) -> None:
    """PcmError unless the device number is ALSA's and sysfs names it a PCM: a node named like
    a PCM may be any character device, and opening one (or its ioctls) can have effects."""
    major, minor = os.major(rdev), os.minor(rdev)
    if major != ALSA_MAJOR:
        raise PcmError(
            f"{node} is not an ALSA device (device {major}:{minor}; ALSA's major is {ALSA_MAJOR})"
        )
    try:
        uevent = (sys_dir / "dev" / "char" / f"{major}:{minor}" / "uevent").read_text()
    except (OSError, UnicodeDecodeError):
        raise PcmError(f"{node}: sysfs knows no ALSA device {major}:{minor}") from None
    names = [line[8:] for line in uevent.splitlines() if line.startswith("DEVNAME=")]
    if not names or not names[0].rsplit("/", 1)[-1].startswith("pcmC"):
        shown = names[0] if names else "no name"
        raise PcmError(f"{node}: ALSA device {major}:{minor} is {shown}, not a PCM")
