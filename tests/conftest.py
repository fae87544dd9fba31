"""Session fixtures (the real project, built once into a temporary dist/) and the guard that keeps
the fast lane (`pytest -m "not slow"`) free of servers and JVMs (see tests/lanes.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The shipped graph built once (with the default reasoner) into a temporary dist/.

    The one JVM start the fast lane allows: every test that needs the built graph shares this build."""
    from carnk_graph.build import build

    with heavy_programs_allowed():
        return build(PROJECT_ROOT, tmp_path_factory.mktemp("built") / "dist")


@pytest.fixture(scope="session")
def release_graphs(built):
    """The built release's named graphs as rdflib Graphs, keyed ontology / kg / inferred."""
    from carnk_graph.release import read_release_graphs

    return read_release_graphs(built.dist)


#: Fixtures that start a server process (oxigraph serve, virtuoso-t): a test using one is slow.
SERVER_FIXTURES = {"store", "oxigraph_store", "virtuoso_store", "loaded"}
#: Fixtures that run a whole program over the release (benchmarks/run.py, the examples): slow too.
SLOW_FIXTURES = SERVER_FIXTURES | {"smoke"}

#: Programs that are a server, a browser or a JVM. A test that is not marked slow and starts one
#: (directly, or through the code it calls) fails, naming the program.
HEAVY_PROGRAMS = ("java", "oxigraph", "virtuoso-t", "chromium", "chromium-browser", "chromedriver")


class SlowLaneViolation(BaseException):
    """Raised where a fast test would start a heavy program (a BaseException, so that no product
    code's `except Exception` can turn it into an ordinary error message)."""


class _Lane:
    """Which test is running, whether it is slow, and whether a heavy start is allowed right now."""
    item: pytest.Item | None = None
    allowed: int = 0
    programs: dict[str, str] = {}
    violations: dict[str, list[str]] = {}


def heavy_program(args, executable=None) -> str | None:
    """The heavy program a Popen call would start (by the real path of its executable), else None."""
    if executable is None:
        if isinstance(args, (str, bytes, os.PathLike)):
            executable = args
        elif args:
            executable = args[0]
        else:
            return None
    executable = os.fsdecode(executable).split()[0] if isinstance(executable, (str, bytes)) else os.fspath(executable)
    found = executable if os.sep in executable else shutil.which(executable)
    return _Lane.programs.get(os.path.realpath(found)) if found else None


def real_heavy_programs() -> dict[str, str]:
    """Real path -> name of each heavy program on this machine (a test's fake `java` script is not one)."""
    out = {}
    candidates = [(name, shutil.which(name)) for name in HEAVY_PROGRAMS]
    try:
        from carnk_graph.hermit import find_java
        candidates.append(("java", find_java()))
    except Exception:  # the guard must never stop the suite from starting
        pass
    for name, path in candidates:
        if path:
            out[os.path.realpath(path)] = name
    return out


@contextmanager
def heavy_programs_allowed() -> Iterator[None]:
    """Within this block a fast test may start a heavy program (the one shared build of `built`)."""
    _Lane.allowed += 1
    try:
        yield
    finally:
        _Lane.allowed -= 1


def check_start(args, executable=None) -> None:
    """Refuse (and record) the start of a heavy program by a test that is not marked slow."""
    item = _Lane.item
    if item is None or _Lane.allowed or item.get_closest_marker("slow") is not None:
        return
    name = heavy_program(args, executable)
    if name is None:
        return
    message = (f"{item.nodeid} starts {name} (a server, browser or JVM) but is not marked slow: "
               f"add @pytest.mark.slow (or share the session's `built` fixture) so that "
               f'`pytest -m "not slow"` stays fast')
    _Lane.violations.setdefault(item.nodeid, []).append(message)
    raise SlowLaneViolation(message)


_popen_init = subprocess.Popen.__init__


def _guarded_popen_init(self, args, *rest, **kwargs):
    check_start(args, kwargs.get("executable"))
    _popen_init(self, args, *rest, **kwargs)


def pytest_configure(config):
    _Lane.programs = real_heavy_programs()
    subprocess.Popen.__init__ = _guarded_popen_init


def pytest_unconfigure(config):
    subprocess.Popen.__init__ = _popen_init


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _Lane.item = item
    try:
        yield
    finally:
        _Lane.item = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A heavy start that the code under test swallowed still fails the test."""
    outcome = yield
    report = outcome.get_result()
    found = _Lane.violations.pop(item.nodeid, None)
    if found and report.outcome != "skipped":
        report.outcome = "failed"
        report.longrepr = "\n".join(found)


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses a real store (or a whole-program run) `slow`, so `pytest -m "not slow"`
    starts no server."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
