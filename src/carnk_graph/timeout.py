"""One wall-clock deadline for a whole query: check, parse and run, on either engine.

pyoxigraph releases the GIL while it evaluates, and its evaluation is lazy
(one `next()` can be a whole aggregate in Rust), so the caller's thread cannot
wait inside the iteration; it waits on a worker thread instead. The worker
stops at its next row (the event) or its next Python bytecode (an asynchronous
exception, which is what stops rdflib); a Rust step already running finishes
in the background of a daemon thread, and the CLI process exits without
waiting for it. rdflib's REGEX runs Python's `re` in C, which no bytecode
boundary interrupts: the caller still returns at the deadline, and the CLI
exits (os._exit) without waiting for the worker.
"""
from __future__ import annotations

import math
import threading
from typing import Callable, TypeVar

from .errors import BadInputError, QueryTimeoutError

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0


class Cancelled(BaseException):
    """Raised inside a worker thread whose query ran past its time limit."""


def check_timeout(timeout: float) -> float:
    """A usable --timeout: a positive number of seconds (inf allowed: no limit); NaN, 0 and below refused."""
    if not isinstance(timeout, (int, float)) or math.isnan(timeout) or timeout <= 0:
        raise BadInputError(f"--timeout must be a positive number of seconds, not {timeout}")
    return float(timeout)


def run_with_timeout(work: Callable[[threading.Event], T], timeout: float, what: str,
                     started: float | None = None) -> T:
    """Run `work` in a daemon thread; `timeout` seconds after `started` (time.monotonic(); default
    now) raise QueryTimeoutError here: the limit covers the whole operation, not just this step."""
    import time

    timeout = check_timeout(timeout)
    left = timeout if started is None else timeout - (time.monotonic() - started)
    box: dict = {}
    cancel = threading.Event()

    def target() -> None:
        try:
            box["result"] = work(cancel)
        except Cancelled:
            pass
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=target, name="carnk-query", daemon=True)
    worker.start()
    worker.join(None if timeout == math.inf else max(left, 0.0))
    if worker.is_alive():
        cancel.set()
        _interrupt(worker)
        raise QueryTimeoutError(f"{what}: stopped after {timeout:g} s (--timeout {timeout:g}); "
                                "narrow the query or raise --timeout")
    if "error" in box:
        raise box["error"]
    return box["result"]


def _interrupt(thread: threading.Thread) -> None:
    """Raise Cancelled in `thread` at its next Python bytecode."""
    import ctypes

    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(Cancelled))
