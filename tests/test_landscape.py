"""The clinical landscape (issue 13): programmes, publications, figures and edits, as a researcher asks.

Each test states one promise of the landscape and checks it on the shipped graph (Turtle plus the
compiled curation tables) or on the answers of the saved questions over the built release.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import RDF, RDFS, SKOS

import knowledge_helpers as kh
from carnk_graph import catalogue as C
from carnk_graph import engines as E
from carnk_graph import queries as Q

CARNK = "https://w3id.org/carnk/"
KG = kh.KG
QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"

#: The edits and armours issue 13 names, each of which must be a term with a purpose.
NAMED_EDITS = ("IL15Secretion", "IL15ReceptorFusion", "HighAffinityNonCleavableCD16", "CISHKnockout",
               "CD38Knockout", "TGFBR2Knockout", "InducibleCaspase9Switch")

#: Properties that hold a number a source reports about a study.
NUMBER_PROPERTIES = ("numerator", "denominator", "percentage", "medianValue", "patientCount",
                     "patientsAffected", "patientsAssessed", "patientsWithOutcome", "patientsEvaluated",
                     "doseAmount")


def c(local: str) -> URIRef:
    return URIRef(CARNK + local)


@pytest.fixture(scope="module")
def answers(built):
    engine = E.open_engine("oxigraph", built.dist)

    def run(name: str):
        return Q.execute(C.resolve(name, QUERIES_DIR), engine)
    return run


def values(result, column: str) -> list[str]:
    i = result.variables.index(column)
    return [row[i].value if row[i] is not None else None for row in result.rows]


# --- the landscape is there --------------------------------------------------------------------------

def test_at_least_twelve_clinical_programmes_have_a_registry_record_or_a_publication(answers):
    result = answers("clinical-programmes")
    programmes = set(zip(values(result, "study"), values(result, "product")))
    assert len(programmes) >= 12


def test_every_programme_of_a_car_nk_product_names_its_target_antigen(answers):
    result = answers("clinical-programmes")
    rows = zip(values(result, "product"), values(result, "therapyType"), values(result, "antigen"))
    assert [p for p, t, a in rows if t == KG + "car-nk-cell-therapy" and a is None] == []


def test_every_publication_has_a_doi_and_the_landscape_cites_many():
    g = kh.knowledge_graph()
    publications = set(g.subjects(RDF.type, c("Publication")))
    assert all(g.value(p, c("doi")) is not None for p in publications)
    assert len(publications) >= 14


# --- every number is traceable ---------------------------------------------------------------------

def test_every_number_about_a_study_has_a_source_and_says_where_in_it():
    g = kh.knowledge_graph()
    holders = {s for p in NUMBER_PROPERTIES for s in g.subjects(c(p), None)}
    assert holders, "no figures found"
    unsourced = [s for s in holders if g.value(s, c("source")) is None]
    unlocated = [s for s in holders if g.value(s, c("locator")) is None and g.value(s, c("statement")) is None
                 and (s, RDF.type, c("ClinicalOutcome")) not in g]
    assert unsourced == [] and unlocated == []


def test_the_curation_tables_give_figures_of_every_kind():
    g = kh.kg_graph()
    for cls in ("ResponseFigure", "SurvivalFigure", "PatientCountFigure", "DoseLevel"):
        assert any(g.subjects(RDF.type, c(cls))), cls
    assert any(g.subjects(c("minimumGrade"), None))


# --- edits and why --------------------------------------------------------------------------------------

@pytest.mark.parametrize("edit", NAMED_EDITS)
def test_each_named_edit_is_a_term_with_a_definition_and_a_sourced_purpose(edit):
    g = kh.knowledge_graph()
    term = c(edit)
    assert g.value(term, RDFS.label) is not None and g.value(term, SKOS.definition) is not None
    rationales = list(g.subjects(c("modification"), term))
    assert rationales, f"{edit}: no source says what it is for"
    assert all(g.value(r, c("purpose")) is not None and g.value(r, c("locator")) is not None for r in rationales)


def test_the_edits_question_says_why_ft576_carries_a_cd38_knockout(answers):
    result = answers("edits-by-product")
    rows = list(zip(values(result, "product"), values(result, "edit"), values(result, "purpose")))
    assert any(p == KG + "ft576" and e == CARNK + "CD38Knockout" and why for p, e, why in rows)


# --- outcomes, safety and disagreements ------------------------------------------------------------------

def test_the_outcome_table_keeps_a_percentage_at_its_time_point(answers):
    result = answers("outcome-table")
    rows = zip(values(result, "source"), values(result, "timePoint"), values(result, "percentage"))
    assert (KG + "marin2024", "30", "48.6") in set(rows)


def test_the_outcome_table_keeps_both_sources_of_the_disputed_figure(answers):
    result = answers("outcome-table")
    rows = set(zip(values(result, "kind"), values(result, "source"), values(result, "numerator")))
    assert (KG + "complete-response", KG + "domain-overview", "8") in rows
    assert (KG + "complete-response", KG + "liu2020", "7") in rows


def test_safety_counts_roll_icans_up_to_neurotoxicity_and_keep_zero_counts(answers):
    result = answers("safety-counts-car-nk-vs-car-t")
    rows = set(zip(values(result, "study"), values(result, "toxicityGroup"), values(result, "toxicity"),
                   values(result, "affected"), values(result, "assessed")))
    assert (KG + "nct03383978", "neurotoxicity", KG + "icans", "0", "9") in rows


def test_the_disagreement_question_finds_the_overviews_eight_of_eleven(answers):
    result = answers("overview-literature-disagreements")
    rows = set(zip(values(result, "overviewSays"), values(result, "literatureSays"), values(result, "source")))
    assert ("8 of 11", "7 of 11", KG + "liu2020") in rows


# --- the README's example is a working row ----------------------------------------------------------------

def test_the_readmes_table_row_compiles_into_the_figure_it_describes(tmp_path):
    from carnk_graph.tables import compile_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("`ontology/tables/response-figures.tsv`", 1)[1].split("```", 2)[1]
    table = tmp_path / "response-figures.tsv"
    table.write_text(block.strip("\n") + "\n", encoding="utf-8")
    g = compile_table(table, [kh.ontology_graph(), kh.kg_graph()])
    [figure] = list(g.subjects(RDF.type, c("ResponseFigure")))
    assert g.value(figure, c("numerator")).value == 5 and g.value(figure, c("denominator")).value == 9
    assert g.value(figure, c("study")) == URIRef(KG + "nct03383978")
