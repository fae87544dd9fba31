"""The build line: what `carnk-graph build` writes, when it rebuilds, and what a failure keeps."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from carnk_graph.cli import main
from carnk_graph.release import FORMATS

from spine_helpers import MINIMAL, copy_project, release_snapshot

RELEASE_FILES = sorted([*FORMATS.values(), "report.ttl", "report.txt", "build.json"])


@pytest.fixture
def project(tmp_path):
    return copy_project(MINIMAL, tmp_path / "project")


def build_args(project, *extra):
    return ["build", "--root", str(project), "--dist", str(project / "dist"), "--no-reason", *extra]


def test_build_writes_every_release_file_and_the_store(project):
    assert main(build_args(project)) == 0
    names = {p.name for p in (project / "dist").iterdir()}
    assert set(RELEASE_FILES) <= names
    assert (project / "dist" / "store").is_dir()


def test_build_prints_triples_per_graph_and_time_per_stage(project, capsys):
    main(build_args(project))
    out = capsys.readouterr().out
    assert "triples: ontology 24, kg 7, inferred 0" in out
    assert "shapes 2" in out and "0 violations" in out
    for stage in ("load", "reason", "validate", "serialise", "write"):
        assert f"{stage} " in out


def test_the_reasoner_stage_says_it_is_working_before_it_starts(project):
    """On a terminal the slowest stage must not look like a hang: a line comes before it, one after."""
    from carnk_graph.build import build

    said: list[str] = []
    build(project, project / "dist", reasoner="owlrl", progress=said.append)
    start = next(i for i, m in enumerate(said) if m.startswith("reasoning (--reasoner owlrl)"))
    done = next(i for i, m in enumerate(said) if m.startswith("reason done"))
    assert start < done


def test_unchanged_sources_are_not_rebuilt(project, capsys):
    main(build_args(project))
    before = {p.name: p.stat().st_mtime_ns for p in (project / "dist").iterdir()}
    capsys.readouterr()
    assert main(build_args(project)) == 0
    assert "up to date" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in (project / "dist").iterdir()} == before


def test_a_changed_source_byte_triggers_a_rebuild(project, capsys):
    main(build_args(project))
    kg = project / "ontology" / "kg" / "cells.ttl"
    kg.write_text(kg.read_text() + "\n# a comment changes the content hash\n")
    capsys.readouterr()
    main(build_args(project))
    assert "up to date" not in capsys.readouterr().out


def test_a_touched_but_unchanged_source_is_not_rebuilt(project, capsys):
    main(build_args(project))
    os.utime(project / "ontology" / "carnk.ttl")
    capsys.readouterr()
    main(build_args(project))
    assert "up to date" in capsys.readouterr().out


def test_a_violation_writes_the_report_but_keeps_the_previous_release(project, capsys):
    assert main(build_args(project)) == 0
    dist = project / "dist"
    before = release_snapshot(dist)
    (project / "ontology" / "kg" / "bad.ttl").write_text(
        "@prefix carnk: <https://w3id.org/carnk/> .\n<https://w3id.org/carnk/kg/unlabelled> a carnk:Cell .\n")
    assert main(build_args(project)) == 1
    err = capsys.readouterr().err
    assert "does not conform" in err and "A cell needs a label." in err
    after = release_snapshot(dist)
    for name in [*FORMATS.values(), "build.json"]:
        assert after[name] == before[name], name
    assert "carnkkg:unlabelled" in after["report.txt"].decode()
    assert after["report.txt"] != before["report.txt"]


def test_a_syntax_error_names_file_and_line_and_keeps_dist(project, capsys):
    main(build_args(project))
    before = release_snapshot(project / "dist")
    bad = project / "ontology" / "kg" / "broken.ttl"
    bad.write_text("@prefix carnk: <https://w3id.org/carnk/> .\n\ncarnk:a carnk:b carnk:c ;\n  carnk:d <not an iri> .\n")
    assert main(build_args(project)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{bad}:4:" in err[0]
    assert release_snapshot(project / "dist") == before


def test_a_failure_while_writing_leaves_the_previous_release_intact(project, monkeypatch):
    main(build_args(project))
    dist = project / "dist"
    before = release_snapshot(dist)
    (project / "ontology" / "kg" / "more.ttl").write_text(
        '@prefix carnk: <https://w3id.org/carnk/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
        '<https://w3id.org/carnk/kg/nk-2> a carnk:NKCell ; rdfs:label "second" .\n')
    import carnk_graph.atomic as atomic

    real_fdopen, calls = os.fdopen, []

    def failing_fdopen(fd, *a, **k):
        calls.append(fd)
        if len(calls) == 4:  # the fourth file of the release: a disk that fills up mid-write
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real_fdopen(fd, *a, **k)

    monkeypatch.setattr(atomic.os, "fdopen", failing_fdopen)
    assert main(build_args(project)) == 2
    assert release_snapshot(dist) == before
    assert not [p for p in dist.iterdir() if p.name.endswith(".tmp")]


def test_output_directory_that_cannot_be_created_is_a_one_line_error(project, capsys):
    blocker = project / "blocker"
    blocker.write_text("a file where the output folder should be")
    assert main(["build", "--root", str(project), "--dist", str(blocker / "dist"), "--no-reason"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create output directory" in err[0]


def test_builds_under_different_hash_seeds_are_byte_identical(project, tmp_path):
    snapshots = []
    for seed in ("0", "4242"):
        dist = tmp_path / f"dist-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "carnk_graph", "build", "--root", str(project), "--dist", str(dist),
                        "--no-reason", "-q"], check=True, env=env, capture_output=True)
        snapshots.append(release_snapshot(dist))
    assert snapshots[0] == snapshots[1]
