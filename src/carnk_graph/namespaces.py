"""Every IRI base, prefix and named-graph name of the project, in one place.

Nothing else in the package spells out an IRI: change a base here and every
module, export and store follows.
"""
from __future__ import annotations

BASE = "https://w3id.org/carnk/"
CARNK = BASE                      # terms: classes and properties
KG = BASE + "kg/"                 # individuals and claims
SHAPES = BASE + "shapes/"         # SHACL shapes
ONTOLOGY_IRI = BASE + "ontology"
GRAPH_BASE = BASE + "graph/"
SKOLEM_BASE = BASE + ".well-known/genid/"

#: The named graphs of a release, in the order they are built and written.
GRAPH_NAMES = ("ontology", "kg", "inferred")
GRAPHS = {name: GRAPH_BASE + name for name in GRAPH_NAMES}


def version_iri(version: str) -> str:
    """The owl:versionIRI of a release: the ontology IRI plus the package version."""
    return f"{ONTOLOGY_IRI}/{version}"


def artefact_iri(file_name: str) -> str:
    """The ontology IRI of a release artefact (ODK's convention: the file name under the ontology IRI),
    e.g. https://w3id.org/carnk/ontology/carnk-base.owl."""
    return f"{ONTOLOGY_IRI}/{file_name}"


def artefact_version_iri(version: str, file_name: str) -> str:
    """The owl:versionIRI of a release artefact: its file name under the release's version IRI,
    e.g. https://w3id.org/carnk/ontology/0.1.0/carnk-base.owl."""
    return f"{version_iri(version)}/{file_name}"


#: Prefixes bound in every serialisation and available to every query.
PREFIXES: dict[str, str] = {
    "carnk": CARNK,
    "carnkkg": KG,
    "carnksh": SHAPES,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "sh": "http://www.w3.org/ns/shacl#",
    "obo": "http://purl.obolibrary.org/obo/",
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
    "uniprot": "http://purl.uniprot.org/uniprot/",
    "cellosaurus": "https://www.cellosaurus.org/",
    "efo": "http://www.ebi.ac.uk/efo/",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": "http://purl.org/vocab/vann/",
}

#: The vocabularies code builds IRIs in, by their usual short names (RDF + "type"), so that no
#: module keeps its own copies of PREFIXES["rdf"], PREFIXES["owl"], ...
RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
SKOS = PREFIXES["skos"]
DCTERMS = PREFIXES["dcterms"]
OBOINOWL = PREFIXES["oboInOwl"]

#: Namespaces an IRI of the graph may live in (a quality check enforces it).
ALLOWED_NAMESPACES: tuple[str, ...] = (
    CARNK,
    PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"], PREFIXES["xsd"],
    PREFIXES["skos"], PREFIXES["dcterms"], PREFIXES["sh"], PREFIXES["obo"],
    PREFIXES["oboInOwl"], PREFIXES["uniprot"], PREFIXES["cellosaurus"],
    PREFIXES["efo"], PREFIXES["prov"], PREFIXES["foaf"], PREFIXES["vann"],
    "https://doi.org/", "https://pubmed.ncbi.nlm.nih.gov/",
    "https://clinicaltrials.gov/study/", "https://creativecommons.org/licenses/",
)


_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def prefixed_name(iri: str) -> str | None:
    """`iri` as prefix:local (the longest matching namespace), or None when no namespace
    matches with a plain local name (letters, digits, _ . -), e.g. a DOI or a nested path."""
    import re

    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and re.fullmatch(r"[\w.\-]+", iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return None


def sparql_prologue() -> str:
    """PREFIX lines for every project prefix, for queries that omit them."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def compact_iri(iri: str) -> str:
    """A prefixed name for an IRI, else <IRI>: how people read an IRI in tables and messages."""
    return prefixed_name(iri) or f"<{iri}>"


def expand_prefixed(value: str, prefixes: "dict[str, str] | None" = None) -> str | None:
    """A prefixed name's full IRI (`carnk:X` -> https://w3id.org/carnk/X), or None when the prefix is
    unknown or the text is not a plain prefixed name."""
    import re

    m = re.match(r"^([A-Za-z][\w.-]*)?:([\w.:%-]*)$", value)
    table = PREFIXES if prefixes is None else prefixes
    if not m or (m.group(1) or "") not in table:
        return None
    return table[m.group(1) or ""] + m.group(2)
