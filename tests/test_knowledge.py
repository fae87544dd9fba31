"""The knowledge itself: ontology header, terms, statements S1-S27, identifiers, provenance, reasoning.

Each test states one property the content must keep. The sources are parsed straight from the
repository (tests/knowledge_helpers.py), independent of the package's build.
"""
from __future__ import annotations

import csv
import functools
import importlib.metadata
import os
import re
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

import knowledge_helpers as kh
from lanes import few_fast, representative_shapes

VANN = "http://purl.org/vocab/vann/"
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
ONTOLOGY = kh.ONTOLOGY_IRI

#: The only publication, trial and PubMed identifiers the project has verified: literature.md, and
#: those read in stored copies of publisher, PubMed, PMC or registry pages (research notes R1-R3 and
#: the curators' own look-ups, issue 12.14). Adding one here needs a page where it was read.
VERIFIED_DOIS = {
    "10.1056/NEJMoa1910607",            # Liu 2020 (literature.md)
    "10.1038/leu.2017.226",             # Liu 2018 (R1: publisher abstract)
    "10.1186/s13046-022-02327-z",       # Pan 2022 review, table 4 (R1: journal page)
    "10.1182/blood-2014-07-592881",     # Shah 2015 (R1: PubMed record)
    "10.1038/s41375-020-01056-6",       # Zhang 2021 (R1: PMC header)
    "10.1182/blood.2023020023",         # Del Bufalo 2023 (R1: dissem.in record)
    "10.1158/1078-0432.CCR-16-2981",    # Dolstra 2017 (R1: reference list)
    "10.1093/neuonc/noad087",           # Burger 2023 (R3: PubMed-derived record)
    "10.1016/S0140-6736(24)02462-0",    # Ghobadi 2025 (R2: PubMed mirror)
    "10.1016/j.stem.2018.06.002",       # Li 2018 (R2: Cell Press page)
    "10.1186/s13045-020-00998-9",       # Yilmaz 2020 review (PMC page header)
    "10.3389/fimmu.2020.584099",        # Zhao 2020 review (PMC page header)
    "10.1186/s12967-022-03437-0",       # J Transl Med 2022 review (journal table pages)
    "10.1186/s13045-018-0677-2",        # J Hematol Oncol 2018 review (journal figure page)
    "10.1007/s11864-021-00920-6",       # Khurana 2022 review (CORD-19 record)
}
VERIFIED_PMIDS = {"32023374", "25452614", "33077866", "37148198", "39798981", "33287875", "33193399"}
VERIFIED_NCTS = {"NCT03056339", "NCT01287104", "NCT05182073", "NCT02944162"}


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


def strict_parse_in_fast_lane(path: Path) -> bool:
    """Every shipped source and check or reasoning fixture; of the shape fixtures, those of the shapes
    the fast lane validates (tests/lanes.py), the other three hundred in the full run."""
    shape_fixtures = kh.DATA / "shapes"
    return not path.is_relative_to(shape_fixtures) or path.parent.name in representative_shapes()


@pytest.mark.parametrize("path", few_fast(turtle_sources(), strict_parse_in_fast_lane,
                                          ids=lambda p: str(p.relative_to(kh.REPO))))
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


def test_the_liu_2020_construct_lists_every_domain_in_its_true_position():
    """Issue 12.6: scFv 1, IgG1 CH2-CH3 spacer 2, CD28 transmembrane 3, CD28 4, CD3-zeta 5 (literature L23)."""
    from carnk_graph.namespaces import sparql_prologue

    q = """SELECT ?pos ?domain WHERE { carnkkg:liu2020-car carnk:hasDomainAt ?p .
           ?p carnk:position ?pos ; carnk:domain ?domain } ORDER BY ?pos"""
    rows = [(int(r.pos), short(r.domain)) for r in kh.knowledge_graph().query(sparql_prologue() + q)]
    assert rows == [(1, "carnkkg:anti-cd19-scfv"), (2, "carnkkg:igg1-ch2ch3-spacer"),
                    (3, "carnkkg:cd28-transmembrane-domain"), (4, "carnkkg:cd28-costimulatory-domain"),
                    (5, "carnkkg:cd3zeta-activation-domain")]


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
    # a PubMed identifier is text; a number (a dose of 1e7 cells) is not one, nor is a count of cells
    # in a label ("dose level 30000000 cells"), nor the local part of a CURIE (CL:0000084)
    literals = [str(x) for t in kh.knowledge_graph() for x in t
                if isinstance(x, Literal) and (x.datatype is None or str(x.datatype).endswith("#string"))]
    found = {m for s in literals for m in re.findall(r"(?<![\w.:-])\d{7,8}(?![\w.-])(?!\s*cells)", s)}
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

def requires_java(test):
    """HermiT starts a JVM: skipped without Java, and slow (`pytest -m "not slow"` leaves it out)."""
    return pytest.mark.slow(pytest.mark.skipif(not kh.java_available(), reason="HermiT needs a Java runtime")(test))

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


@pytest.mark.slow  # runs javac and a JVM
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


# --- issue 12: right answers and traceable sources (one test, or more, per point) -------------------

def ask_saved(built, name: str, **params) -> list[dict[str, str]]:
    """A saved query's rows on the built release, IRIs shortened to carnkkg:/carnk: names."""
    return [dict(row) for row in _asked(built.dist, name, tuple(sorted(params.items())))]


@functools.lru_cache(maxsize=None)
def _asked(dist: Path, name: str, params: tuple) -> tuple:
    """Each question asked once per session (safety-side-by-side alone takes a third of a second)."""
    import carnk_graph

    rows = carnk_graph.query(name, root=kh.REPO, dist=dist, **dict(params))
    return tuple({k: (short(v) if isinstance(v, str) else v) for k, v in row.items()} for row in rows)


def test_12_1_safety_rolls_icans_up_to_neurotoxicity_so_both_therapies_meet_on_one_row(built):
    rows = ask_saved(built, "safety-side-by-side")
    neuro = [r for r in rows if r["toxicity"] == "carnkkg:neurotoxicity"]
    assert neuro and all(r["therapyLevel"] == "carnk:Minimal" for r in neuro)
    assert {(r["comparatorToxicity"], r["comparatorLevel"]) for r in neuro} == {("carnkkg:icans", "carnk:Common")}
    assert "carnkkg:icans" not in {r["toxicity"] for r in rows}, "ICANS is reported on the neurotoxicity row"


def test_12_1_findings_on_neurotoxicity_include_the_icans_findings(built):
    rows = ask_saved(built, "findings-on-a-toxicity", toxicity="carnkkg:neurotoxicity")
    assert {"carnkkg:neurotoxicity", "carnkkg:icans"} <= {r["specificToxicity"] for r in rows}


def test_12_1_car_t_icans_meets_car_nk_neurotoxicity_when_compared(built):
    rows = ask_saved(built, "toxicities-common-with-one-therapy-rare-with-another",
                     other="carnkkg:car-nk-cell-therapy")
    assert ("carnkkg:neurotoxicity", "carnkkg:icans", "carnkkg:neurotoxicity", "carnk:Minimal") in {
        (r["toxicity"], r["therapyToxicity"], r["otherToxicity"], r["otherLevel"]) for r in rows}


def test_12_2_allogeneic_car_t_can_cause_gvhd_and_autologous_car_t_is_not_expected_to(built):
    rows = ask_saved(built, "safety-side-by-side")
    car_t_gvhd = {(r["comparatorLevel"], r["comparatorSetting"]) for r in rows
                  if r["toxicity"] == "carnkkg:graft-versus-host-disease"}
    assert car_t_gvhd == {("carnk:Rare", "carnk:Allogeneic"), ("carnk:NotExpected", "carnk:Autologous")}


@pytest.mark.parametrize("finding,affected,assessed", [("zhang2021-tox-gvhd", 2, 43), ("delbufalo2023-tox-gvhd", 1, 13)])
def test_12_2_donor_derived_car_t_studies_report_gvhd_with_their_counts(finding, affected, assessed):
    g, node = kh.kg_graph(), URIRef(kh.KG + finding)
    assert g.value(node, URIRef(kh.CARNK + "therapyType")) == URIRef(kh.KG + "car-t-cell-therapy")
    assert g.value(node, URIRef(kh.CARNK + "frequencyLevel")) == URIRef(kh.CARNK + "Observed")
    assert (int(g.value(node, URIRef(kh.CARNK + "patientsAffected"))),
            int(g.value(node, URIRef(kh.CARNK + "patientsAssessed")))) == (affected, assessed)


def test_12_3_the_overview_claim_that_all_car_t_is_autologous_meets_its_counter_claim(built):
    rows = ask_saved(built, "disagreeing-donor-setting-claims")
    assert {(r["claimSource"], r["claimSetting"], r["counterSetting"], r["counterSource"]) for r in rows} == {
        ("carnkkg:domain-overview", "carnk:Autologous", "carnk:Allogeneic", "carnkkg:zhang2021"),
        ("carnkkg:domain-overview", "carnk:Autologous", "carnk:Allogeneic", "carnkkg:delbufalo2023")}
    g = kh.kg_graph()
    approved = URIRef(kh.KG + "car-t-autologous-approved-products")
    assert g.value(approved, URIRef(kh.CARNK + "extent")) == URIRef(kh.CARNK + "ApprovedProducts")
    assert g.value(approved, URIRef(kh.CARNK + "donorSetting")) == URIRef(kh.CARNK + "Autologous")


def test_12_4_a_car_t_cell_keeps_its_t_cell_receptor_and_its_immune_branch(built):
    counts = {r["cellType"]: int(r["mechanisms"]) for r in ask_saved(built, "recognition-mechanism-count")}
    assert counts["carnkkg:car-t-cell"] == 2
    branches = {(r["cellType"], r["branch"]) for r in ask_saved(built, "immune-branch-of-cell-types")}
    assert ("carnkkg:car-t-cell", "carnkkg:adaptive-immune-system") in branches


def test_12_5_an_autologous_product_is_never_reported_as_needing_hla_matching_and_unknown_is_not_false(built):
    rows = {r["product"]: r for r in ask_saved(built, "hla-matching-by-product")}
    assert rows["carnkkg:autologous-car-t-product"]["noMatchingNeeded"] is True
    assert all(r["noMatchingNeeded"] is not False for r in rows.values()
               if r["requiresHLAMatching"] is None), "false only where a source says matching is needed"


def test_12_7_the_nk_gvhd_statement_is_a_general_claim_with_a_published_caveat():
    g = kh.kg_graph()
    claim = URIRef(kh.KG + "tox-nk-allogeneic-gvhd")
    assert g.value(claim, URIRef(kh.CARNK + "frequencyLevel")) == URIRef(kh.CARNK + "NotExpected")
    assert g.value(claim, URIRef(kh.CARNK + "study")) is None
    caveats = list(g.subjects(URIRef(kh.CARNK + "caveatTo"), claim))
    assert caveats == [URIRef(kh.KG + "tox-nk-allogeneic-gvhd-shah2015")]
    assert g.value(caveats[0], URIRef(kh.CARNK + "source")) == URIRef(kh.KG + "shah2015")
    assert (int(g.value(caveats[0], URIRef(kh.CARNK + "patientsAffected"))),
            int(g.value(caveats[0], URIRef(kh.CARNK + "patientsAssessed")))) == (5, 9)


def test_12_7_not_observed_is_kept_for_study_findings():
    g = kh.kg_graph()
    for finding in g.subjects(URIRef(kh.CARNK + "frequencyLevel"), URIRef(kh.CARNK + "NotObserved")):
        assert g.value(finding, URIRef(kh.CARNK + "study")) is not None, short(finding)


def test_12_8_product_cells_inherit_what_is_stated_of_nk_cells(built):
    branches = {(r["cellType"], r["branch"], r["statedFor"]) for r in ask_saved(built, "immune-branch-of-cell-types")}
    assert ("carnkkg:liu2020-car-nk-cells", "carnkkg:innate-immune-system", "carnkkg:nk-cell") in branches
    assert ("carnkkg:car-nk-cell", "carnkkg:innate-immune-system", "carnkkg:nk-cell") in branches
    assert (URIRef(kh.KG + "car-nk-cell"), URIRef(kh.CARNK + "partOfImmuneBranch"), None) not in kh.kg_graph(), \
        "stated once for the kind, not restated for the sub-kind"


@pytest.mark.parametrize("receptor", ["kir2dl1", "nkg2a"])
def test_12_8_subset_receptors_are_not_stated_of_every_nk_cell(receptor):
    g, nk = kh.kg_graph(), URIRef(kh.KG + "nk-cell")
    assert (nk, URIRef(kh.CARNK + "expresses"), URIRef(kh.KG + receptor)) not in g
    assert (nk, URIRef(kh.CARNK + "expressedBySubset"), URIRef(kh.KG + receptor)) in g


def test_12_8_every_kind_level_individual_names_its_kind():
    g = kh.kg_graph()
    for rep, kind in g.subject_objects(URIRef(kh.CARNK + "representsKind")):
        assert (rep, RDF.type, kind) in g or (kind, OWL.equivalentClass, None) in kh.ontology_graph(), short(rep)


def test_12_9_a_car_construct_is_a_genetic_design_that_encodes_a_receptor():
    o, g = kh.ontology_graph(), kh.knowledge_graph()
    construct = URIRef(kh.CARNK + "CARConstruct")
    assert (construct, RDFS.subClassOf, URIRef(kh.CARNK + "GeneticConstruct")) in o
    assert URIRef(kh.CARNK + "Protein") not in set(g.transitive_objects(construct, RDFS.subClassOf))
    liu_car = URIRef(kh.KG + "liu2020-car")
    receptor = g.value(liu_car, URIRef(kh.CARNK + "encodesReceptor"))
    assert (receptor, RDF.type, URIRef(kh.CARNK + "ChimericAntigenReceptor")) in g
    cells = URIRef(kh.KG + "liu2020-car-nk-cells")
    assert (cells, URIRef(kh.CARNK + "expresses"), receptor) in g
    assert (cells, URIRef(kh.CARNK + "expresses"), liu_car) not in g


def test_12_9_payloads_are_carried_by_the_vector_construct_not_the_product():
    g = kh.kg_graph()
    vector = g.value(URIRef(kh.KG + "liu2020-product"), URIRef(kh.CARNK + "hasVectorConstruct"))
    assert set(g.objects(vector, URIRef(kh.CARNK + "hasPayload"))) == {URIRef(kh.KG + "il-15"), URIRef(kh.KG + "inducible-caspase-9")}
    assert (vector, URIRef(kh.CARNK + "carriesCARConstruct"), URIRef(kh.KG + "liu2020-car")) in g
    assert (URIRef(kh.KG + "liu2020-product"), URIRef(kh.CARNK + "hasPayload"), None) not in g


def test_12_10_dcmi_source_is_left_alone_and_data_use_the_local_subproperty():
    o = kh.ontology_graph()
    assert list(o.objects(DCTERMS.source, RDFS.range)) == [] and list(o.objects(DCTERMS.source, RDFS.domain)) == []
    assert (URIRef(kh.CARNK + "source"), RDFS.subPropertyOf, DCTERMS.source) in o
    assert (None, DCTERMS.source, None) not in kh.kg_graph()


def test_12_11_only_icans_is_a_toxic_encephalopathy():
    o = kh.ontology_graph()
    mondo = URIRef("http://purl.obolibrary.org/obo/MONDO_0005527")
    assert (URIRef(kh.CARNK + "ICANS"), RDFS.subClassOf, mondo) in o
    assert (URIRef(kh.CARNK + "Neurotoxicity"), RDFS.subClassOf, mondo) not in o


CELL_SOURCES = ["peripheral-blood", "umbilical-cord-blood", "induced-pluripotent-stem-cells", "nk-cell-lines",
                "hematopoietic-stem-cells"]


@pytest.mark.parametrize("source", CELL_SOURCES)
def test_12_12_every_cell_source_yields_nk_cells_and_has_a_sourced_donor_setting(source):
    g, node = kh.kg_graph(), URIRef(kh.KG + source)
    assert (node, URIRef(kh.CARNK + "yieldsCellType"), URIRef(kh.KG + "nk-cell")) in g
    options = list(g.subjects(URIRef(kh.CARNK + "cellSource"), node))
    options = [o for o in options if (o, RDF.type, URIRef(kh.CARNK + "SourceDonorSetting")) in g]
    assert options and all(g.value(o, URIRef(kh.CARNK + "source")) is not None for o in options)


@pytest.mark.parametrize("source,example", [("induced-pluripotent-stem-cells", "ghobadi2025"),
                                            ("nk-cell-lines", "burger2023"), ("hematopoietic-stem-cells", "dolstra2017")])
def test_12_12_the_literature_examples_of_each_source_are_cited(source, example):
    g = kh.kg_graph()
    options = [o for o in g.subjects(URIRef(kh.CARNK + "cellSource"), URIRef(kh.KG + source))]
    assert URIRef(kh.KG + example) in {s for o in options for s in g.objects(o, URIRef(kh.CARNK + "source"))}


def test_12_13_cd16_mediates_antibody_directed_recognition_not_innate_hla_regulated_recognition(built):
    rows = {(r["mechanism"], r["receptor"]) for r in ask_saved(built, "receptors-by-recognition-mechanism")}
    assert ("carnkkg:antibody-dependent-recognition", "carnkkg:cd16") in rows
    assert ("carnkkg:innate-receptor-recognition", "carnkkg:cd16") not in rows


def test_12_13_dap12_is_an_activation_domain():
    assert (URIRef(kh.KG + "dap12-signalling-domain"), RDF.type, URIRef(kh.CARNK + "ActivationDomain")) in kh.kg_graph()


@pytest.mark.parametrize("iri,acronym", [(kh.CARNK + "ICANS", "ICANS"), (kh.KG + "icans", "ICANS"),
                                         (kh.KG + "il-15", "IL-15"), (kh.KG + "pd-1", "PD-1"), (kh.KG + "bcma", "BCMA"),
                                         (kh.KG + "dnam-1", "DNAM-1"), (kh.CARNK + "doi", "DOI"), (kh.CARNK + "pmid", "PMID")])
def test_12_13_acronyms_are_synonyms_and_full_names_are_labels(iri, acronym):
    g = kh.knowledge_graph()
    assert str(g.value(URIRef(iri), RDFS.label)) != acronym
    assert Literal(acronym, lang="en") in set(g.objects(URIRef(iri), SKOS.altLabel))


def test_12_13_definitions_are_neither_circular_nor_mis_scoped():
    o = kh.ontology_graph()
    cell = str(o.value(URIRef(kh.CARNK + "Cell"), SKOS.definition))
    assert not cell.lower().startswith("a cell"), cell
    assert str(o.value(URIRef(kh.CARNK + "CellTherapy"), RDFS.label)) == "immune cell therapy"
    assert Literal("suicide gene", lang="en") not in set(o.objects(URIRef(kh.CARNK + "SafetySwitch"), SKOS.altLabel))


UNIDENTIFIABLE = ["textbook-background", "review-tables", "identifier-reference"]


@pytest.mark.parametrize("name", UNIDENTIFIABLE)
def test_12_14_no_fact_cites_an_unidentifiable_source(name):
    assert (None, URIRef(kh.CARNK + "source"), URIRef(kh.KG + name)) not in kh.kg_graph()
    assert (URIRef(kh.KG + name), None, None) not in kh.kg_graph()


def test_12_14_the_only_source_document_is_the_overview_and_curator_knowledge_is_marked():
    g = kh.kg_graph()
    assert set(g.subjects(RDF.type, URIRef(kh.CARNK + "SourceDocument"))) == {URIRef(kh.KG + "domain-overview")}
    curated = set(g.subjects(URIRef(kh.CARNK + "evidenceLevel"), URIRef(kh.CARNK + "CuratorInterpretation")))
    assert all(g.value(n, SKOS.note) is not None for n in curated), "curator knowledge says what the curators added"


def test_14_4_every_knowledge_graph_individual_is_declared_a_named_individual():
    g = kh.kg_graph()
    typed = {s for s in g.subjects(RDF.type, None) if str(s).startswith(kh.KG)}
    assert typed == {s for s in typed if (s, RDF.type, OWL.NamedIndividual) in g}


@pytest.mark.parametrize("level", ["StatedInSource", "SecondarySource", "CuratorInterpretation", "Uncertain"])
def test_12_the_readme_explains_every_evidence_level_and_when_curator_knowledge_is_allowed(level):
    text = (kh.REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Modelling and evidence"):text.index("## Asking questions")]
    assert f"`carnk:{level}`" in section
    assert "curator's own knowledge is allowed only" in section
    assert "carnk:representsKind" in section, "how kind-level truths are modelled (12.8)"
