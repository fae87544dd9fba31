"""The progress bar: drawn on a terminal, silent otherwise, cheap to update, never in the way."""
from __future__ import annotations

import io

import pytest

from carnk_graph.progress import Progress, ProgressReader, track, wants_progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_switch(monkeypatch):
    monkeypatch.delenv("CARNK_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal():
    out = io.StringIO()
    with Progress("load", total=10, stream=out) as bar:
        for _ in range(10):
            bar.update()
    assert out.getvalue() == ""


def test_a_terminal_gets_a_bar_that_ends_with_a_newline():
    out = FakeTTY()
    with Progress("load", total=4, stream=out, min_interval=0) as bar:
        for _ in range(4):
            bar.update()
    text = out.getvalue()
    assert "\r" in text and text.endswith("\n") and "100%" in text.rsplit("\r", 1)[-1]


def test_redraws_are_throttled():
    out = FakeTTY()
    with Progress("load", total=100_000, stream=out, min_interval=3600) as bar:
        for _ in range(100_000):
            bar.update()
    assert out.getvalue().count("\r") <= 2  # the first draw and the final one


def test_a_dumb_terminal_gets_nothing(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_progress(FakeTTY())


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True)])
def test_the_environment_switch_overrides_the_terminal_check(monkeypatch, value, expected):
    monkeypatch.setenv("CARNK_PROGRESS", value)
    assert wants_progress(FakeTTY()) is expected and wants_progress(io.StringIO()) is expected


def test_unknown_totals_show_a_count_instead_of_a_bar():
    bar = Progress("parse", total=None, enabled=False)
    bar.update(1500)
    assert bar.text().startswith("parse 1.5k ")


def test_track_yields_every_item_unchanged():
    assert list(track(range(5), "x", stream=FakeTTY(), min_interval=0)) == [0, 1, 2, 3, 4]


def test_the_reader_passes_bytes_through_and_counts_them():
    raw = io.BytesIO(b"x" * 10_000)
    reader = ProgressReader(raw, "read", total=10_000, enabled=False)
    assert reader.read() == b"x" * 10_000 and reader.bar.done == 10_000


def test_a_closed_terminal_stops_the_bar_without_failing_the_work():
    out = FakeTTY()
    bar = Progress("load", total=2, stream=out, min_interval=0)
    out.close()
    bar.update()
    bar.close()
    assert bar.enabled is False
