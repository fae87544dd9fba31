"""The question catalogue and its runner, as specifications.

Three groups:
- the catalogue itself (every saved query: complete header, statements S1-S27 covered, the answer
  on the real built graph equal to its reviewed expected.csv on both engines);
- the runner's safety (read-only, parameters bound as terms, injection, timeout) on a small
  fixture project built in a temporary folder;
- output forms (table with labels, csv, tsv, json) and the light import path.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from carnk_graph import catalogue as C
from carnk_graph import engines as E
from carnk_graph import formats as F
from carnk_graph import queries as Q
from carnk_graph import results as R
from carnk_graph import sparql as S
from carnk_graph import structure as T
from carnk_graph.cli import main
from carnk_graph.errors import BadInputError, RefusedError
from carnk_graph.namespaces import GRAPHS

from lanes import first_with_each, few_fast

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUERIES_DIR = PROJECT_ROOT / "queries"
EXPECTED_DIR = PROJECT_ROOT / "tests" / "data" / "queries"
MINIMAL_PROJECT = PROJECT_ROOT / "tests" / "data" / "projects" / "minimal"
SAVED = sorted(p.stem for p in QUERIES_DIR.glob("*.rq"))


def _query_words(name: str) -> set[str]:
    return {t.text.upper() for t in S.tokens(C.load_query(QUERIES_DIR / f"{name}.rq").text) if t.kind == "word"}


#: What makes two engines (or two stores) answer a query differently. The whole-graph comparisons
#: of engines and of --print texts run in the fast lane on the first saved query with each of these
#: (see lanes.first_with_each), in the full run on every query; every query's reviewed answer is
#: checked on both engines in both lanes.
QUERY_FEATURES = {
    "no parameter": lambda n: not C.load_query(QUERIES_DIR / f"{n}.rq").params,
    "two parameters": lambda n: len(C.load_query(QUERIES_DIR / f"{n}.rq").params) >= 2,
    "OPTIONAL": lambda n: "OPTIONAL" in _query_words(n),
    "no OPTIONAL": lambda n: "OPTIONAL" not in _query_words(n),
    "GROUP BY": lambda n: "GROUP" in _query_words(n),
    "ORDER BY": lambda n: "ORDER" in _query_words(n),
    "UNION": lambda n: "UNION" in _query_words(n),
    "negation": lambda n: bool({"MINUS", "EXISTS"} & _query_words(n)),
}
SAVED_REPRESENTATIVES = first_with_each(SAVED, QUERY_FEATURES)
STATEMENTS = {f"S{i}" for i in range(1, 28)}
KG = "https://w3id.org/carnk/kg/"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# -- the catalogue -----------------------------------------------------------------------------------

def test_the_catalogue_is_not_empty():
    assert len(SAVED) >= 10


@pytest.mark.parametrize("name", SAVED)
def test_every_saved_query_has_a_complete_header(name):
    q = C.load_query(QUERIES_DIR / f"{name}.rq")
    for key in C.HEADER_KEYS:
        assert q.header.get(key, "").strip(), f"{name}: header field {key!r} is missing or empty"
    assert set(q.answers) <= STATEMENTS, f"{name}: answers names unknown statements {q.answers}"


def test_the_catalogue_answers_every_statement():
    answered = set()
    for name in SAVED:
        answered |= set(C.load_query(QUERIES_DIR / f"{name}.rq").answers)
    assert STATEMENTS - answered == set()


@pytest.mark.parametrize("name", SAVED)
def test_returns_header_matches_the_projected_variables(name):
    q = C.load_query(QUERIES_DIR / f"{name}.rq")
    assert list(q.returns) == T.projected_variables(q.text)


@pytest.mark.parametrize("name", SAVED)
def test_every_declared_parameter_is_a_variable_of_the_query(name):
    q = C.load_query(QUERIES_DIR / f"{name}.rq")
    variables = {t.text[1:] for t in S.tokens(q.text) if t.kind == "var"}
    for p in q.params:
        assert p.name in variables, f"{name}: parameter {p.name} is not used as ?{p.name}"


@pytest.mark.parametrize("name", SAVED)
def test_saved_queries_declare_their_prefixes_and_run_unchanged_elsewhere(name):
    """Another store gets the file verbatim: no reliance on the runner's default prefixes."""
    import pyoxigraph as ox

    text = (QUERIES_DIR / f"{name}.rq").read_text(encoding="utf-8")
    ox.Store().query(text)  # parses (evaluation is lazy); undeclared prefixes raise SyntaxError


@pytest.mark.parametrize("name", SAVED)
def test_saved_queries_are_read_only(name):
    S.check_read_only((QUERIES_DIR / f"{name}.rq").read_text(encoding="utf-8"))


def test_every_saved_query_has_an_expected_answer_and_no_answer_is_orphaned():
    expected = sorted(p.name for p in EXPECTED_DIR.iterdir() if p.is_dir())
    assert expected == SAVED


@pytest.fixture(scope="module")
def engines(built):
    return {"oxigraph": E.open_engine("oxigraph", built.dist), "rdflib": E.open_engine("rdflib", built.dist)}


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("name", SAVED)
def test_saved_query_answer_on_the_built_graph_is_the_reviewed_one(name, engine, engines):
    expected = csv_rows((EXPECTED_DIR / name / "expected.csv").read_text(encoding="utf-8"))
    assert len(expected) > 1, f"{name}: an empty expected answer is not an answer"
    result = Q.execute(C.resolve(name, QUERIES_DIR), engines[engine])
    assert csv_rows(F.format_csv(result)) == expected


@pytest.mark.parametrize("name", few_fast(SAVED, SAVED_REPRESENTATIVES.__contains__, ids=str))
def test_both_engines_give_identical_terms(name, engines):
    q = C.resolve(name, QUERIES_DIR)
    a, b = (Q.execute(q, engines[e]) for e in ("oxigraph", "rdflib"))
    assert (a.variables, a.rows) == (b.variables, b.rows)


def test_the_cli_runs_a_saved_query_on_the_built_graph(capsys, built):
    code, out, _ = run_cli(capsys, "query", "disagreeing-outcome-claims", "--root", str(PROJECT_ROOT),
                           "--dist", str(built.dist), "--format", "csv")
    assert code == 0
    assert csv_rows(out) == csv_rows((EXPECTED_DIR / "disagreeing-outcome-claims" / "expected.csv").read_text())


def test_the_disagreement_between_overview_and_paper_is_surfaced(engines):
    rows = Q.execute(C.resolve("disagreeing-outcome-claims", QUERIES_DIR), engines["oxigraph"]).rows
    claims = {(r[1].value, r[3].value, r[2].value) for r in rows}
    assert (KG + "complete-response", KG + "domain-overview", "8 of 11") in claims
    assert (KG + "complete-response", KG + "liu2020", "7 of 11") in claims


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_off_the_shelf_products_come_only_from_the_reasoner(built, engine):
    """Without the inferred graph the question has no answer: nobody asserts the class."""
    import pyoxigraph as ox

    nq = built.dist / "carnk.nq"
    asserted = (GRAPHS["ontology"], GRAPHS["kg"])
    if engine == "oxigraph":
        store = ox.Store()
        store.extend(q for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS)
                     if getattr(q.graph_name, "value", None) in asserted)
        without = E.OxigraphEngine(store)
    else:
        without = E.RdflibEngine.from_nquads(nq, graphs=asserted)
    with_inferred = E.open_engine(engine, built.dist)
    q = C.resolve("off-the-shelf-capable-products", QUERIES_DIR)
    assert Q.execute(q, without).rows == []
    assert [r[0].value for r in Q.execute(q, with_inferred).rows] == [KG + "allogeneic-car-nk-product"]


def test_a_parameter_changes_the_answer(capsys, built):
    code, out, _ = run_cli(capsys, "query", "construct-domains-in-order", "--root", str(PROJECT_ROOT),
                           "--dist", str(built.dist), "--format", "csv",
                           "--param", "construct=carnkkg:liu2020-car")
    assert code == 0
    domains = [row[1] for row in csv_rows(out)[1:]]
    assert domains == [KG + "anti-cd19-scfv", KG + "igg1-ch2ch3-spacer", KG + "cd28-transmembrane-domain",
                       KG + "cd28-costimulatory-domain", KG + "cd3zeta-activation-domain"]


def test_a_parameter_accepts_a_full_iri(capsys, built):
    code, out, _ = run_cli(capsys, "query", "study-outcomes-by-source", "--root", str(PROJECT_ROOT),
                           "--dist", str(built.dist), "--format", "csv",
                           "--param", f"study=<{KG}nct03056339>")
    assert code == 0 and len(csv_rows(out)) == 4


@pytest.mark.parametrize("value", [
    'x" || true) } #',
    "carnkkg:nct03056339> } UNION { ?s ?p ?o",
    f"<{KG}nct03056339> }} UNION {{ ?s ?p ?o",
    f'<{KG}x"> . ?s ?p ?o #>',
    "carnkkg:x{",
])
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_an_injection_in_an_iri_parameter_is_refused_never_widened(capsys, built, value, engine):
    code, out, err = run_cli(capsys, "query", "study-toxicity-findings", "--root", str(PROJECT_ROOT),
                             "--dist", str(built.dist), "--format", "csv", "--engine", engine,
                             "--param", f"study={value}")
    assert code == 2, out
    assert out == "" and "parameter study" in err and err.count("\n") == 1


def test_an_iri_parameter_with_an_unknown_prefix_is_a_clear_error(capsys, built):
    code, _, err = run_cli(capsys, "query", "study-toxicity-findings", "--root", str(PROJECT_ROOT),
                           "--dist", str(built.dist), "--param", "study=nope:x")
    assert code == 2 and "unknown prefix" in err


# -- the runner on a fixture project -------------------------------------------------------------------

FIXTURE_QUERIES = {
    "cells-by-class.rq": """# title: Cells of a class
# description: Cells with their labels.
# answers: S3
# params: cls = carnk:NKCell
# returns: ?cell ?label
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?cell ?label WHERE { ?cell a ?cls . ?cell rdfs:label ?label }
""",
    "cell-by-label.rq": """# title: A cell by its label
# description: Looks a cell up by its exact label text (a literal parameter).
# answers: S3
# params: text (literal)
# returns: ?cell
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?cell WHERE { ?cell rdfs:label ?label . FILTER (STR(?label) = ?text) }
""",
    "cells-with-many-partners.rq": """# title: Cells with at least a number of partners
# description: A typed (xsd:integer) parameter.
# answers: S3
# params: minimum (xsd:integer) = 1
# returns: ?cell ?partners
PREFIX carnk: <https://w3id.org/carnk/>
SELECT ?cell (COUNT(?other) AS ?partners) WHERE { ?cell carnk:expresses ?other }
GROUP BY ?cell ?minimum HAVING (COUNT(?other) >= ?minimum)
""",
}

FIXTURE_CELLS = 60  # enough triples that a 4-way cross product runs for minutes


def _fixture_kg(n: int) -> str:
    lines = ["@prefix carnk: <https://w3id.org/carnk/> .", "@prefix kg: <https://w3id.org/carnk/kg/> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    for i in range(n):
        lines.append(f'kg:cell-{i:03d} a carnk:NKCell ; rdfs:label "cell {i:03d}"@en ; '
                     f"carnk:expresses kg:cell-{(i + 1) % n:03d} .")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fixture_project(tmp_path_factory):
    """The minimal project with a generated kg and a few queries, built without reasoning."""
    from carnk_graph.build import build

    root = tmp_path_factory.mktemp("qproj") / "project"
    shutil.copytree(MINIMAL_PROJECT / "ontology", root / "ontology", ignore=shutil.ignore_patterns("kg"))
    shutil.copytree(MINIMAL_PROJECT / "shapes", root / "shapes")
    (root / "ontology" / "kg").mkdir()
    (root / "ontology" / "kg" / "cells.ttl").write_text(_fixture_kg(FIXTURE_CELLS), encoding="utf-8")
    (root / "queries").mkdir()
    for name, text in FIXTURE_QUERIES.items():
        (root / "queries" / name).write_text(text, encoding="utf-8")
    build(root, root / "dist", no_reason=True)
    return root


def fx(project: Path, *argv: str) -> list[str]:
    return [*argv, "--root", str(project), "--dist", str(project / "dist")]


def adhoc(tmp_path: Path, text: str) -> str:
    path = tmp_path / "adhoc.rq"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_default_parameter_is_bound(capsys, fixture_project, engine):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--format", "csv",
                                       "--engine", engine))
    assert code == 0 and len(csv_rows(out)) == 1 + FIXTURE_CELLS


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_literal_parameter_matches_exactly(capsys, fixture_project, engine):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cell-by-label", "--format", "csv",
                                       "--engine", engine, "--param", "text=cell 007"))
    assert code == 0 and csv_rows(out) == [["cell"], [KG + "cell-007"]]


@pytest.mark.parametrize("value", ['x" || true) } #', "cell 007\" || \"a\" = \"a", "') } UNION { ?cell ?p ?o } #"])
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_an_injection_in_a_string_parameter_returns_nothing(capsys, fixture_project, value, engine):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cell-by-label", "--format", "csv",
                                       "--engine", engine, "--param", f"text={value}"))
    assert code == 0 and csv_rows(out) == [["cell"]]


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_typed_parameter_is_bound_as_its_datatype(capsys, fixture_project, engine):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-with-many-partners", "--format", "csv",
                                       "--engine", engine, "--param", "minimum=2"))
    assert code == 0 and csv_rows(out) == [["cell", "partners"]]
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-with-many-partners", "--format", "csv",
                                       "--engine", engine))
    assert code == 0 and len(csv_rows(out)) == 1 + FIXTURE_CELLS


def test_a_typed_parameter_refuses_a_value_of_the_wrong_form(capsys, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", "cells-with-many-partners",
                                       "--param", "minimum=1) || true"))
    assert code == 2 and "not a valid xsd:integer" in err


def test_a_missing_required_parameter_is_a_usage_error(capsys, fixture_project):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", "cell-by-label"))
    assert code == 2 and out == "" and "needs --param text=VALUE" in err


def test_an_unknown_parameter_is_a_usage_error(capsys, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--param", "colour=red"))
    assert code == 2 and "unknown parameter 'colour'" in err and "cls" in err


def test_a_parameter_without_equals_is_a_usage_error(capsys, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--param", "cls"))
    assert code == 2 and "KEY=VALUE" in err


def test_an_unknown_query_name_suggests_close_matches(capsys, fixture_project):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", "cells-by-clas"))
    assert code == 2 and out == ""
    assert "unknown query 'cells-by-clas'" in err and "cells-by-class" in err and err.count("\n") == 1


def test_query_without_a_name_is_a_usage_error(capsys, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query"))
    assert code == 2 and "--list" in err


def test_list_shows_every_query_with_title_and_params(capsys, fixture_project):
    code, out, _ = run_cli(capsys, "query", "--list", "--root", str(fixture_project))
    assert code == 0
    for name in FIXTURE_QUERIES:
        assert Path(name).stem in out
    assert "Cells of a class" in out and "cls=carnk:NKCell" in out and "text=<required>" in out


def test_list_of_the_shipped_catalogue_names_every_saved_query(capsys):
    code, out, _ = run_cli(capsys, "query", "--list", "--root", str(PROJECT_ROOT))
    assert code == 0 and all(name in out for name in SAVED)


REFUSED = {
    "insert": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "delete-where": "DELETE WHERE { ?s ?p ?o }",
    "load": "LOAD <file:///etc/passwd>",
    "clear": "CLEAR ALL",
    "drop": "DROP GRAPH <https://w3id.org/carnk/graph/kg>",
    "create": "CREATE GRAPH <urn:g>",
    "copy": "COPY DEFAULT TO <urn:g>",
    "query-then-update": "SELECT * WHERE { ?s ?p ?o } ;\nDROP ALL",
    "service": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "service-silent": "SELECT * WHERE { SERVICE SILENT <http://example.org/> { ?s ?p ?o } }",
    "service-as-prefixed-name": "SELECT * WHERE { SERVICE:x <urn:a> ?o }",
    "service-after-a-boolean": "SELECT * WHERE { ?s ?p true.SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
    "service-escaped": "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "from-file": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "from-url": "SELECT * FROM <http://example.org/data.ttl> WHERE { ?s ?p ?o }",
    "from-named": "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from-escaped": "SELECT * \\u0046ROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "lower-case": "select * from <file:///etc/passwd> where { ?s ?p ?o }",
}


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsafe_queries_are_refused_before_they_run(capsys, tmp_path, fixture_project, case, engine):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, REFUSED[case]),
                                         "--engine", engine))
    assert code == 4, err
    assert out == "" and "refused" in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("text", [
    'PREFIX ex: <http://example.org/>\nSELECT ?from ?load WHERE { ?from ex:delete ?load }',
    'SELECT ?s WHERE { ?s ?p "INSERT DATA { <a:b> <a:b> <a:b> }" }',
    "# DROP ALL in a comment\nSELECT ?s WHERE { ?s ?p <http://example.org/service#FROM> }",
    "SELECT ?s WHERE { ?s ?p '''\nLOAD <file:///etc/passwd>\n''' }",
])
def test_keywords_inside_strings_iris_comments_and_names_are_not_refused(text):
    S.check_read_only(text)


def test_the_refusal_names_line_and_column():
    with pytest.raises(RefusedError) as e:
        S.check_read_only("SELECT *\n  FROM <file:///x>\nWHERE { ?s ?p ?o }", "q.rq")
    assert str(e.value).startswith("q.rq:2:3: FROM")


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_a_syntax_error_names_line_and_column(capsys, tmp_path, fixture_project, engine):
    path = adhoc(tmp_path, "SELECT ?s\nWHERE {\n  ?s ?p\n}\n")
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", path, "--engine", engine))
    assert code == 2 and out == ""
    assert re.search(re.escape(path) + r":[345]:\d+: syntax error", err), err
    assert err.count("\n") == 1


def test_a_missing_query_file_is_a_usage_error(capsys, tmp_path, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", str(tmp_path / "nope.rq")))
    assert code == 2 and "not found" in err


def test_an_adhoc_file_without_header_runs(capsys, tmp_path, fixture_project):
    path = adhoc(tmp_path, "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/carnk/NKCell> }")
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", path, "--format", "csv"))
    assert code == 0 and csv_rows(out) == [["n"], [str(FIXTURE_CELLS)]]


def test_an_ask_query_answers_yes_or_no(capsys, tmp_path, fixture_project):
    path = adhoc(tmp_path, "ASK { ?c a <https://w3id.org/carnk/NKCell> }")
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", path, "--format", "json"))
    assert code == 0 and json.loads(out) == {"head": {}, "boolean": True}


CONSTRUCT_CELL = ("CONSTRUCT { ?c <http://www.w3.org/2000/01/rdf-schema#label> ?l } "
                  "WHERE { ?c a <https://w3id.org/carnk/NKCell> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }")


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_construct_gives_the_same_n_triples_on_both_engines(capsys, tmp_path, fixture_project, engine):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, CONSTRUCT_CELL),
                                         "--format", "nt", "--engine", engine))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == FIXTURE_CELLS and lines == sorted(lines)
    assert lines[0] == f'<{KG}cell-000> <http://www.w3.org/2000/01/rdf-schema#label> "cell 000"@en .'


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld"])
def test_a_graph_result_in_every_rdf_format_reads_back_as_the_same_graph(capsys, tmp_path, fixture_project, fmt):
    import pyoxigraph as ox

    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, CONSTRUCT_CELL), "--format", fmt))
    assert code == 0, err
    kind = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}[fmt]
    triples = set(ox.parse(out.encode("utf-8"), format=kind))
    assert len(triples) == FIXTURE_CELLS


def test_describe_gives_what_the_graph_says_about_a_node(capsys, tmp_path, fixture_project):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, f"DESCRIBE <{KG}cell-007>"),
                                         "--format", "nt"))
    assert code == 0, err
    assert out and all(line.startswith(f"<{KG}cell-007> ") for line in out.splitlines())
    assert '"cell 007"@en' in out


def test_a_graph_result_in_a_table_lists_labelled_triples(capsys, tmp_path, fixture_project):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, CONSTRUCT_CELL)))
    assert code == 0 and out.splitlines()[0].split() == ["subject", "predicate", "object"]
    assert f"({FIXTURE_CELLS} triples)" in out


@pytest.mark.parametrize("text, fmt", [(CONSTRUCT_CELL, "csv"), (CONSTRUCT_CELL, "json"),
                                       ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ttl")])
def test_a_format_that_does_not_fit_the_answer_is_a_usage_error(capsys, tmp_path, fixture_project, text, fmt):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, text), "--format", fmt))
    assert code == 2 and out == "" and err.count("\n") == 1 and "--format" in err


@pytest.mark.parametrize("text", [
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "DESCRIBE ?s FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "DESCRIBE ?s WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
])
def test_construct_and_describe_stay_read_only(capsys, tmp_path, fixture_project, text):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, text)))
    assert code == 4 and out == "" and "refused" in err


SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")


def test_a_query_past_its_timeout_stops_with_exit_5(tmp_path, fixture_project):
    """The installed command, on the embedded store: the Rust evaluation cannot be interrupted
    from Python, so the process exits without waiting for it."""
    path = adhoc(tmp_path, SLOW)
    proc = subprocess.run([sys.executable, "-m", "carnk_graph", *fx(fixture_project, "query", path,
                                                                    "--timeout", "0.5")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 5, proc.stderr
    assert "stopped after 0.5 s" in proc.stderr and proc.stdout == ""


def test_a_timeout_in_process_stops_the_rdflib_worker(capsys, tmp_path, fixture_project):
    path = adhoc(tmp_path, SLOW)
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", path, "--engine", "rdflib",
                                         "--timeout", "0.5"))
    assert code == 5 and out == "" and "--timeout" in err
    deadline = time.monotonic() + 60
    while any(t.name == "carnk-query" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)  # poll the worker's end with a deadline
    assert not any(t.name == "carnk-query" for t in threading.enumerate())


def test_a_non_positive_timeout_is_a_usage_error(capsys, fixture_project):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--timeout", "0"))
    assert code == 2 and "--timeout" in err


# -- output forms ----------------------------------------------------------------------------------

def test_table_shows_labels_not_iris(capsys, fixture_project):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class"))
    assert code == 0
    assert "cell 007" in out and "https://" not in out and f"({FIXTURE_CELLS} rows)" in out


def test_table_falls_back_to_prefixed_names(capsys, built):
    code, out, _ = run_cli(capsys, "query", "study-outcomes-by-source", "--root", str(PROJECT_ROOT),
                           "--dist", str(built.dist))
    assert code == 0 and "Liu et al. 2020, NEJM" in out and "https://" not in out


def test_csv_is_w3c_sparql_csv(capsys, fixture_project):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--format", "csv"))
    assert code == 0 and out.startswith("cell,label\r\n")
    assert csv_rows(out)[1] == [KG + "cell-000", "cell 000"]


def test_tsv_is_w3c_sparql_tsv(capsys, fixture_project):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--format", "tsv"))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "?cell\t?label"
    assert lines[1] == f'<{KG}cell-000>\t"cell 000"@en'


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_json_is_sparql_json_results(capsys, fixture_project, engine):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", "cells-with-many-partners", "--format", "json",
                                       "--engine", engine))
    doc = json.loads(out)
    assert code == 0 and doc["head"]["vars"] == ["cell", "partners"]
    first = doc["results"]["bindings"][0]
    assert first["cell"] == {"type": "uri", "value": KG + "cell-000"}
    assert first["partners"] == {"type": "literal", "value": "1",
                                 "datatype": "http://www.w3.org/2001/XMLSchema#integer"}


def test_rows_are_in_a_stable_order_without_order_by(capsys, fixture_project):
    outs = {run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--format", "csv",
                                "--engine", e))[1] for e in ("oxigraph", "rdflib")}
    assert len(outs) == 1
    cells = [r[0] for r in csv_rows(outs.pop())[1:]]
    assert cells == sorted(cells)


def test_text_with_newlines_and_quotes_survives_every_format():
    r = R.Result(["v"], [(R.Term.literal('a "b"\nc', lang="en"),)])
    assert csv_rows(F.format_csv(r))[1] == ['a "b"\nc']
    assert F.format_tsv(r).splitlines()[1] == '"a \\"b\\"\\nc"@en'
    assert json.loads(F.format_json(r))["results"]["bindings"][0]["v"]["value"] == 'a "b"\nc'
    assert F.format_table(r, {}).splitlines()[2] == 'a "b" c'


# -- headers and parameters, unit by unit ------------------------------------------------------------

def test_header_parsing_reads_every_field_and_continuations():
    h = C.parse_header("# title: T\n# description: first line\n#   second line\n# answers: S1 S2\n"
                       "# params: a = carnk:X, b (xsd:integer) = 3, c (literal)\n# returns: ?x ?y\nSELECT ...")
    assert h["description"] == "first line second line"
    params = C.parse_params(h["params"])
    assert [p.name for p in params] == ["a", "b", "c"]
    assert params[1].kind == "http://www.w3.org/2001/XMLSchema#integer" and params[2].required


def test_the_design_example_header_with_its_remark_parses():
    params = C.parse_params("therapy = carnk:CARNKCellTherapy   (name = default; bound with initBindings, never by string)")
    assert params == (C.Param("therapy", None, "carnk:CARNKCellTherapy"),)


def test_a_malformed_parameter_declaration_is_reported():
    with pytest.raises(BadInputError):
        C.parse_params("a b c")


def test_order_by_is_detected_only_on_the_outer_query():
    assert T.has_order_by("SELECT ?x WHERE { ?x ?p ?o } ORDER BY ?x")
    assert not T.has_order_by("SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } ORDER BY ?x LIMIT 1 } }")


def test_projected_variables_read_the_select_clause():
    assert T.projected_variables("SELECT ?a (COUNT(?b) AS ?n) ?c WHERE { }") == ["a", "n", "c"]
    assert T.projected_variables("SELECT * WHERE { }") is None


# -- the light query path ----------------------------------------------------------------------------

def test_the_oxigraph_query_path_imports_no_heavy_library(built):
    """The cold-start budget (issue 9) depends on never importing rdflib, pyshacl or owlready2 here."""
    code = ("import sys\nfrom carnk_graph.cli import main\n"
            f"rc = main(['query', 'study-outcomes-by-source', '--root', {str(PROJECT_ROOT)!r}, "
            f"'--dist', {str(built.dist)!r}, '--format', 'csv'])\n"
            "heavy = sorted(m for m in ('rdflib', 'pyshacl', 'owlready2') if m in sys.modules)\n"
            "print('HEAVY', heavy, rc, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert "HEAVY [] 0" in proc.stderr, proc.stderr


#: Modules a cold query must not load: each costs a measurable share of a budget of 3x the bare
#: `oxigraph query` (benchmarks/run.py): dataclasses pulls in inspect (~5 ms), typing ~2 ms, the
#: build line and the parsers are needed only when the release is out of date.
COLD_PATH_NEVER = ("argparse", "logging", "dataclasses", "inspect", "typing", "json", "shutil", "hashlib",
                   "carnk_graph.build", "carnk_graph.sources", "carnk_graph.release", "carnk_graph.checks")
#: ...and once the saved query is prepared (prepared.py), not even the scanner's patterns (sparql.py is
#: loaded for its scanner-free keyword test, `re` is not) nor what binding parameters needs.
PREPARED_PATH_NEVER = (*COLD_PATH_NEVER, "re", "pathlib", "csv", "threading", "contextlib", "functools",
                       "carnk_graph.params")


def _modules_loaded_by_a_query(dist, never) -> str:
    code = ("import sys\nfrom carnk_graph.cli import main\n"
            f"rc = main(['query', 'study-outcomes-by-source', '--root', {str(PROJECT_ROOT)!r}, "
            f"'--dist', {str(dist)!r}, '--format', 'csv'])\n"
            f"loaded = sorted(m for m in {never!r} if m in sys.modules)\n"
            "print('LOADED', loaded, rc, file=sys.stderr)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stderr


def test_a_cold_query_on_a_current_release_loads_only_the_query_path(built):
    assert "LOADED [] 0" in _modules_loaded_by_a_query(built.dist, COLD_PATH_NEVER)


def test_a_prepared_saved_query_loads_neither_the_scanner_nor_pathlib(built):
    _modules_loaded_by_a_query(built.dist, ())  # the first run prepares it
    assert "LOADED [] 0" in _modules_loaded_by_a_query(built.dist, PREPARED_PATH_NEVER)


# -- control characters, encodings, typos --------------------------------------------------------------

CONTROL = 'SELECT ?v WHERE { BIND("a\\u001B[31mb\\u0007c\\u0000d\\u202Ee" AS ?v) }'


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv"])
def test_control_characters_from_the_data_never_reach_the_terminal(capsys, tmp_path, fixture_project, fmt):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, CONTROL), "--format", fmt))
    assert code == 0, err
    assert not any(c in out for c in "\x1b\x07\x00\u202e"), repr(out)
    assert "31mb" in out  # the text around them is kept


def test_tsv_escapes_control_characters_as_n_triples_does():
    r = R.Result(["v"], [(R.Term.literal("a\x1bb\x00"),)])
    assert F.format_tsv(r).splitlines()[1] == '"a\\u001Bb\\u0000"'


def test_json_keeps_control_characters_exact(capsys, tmp_path, fixture_project):
    code, out, _ = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, CONTROL), "--format", "json"))
    assert code == 0 and "\x1b" not in out
    assert json.loads(out)["results"]["bindings"][0]["v"]["value"] == "a\x1b[31mb\x07c\x00d\u202ee"


def test_an_output_encoding_that_cannot_write_the_answer_is_one_usage_error_line(tmp_path, fixture_project):
    path = adhoc(tmp_path, 'SELECT ?v WHERE { BIND("caf\\u00E9 \\u2192 NK" AS ?v) }')
    proc = subprocess.run([sys.executable, "-m", "carnk_graph", *fx(fixture_project, "query", path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "PYTHONIOENCODING" in proc.stderr and proc.stdout == ""


def test_a_parameter_naming_an_iri_the_graph_does_not_know_names_the_closest(capsys, built):
    code, out, err = run_cli(capsys, "query", "construct-domains-in-order", "--param",
                             "construct=carnkkg:liu2020-carr", "--root", str(PROJECT_ROOT), "--dist", str(built.dist))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "carnkkg:liu2020-carr is not in the graph" in err and "carnkkg:liu2020-car" in err.split("closest")[1]


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_the_unknown_iri_check_runs_on_both_engines(capsys, fixture_project, engine):
    code, _, err = run_cli(capsys, *fx(fixture_project, "query", "cells-by-class", "--param",
                                       "cls=carnk:NKCel", "--engine", engine))
    assert code == 2 and "closest known: carnk:NKCell" in err


# -- --print: the text to run on another store ---------------------------------------------------------

@pytest.fixture(scope="module")
def release_store(built):
    """The release's quads in a plain pyoxigraph store, as `carnk-graph load` leaves them in a remote one."""
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(ox.parse(path=str(built.dist / "carnk.nq"), format=ox.RdfFormat.N_QUADS))
    return store


@pytest.mark.parametrize("name", few_fast(SAVED, SAVED_REPRESENTATIVES.__contains__, ids=str))
def test_the_printed_text_answers_the_same_on_a_store_given_the_default_graphs(capsys, built, release_store, name):
    """What --print gives, sent with the default-graph-uri it names, is the question the runner asks."""
    import pyoxigraph as ox

    code, text, err = run_cli(capsys, "query", name, "--print", "--root", str(PROJECT_ROOT))
    assert code == 0, err
    assert "FROM" not in [t.text.upper() for t in S.tokens(text) if t.kind == "word"]
    graphs = [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("#   default-graph-uri")]
    assert graphs == [GRAPHS[g] for g in ("ontology", "kg", "inferred")]
    answer = release_store.query(text, default_graph=[ox.NamedNode(g) for g in graphs])  # no runner prefixes
    rows = sorted(tuple(str(sol[v]) if sol[v] is not None else "" for v in answer.variables) for sol in answer)
    expected = Q.execute(C.resolve(name, QUERIES_DIR), E.open_engine("oxigraph", built.dist))
    assert rows == sorted(tuple(t.n3() if t is not None else "" for t in row) for row in expected.rows)


def test_print_binds_the_parameters_given(capsys):
    code, text, _ = run_cli(capsys, "query", "construct-domains-in-order", "--print",
                            "--param", "construct=carnkkg:liu2020-car", "--root", str(PROJECT_ROOT))
    assert code == 0 and f"VALUES (?construct) {{ (<{KG}liu2020-car>) }}" in text


def test_print_refuses_what_query_refuses(capsys, tmp_path, fixture_project):
    code, out, err = run_cli(capsys, *fx(fixture_project, "query", adhoc(tmp_path, REFUSED["service"]), "--print"))
    assert code == 4 and out == ""


# -- the deadline holds for the whole operation ----------------------------------------------------------

CATASTROPHIC_REGEX = ('SELECT ?v WHERE { BIND("' + "a" * 60 + 'b" AS ?v) FILTER(REGEX(?v, "^(a+)+$")) }')
VALUES_PRODUCT = ("SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?{v} {{ {' '.join(str(i) for i in range(200))} }}" for v in "abcde") + " }")


@pytest.mark.parametrize("engine, text", [("rdflib", CATASTROPHIC_REGEX),  # each waits out its 1 s deadline:
                                          pytest.param("oxigraph", VALUES_PRODUCT, marks=pytest.mark.slow),  # the fast
                                          pytest.param("rdflib", VALUES_PRODUCT, marks=pytest.mark.slow)])  # lane keeps the GIL case
def test_timeout_is_wall_clock_for_the_whole_query(tmp_path, fixture_project, engine, text):
    """A catastrophic REGEX keeps the GIL inside Python's `re`, and a product of VALUES blocks never
    reaches a row: both still end at the deadline, with exit 5. (The command reaches the query in
    about 0.25 s; the regex alone would run for years, the product for minutes.)"""
    path = adhoc(tmp_path, text)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "carnk_graph", *fx(fixture_project, "query", path, "--engine", engine,
                                                                    "--timeout", "1")],
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert proc.returncode == 5, proc.stderr
    assert "stopped after 1 s" in proc.stderr and proc.stdout == ""
    assert took < 15, f"--timeout 1 took {took:.1f} s"


def test_an_isolated_rdflib_query_answers_like_the_in_process_one(capsys, tmp_path, fixture_project):
    """The command line runs rdflib in a child process; the answer that comes back is the same."""
    from carnk_graph import api

    path = adhoc(tmp_path, "SELECT ?c ?l WHERE { ?c a <https://w3id.org/carnk/NKCell> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    kw = dict(engine="rdflib", root=fixture_project, dist=fixture_project / "dist")
    assert api.answer(path, isolate=True, **kw).result == api.answer(path, isolate=False, **kw).result


# -- the cold path reads its arguments without argparse ---------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["query", "cells-by-class"],
    ["query", "cells-by-class", "--format", "csv", "--engine", "rdflib", "--timeout", "2.5"],
    ["query", "--param", "a=1", "x.rq", "--param", "b=<https://e/x>", "--root", "/r", "--dist", "/d", "-q"],
    ["query", "--list"],
    ["query", "n", "--print", "--param", "k=v", "--debug", "--allow-network", "--quiet"],
    ["query", "n", "--format", "tsv", "--format", "json"],
    ["query", "n", "--timeout", "inf"],
    ["query"],
])
def test_the_quick_reading_of_query_arguments_is_argparses(argv):
    from carnk_graph.cli import make_parser, quick_query_args

    quick = quick_query_args(argv)
    assert quick is not None
    full = vars(make_parser().parse_args(argv))
    assert vars(quick) == full


@pytest.mark.parametrize("argv", [
    ["query", "--help"], ["query", "n", "--format", "xml"], ["query", "n", "--engine=rdflib"], ["query", "a", "b"],
    ["query", "n", "--timeout", "abc"], ["query", "n", "--timeout", "-1"], ["query", "n", "--form", "csv"],
    ["query", "n", "--param"], ["build"], ["--root", "/r", "query", "n"], ["query", "n", "--", "x"],
])
def test_everything_else_is_left_to_argparse(argv):
    from carnk_graph.cli import quick_query_args

    assert quick_query_args(argv) is None


def test_no_query_runs_on_an_empty_store_first(monkeypatch, fixture_project):
    """The old syntax pre-run on an empty in-memory store evaluated what it parsed, with no deadline and
    no check of its own: it is gone. The engine parses and evaluates once, on the release's store."""
    import pyoxigraph as ox

    from carnk_graph import api

    store = E.open_engine("oxigraph", fixture_project / "dist").store
    calls: list[str] = []

    class Counting:
        def query(self, text, **kw):
            calls.append(text)
            return store.query(text, **kw)

        def __getattr__(self, name):
            return getattr(store, name)

    def no_new_store(*_a, **_k):
        raise AssertionError("a pyoxigraph Store was created during the query")

    monkeypatch.setattr(E, "open_engine", lambda engine, dist: E.OxigraphEngine(Counting()))
    monkeypatch.setattr(ox, "Store", no_new_store)
    done = api.answer("cells-by-class", root=fixture_project, dist=fixture_project / "dist")
    assert len(done.result.rows) == FIXTURE_CELLS and len(calls) == 1


def test_list_skips_what_is_not_a_regular_file(capsys, tmp_path):
    """A folder named x.rq, a FIFO and a link to /dev/zero in queries/ neither break nor hang --list."""
    root = tmp_path / "project"
    shutil.copytree(MINIMAL_PROJECT, root)
    (root / "queries").mkdir()
    (root / "queries" / "real.rq").write_text(FIXTURE_QUERIES["cells-by-class.rq"], encoding="utf-8")
    (root / "queries" / "folder.rq").mkdir()
    os.mkfifo(root / "queries" / "pipe.rq")
    (root / "queries" / "zero.rq").symlink_to("/dev/zero")
    code, out, err = run_cli(capsys, "query", "--list", "--root", str(root))
    assert code == 0 and "real" in out and not any(n in out for n in ("folder", "pipe", "zero")), err


@pytest.mark.parametrize("name", ["pipe", "zero", "folder"])
def test_running_what_is_not_a_regular_file_is_one_usage_error(capsys, tmp_path, name):
    root = tmp_path / "project"
    shutil.copytree(MINIMAL_PROJECT, root)
    (root / "queries").mkdir()
    {"pipe": lambda p: os.mkfifo(p), "zero": lambda p: p.symlink_to("/dev/zero"),
     "folder": lambda p: p.mkdir()}[name](root / "queries" / f"{name}.rq")
    code, out, err = run_cli(capsys, "query", str(root / "queries" / f"{name}.rq"), "--root", str(root))
    assert code == 2 and out == "" and "regular file" in err and err.count("\n") == 1


def test_print_names_the_graphs_where_load_put_them(capsys):
    code, text, err = run_cli(capsys, "query", "study-outcomes-by-source", "--print",
                              "--graph-prefix", "http://example.org/g/", "--root", str(PROJECT_ROOT))
    assert code == 0, err
    assert [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("#   default-graph-uri")] \
        == ["http://example.org/g/ontology", "http://example.org/g/kg", "http://example.org/g/inferred"]


@pytest.mark.parametrize("argv", [["--graph-prefix", "http://example.org/g/"],
                                  ["--print", "--graph-prefix", "not an iri"]])
def test_a_graph_prefix_without_print_or_not_an_iri_is_a_usage_error(capsys, argv):
    code, out, err = run_cli(capsys, "query", "study-outcomes-by-source", *argv, "--root", str(PROJECT_ROOT))
    assert code == 2 and out == "" and err.count("\n") == 1
