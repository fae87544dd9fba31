"""`carnk-graph diff OLD NEW`: added and removed classes, properties, individuals and triples per named graph,
between release files of any format, built folders, project folders or git revisions."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from carnk_graph.build import build
from carnk_graph.cli import main
from carnk_graph.diff import diff, render
from carnk_graph.errors import BadInputError
from carnk_graph.release import FORMATS

from spine_helpers import MINIMAL, copy_project

CARNK = "https://w3id.org/carnk/"
KGNS = CARNK + "kg/"

NEW_CLASS = '''
carnk:CytokineArmouredNKCell a owl:Class ;
    rdfs:subClassOf carnk:NKCell ;
    rdfs:label "cytokine-armoured NK cell"@en ;
    skos:definition "An NK cell engineered to secrete a cytokine."@en .
'''


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def changed_copy(project):
    """The minimal project with one class added, one individual removed and one label changed."""
    onto = project / "ontology" / "carnk.ttl"
    onto.write_text(onto.read_text(encoding="utf-8") + NEW_CLASS, encoding="utf-8")
    edit(onto, '"dose count"@en', '"number of doses"@en')
    edit(project / "ontology" / "kg" / "cells.ttl", 'carnkkg:nkg2d a carnk:Receptor ;\n    rdfs:label "NKG2D"@en , "NKG2D"@de .\n', "")
    edit(project / "ontology" / "kg" / "cells.ttl", "carnk:expresses carnkkg:nkg2d ;\n", "")
    return project


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """Two built releases of the minimal project: as it is, and changed."""
    base = tmp_path_factory.mktemp("diff")
    old = copy_project(MINIMAL, base / "old")
    new = changed_copy(copy_project(MINIMAL, base / "new"))
    for p in (old, new):
        build(p, p / "dist", no_reason=True)
    return old, new


def test_an_added_class_is_listed_with_its_label_and_iri(releases):
    old, new = releases
    result = diff(str(old / "dist" / "carnk.nq"), str(new / "dist" / "carnk.nq"))
    added = [(e.label, e.iri) for e in result.entities["classes"]["added"]]
    assert added == [("cytokine-armoured NK cell", CARNK + "CytokineArmouredNKCell")]
    assert result.entities["classes"]["removed"] == []


def test_a_removed_individual_is_listed(releases):
    old, new = releases
    result = diff(str(old / "dist" / "carnk.nq"), str(new / "dist" / "carnk.nq"))
    assert [(e.label, e.iri) for e in result.entities["individuals"]["removed"]] == [("NKG2D", KGNS + "nkg2d")]
    assert result.entities["individuals"]["added"] == []


def test_a_relabelled_property_is_changed_not_added_or_removed(releases):
    old, new = releases
    result = diff(str(old / "dist" / "carnk.nq"), str(new / "dist" / "carnk.nq"))
    assert result.entities["properties"] == {"added": [], "removed": []}
    changed = {c["iri"]: c for c in result.changed}
    assert changed[CARNK + "doseCount"]["added"] == 1 and changed[CARNK + "doseCount"]["removed"] == 1


def test_triples_are_reported_per_named_graph(releases):
    old, new = releases
    result = diff(str(old / "dist" / "carnk.nq"), str(new / "dist" / "carnk.nq"))
    assert set(result.triples) == {"ontology", "kg", "inferred"}
    assert 'carnk:doseCount rdfs:label "number of doses"@en .' in result.triples["ontology"]["added"]
    assert 'carnk:doseCount rdfs:label "dose count"@en .' in result.triples["ontology"]["removed"]
    assert "carnkkg:nk-1 carnk:expresses carnkkg:nkg2d ." in result.triples["kg"]["removed"]
    assert result.triples["inferred"] == {"added": [], "removed": []}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_release_file_in_any_format_equals_the_same_release_in_nquads(releases, fmt):
    old, _ = releases
    result = diff(str(old / "dist" / FORMATS[fmt]), str(old / "dist" / "carnk.nq"))
    assert result.identical, render(result)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_shows_the_same_added_class(releases, fmt):
    old, new = releases
    result = diff(str(old / "dist" / FORMATS[fmt]), str(new / "dist" / FORMATS[fmt]))
    assert [e.iri for e in result.entities["classes"]["added"]] == [CARNK + "CytokineArmouredNKCell"]


def test_blank_nodes_with_the_same_structure_are_not_differences(tmp_path):
    a, b = tmp_path / "a.ttl", tmp_path / "b.ttl"
    body = ("@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            "<https://w3id.org/carnk/A> rdfs:subClassOf [ a owl:Restriction ; owl:onProperty <https://w3id.org/carnk/p> ;"
            " owl:someValuesFrom <https://w3id.org/carnk/B> ] .\n")
    a.write_text(body, encoding="utf-8")
    b.write_text("@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                 "_:zz owl:someValuesFrom <https://w3id.org/carnk/B> ; owl:onProperty <https://w3id.org/carnk/p> ; a owl:Restriction .\n"
                 "<https://w3id.org/carnk/A> rdfs:subClassOf _:zz .\n", encoding="utf-8")
    assert diff(str(a), str(b)).identical


def test_identical_releases_say_so(releases, capsys):
    old, _ = releases
    nq = str(old / "dist" / "carnk.nq")
    assert main(["diff", nq, nq]) == 0
    assert "no differences" in capsys.readouterr().out


def test_the_text_report_reads_as_plus_and_minus_lines(releases, capsys):
    old, new = releases
    assert main(["diff", str(old / "dist" / "carnk.ttl"), str(new / "dist" / "carnk.ttl")]) == 0
    out = capsys.readouterr().out
    assert f"  + cytokine-armoured NK cell  <{CARNK}CytokineArmouredNKCell>" in out
    assert f"  - NKG2D  <{KGNS}nkg2d>" in out
    assert "classes: 1 added, 0 removed" in out


def test_the_json_report_has_entities_and_graphs(releases, capsys):
    old, new = releases
    assert main(["diff", str(old / "dist" / "carnk.nq"), str(new / "dist" / "carnk.nq"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["identical"] is False
    assert doc["entities"]["classes"]["added"] == [{"iri": CARNK + "CytokineArmouredNKCell",
                                                    "label": "cytokine-armoured NK cell"}]
    assert set(doc["graphs"]) == {"ontology", "kg", "inferred"}


def test_a_built_release_equals_its_own_project_folder(releases):
    old, _ = releases
    result = diff(str(old), str(old / "dist"))
    assert result.identical, render(result)
    assert any("inferred graph is left out" in n for n in result.notes)


def test_a_file_with_a_syntax_error_is_bad_input_with_its_line(tmp_path, releases, capsys):
    bad = tmp_path / "bad.ttl"
    bad.write_text("<https://w3id.org/carnk/a> <https://w3id.org/carnk/b> .\n", encoding="utf-8")
    assert main(["diff", str(bad), str(releases[0] / "dist" / "carnk.nq")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{bad}:1" in err[0]


def test_something_that_is_neither_a_file_nor_a_revision_is_bad_input(releases):
    with pytest.raises(BadInputError):
        diff("no-such-file-or-revision", str(releases[0] / "dist" / "carnk.nq"), root=releases[0])


# -- git revisions -----------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path):
    """A git repository holding the minimal project, then a commit that changes it."""
    project = copy_project(MINIMAL, tmp_path / "repo")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    changed_copy(project)
    git(project, "commit", "-q", "-am", "second")
    return project


@needs_git
def test_two_git_revisions_are_built_and_compared(repo):
    result = diff("HEAD~1", "HEAD", root=repo)
    assert [e.iri for e in result.entities["classes"]["added"]] == [CARNK + "CytokineArmouredNKCell"]
    assert [e.iri for e in result.entities["individuals"]["removed"]] == [KGNS + "nkg2d"]
    assert "inferred" not in result.triples


@needs_git
def test_a_revision_compares_with_the_working_tree(repo):
    onto = repo / "ontology" / "carnk.ttl"
    onto.write_text(onto.read_text(encoding="utf-8").replace(NEW_CLASS, ""), encoding="utf-8")
    result = diff("HEAD", str(repo), root=repo)
    assert [e.iri for e in result.entities["classes"]["removed"]] == [CARNK + "CytokineArmouredNKCell"]


@needs_git
def test_the_revision_export_leaves_the_repository_untouched(repo):
    before = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    diff("HEAD~1", "HEAD", root=repo)
    after = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert before == after
    worktrees = subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True).stdout
    assert len(worktrees.splitlines()) == 1


@needs_git
def test_an_unknown_revision_is_one_line_and_exit_2(repo, capsys):
    assert main(["diff", "--root", str(repo), "no-such-rev", "HEAD"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-rev" in err[0]


def test_a_changed_blank_node_restriction_is_a_difference(tmp_path):
    a, b = tmp_path / "a.ttl", tmp_path / "b.ttl"
    body = ("@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            "<https://w3id.org/carnk/A> rdfs:subClassOf [ a owl:Restriction ; owl:onProperty <https://w3id.org/carnk/p> ;"
            " owl:someValuesFrom <https://w3id.org/carnk/B> ] .\n")
    a.write_text(body, encoding="utf-8")
    b.write_text(body.replace("carnk/B>", "carnk/C>"), encoding="utf-8")
    result = diff(str(a), str(b))
    assert not result.identical
    assert [t.split()[-2] for t in result.triples["all"]["added"]] == ["carnk:C"]
