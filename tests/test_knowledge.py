"""The knowledge itself: ontology header, terms, statements S1-S27, identifiers, provenance, reasoning.

Each test states one property the content must keep. The sources are parsed straight from the
repository (tests/knowledge_helpers.py), independent of the package's build.
"""
from __future__ import annotations

import csv
import importlib.metadata
import os
import re
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

import knowledge_helpers as kh

VANN = "http://purl.org/vocab/vann/"
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
ONTOLOGY = kh.ONTOLOGY_IRI

#: The only publication, trial and PubMed identifiers the project has verified (literature.md).
VERIFIED_DOIS = {"10.1056/NEJMoa1910607"}
VERIFIED_PMIDS = {"32023374"}
VERIFIED_NCTS = {"NCT03056339"}


def _verified_literature(kind: str) -> set[str]:
    """Identifiers of tests/data/verified-literature.tsv (the landscape's sources), one kind."""
    rows = [ln.split("\t") for ln in (kh.DATA / "verified-literature.tsv").read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
    return {r[1] for r in rows[1:] if r[0] == kind}


VERIFIED_DOIS |= _verified_literature("doi")
VERIFIED_PMIDS |= _verified_literature("pmid")
VERIFIED_NCTS |= _verified_literature("nct")
#: The PMID a stray citation gives for the same DOI: wrong, and never to be written anywhere.
STRAY_PMID = "32433173"

#: HGNC symbols verified by the reference table (symbols only; HGNC numeric IDs are not verified).
VERIFIED_GENE_SYMBOLS = {
    "KLRK1", "CD247", "IL15", "NCR1", "NCR2", "NCR3", "CD226", "KIR2DL1", "TNFRSF17", "ERBB2", "MSLN",
    "TNFRSF9", "HCST", "TYROBP", "IL15RA", "CISH", "CASP9", "FCGR3A", "KLRC1", "CD19", "CD33", "CD28",
    "CD244", "CD8A", "PDCD1", "NCAM1",
}

VERIFIED_IDS_FILE = kh.DATA / "verified-identifiers.tsv"


def verified_identifiers() -> dict[str, dict[str, str]]:
    """IRI -> row of tests/data/verified-identifiers.tsv (the verified rows of the reference table)."""
    with VERIFIED_IDS_FILE.open(encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {row["iri"]: row for row in rows}


def ontology_terms() -> list[URIRef]:
    """Every class, property and named individual the ontology defines in the carnk: namespace."""
    g = kh.ontology_graph()
    return sorted(s for s in g.subjects(RDFS.isDefinedBy, ONTOLOGY) if isinstance(s, URIRef))


def declared_carnk_entities() -> list[URIRef]:
    g = kh.ontology_graph()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)
    return sorted({s for k in kinds for s in g.subjects(RDF.type, k)
                   if isinstance(s, URIRef) and str(s).startswith(kh.CARNK)
                   and not str(s).startswith((kh.KG, kh.SHAPES))})


def short(iri) -> str:
    return str(iri).replace(kh.KG, "carnkkg:").replace(kh.CARNK, "carnk:")


# --- the ontology header --------------------------------------------------------------------------

HEADER_FIELDS = [
    (OWL.versionIRI, URIRef("https://w3id.org/carnk/ontology/0.1.0")),
    (OWL.versionInfo, None),
    (DCTERMS.title, None),
    (DCTERMS.description, None),
    (DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")),
    (DCTERMS.creator, None),
    (URIRef(VANN + "preferredNamespacePrefix"), Literal("carnk")),
    (URIRef(VANN + "preferredNamespaceUri"), Literal("https://w3id.org/carnk/")),
]


def test_the_ontology_declares_itself_once():
    assert list(kh.ontology_graph().subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY]


@pytest.mark.parametrize("field,expected", HEADER_FIELDS, ids=[short(f).split("/")[-1].split("#")[-1] for f, _ in HEADER_FIELDS])
def test_the_ontology_header_has(field, expected):
    values = list(kh.ontology_graph().objects(ONTOLOGY, field))
    assert len(values) == 1, f"{field} must appear exactly once on the ontology header"
    if expected is not None:
        assert values[0] == expected


def test_the_version_iri_ends_with_the_version_info():
    g = kh.ontology_graph()
    assert str(g.value(ONTOLOGY, OWL.versionIRI)).endswith("/" + str(g.value(ONTOLOGY, OWL.versionInfo)))


def test_the_version_info_is_the_package_version():
    try:
        version = importlib.metadata.version("carnk-graph")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("carnk-graph is not installed")
    assert str(kh.ontology_graph().value(ONTOLOGY, OWL.versionInfo)) == version


# --- every Turtle source parses strictly ---------------------------------------------------------

def turtle_sources() -> list[Path]:
    fixtures = [*sorted((kh.DATA / "shapes").glob("*/*.ttl")), *sorted((kh.DATA / "checks").glob("*.ttl")),
                *sorted((kh.DATA / "reasoning").glob("*.ttl"))]
    return [kh.ONTOLOGY_FILE, *kh.kg_files(), *kh.shape_files(), *fixtures]


@pytest.mark.parametrize("path", turtle_sources(), ids=lambda p: str(p.relative_to(kh.REPO)))
def test_every_turtle_source_parses_strictly_with_oxigraph(path):
    import pyoxigraph

    triples = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(triples) == len(kh.parse(path))


# --- terms: one label, one definition, readable labels --------------------------------------------

@pytest.mark.parametrize("term", declared_carnk_entities(), ids=short)
def test_every_declared_carnk_entity_is_defined_by_the_ontology(term):
    assert (term, RDFS.isDefinedBy, ONTOLOGY) in kh.ontology_graph()


@pytest.mark.parametrize("term", ontology_terms(), ids=short)
def test_every_term_has_exactly_one_english_label(term):
    labels = list(kh.ontology_graph().objects(term, RDFS.label))
    assert len(labels) == 1 and labels[0].language == "en", labels


@pytest.mark.parametrize("term", ontology_terms(), ids=short)
def test_every_term_has_exactly_one_english_definition(term):
    definitions = list(kh.ontology_graph().objects(term, SKOS.definition))
    assert len(definitions) == 1 and definitions[0].language == "en", definitions


@pytest.mark.parametrize("term", ontology_terms(), ids=short)
def test_every_label_is_a_lower_case_noun_phrase_keeping_acronyms(term):
    label = str(kh.ontology_graph().value(term, RDFS.label))
    first = label.split()[0].split("-")[0]
    assert first[:1].islower() or first.isupper(), f"{label!r} should start lower-case unless an acronym"


def test_classes_are_upper_camel_case_and_properties_lower_camel_case():
    g = kh.ontology_graph()
    for term in ontology_terms():
        local = str(term)[len(kh.CARNK):]
        assert re.fullmatch(r"[A-Za-z0-9]+", local), local
        if (term, RDF.type, OWL.Class) in g:
            assert local[0].isupper(), f"class {local} should be UpperCamelCase"
        if any((term, RDF.type, k) in g for k in (OWL.ObjectProperty, OWL.DatatypeProperty)):
            assert local[0].islower(), f"property {local} should be lowerCamelCase"


@pytest.mark.parametrize("prop", [p for p in ontology_terms()
                                  if (p, RDF.type, OWL.ObjectProperty) in kh.ontology_graph()
                                  or (p, RDF.type, OWL.DatatypeProperty) in kh.ontology_graph()], ids=short)
def test_every_property_is_used_or_defined_with_a_domain_or_range(prop):
    g = kh.knowledge_graph()
    used = next(g.subject_objects(prop), None) is not None
    typed = g.value(prop, RDFS.domain) is not None or g.value(prop, RDFS.range) is not None
    assert used or typed, f"{short(prop)} is neither used nor given a domain or range"


# --- the statements of the domain overview ------------------------------------------------------

def statement_table() -> list[tuple[str, str]]:
    with (kh.DATA / "statements.tsv").open(encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return [(row["id"], row["ask"]) for row in rows]


def test_the_statement_table_covers_s1_to_s27_once_each():
    assert [sid for sid, _ in statement_table()] == [f"S{n}" for n in range(1, 28)]


@pytest.mark.parametrize("sid,ask", statement_table(), ids=[s for s, _ in statement_table()])
def test_every_statement_is_represented(sid, ask):
    from carnk_graph.namespaces import sparql_prologue

    assert kh.knowledge_graph().query(sparql_prologue() + ask).askAnswer, f"{sid} is not represented"


@pytest.mark.parametrize("sid", [f"S{n}" for n in range(1, 28)])
def test_every_statement_pointer_is_carried_by_some_fact(sid):
    assert (None, URIRef(kh.CARNK + "statement"), Literal(sid)) in kh.kg_graph()


def test_the_two_complete_response_claims_disagree_and_keep_their_sources():
    q = """
    SELECT ?source ?n WHERE {
      ?o a carnk:ClinicalOutcome ; carnk:study carnkkg:nct03056339 ;
         carnk:endpoint carnkkg:complete-response ; carnk:patientsWithOutcome ?n ; carnk:source ?source .
    }"""
    from carnk_graph.namespaces import sparql_prologue

    claims = {(short(r.source), int(r.n)) for r in kh.knowledge_graph().query(sparql_prologue() + q)}
    assert claims == {("carnkkg:domain-overview", 8), ("carnkkg:liu2020", 7)}


# --- provenance and structure of the knowledge graph -------------------------------------------------

def kg_individuals() -> list[URIRef]:
    return sorted({s for s in kh.kg_graph().subjects(RDF.type, None) if isinstance(s, URIRef)})


@pytest.mark.parametrize("path", kh.kg_files(), ids=lambda p: p.name)
def test_knowledge_graph_files_have_no_blank_nodes(path):
    g = kh.parse(path)
    assert not [t for t in g if any(isinstance(x, BNode) for x in t)]


@pytest.mark.parametrize("path", kh.kg_files(), ids=lambda p: p.name)
def test_knowledge_graph_files_only_describe_carnkkg_individuals(path):
    subjects = {s for s in kh.parse(path).subjects()}
    assert all(str(s).startswith(kh.KG) for s in subjects), sorted(s for s in subjects if not str(s).startswith(kh.KG))


@pytest.mark.parametrize("individual", kg_individuals(), ids=short)
def test_every_individual_has_a_source(individual):
    sources = list(kh.kg_graph().objects(individual, URIRef(kh.CARNK + "source")))
    assert sources, f"{short(individual)} has no carnk:source"
    g = kh.knowledge_graph()
    for s in sources:
        assert any((s, RDF.type, URIRef(kh.CARNK + c)) in g
                   for c in ("SourceDocument", "Publication", "RegistryRecord", "TerminologyEntry"))


@pytest.mark.parametrize("individual", kg_individuals(), ids=short)
def test_every_individual_has_exactly_one_english_label(individual):
    labels = list(kh.kg_graph().objects(individual, RDFS.label))
    assert len(labels) == 1 and labels[0].language == "en"


def test_the_liu_2020_publication_carries_its_verified_identifiers():
    g = kh.kg_graph()
    liu = URIRef(kh.KG + "liu2020")
    assert str(g.value(liu, URIRef(kh.CARNK + "doi"))) == "10.1056/NEJMoa1910607"
    assert str(g.value(liu, URIRef(kh.CARNK + "pmid"))) == "32023374"
    assert str(g.value(URIRef(kh.KG + "nct03056339"), URIRef(kh.CARNK + "nctId"))) == "NCT03056339"


def test_the_liu_2020_construct_lists_only_verified_domains_in_order():
    from carnk_graph.namespaces import sparql_prologue

    q = """SELECT ?pos ?domain WHERE { carnkkg:liu2020-car carnk:hasDomainAt ?p .
           ?p carnk:position ?pos ; carnk:domain ?domain } ORDER BY ?pos"""
    rows = [(int(r.pos), short(r.domain)) for r in kh.knowledge_graph().query(sparql_prologue() + q)]
    assert rows == [(1, "carnkkg:anti-cd19-scfv"), (2, "carnkkg:cd28-costimulatory-domain"),
                    (3, "carnkkg:cd3zeta-activation-domain")]


def test_payloads_are_not_car_domains():
    g = kh.kg_graph()
    domains = set(g.objects(None, URIRef(kh.CARNK + "domain")))
    assert not domains & {URIRef(kh.KG + "il-15"), URIRef(kh.KG + "inducible-caspase-9")}


# --- identifiers: only verified ones ------------------------------------------------------------

def used_external_iris() -> set[str]:
    g = kh.knowledge_graph()
    return {str(x) for t in g for x in t if kh.is_external(x)}


@pytest.mark.parametrize("iri", sorted(used_external_iris()))
def test_every_external_iri_is_a_verified_identifier(iri):
    assert iri in verified_identifiers(), f"{iri} is not in the verified reference table"


@pytest.mark.parametrize("iri", sorted(used_external_iris()))
def test_every_external_iri_is_a_row_of_the_mapping_table(iri):
    assert (None, None, URIRef(iri)) in kh.mappings_graph()


@pytest.mark.parametrize("row", kh.sssom()[1], ids=lambda r: f"{r['subject_id']}>{r['object_id']}")
def test_every_mapping_row_is_a_triple_of_the_graph(row):
    triple = (kh.expand(row["subject_id"]), kh.expand(row["predicate_id"]), kh.expand(row["object_id"]))
    assert triple in kh.knowledge_graph()


@pytest.mark.parametrize("row", kh.sssom()[1], ids=lambda r: f"{r['subject_id']}>{r['object_id']}")
def test_every_mapping_row_cites_the_verified_label_and_evidence(row):
    ref = verified_identifiers()[str(kh.expand(row["object_id"]))]
    assert row["object_label"] == ref["label_in_source"]
    assert row["comment"] == ref["evidence"]
    assert row["mapping_justification"] == "semapv:ManualMappingCuration"
    assert row["subject_label"] == kh.label_of(kh.knowledge_graph(), kh.expand(row["subject_id"]))


def test_the_mapping_table_has_the_sssom_columns():
    _, rows = kh.sssom()
    assert list(rows[0]) == ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                             "mapping_justification", "comment"]


def all_strings() -> list[str]:
    g = kh.knowledge_graph()
    return [str(x) for t in g for x in t if isinstance(x, (Literal, URIRef))]


def test_no_doi_but_the_verified_one_is_written():
    found = {m for s in all_strings() for m in re.findall(r"10\.\d{4,9}/[^\s\"<>]+", s)}
    assert found <= VERIFIED_DOIS, found - VERIFIED_DOIS


def test_no_nct_number_but_the_verified_one_is_written():
    found = {m for s in all_strings() for m in re.findall(r"NCT\d{8}", s)}
    assert found <= VERIFIED_NCTS, found - VERIFIED_NCTS


def test_no_pubmed_identifier_but_the_verified_one_is_written():
    literals = [str(x) for t in kh.knowledge_graph() for x in t if isinstance(x, Literal)]
    found = {m for s in literals for m in re.findall(r"(?<![\w.-])\d{7,8}(?![\w.-])", s)}
    assert found <= VERIFIED_PMIDS, found - VERIFIED_PMIDS


def test_the_stray_pmid_is_written_nowhere():
    text = "\n".join(p.read_text(encoding="utf-8") for p in [kh.ONTOLOGY_FILE, kh.MAPPINGS_FILE, *kh.kg_files()])
    assert STRAY_PMID not in text


def test_no_hgnc_numeric_identifier_is_written():
    assert not [s for s in all_strings() if re.search(r"HGNC:\d", s)]


def test_no_curie_of_an_unverified_identifier_is_written_in_text():
    verified = {row["curie"] for row in verified_identifiers().values()}
    found = {m for s in all_strings() for m in re.findall(r"\b(?:CL|NCIT|MONDO|UBERON|EFO|PR|GO|CHEBI|UO|CVCL):?_?[A-Z]?\d{4,}", s)}
    # IRIs contain CURIE-like local names (CL_0000623); only bare CURIEs in text count
    found = {f for f in found if ":" in f}
    assert found <= verified, found - verified


@pytest.mark.parametrize("symbol", sorted({str(o) for o in kh.kg_graph().objects(None, URIRef(kh.CARNK + "geneSymbol"))}))
def test_every_gene_symbol_is_a_verified_hgnc_symbol(symbol):
    assert symbol in VERIFIED_GENE_SYMBOLS


# --- reasoning: what HermiT must conclude, and what it must refuse ----------------------------------

requires_java = pytest.mark.skipif(not kh.java_available(), reason="HermiT needs a Java runtime")

#: (individual, class) pairs that no curator asserts and HermiT must derive.
INFERRED_ONLY = [
    ("car-nk-cell", "CARNKCell"),
    ("car-t-cell", "CARTCell"),
    ("liu2020-car-nk-cells", "CARNKCell"),
    ("allogeneic-car-nk-product", "OffTheShelfCapableProduct"),
    ("allogeneic-car-nk-product", "AllogeneicProduct"),
    ("allogeneic-car-nk-product", "ProductWithoutHLAMatchingRequirement"),
    ("liu2020-product", "AllogeneicProduct"),
    ("liu2020-product", "ProductWithoutHLAMatchingRequirement"),
    ("autologous-car-t-product", "AutologousProduct"),
    # issue 12.5: an autologous product never needs HLA matching (donor and recipient are one person)
    ("autologous-car-t-product", "ProductWithoutHLAMatchingRequirement"),
    ("liu2020-car", "SecondGenerationCAR"),
    ("nkg2d", "ActivatingNKReceptor"),
    ("cd16", "ActivatingNKReceptor"),
    ("kir2dl1", "InhibitoryNKReceptor"),
    ("nkg2a", "InhibitoryNKReceptor"),
    ("car-mediated-recognition", "MHCIndependentRecognitionMechanism"),
    ("liu2020-tox-crs-paper", "NegativeToxicityFinding"),
    ("car-nk-cell-therapy", "Immunotherapy"),
]

#: (individual, class) pairs HermiT must not derive (the facts for them are deliberately absent).
NOT_INFERRED = [
    ("liu2020-product", "OffTheShelfCapableProduct"),
    ("nk-cell", "CARNKCell"),
]


@pytest.fixture(scope="module")
def reasoned():
    if not kh.java_available():
        pytest.skip("HermiT needs a Java runtime")
    consistent, world, unsat = kh.hermit(kh.knowledge_graph())
    return consistent, world, unsat


@requires_java
def test_hermit_finds_the_ontology_and_knowledge_graph_consistent(reasoned):
    consistent, _, unsat = reasoned
    assert consistent
    assert [c for c in unsat if c != str(OWL.Nothing)] == []


@requires_java
@pytest.mark.parametrize("individual,cls", INFERRED_ONLY, ids=[f"{i}->{c}" for i, c in INFERRED_ONLY])
def test_hermit_derives_a_type_the_curators_did_not_assert(reasoned, individual, cls):
    _, world, _ = reasoned
    iri, cls_iri = kh.KG + individual, kh.CARNK + cls
    assert (URIRef(iri), RDF.type, URIRef(cls_iri)) not in kh.kg_graph(), "asserted, not inferred"
    assert cls_iri in kh.types_of(world, iri)


@requires_java
@pytest.mark.parametrize("individual,cls", NOT_INFERRED, ids=[f"{i}-/->{c}" for i, c in NOT_INFERRED])
def test_hermit_does_not_derive_what_the_sources_do_not_support(reasoned, individual, cls):
    _, world, _ = reasoned
    assert kh.CARNK + cls not in kh.types_of(world, kh.KG + individual)


@requires_java
@pytest.mark.parametrize("fixture", ["contradiction.ttl", "contradiction-donor-setting.ttl"])
def test_a_contradiction_makes_the_ontology_inconsistent(fixture):
    consistent, _, _ = kh.hermit(kh.knowledge_graph() + kh.parse(kh.DATA / "reasoning" / fixture))
    assert not consistent


@requires_java
def test_a_class_under_two_disjoint_classes_is_unsatisfiable():
    consistent, _, unsat = kh.hermit(kh.knowledge_graph() + kh.parse(kh.DATA / "reasoning" / "unsatisfiable.ttl"))
    assert consistent
    assert kh.CARNK + "NKTHybridCell" in unsat


@pytest.mark.parametrize("pair", [(OWL.disjointWith, kh.CARNK + "NKCell", kh.CARNK + "TCell"),
                                  (OWL.disjointWith, kh.CARNK + "AllogeneicProduct", kh.CARNK + "AutologousProduct")],
                         ids=["NKCell-TCell", "Allogeneic-Autologous"])
def test_the_ontology_declares_the_disjointness_the_fixtures_rely_on(pair):
    p, a, b = pair
    assert (URIRef(a), p, URIRef(b)) in kh.ontology_graph()


def test_the_ontology_and_knowledge_graph_are_in_the_owl2_dl_profile(tmp_path):
    import shutil
    import subprocess

    import owlready2

    javac = shutil.which("javac")
    if javac is None or not kh.java_available():
        pytest.skip("the OWL 2 DL profile check needs a Java compiler")
    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    shutil.copy(kh.DATA / "owl2dl" / "DLProfileCheck.java", tmp_path)
    subprocess.run([javac, "-cp", str(jar), "DLProfileCheck.java"], cwd=tmp_path, check=True, capture_output=True)
    kh.knowledge_graph().serialize(tmp_path / "carnk.owl", format="xml")
    out = subprocess.run(["java", "-cp", f"{jar}{os.pathsep}{tmp_path}", "DLProfileCheck", str(tmp_path / "carnk.owl")],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "in profile", out.stdout + out.stderr


def test_the_ontology_stays_free_of_datatypes_hermit_cannot_read():
    # HermiT accepts only the OWL 2 datatype map; xsd:date, for one, stops it (use an annotation).
    g = kh.knowledge_graph()
    allowed_outside = {RDFS.label, SKOS.definition, DCTERMS.date, DCTERMS.created}
    bad = [(short(s), short(p)) for s, p, o in g if isinstance(o, Literal) and o.datatype == XSD_DATE
           and p not in allowed_outside]
    assert bad == []
