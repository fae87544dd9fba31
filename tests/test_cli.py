"""The command line: export, stats, validate, and the installed command itself."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from carnk_graph.cli import main

from spine_helpers import MINIMAL, copy_project


@pytest.fixture
def project(tmp_path):
    p = copy_project(MINIMAL, tmp_path / "project")
    assert main(["build", "--root", str(p), "--dist", str(p / "dist"), "--no-reason", "-q"]) == 0
    return p


def run(project, *args):
    return main([*args, "--root", str(project), "--dist", str(project / "dist")])


def test_export_to_stdout_is_the_release_file(project, capsysbinary):
    assert run(project, "export", "--format", "nt") == 0
    assert capsysbinary.readouterr().out == (project / "dist" / "carnk.nt").read_bytes()


def test_export_to_a_file_writes_that_file(project, tmp_path):
    out = tmp_path / "out.ttl"
    assert run(project, "export", "--format", "ttl", "-o", str(out)) == 0
    assert out.read_bytes() == (project / "dist" / "carnk.ttl").read_bytes()


def test_export_of_one_graph_holds_only_that_graph(project, tmp_path):
    out = tmp_path / "kg.nt"
    assert run(project, "export", "--format", "nt", "--graph", "kg", "-o", str(out)) == 0
    kg = Graph().parse(out, format="nt")
    source = Graph().parse(MINIMAL / "ontology" / "kg" / "cells.ttl")
    assert isomorphic(kg, source)


def test_export_rejects_an_unknown_format(project, capsys):
    assert run(project, "export", "--format", "xlsx") == 2
    assert "invalid choice" in capsys.readouterr().err


def test_stats_prints_counts_per_graph(project, capsys):
    assert run(project, "stats") == 0
    out = capsys.readouterr().out
    assert "triples: ontology 24, kg 7, inferred 0 (total 31)" in out


def test_validate_a_curators_file_prints_one_line_per_violation(project, tmp_path, capsys):
    f = tmp_path / "mine.ttl"
    f.write_text("@prefix carnk: <https://w3id.org/carnk/> .\n"
                 "<https://w3id.org/carnk/kg/a> a carnk:Cell .\n<https://w3id.org/carnk/kg/b> a carnk:NKCell .\n")
    assert run(project, "validate", str(f)) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all("rdfs:label" in line and "A cell needs a label." in line and "carnksh:CellShape-label" in line
               for line in lines)
    assert "carnkkg:a" in lines[0] and "carnkkg:b" in lines[1]


def test_validate_a_conforming_file_exits_zero(project, tmp_path):
    f = tmp_path / "mine.ttl"
    f.write_text('@prefix carnk: <https://w3id.org/carnk/> .\n'
                 '<https://w3id.org/carnk/kg/a> a carnk:Cell ; <http://www.w3.org/2000/01/rdf-schema#label> "a" .\n')
    assert run(project, "validate", str(f)) == 0


def test_validate_without_files_checks_the_built_graph(project):
    assert run(project, "validate") == 0


def test_validate_a_file_with_a_syntax_error_names_file_and_line(project, tmp_path, capsys):
    f = tmp_path / "mine.ttl"
    f.write_text("@prefix carnk: <https://w3id.org/carnk/> .\ncarnk:a carnk:b .\n")
    assert run(project, "validate", str(f)) == 2
    assert f"{f}:2:" in capsys.readouterr().err


def test_no_command_is_one_line_naming_help_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "no command" in err[0] and "carnk-graph --help" in err[0]


def test_the_installed_command_runs_end_to_end(tmp_path):
    exe = shutil.which("carnk-graph")
    assert exe, "carnk-graph is not on PATH: install the package (pip install -e '.[test]')"
    project = copy_project(MINIMAL, tmp_path / "project")
    done = subprocess.run([exe, "build", "--root", str(project), "--dist", str(tmp_path / "d"), "--no-reason"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "triples: ontology 24" in done.stdout
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == "carnk-graph 0.1.0"


def _unlabelled_cells(tmp_path):
    f = tmp_path / "mine.ttl"
    f.write_text("@prefix carnk: <https://w3id.org/carnk/> .\n"
                 "<https://w3id.org/carnk/kg/a> a carnk:Cell .\n<https://w3id.org/carnk/kg/b> a carnk:NKCell .\n")
    return f


@pytest.mark.parametrize("engine", ["pyshacl", "turbo"])
def test_validate_reports_the_same_lines_on_either_shacl_engine(project, tmp_path, capsys, engine):
    from carnk_graph.shacl import turbo_available

    if engine == "turbo" and not turbo_available():
        pytest.skip("pyshacl-turbo is not installed (extra 'fast')")
    f = _unlabelled_cells(tmp_path)
    assert run(project, "validate", str(f), "--shacl-engine", engine) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "Violation: carnkkg:a rdfs:label: A cell needs a label. [carnksh:CellShape-label]",
        "Violation: carnkkg:b rdfs:label: A cell needs a label. [carnksh:CellShape-label]",
    ]


def test_validate_with_the_fast_engine_missing_says_how_to_install_it(project, tmp_path, capsys, monkeypatch):
    import sys

    import carnk_graph.shacl  # noqa: F401

    monkeypatch.setattr(sys.modules["carnk_graph.shacl"], "turbo_available", lambda: False)
    assert run(project, "validate", str(_unlabelled_cells(tmp_path)), "--shacl-engine", "turbo") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "carnk-graph[fast]" in err[0]


def test_validate_rejects_an_unknown_shacl_engine(project, tmp_path, capsys):
    assert run(project, "validate", str(_unlabelled_cells(tmp_path)), "--shacl-engine", "jena") == 2
    assert "invalid choice" in capsys.readouterr().err
