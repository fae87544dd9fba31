"""Curation tables (ontology/tables/*.tsv): each row compiles into the qualified node a curator would
write in Turtle, a row's IRI comes from its content, and a bad row is one error at file:line:column.

The command-line side of bad rows (one stderr line, exit 2, nothing written) is in the bad-input
corpus: tests/data/bad/table-*.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from carnk_graph.errors import BAD_INPUT, CurationTableError, exit_code_for
from carnk_graph.tables import SPECS, compile_table, table_files

from spine_helpers import copy_project, release_snapshot

CARNK = "https://w3id.org/carnk/"
KG = CARNK + "kg/"
ROOT = Path(__file__).resolve().parents[1]
T = "\t"

#: What the tables may point at: a study, a paper, endpoints, a toxicity, a therapy kind.
DECLARED = """
@prefix carnk:   <https://w3id.org/carnk/> .
@prefix carnkkg: <https://w3id.org/carnk/kg/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
carnk:Publication rdfs:subClassOf carnk:InformationSource .
carnk:ClinicalTrial rdfs:subClassOf carnk:ClinicalStudy .
carnk:CytokineReleaseSyndrome rdfs:subClassOf carnk:Toxicity .
carnk:CARNKCellTherapy rdfs:subClassOf carnk:Immunotherapy .
carnkkg:trial a carnk:ClinicalTrial ; rdfs:label "the trial"@en .
carnkkg:paper a carnk:Publication ; rdfs:label "the paper"@en .
carnkkg:overall-response a carnk:ClinicalEndpoint ; rdfs:label "overall response"@en .
carnkkg:overall-survival a carnk:ClinicalEndpoint ; rdfs:label "overall survival"@en .
carnkkg:crs a carnk:CytokineReleaseSyndrome ; rdfs:label "cytokine release syndrome"@en .
carnkkg:car-nk a carnk:CARNKCellTherapy ; rdfs:label "CAR-NK cell therapy"@en .
"""


@pytest.fixture(scope="module")
def declared() -> Graph:
    return Graph().parse(data=DECLARED, format="turtle")


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / f"{name}.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


RESPONSE_HEADER = T.join(["study", "kind", "time_point", "numerator", "denominator", "percentage", "source", "locator"])
RESPONSE_ROW = T.join(["carnkkg:trial", "carnkkg:overall-response", "30 day", "8", "11", "72.7", "carnkkg:paper", "table 2"])


def subjects_of(g: Graph, cls: str) -> list[URIRef]:
    return sorted(g.subjects(RDF.type, URIRef(CARNK + cls)))


# --- a valid row becomes the qualified node -------------------------------------------------------

def test_a_response_row_compiles_into_a_response_figure_with_its_numbers_source_and_locator(tmp_path, declared):
    g = compile_table(write(tmp_path, "response-figures", RESPONSE_HEADER, RESPONSE_ROW), [declared])
    [node] = subjects_of(g, "ResponseFigure")
    assert str(node).startswith(KG + "response-")
    expected = {
        (URIRef(CARNK + "study"), URIRef(KG + "trial")),
        (URIRef(CARNK + "figureKind"), URIRef(KG + "overall-response")),
        (URIRef(CARNK + "timePointValue"), Literal("30", datatype=XSD.integer)),
        (URIRef(CARNK + "timePointUnit"), URIRef(CARNK + "Day")),
        (URIRef(CARNK + "numerator"), Literal("8", datatype=XSD.integer)),
        (URIRef(CARNK + "denominator"), Literal("11", datatype=XSD.integer)),
        (URIRef(CARNK + "percentage"), Literal("72.7", datatype=XSD.decimal)),
        (URIRef(CARNK + "source"), URIRef(KG + "paper")),
        (URIRef(CARNK + "locator"), Literal("table 2")),
    }
    got = set(g.predicate_objects(node))
    assert expected <= got
    assert g.value(node, RDFS.label) == Literal("the trial: overall response at day 30 8 of 11 72.7% (the paper, table 2)", lang="en")


def test_a_toxicity_row_of_zero_patients_is_an_explicit_negative_finding(tmp_path, declared):
    header = T.join(["study", "therapy", "toxicity", "grade_min", "grade_max", "affected", "assessed", "source", "locator"])
    none = T.join(["carnkkg:trial", "carnkkg:car-nk", "carnkkg:crs", "1", "5", "0", "11", "carnkkg:paper", "abstract"])
    some = T.join(["carnkkg:trial", "carnkkg:car-nk", "carnkkg:crs", "3", "5", "2", "11", "carnkkg:paper", "table 3"])
    g = compile_table(write(tmp_path, "toxicity-figures", header, none, some), [declared])
    levels = {str(g.value(n, URIRef(CARNK + "locator"))): g.value(n, URIRef(CARNK + "frequencyLevel"))
              for n in subjects_of(g, "ToxicityAssociation")}
    assert levels == {"abstract": URIRef(CARNK + "NotObserved"), "table 3": URIRef(CARNK + "Observed")}


def test_a_survival_median_and_a_dose_level_keep_their_units(tmp_path, declared):
    survival = compile_table(write(tmp_path, "survival-figures",
                                   T.join(["study", "kind", "median", "source", "locator"]),
                                   T.join(["carnkkg:trial", "carnkkg:overall-survival", "31 weeks", "carnkkg:paper", "abstract"])),
                             [declared])
    [fig] = subjects_of(survival, "SurvivalFigure")
    assert survival.value(fig, URIRef(CARNK + "medianValue")) == Literal("31", datatype=XSD.integer)
    assert survival.value(fig, URIRef(CARNK + "medianUnit")) == URIRef(CARNK + "Week")
    doses = compile_table(write(tmp_path, "dose-levels", T.join(["study", "amount", "unit", "source", "locator"]),
                                T.join(["carnkkg:trial", "1e8", "cells", "carnkkg:paper", "abstract"])), [declared])
    [dose] = subjects_of(doses, "DoseLevel")
    assert doses.value(dose, URIRef(CARNK + "doseAmount")) == Literal("100000000", datatype=XSD.integer)


# --- row IRIs come from content -----------------------------------------------------------------

def test_reordering_rows_and_columns_changes_nothing(tmp_path, declared):
    other = T.join(["carnkkg:trial", "carnkkg:overall-response", "100 day", "9", "11", "", "carnkkg:paper", "table 2"])
    first = compile_table(write(tmp_path / "", "response-figures", RESPONSE_HEADER, RESPONSE_ROW, other), [declared])
    columns = RESPONSE_HEADER.split(T)
    order = list(reversed(range(len(columns))))
    shuffled = [T.join(line.split(T)[i] for i in order) for line in (RESPONSE_HEADER, other, RESPONSE_ROW)]
    again = tmp_path / "again"
    again.mkdir()
    second = compile_table(write(again, "response-figures", *shuffled), [declared])
    assert set(first) == set(second) and len(first) > 0


def test_a_corrected_number_keeps_the_row_iri(tmp_path, declared):
    """Numbers are not part of a row's identity: fixing a typo in a count does not rename the figure."""
    before = compile_table(write(tmp_path, "response-figures", RESPONSE_HEADER, RESPONSE_ROW), [declared])
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    after = compile_table(write(fixed, "response-figures", RESPONSE_HEADER, RESPONSE_ROW.replace(f"{T}8{T}", f"{T}7{T}")),
                          [declared])
    assert subjects_of(before, "ResponseFigure") == subjects_of(after, "ResponseFigure")


# --- a bad row is one error at file:line:column, exit 2 -------------------------------------------

BAD_ROWS = {
    "unknown column": ([RESPONSE_HEADER.replace("numerator", "responders"), RESPONSE_ROW], 1, 23, "unknown column 'responders'"),
    "bad number": ([RESPONSE_HEADER, RESPONSE_ROW.replace(f"{T}8{T}", f"{T}8.5{T}")], 2, 47, "'8.5' is not a whole number"),
    "bad percentage": ([RESPONSE_HEADER, RESPONSE_ROW.replace("72.7", "about 70")], 2, 52, "'about 70' is not a number"),
    "bad time point": ([RESPONSE_HEADER, RESPONSE_ROW.replace("30 day", "day 30")], 2, 40, "is not a number and a unit"),
    "unknown CURIE": ([RESPONSE_HEADER, RESPONSE_ROW.replace("carnkkg:trial", "carnkkg:no-such-trial")], 2, 1,
                      "carnkkg:no-such-trial is not declared"),
    "unknown prefix": ([RESPONSE_HEADER, RESPONSE_ROW.replace("carnkkg:paper", "nope:paper")], 2, 57,
                       "'nope:paper' is not a CURIE or <IRI>"),
    "wrong type": ([RESPONSE_HEADER, RESPONSE_ROW.replace("carnkkg:overall-response", "carnkkg:paper")], 2, 15,
                   "carnkkg:paper is not of type"),
    "missing source": ([RESPONSE_HEADER, RESPONSE_ROW.replace("carnkkg:paper", "")], 2, 57, "column 'source' must not be empty"),
    "missing locator": ([RESPONSE_HEADER, RESPONSE_ROW.replace("table 2", "")], 2, 71, "column 'locator' must not be empty"),
    "missing required column": ([RESPONSE_HEADER.replace(f"{T}locator", ""), RESPONSE_ROW.rsplit(T, 1)[0]], 1, 1,
                                "required column 'locator' is missing"),
    "duplicate row": ([RESPONSE_HEADER, RESPONSE_ROW, RESPONSE_ROW.replace(f"{T}8{T}", f"{T}7{T}")], 3, 1,
                      "duplicate row: the same figure"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS), ids=str)
def test_a_bad_row_is_one_error_naming_file_line_and_column(tmp_path, declared, case):
    lines, line, column, fragment = BAD_ROWS[case]
    path = write(tmp_path, "response-figures", *lines)
    with pytest.raises(CurationTableError) as info:
        compile_table(path, [declared])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:{column}: "), message
    assert fragment in message and "\n" not in message
    assert exit_code_for(info.value) == BAD_INPUT


def test_a_table_of_an_unknown_kind_is_refused(tmp_path, declared):
    with pytest.raises(CurationTableError, match="unknown curation table 'outcomes.tsv'"):
        compile_table(write(tmp_path, "outcomes", RESPONSE_HEADER, RESPONSE_ROW), [declared])


def test_every_table_of_the_project_is_of_a_known_kind():
    assert {p.stem for p in table_files(ROOT)} <= set(SPECS)


# --- the release does not depend on row order -------------------------------------------------------

def _reorder(table: Path) -> None:
    """Reverse a table's data rows and its columns (comments dropped)."""
    lines = [ln for ln in table.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    width = len(lines[0].split(T))
    flipped = [T.join(reversed((ln.split(T) + [""] * width)[:width])) for ln in lines]
    table.write_text("\n".join([flipped[0], *reversed(flipped[1:])]) + "\n", encoding="utf-8")


@pytest.mark.slow  # two builds of the real project; test_reordering_rows_and_columns_changes_nothing is the fast case
def test_reordering_the_project_tables_leaves_the_release_byte_identical(tmp_path):
    from carnk_graph.build import build

    tables = table_files(ROOT)
    if not tables:
        pytest.skip("the project has no curation tables")
    project = copy_project(ROOT, tmp_path / "project")
    build(project, tmp_path / "dist-a", no_reason=True)
    for table in table_files(project):
        _reorder(table)
    build(project, tmp_path / "dist-b", no_reason=True)
    a, b = release_snapshot(tmp_path / "dist-a"), release_snapshot(tmp_path / "dist-b")
    a.pop("build.json", None), b.pop("build.json", None)   # holds the (different) sources hash
    assert a == b
