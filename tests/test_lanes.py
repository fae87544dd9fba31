"""The two test lanes are honest: a test not marked slow cannot start a server, a browser or the JVM.

tests/conftest.py wraps subprocess.Popen for the whole run: a heavy program (java, oxigraph,
virtuoso-t, chromium, chromedriver, found by the real path of the executable) started by a test that
is not marked slow fails that test, even when the code under test catches the error. These tests
drive the guard directly, with a stand-in for the running test.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import conftest
from conftest import SlowLaneViolation, check_start, heavy_program, heavy_programs_allowed
from lanes import few_fast, first_with_each, representative_shapes


class FakeItem:
    """Just what the guard reads of a pytest item."""

    def __init__(self, slow: bool) -> None:
        self.nodeid = "tests/test_example.py::test_example"
        self.slow = slow

    def get_closest_marker(self, name: str):
        return object() if name == "slow" and self.slow else None


@pytest.fixture
def a_heavy_program(tmp_path, monkeypatch) -> Path:
    """An executable the guard treats as a real heavy program (as if it were the machine's java)."""
    exe = tmp_path / "bin" / "java"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setattr(conftest._Lane, "programs", {os.path.realpath(exe): "java"})
    return exe


@pytest.fixture
def running(monkeypatch):
    """Pretend a given test is running, and forget what the guard records about it."""
    def run(slow: bool) -> FakeItem:
        item = FakeItem(slow)
        monkeypatch.setattr(conftest._Lane, "item", item)
        monkeypatch.setattr(conftest._Lane, "violations", {})
        return item
    return run


def test_a_fast_test_starting_a_heavy_program_is_refused_and_recorded(a_heavy_program, running):
    item = running(slow=False)
    with pytest.raises(SlowLaneViolation, match="starts java .* not marked slow"):
        check_start([str(a_heavy_program), "-version"])
    assert item.nodeid in conftest._Lane.violations


def test_the_program_is_found_by_its_name_on_the_path_too(a_heavy_program, running, monkeypatch):
    monkeypatch.setenv("PATH", f"{a_heavy_program.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    running(slow=False)
    with pytest.raises(SlowLaneViolation):
        check_start(["java", "-jar", "HermiT.jar"])
    with pytest.raises(SlowLaneViolation):
        check_start("true", executable=str(a_heavy_program))


def test_a_slow_test_may_start_one(a_heavy_program, running):
    running(slow=True)
    check_start([str(a_heavy_program)])
    assert conftest._Lane.violations == {}


def test_the_shared_session_build_may_start_one(a_heavy_program, running):
    running(slow=False)
    with heavy_programs_allowed():
        check_start([str(a_heavy_program)])
    assert conftest._Lane.violations == {}
    with pytest.raises(SlowLaneViolation):
        check_start([str(a_heavy_program)])


def test_a_fake_java_in_a_temporary_folder_is_not_a_heavy_program(a_heavy_program, tmp_path):
    fake = tmp_path / "elsewhere" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    assert heavy_program([str(fake)]) is None
    assert heavy_program([sys.executable, "-c", "pass"]) is None
    assert heavy_program([str(a_heavy_program)]) == "java"


def test_the_guard_is_installed_for_this_run():
    import subprocess

    assert subprocess.Popen.__init__ is conftest._guarded_popen_init


def test_tests_using_a_server_fixture_are_marked_slow(request):
    """The collection hook marks them; this run's own items show it."""
    items = [i for i in request.session.items if conftest.SLOW_FIXTURES & set(getattr(i, "fixturenames", ()))]
    assert all(i.get_closest_marker("slow") for i in items)


def test_few_fast_keeps_the_picked_values_in_the_fast_lane_and_every_id():
    params = few_fast(["a", "b", "c"], lambda v: v == "b", ids=str.upper)
    assert [p.id for p in params] == ["A", "B", "C"]
    assert [bool(p.marks) for p in params] == [True, False, True]


def test_first_with_each_picks_the_first_item_having_each_feature():
    """A feature no item has picks nothing; an item with two features is picked once."""
    features = {"even": lambda n: n % 2 == 0, "over 4": lambda n: n > 4, "negative": lambda n: n < 0}
    assert first_with_each([1, 2, 7, 4], features) == {2, 7}
    assert first_with_each([3, 6, 4, 5, 8], features) == {6}


def test_the_representative_shapes_have_fixtures_and_are_a_minority():
    shapes = representative_shapes()
    fixtures = Path(__file__).parent / "data" / "shapes"
    assert shapes and all((fixtures / name / "valid.ttl").is_file() for name in shapes)
    assert len(shapes) < len([d for d in fixtures.iterdir() if d.is_dir()]) / 2
