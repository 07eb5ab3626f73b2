"""Work on untrusted input in child processes, each bounded in wall time and in memory.

Each call runs in a process of its own (forked where the system can), which first caps its own
address space (RLIMIT_AS) at what it already maps plus `max_memory_bytes`. The parent runs at
most `workers` of them at once and kills one that outlives `timeout_s`. However a child ends
(a result, MemoryError, a timeout, a signal such as the OOM killer's), it costs only its own
call: the outcome is its value or a one-line reason, and the other calls go on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Union

from snddiag.bundle import MIB, BundleError, Limits

# What a child sends back: ("ok", value), ("refused", reason), ("memory", None), ("bug", repr).
_Message = tuple[str, Any]
_MEMORY_EXIT = 75  # the child could not even report its MemoryError


@dataclass(frozen=True)
class Done:
    value: Any


@dataclass(frozen=True)
class Failed:
    reason: str  # one line: "took longer than 30 s (--timeout-s)"
    bug: bool = False  # an exception in snddiag itself, not a property of the input


Outcome = Union[Done, Failed]


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _mapped_bytes() -> int:
    """This process's address space now (Linux); 0 where /proc does not say."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory(extra_bytes: int) -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = _mapped_bytes() + extra_bytes
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    # A system that cannot limit: the timeout still bounds the call.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def _child(conn: Connection, call: Callable[..., Any], args: tuple[Any, ...], memory: int) -> None:
    message: _Message
    # Ctrl-C reaches the whole process group: the parent alone reports it, once. The parent
    # blocked SIGINT across the fork, so none can arrive before it is ignored here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        _limit_memory(memory)
        message = ("ok", call(*args))
    except MemoryError:
        message = ("memory", None)
    except BundleError as err:
        message = ("refused", str(err))
    except Exception as err:  # a bug on one input must not hide the others
        message = ("bug", repr(err))
    try:
        conn.send(message)
    except MemoryError:
        os._exit(_MEMORY_EXIT)
    finally:
        conn.close()


def memory_text(limits: Limits) -> str:
    return f"needed more than {limits.max_memory_bytes // MIB} MB (--max-memory-mb)"


def time_text(limits: Limits) -> str:
    return f"took longer than {limits.timeout_s:g} s (--timeout-s)"


def _outcome(message: _Message | None, exitcode: int | None, limits: Limits) -> Outcome:
    if message is not None:
        kind, value = message
        if kind == "ok":
            return Done(value)
        if kind == "refused":
            return Failed(str(value))
        if kind == "memory":
            return Failed(memory_text(limits))
        return Failed(f"internal error: {value} (a bug in snddiag: report it)", bug=True)
    if exitcode == _MEMORY_EXIT:
        return Failed(memory_text(limits))
    if exitcode is not None and exitcode < 0:
        return Failed(f"its worker process was killed by signal {-exitcode} (out of memory?)")
    return Failed(f"its worker process ended without a result (exit status {exitcode})")


class _Running:
    def __init__(self, index: int, call: Callable[..., Any], args: tuple[Any, ...], limits: Limits):
        context = _context()
        self.index = index
        self.conn, child_end = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_child, args=(child_end, call, args, limits.max_memory_bytes), daemon=True
        )
        self.deadline = time.monotonic() + limits.timeout_s  # before it can run at all
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child_end.close()
        self.message: _Message | None = None

    def receive(self) -> bool:
        """Read the child's message if one came; True once the child is finished with."""
        try:
            if self.conn.poll():
                self.message = self.conn.recv()
        except (EOFError, OSError):
            pass  # it died before (or while) sending
        if self.message is None and self.process.is_alive():
            return False
        self.process.join()
        self.conn.close()
        return True

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


_TICK_S = 0.2  # how soon a Ctrl-C noted while waiting stops the run


class _CtrlC:
    """Ctrl-C noted by a handler that only sets a flag, and raised from the loop: a
    KeyboardInterrupt raised inside a finalizer (a pipe or process being collected) would be
    printed and ignored, and the run would go on. Only the main thread may set handlers."""

    def __init__(self) -> None:
        self.seen = False
        self.previous: Any = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._note)

    def _note(self, signum: int, frame: object) -> None:
        self.seen = True

    def check(self) -> None:
        if self.seen:
            raise KeyboardInterrupt

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def run_bounded(
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]], limits: Limits, workers: int = 1
) -> Iterator[tuple[int, Outcome]]:
    """(index, outcome) of each call as it finishes; at most `workers` processes at once."""
    pending = list(enumerate(calls))[::-1]
    running: list[_Running] = []
    interrupted = _CtrlC()
    try:
        while pending or running:
            interrupted.check()
            while pending and len(running) < max(1, workers):
                index, (call, args) = pending.pop()
                running.append(_Running(index, call, args, limits))
            now = time.monotonic()
            timeout = min(_TICK_S, max(0.0, min(r.deadline for r in running) - now))
            waitables: list[Any] = [r.conn for r in running] + [r.process.sentinel for r in running]
            wait(waitables, timeout)
            woke = time.monotonic()
            still: list[_Running] = []
            for job in running:
                if woke >= job.deadline:  # whatever it sent since: it was not done in time
                    job.kill()
                    yield job.index, Failed(time_text(limits))
                elif job.receive():
                    yield job.index, _outcome(job.message, job.process.exitcode, limits)
                else:
                    still.append(job)
            running = still
        interrupted.check()
    finally:
        interrupted.restore()
        for job in running:  # the caller stopped early (Ctrl-C): leave no child behind
            job.kill()
