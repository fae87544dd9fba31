"""The release switch: dist/ always shows exactly one complete release, whatever stops a build.

A build writes its release into a folder of its own (dist/.releases/<id>/) and makes it current
by replacing one directory entry (dist/.current); dist/carnk.ttl and the other names are stable
links through it. These tests stop builds at every step (injected failures) and at random
moments (SIGKILL), and check that a reader then sees the old release or the new one, byte for
byte, never a mix, and that the next build clears what the stopped one left.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carnk_graph.api import ensure_built
from carnk_graph.build import build
from carnk_graph.layout import CURRENT, FORMATS, RELEASES_DIR, STAMP, STORE_DIR, Release, is_current, is_fresh
from carnk_graph.project import find_project

from spine_helpers import MINIMAL, copy_project

EXTRA = ('@prefix carnk: <https://w3id.org/carnk/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
         '<https://w3id.org/carnk/kg/nk-{n}> a carnk:NKCell ; rdfs:label "cell {n}" .\n')


def visible(dist: Path) -> dict[str, object]:
    """What a reader sees in dist/: each release file's bytes through its name, and the store's size."""
    import pyoxigraph as ox

    seen: dict[str, object] = {}
    for p in sorted(dist.iterdir()):
        if p.name.startswith(".") or p.name == "docs":
            continue
        if p.name == STORE_DIR:
            store = ox.Store.read_only(str(p))
            seen[STORE_DIR] = len(store)
            del store
        else:
            seen[p.name] = p.read_bytes()
    return seen


def leftovers(dist: Path) -> list[str]:
    """Entries a finished build must not leave: other release folders, temporaries."""
    extra = [p.name for p in dist.iterdir() if p.name.startswith(".") and p.name != CURRENT and p.name != RELEASES_DIR]
    extra += [f"{RELEASES_DIR}/{p.name}" for p in (dist / RELEASES_DIR).iterdir()
              if p != Release(dist).current_folder()]
    return extra


@pytest.fixture
def project(tmp_path):
    return copy_project(MINIMAL, tmp_path / "project")


@pytest.fixture
def no_java(monkeypatch, tmp_path):
    """ensure_built rebuilds with the default reasoner; without Java that is OWL 2 RL, no JVM (fast lane)."""
    monkeypatch.setenv("CARNK_JAVA", str(tmp_path / "no-java-here" / "java"))


@pytest.fixture
def two_releases(project, tmp_path):
    """The project built as release A into dist/, and what release B (one more cell) looks like."""
    dist = project / "dist"
    build(project, dist, no_reason=True)
    a = visible(dist)
    (project / "ontology" / "kg" / "more.ttl").write_text(EXTRA.format(n=2))
    reference = tmp_path / "reference-b"
    build(project, reference, no_reason=True)
    b = visible(reference)
    assert a != b and set(a) == set(b)
    return dist, a, b


def test_every_release_name_is_a_stable_link_through_the_one_switch(project):
    dist = project / "dist"
    build(project, dist, no_reason=True)
    names = [*FORMATS.values(), STAMP, STORE_DIR, "report.ttl", "report.txt"]
    links = {n: os.lstat(dist / n).st_ino for n in names}
    for n in names:
        assert os.readlink(dist / n) == f"{CURRENT}/{n}"
    first = Release(dist).current_folder()
    (project / "ontology" / "kg" / "more.ttl").write_text(EXTRA.format(n=2))
    build(project, dist, no_reason=True)
    assert Release(dist).current_folder() != first and not first.exists()
    assert {n: os.lstat(dist / n).st_ino for n in names} == links  # only .current was replaced
    assert leftovers(dist) == []


@pytest.mark.slow  # one build per file-system call of the write stage
def test_a_failure_at_any_step_of_writing_leaves_one_complete_release(two_releases, project, monkeypatch):
    """Fail the n-th file-system call of the write stage, for every n until a build gets through."""
    dist, a, b = two_releases
    calls = {"n": 0, "fail_at": 0}
    real = {name: getattr(os, name) for name in ("replace", "symlink", "fsync", "mkdir", "open", "rename")}

    def failing(name):
        def call(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == calls["fail_at"]:
                raise OSError(28, f"No space left on device (injected in os.{name})")
            return real[name](*args, **kwargs)
        return call

    def attempt(fail_at: int) -> bool:
        calls.update(n=0, fail_at=fail_at)
        with monkeypatch.context() as m:
            for name in real:
                m.setattr(os, name, failing(name))
            try:
                build(project, dist, no_reason=True, force=True)
                return True
            except Exception:
                return False

    more = project / "ontology" / "kg" / "more.ttl"
    assert attempt(0)  # counts the calls of a build that goes through
    total = calls["n"]
    outcomes = set()
    for fail_at in range(1, total + 1):
        more.unlink()  # back to release A, so that every round can switch to B
        build(project, dist, no_reason=True, force=True)
        assert visible(dist) == a
        more.write_text(EXTRA.format(n=2))
        attempt(fail_at)
        now = visible(dist)
        assert now in (a, b), f"mixed release after a failure at call {fail_at} of {total}"
        outcomes.add("b" if now == b else "a")
    assert total > 20 and outcomes == {"a", "b"}
    build(project, dist, no_reason=True, force=True)
    assert leftovers(dist) == []


def test_the_next_build_clears_what_a_killed_build_left(project):
    dist = project / "dist"
    build(project, dist, no_reason=True)
    (dist / RELEASES_DIR / "20260101T000000-000000001-99999").mkdir()
    (dist / RELEASES_DIR / "20260101T000000-000000001-99999" / "carnk.ttl").write_text("half")
    (dist / ".carnk.ttl.abc.tmp").write_text("half")
    (dist / ".store.new-4242").mkdir()
    os.symlink("nowhere", dist / ".link.tmp-4242-carnk.nt")
    (project / "ontology" / "kg" / "more.ttl").write_text(EXTRA.format(n=2))
    build(project, dist, no_reason=True)
    assert leftovers(dist) == []


def test_a_dist_written_by_the_older_layout_becomes_links(project):
    """Plain files and a plain store folder (releases before 0.1.1) are replaced by the links."""
    dist = project / "dist"
    build(project, dist, no_reason=True)
    old = visible(dist)
    real = project / "old-dist"
    real.mkdir()
    import shutil
    for p in dist.iterdir():
        if not p.name.startswith("."):
            (shutil.copytree if p.is_dir() else shutil.copyfile)(p.resolve(), real / p.name)
    shutil.rmtree(dist)
    real.rename(dist)
    assert not (dist / "carnk.ttl").is_symlink()
    build(project, dist, no_reason=True, force=True)
    assert (dist / "carnk.ttl").is_symlink() and (dist / STORE_DIR).is_symlink()
    assert visible(dist) == old
    assert leftovers(dist) == []


def test_freshness_is_decided_from_sizes_and_mtimes_without_reading_the_release(project):
    """A cold query trusts the sizes and mtimes recorded at build time; `build` compares digests."""
    dist = project / "dist"
    build(project, dist, no_reason=True)
    paths = find_project(project)
    ttl = (dist / "carnk.ttl").resolve()
    st = ttl.stat()
    data = ttl.read_bytes()
    ttl.write_bytes(data.replace(b"a", b"b"))  # same size: only a digest can tell
    os.utime(ttl, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert is_fresh(paths, dist)
    assert not is_current(paths, dist)


def test_a_release_file_edited_in_place_means_a_rebuild(project, no_java):
    dist = project / "dist"
    build(project, dist, no_reason=True)
    paths = find_project(project)
    with open(dist / "carnk.nt", "ab") as fh:
        fh.write(b"# edited\n")
    assert not is_fresh(paths, dist)
    release = ensure_built(project, dist)
    assert is_fresh(paths, dist) and release.file("nt").read_bytes() == release.file("nt").read_bytes()


def test_a_touched_source_is_still_fresh_and_an_edited_one_is_not(project):
    dist = project / "dist"
    build(project, dist, no_reason=True)
    paths = find_project(project)
    os.utime(paths.ontology)
    assert is_fresh(paths, dist)
    with open(paths.kg[0], "a") as fh:
        fh.write("\n# a comment\n")
    assert not is_fresh(paths, dist)


def test_ensure_built_returns_the_release_value_with_its_file_names(project, no_java):
    release = ensure_built(project, project / "dist")
    assert release.dist == project / "dist" and release.paths.root == project.resolve()
    assert release.file("ttl") == project / "dist" / "carnk.ttl"
    assert release.nquads.is_file() and release.store.is_dir() and release.stamp()["sources_hash"]


@pytest.mark.slow
def test_a_build_killed_at_any_moment_leaves_one_complete_release(two_releases, project):
    """SIGKILL a `carnk-graph build` at spread-out moments: each time, release A or B, never a mix;
    then a build finishes and leaves nothing behind."""
    dist, a, b = two_releases
    cmd = [sys.executable, "-m", "carnk_graph", "build", "--root", str(project), "--dist", str(dist),
           "--no-reason", "--force", "-q"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    full = time.perf_counter() - start
    outcomes = []
    for i in range(16):
        delay = full * (0.3 + 0.75 * i / 15)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = visible(dist)
        assert now in (a, b), f"mixed release after a kill at {delay:.2f}s"
        outcomes.append("b" if now == b else "a")
        if now == b:  # back to A so that the next kill can catch the switch again
            (project / "ontology" / "kg" / "more.ttl").unlink()
            subprocess.run(cmd, check=True, capture_output=True)
            (project / "ontology" / "kg" / "more.ttl").write_text(EXTRA.format(n=2))
    assert "a" in outcomes and "b" in outcomes, outcomes  # the kills caught both sides of the switch
    subprocess.run(cmd, check=True, capture_output=True)
    assert visible(dist) == b and leftovers(dist) == []


def test_two_builds_of_the_same_sources_publish_once(project, monkeypatch):
    """A build that waited for the lock while another published the same release keeps that one
    (two cold queries after one edit), unless --force; an edited release file is still rebuilt."""
    dist = project / "dist"
    build(project, dist, no_reason=True)
    first = Release(dist).current_folder()
    import carnk_graph.build as b

    monkeypatch.setattr(b, "is_current", lambda *a, **k: False)  # as if it had looked before the other finished
    build(project, dist, no_reason=True)
    assert Release(dist).current_folder() == first
    with open(dist / "carnk.nt", "ab") as fh:
        fh.write(b"# edited by hand\n")
    build(project, dist, no_reason=True)
    assert Release(dist).current_folder() != first and b"edited" not in (dist / "carnk.nt").read_bytes()
    second = Release(dist).current_folder()
    build(project, dist, no_reason=True, force=True)
    assert Release(dist).current_folder() != second
