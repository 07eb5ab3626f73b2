"""Work on untrusted input in worker processes, each call bounded in wall time and in memory.

A pool of at most `workers` long-lived processes (forked where the system can) runs the calls,
one at a time each. A worker caps its own address space (RLIMIT_AS) once, when it starts, at
what it maps then plus `max_memory_bytes`; the parent kills one whose call outlives
`timeout_s`. However a call ends (a result, MemoryError, a timeout, a signal such as the OOM
killer's), it costs only itself: the outcome is its value or a one-line reason, a worker that
died or was killed is replaced by a fresh one, and the other calls go on.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, Union

from snddiag.bundle import MIB, BundleError, Limits
from snddiag.needs import BY_MODULE, install_hint, missing_library
from snddiag.records import dataclass

# What a child sends back: ("ok", value), ("refused", reason), ("memory", None),
# ("library", module), ("bug", repr).
_Message = tuple[str, Any]
_MEMORY_EXIT = 75  # the child could not even report its MemoryError


@dataclass(frozen=True)
class Done:
    value: Any


@dataclass(frozen=True)
class Failed:
    reason: str  # one line: "took longer than 30 s (--timeout-s)"
    bug: bool = False  # an exception in snddiag itself, not a property of the input
    library: str = ""  # the module of a library of snddiag's that is not installed


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


def _serve(
    conn: Connection,
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    memory: int,
    parent_ends: Sequence[Connection],
) -> None:
    """A worker: caps its memory once, then runs the calls it is sent by index, one at a time,
    until its pipe closes. It ends itself after a MemoryError (its heap may be in any state).
    `parent_ends`: the parent's ends of this pipe and the other workers', which the fork copied.
    """
    # Held here, a pipe would not close when the parent closes it: its worker would wait for a
    # next call until stop() gave up on it and killed it (a second at the end of every run).
    for parent_end in parent_ends:
        parent_end.close()
    # Ctrl-C reaches the whole process group: the parent alone reports it, once. The parent
    # blocked SIGINT across the fork, so none can arrive before it is ignored here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _limit_memory(memory)
    # What the worker inherited (the rules, the modules) lives as long as it does: the
    # collector need not walk it after every call, nor touch its pages (shared with the parent
    # until written).
    gc.freeze()
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            return
        call, args = calls[index]
        message: _Message
        try:
            message = ("ok", call(*args))
        except MemoryError:
            message = ("memory", None)
        except BundleError as err:
            message = ("refused", str(err))
        except ModuleNotFoundError as err:
            lib = missing_library(err)
            message = ("library", lib.module) if lib is not None else ("bug", repr(err))
        except Exception as err:  # a bug on one input must not hide the others
            message = ("bug", repr(err))
        try:
            conn.send(message)
        except MemoryError:
            os._exit(_MEMORY_EXIT)
        if message[0] == "memory":
            os._exit(0)


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
        if kind == "library":
            return Failed(install_hint(BY_MODULE[value]), library=value)
        return Failed(f"internal error: {value} (a bug in snddiag: report it)", bug=True)
    if exitcode == _MEMORY_EXIT:
        return Failed(memory_text(limits))
    if exitcode is not None and exitcode < 0:
        return Failed(f"its worker process was killed by signal {-exitcode} (out of memory?)")
    return Failed(f"its worker process ended without a result (exit status {exitcode})")


class _Worker:
    """One long-lived worker process and the call it is running, if any."""

    def __init__(
        self,
        calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
        limits: Limits,
        siblings: Sequence[_Worker | None] = (),
    ) -> None:
        context = _context()
        self.conn, child_end = context.Pipe(duplex=True)
        # The fork copies the parent's end of this pipe and of every other worker's.
        others = [self.conn, *(w.conn for w in siblings if w is not None and not w.conn.closed)]
        self.process = context.Process(
            target=_serve, args=(child_end, calls, limits.max_memory_bytes, others), daemon=True
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child_end.close()
        self.index: int | None = None
        self.deadline = 0.0
        self.served = 0  # calls finished, whatever their outcome

    def start(self, index: int, timeout_s: float) -> None:
        self.index = index
        self.deadline = time.monotonic() + timeout_s
        self.conn.send(index)

    def receive(self) -> tuple[bool, _Message | None]:
        """(finished, message): the call's message if it came; finished also when the worker
        died without one."""
        try:
            if self.conn.poll():
                return True, self.conn.recv()
        except (EOFError, OSError):
            pass  # it died before (or while) sending
        if self.process.is_alive():
            return False, None
        return True, None

    def stop(self) -> None:
        """End the worker: closing its pipe ends its loop; one busy or stuck is killed."""
        self.conn.close()
        if self.index is not None:
            self.process.kill()
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


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
) -> Generator[tuple[int, Outcome], None, None]:
    """(index, outcome) of each call as it finishes, from at most `workers` worker processes.

    A worker runs call after call; it is replaced only when it dies, runs out of memory, or
    is killed for running past `limits.timeout_s` on one call. A call that runs out of memory
    in a worker that had served others gets one more try in a fresh worker: a worker's
    address space grows with what it ran, and the limit is the bundle's, not its history's."""
    pending = list(range(len(calls)))[::-1]
    retry: list[int] = []  # calls to run again, each in a fresh worker
    retried: set[int] = set()
    pool: list[_Worker | None] = [None] * min(max(1, workers), len(calls))
    interrupted = _CtrlC()
    try:
        while pending or retry or any(w is not None and w.index is not None for w in pool):
            interrupted.check()
            for number, worker in enumerate(pool):
                if worker is not None and worker.index is not None:
                    continue
                if retry:
                    if worker is not None and worker.served:
                        worker.stop()
                        worker = None
                    worker = pool[number] = worker or _Worker(calls, limits, pool)
                    worker.start(retry.pop(), limits.timeout_s)
                elif pending:
                    worker = pool[number] = worker or _Worker(calls, limits, pool)
                    worker.start(pending.pop(), limits.timeout_s)
            busy = [w for w in pool if w is not None and w.index is not None]
            now = time.monotonic()
            timeout = min(_TICK_S, max(0.0, min(w.deadline for w in busy) - now))
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
            woke = time.monotonic()
            for number, worker in enumerate(pool):
                if worker is None or worker.index is None:
                    continue
                index = worker.index
                if woke >= worker.deadline:  # whatever it sent since: it was not done in time
                    worker.stop()
                    pool[number] = None
                    yield index, Failed(time_text(limits))
                    continue
                finished, message = worker.receive()
                if not finished:
                    continue
                worker.index = None
                worker.served += 1
                if message is not None and message[0] != "memory":
                    yield index, _outcome(message, None, limits)
                    continue
                # It ended itself after a MemoryError, or died: a fresh one takes its place.
                worker.process.join()
                exitcode = worker.process.exitcode
                worker.stop()
                pool[number] = None
                out_of_memory = message is not None or exitcode == _MEMORY_EXIT
                if out_of_memory and worker.served > 1 and index not in retried:
                    retried.add(index)
                    retry.append(index)
                    continue
                yield index, _outcome(message, exitcode, limits)
        interrupted.check()
    finally:
        interrupted.restore()
        for worker in pool:  # done, or the caller stopped early (Ctrl-C): leave no child behind
            if worker is not None:
                worker.stop()
