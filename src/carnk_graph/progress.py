"""A tiny progress bar for long operations, drawn only on a terminal.

Build at scale, loading a big file and validating big user data take seconds
to minutes; on a terminal the user should see that something is moving. When
the output is not a terminal (a pipe, a log file, CI), nothing is drawn at all,
so logs stay clean and machine-readable. Redraws are throttled (10 per second
by default) so that a tight loop calling `update()` a million times costs
almost nothing. No dependencies: this module imports only the standard library.

    with Progress("parse", total=size, unit="B") as bar:
        for chunk in chunks:
            bar.update(len(chunk))

    for quad in track(quads, "load", total=n):
        ...

    with open(path, "rb") as raw:                 # progress by bytes read,
        ox.parse(ProgressReader(raw, "parse"), ...)  # for parsers that read a file object
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import time
from typing import IO, Iterable, Iterator, TypeVar

T = TypeVar("T")

#: Set to 0 to never draw, 1 to draw even when the stream is not a terminal (for trying it out).
ENV_SWITCH = "CARNK_PROGRESS"


def wants_progress(stream: IO[str] | None = None) -> bool:
    """True when a bar should be drawn on `stream` (default stderr): a terminal that is not dumb,
    unless CARNK_PROGRESS says otherwise."""
    forced = os.environ.get(ENV_SWITCH)
    if forced is not None and forced.strip() in ("0", "1"):
        return forced.strip() == "1"
    stream = stream if stream is not None else sys.stderr
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or fake streams
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def _human(n: float, unit: str) -> str:
    """1234567 B -> '1.2 MB'; 1234567 (no unit) -> '1.2M'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{' ' if unit else ''}{suffix}{unit}"
    return f"{n:.0f}{' ' + unit if unit else ''}"


class Progress:
    """A throttled one-line progress display on stderr (or `stream`); silent off a terminal.

    `total` may be None when the amount of work is unknown: the line then shows a count and
    the elapsed time instead of a bar.
    """

    def __init__(self, label: str, total: float | None = None, *, unit: str = "",
                 stream: IO[str] | None = None, enabled: bool | None = None,
                 min_interval: float = 0.1) -> None:
        self.label = label
        self.total = total if total and total > 0 else None
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wants_progress(self.stream) if enabled is None else enabled
        self.min_interval = min_interval
        self.done: float = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False
        self._closed = False

    # -- public -------------------------------------------------------------------------------------

    def update(self, n: float = 1) -> None:
        """Count `n` more units of work; redraw at most every `min_interval` seconds."""
        self.done += n
        if self.enabled:
            now = time.monotonic()
            if now - self._last_draw >= self.min_interval:
                self._draw(now)

    def set(self, done: float) -> None:
        """Set the absolute amount of work done."""
        self.update(done - self.done)

    def close(self) -> None:
        """Draw the final state and end the line (only if anything was drawn)."""
        if self._closed:
            return
        self._closed = True
        if self.enabled and self._drawn:
            self._draw(time.monotonic())
            self._write("\n")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- drawing ------------------------------------------------------------------------------------

    def text(self, now: float | None = None) -> str:
        """The line as it would be drawn now (also used by tests)."""
        elapsed = (now if now is not None else time.monotonic()) - self.started
        width = shutil.get_terminal_size((80, 20)).columns
        if self.total is None:
            return f"{self.label} {_human(self.done, self.unit)} {elapsed:.1f}s"[: width - 1]
        frac = min(max(self.done / self.total, 0.0), 1.0)
        tail = f" {frac * 100:3.0f}% {_human(self.done, self.unit)}/{_human(self.total, self.unit)} {elapsed:.1f}s"
        if 0 < frac < 1 and elapsed > 1:
            tail += f" (eta {elapsed * (1 - frac) / frac:.0f}s)"
        bar_width = max(10, min(40, width - len(self.label) - len(tail) - 4))
        filled = int(frac * bar_width)
        return f"{self.label} [{'#' * filled}{'.' * (bar_width - filled)}]{tail}"[: width - 1]

    def _draw(self, now: float) -> None:
        self._last_draw = now
        self._drawn = True
        self._write("\r" + self.text(now) + "\x1b[K")

    def _write(self, s: str) -> None:
        try:
            self.stream.write(s)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: stop drawing, never fail the work
            self.enabled = False


def track(items: Iterable[T], label: str, total: float | None = None, **kwargs) -> Iterator[T]:
    """Yield `items`, counting each one on a progress line."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(label, total, **kwargs) as bar:
        for item in items:
            yield item
            bar.update(1)


class ProgressReader(io.RawIOBase):
    """A read-only binary file wrapper that reports bytes read on a progress line.

    Hand it to a parser that accepts a file object (pyoxigraph.parse, Store.bulk_load) to show
    how far through a big file the parser is, at no cost off a terminal.
    """

    def __init__(self, raw: IO[bytes], label: str, total: int | None = None, **kwargs) -> None:
        super().__init__()
        self._raw = raw
        if total is None:
            try:
                total = os.fstat(raw.fileno()).st_size
            except (AttributeError, OSError, io.UnsupportedOperation):
                total = None
        self.bar = Progress(label, total, unit="B", **kwargs)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bar.update(n)
        return n

    def close(self) -> None:
        self.bar.close()
        super().close()
