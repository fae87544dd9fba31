"""One wall-clock deadline for a whole query: check, parse and run, on either engine.

pyoxigraph releases the GIL while it evaluates, and its evaluation is lazy
(one `next()` can be a whole aggregate in Rust), so the caller's thread cannot
wait inside the iteration; it waits on a worker thread instead. The worker
stops at its next row (the event) or its next Python bytecode (an asynchronous
exception, which is what stops rdflib); a Rust step already running finishes
in the background of a daemon thread, and the CLI process exits without
waiting for it. rdflib's REGEX runs Python's `re` in C, which no bytecode
boundary interrupts and which never releases the GIL, so a thread cannot even
notice its deadline: `run_isolated` runs such work in a forked child process
instead and kills it at the deadline (the command line does this for rdflib).
"""
from __future__ import annotations

import _thread
import math
import os

from .errors import BadInputError, CarnkError, QueryTimeoutError

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0


class Cancelled(BaseException):
    """Raised inside a worker thread whose query ran past its time limit."""


def check_timeout(timeout: float) -> float:
    """A usable --timeout: a positive number of seconds (inf allowed: no limit); NaN, 0 and below refused."""
    if not isinstance(timeout, (int, float)) or math.isnan(timeout) or timeout <= 0:
        raise BadInputError(f"--timeout must be a positive number of seconds, not {timeout}")
    return float(timeout)


class CancelFlag:
    """What a worker checks between rows to stop early: threading.Event's `set` and `is_set`, on a
    plain attribute (a cold query does not import `threading`, which costs ~2.5 ms here)."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def run_with_timeout(work: Callable[[CancelFlag], T], timeout: float, what: str,
                     started: float | None = None) -> T:
    """Run `work` in a worker thread; `timeout` seconds after `started` (time.monotonic(); default
    now) raise QueryTimeoutError here: the limit covers the whole operation, not just this step.

    The worker is a bare `_thread` thread (what threading.Thread(daemon=True) wraps): it keeps
    nothing alive at exit, so a timed-out query ends with the process."""
    import time

    timeout = check_timeout(timeout)
    left = timeout if started is None else timeout - (time.monotonic() - started)
    box: dict = {}
    cancel = CancelFlag()
    done = _thread.allocate_lock()
    done.acquire()

    def target() -> None:
        try:
            box["result"] = work(cancel)
        except Cancelled:
            pass
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e
        finally:
            done.release()

    ident = _thread.start_new_thread(target, ())
    if not done.acquire(True, -1 if timeout == math.inf else max(left, 0.0)):
        cancel.set()
        _interrupt(ident)
        raise _timed_out(what, timeout)
    if "error" in box:
        raise box["error"]
    return box["result"]


def _interrupt(ident: int) -> None:
    """Raise Cancelled in the thread `ident` at its next Python bytecode."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(Cancelled))


def _timed_out(what: str, timeout: float) -> QueryTimeoutError:
    return QueryTimeoutError(f"{what}: stopped after {timeout:g} s (--timeout {timeout:g}); "
                             "narrow the query or raise --timeout")


def run_isolated(work: Callable[[], T], timeout: float, what: str, started: float | None = None) -> T:
    """Run `work` in a forked child process and kill it at the deadline: the limit holds even for
    code that keeps the GIL (Python's `re` inside rdflib's REGEX). The answer comes back pickled
    through a pipe; a CarnkError in the child is raised here with its message and exit code.
    Where there is no fork (Windows), a worker thread does what it can.
    """
    import pickle
    import select
    import signal
    import time

    timeout = check_timeout(timeout)
    if not hasattr(os, "fork"):
        return run_with_timeout(lambda _cancel: work(), timeout, what, started)
    deadline = (time.monotonic() if started is None else started) + timeout
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running the parent's exit handlers
        code = 0
        try:
            os.close(read_end)
            try:
                payload = ("ok", work())
            except CarnkError as e:
                payload = ("error", type(e), str(e))
            except BaseException as e:  # a bug: reported by the parent as one
                payload = ("bug", type(e).__name__, " ".join(str(e).split()))
            with os.fdopen(write_end, "wb") as out:
                out.write(pickle.dumps(payload))
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise _timed_out(what, timeout)
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        import contextlib

        with contextlib.suppress(ChildProcessError, InterruptedError):
            os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError(f"{what}: the query process ended without an answer")
    payload = pickle.loads(b"".join(chunks))
    if payload[0] == "ok":
        return payload[1]
    if payload[0] == "error":
        raise payload[1](payload[2])
    raise RuntimeError(f"{payload[1]}: {payload[2]}")
