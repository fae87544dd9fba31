"""Write shapes/*.ttl and their fixtures (tests/data/shapes/<Shape>/{valid,invalid}.ttl) from one spec.

Maintainer tool, not part of the product: edit SPEC below, run `python tools/generate_shapes.py`
from the repository root, review the diff, commit both the shapes and the fixtures. The shapes are
written in the layout of tools/format_turtle.py, and tests/test_shapes_generated.py regenerates
everything into a temporary folder and fails on any difference, so a hand edit of a generated file
(or a spec change nobody regenerated) cannot land. Every property shape gets a valid fixture (a minimal conforming focus node)
and an invalid one (the same node broken so that exactly that shape fires).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from format_turtle import format_text  # noqa: E402  (a sibling tool, not a package)

ROOT = Path(__file__).resolve().parents[1]
SHAPES_DIR = ROOT / "shapes"
FIXTURES_DIR = ROOT / "tests" / "data" / "shapes"

PREFIXES = """@prefix carnk:   <https://w3id.org/carnk/> .
@prefix carnkkg: <https://w3id.org/carnk/kg/> .
@prefix carnksh: <https://w3id.org/carnk/shapes/> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix sh:      <http://www.w3.org/ns/shacl#> .
"""

FIXTURE_PREFIXES = """@prefix carnk:   <https://w3id.org/carnk/> .
@prefix carnkkg: <https://w3id.org/carnk/kg/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ex:      <http://example.org/fixture/> .
"""

# Conforming individuals every fixture may point at (kept valid against all shapes).
SUPPORT = """# --- supporting individuals (valid against every shape) ---
ex:src a carnk:SourceDocument ; rdfs:label "fixture source"@en ; carnk:source ex:src .
carnkkg:domain-overview a carnk:SourceDocument ; rdfs:label "domain overview"@en ; carnk:source carnkkg:domain-overview .
ex:therapy a carnk:CARNKCellTherapy ; rdfs:label "fixture therapy"@en ; carnk:source ex:src .
ex:toxicity a carnk:CytokineReleaseSyndrome ; rdfs:label "fixture toxicity"@en ; carnk:source ex:src .
ex:study a carnk:ClinicalTrial ; rdfs:label "fixture trial"@en ; carnk:nctId "NCT03056339" ; carnk:phase "I/II" ; carnk:source ex:src .
ex:endpoint a carnk:ClinicalEndpoint ; rdfs:label "fixture endpoint"@en ; carnk:source ex:src .
ex:cell-source a carnk:CellSource ; rdfs:label "fixture cell source"@en ; carnk:source ex:src .
ex:receptor a carnk:NKReceptor ; rdfs:label "fixture receptor"@en ; carnk:geneSymbol "KLRK1" ; carnk:receptorFunction carnk:Activating ; carnk:source ex:src .
ex:route a carnk:AdministrationRoute ; rdfs:label "fixture route"@en ; carnk:source ex:src .
ex:strategy a carnk:Strategy ; rdfs:label "fixture strategy"@en ; carnk:source ex:src .
ex:challenge a carnk:Challenge ; rdfs:label "fixture challenge"@en ; carnk:source ex:src .
ex:ar-domain a carnk:SingleChainVariableFragment ; rdfs:label "fixture scFv"@en ; carnk:source ex:src .
ex:hinge-domain a carnk:HingeDomain ; rdfs:label "fixture hinge"@en ; carnk:source ex:src .
ex:tm-domain a carnk:TransmembraneDomain ; rdfs:label "fixture transmembrane domain"@en ; carnk:source ex:src .
ex:costim-domain a carnk:CostimulatoryDomain ; rdfs:label "fixture costimulatory domain"@en ; carnk:source ex:src .
ex:act-domain a carnk:ActivationDomain ; rdfs:label "fixture activation domain"@en ; carnk:source ex:src .
ex:pos1 a carnk:DomainPosition ; rdfs:label "fixture position 1"@en ; carnk:position 1 ; carnk:domain ex:ar-domain ; carnk:source ex:src .
ex:pos2 a carnk:DomainPosition ; rdfs:label "fixture position 2"@en ; carnk:position 2 ; carnk:domain ex:tm-domain ; carnk:source ex:src .
ex:pos3 a carnk:DomainPosition ; rdfs:label "fixture position 3"@en ; carnk:position 3 ; carnk:domain ex:costim-domain ; carnk:source ex:src .
ex:pos4 a carnk:DomainPosition ; rdfs:label "fixture position 4"@en ; carnk:position 4 ; carnk:domain ex:act-domain ; carnk:source ex:src .
ex:pos-dup a carnk:DomainPosition ; rdfs:label "fixture duplicate position 2"@en ; carnk:position 2 ; carnk:domain ex:hinge-domain ; carnk:source ex:src .
ex:construct a carnk:CARConstruct ; rdfs:label "fixture construct"@en ; carnk:hasDomainAt ex:pos1 , ex:pos2 , ex:pos3 , ex:pos4 ; carnk:source ex:src .
"""

LABEL = ("label", "rdfs:label", 'rdfs:label "fixture focus"@en',
         "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype rdf:langString ; sh:languageIn ( \"en\" )",
         "has exactly one English rdfs:label", "drop")
SOURCE = ("source", "carnk:source", "carnk:source ex:src",
          "sh:minCount 1 ; sh:class carnk:InformationSource",
          "cites at least one information source (carnk:source)", "drop")


def prop(name, path, triple, constraints, rule, brk, severity="Violation", note=""):
    return dict(name=name, path=path, triple=triple, constraints=constraints, rule=rule,
                brk=brk, severity=severity, note=note)


def std(*extra):
    return [prop(*LABEL), prop(*SOURCE), *extra]


# SPEC: topic file -> list of node shapes.
# node shape: dict(cls, label, target (turtle), focus_type, props, extra (turtle on node), node_breaks)
# prop brk: "drop" (remove the triple) | ("set", "replacement triple") | ("add", "extra triple")
SPEC: dict[str, list[dict]] = {}

SPEC["terms"] = [dict(
    cls="OntologyTerm", label="ontology term",
    target="sh:targetSubjectsOf rdfs:isDefinedBy",
    what="A term defined by the carnk ontology",
    focus_type="owl:Class",
    base=['rdfs:isDefinedBy <https://w3id.org/carnk/ontology>'],
    props=[
        prop("label", "rdfs:label", 'rdfs:label "fixture term"@en',
             "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype rdf:langString ; sh:languageIn ( \"en\" )",
             "has exactly one English rdfs:label", "drop"),
        prop("definition", "skos:definition", 'skos:definition "A term used only by a test fixture."@en',
             "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype rdf:langString ; sh:languageIn ( \"en\" )",
             "has exactly one English skos:definition", "drop"),
        prop("isDefinedBy", "rdfs:isDefinedBy", None,
             "sh:hasValue <https://w3id.org/carnk/ontology>",
             "is defined by the carnk ontology <https://w3id.org/carnk/ontology>",
             ("set", "rdfs:isDefinedBy <http://example.org/other-ontology>")),
    ])]

SPEC["provenance"] = [
    dict(cls="InformationSource", label="information source", target="sh:targetClass carnk:InformationSource",
         what="An information source", focus_type="carnk:SourceDocument", props=std()),
    dict(cls="Publication", label="publication", target="sh:targetClass carnk:Publication",
         what="A publication", focus_type="carnk:Publication",
         base=['rdfs:label "fixture publication"@en', "carnk:source ex:src"],
         props=[
             prop("doi", "carnk:doi", 'carnk:doi "10.1056/NEJMoa1910607"',
                  'sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ; sh:pattern "^10\\\\.[0-9]{4,9}/\\\\S+$"',
                  "has exactly one DOI, written as 10.<registrant>/<suffix> without a resolver prefix", "drop"),
             prop("pmid", "carnk:pmid", 'carnk:pmid "32023374"',
                  'sh:maxCount 1 ; sh:datatype xsd:string ; sh:pattern "^[1-9][0-9]{0,8}$"',
                  "has at most one PubMed identifier, digits only",
                  ("set", 'carnk:pmid "PMID:32023374"')),
             prop("title", "dcterms:title", 'dcterms:title "A fixture title"@en',
                  "sh:minCount 1", "has a title (dcterms:title)", "drop"),
         ]),
    dict(cls="StatedFact", label="stated fact", target="sh:targetSubjectsOf carnk:statement",
         what="A fact that restates a numbered statement of the domain overview",
         focus_type="carnk:Challenge",
         base=['rdfs:label "fixture stated fact"@en'],
         props=[
             prop("statement", "carnk:statement", 'carnk:statement "S24"',
                  'sh:datatype xsd:string ; sh:pattern "^S([1-9]|1[0-9]|2[0-7])$"',
                  "names overview statements as S1 to S27", ("set", 'carnk:statement "S28"')),
             prop("source", "carnk:source", "carnk:source carnkkg:domain-overview",
                  "sh:hasValue carnkkg:domain-overview",
                  "cites the domain overview (carnkkg:domain-overview) among its sources, since it points at an overview statement",
                  ("set", "carnk:source ex:src")),
         ]),
]

SPEC["cells"] = [
    dict(cls="Cell", label="cell", target="sh:targetClass carnk:Cell", what="A cell type",
         focus_type="carnk:NKCell", props=std()),
    dict(cls="ImmuneSystemBranch", label="immune system branch", target="sh:targetClass carnk:ImmuneSystemBranch",
         what="An immune system branch", focus_type="carnk:ImmuneSystemBranch", props=std()),
    dict(cls="Capability", label="capability", target="sh:targetClass carnk:Capability",
         what="A capability", focus_type="carnk:Capability", props=std()),
    dict(cls="RecognitionMechanism", label="recognition mechanism", target="sh:targetClass carnk:RecognitionMechanism",
         what="A recognition mechanism", focus_type="carnk:RecognitionMechanism",
         props=std(
             prop("mhcDependence", "carnk:mhcDependence", "carnk:mhcDependence carnk:MHCIndependent",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:MHCDependence",
                  "states its MHC dependence (exactly one carnk:MHCDependence value)", "drop"),
             prop("mediatedBy", "carnk:mediatedBy", "carnk:mediatedBy ex:receptor",
                  "sh:minCount 1 ; sh:class carnk:Receptor",
                  "names at least one receptor that mediates it", "drop"))),
    dict(cls="GeneticEngineeringProcess", label="genetic engineering process",
         target="sh:targetClass carnk:GeneticEngineeringProcess", what="A genetic engineering process",
         focus_type="carnk:GeneticEngineeringProcess",
         props=std(
             prop("processSetting", "carnk:processSetting", "carnk:processSetting carnk:ExVivo",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ProcessSetting",
                  "states whether it happens ex vivo or in vivo (exactly one carnk:ProcessSetting)", "drop"),
             prop("introducesProtein", "carnk:introducesProtein", "carnk:introducesProtein ex:receptor",
                  "sh:minCount 1 ; sh:class carnk:Protein",
                  "names at least one protein it introduces", "drop"))),
]

SPEC["receptors"] = [
    dict(cls="Protein", label="protein", target="sh:targetClass carnk:Protein", what="A protein",
         focus_type="carnk:Protein",
         props=std(
             prop("geneSymbol", "carnk:geneSymbol", 'carnk:geneSymbol "CD28"',
                  'sh:maxCount 1 ; sh:datatype xsd:string ; sh:pattern "^[A-Z][A-Z0-9-]*$"',
                  "has at most one HGNC gene symbol, a plain upper-case string",
                  ("set", 'carnk:geneSymbol "cd 28"')))),
    dict(cls="NKReceptor", label="NK receptor", target="sh:targetClass carnk:NKReceptor", what="An NK receptor",
         focus_type="carnk:NKReceptor",
         base=['rdfs:label "fixture NK receptor"@en', "carnk:source ex:src"],
         props=[
             prop("receptorFunction", "carnk:receptorFunction", "carnk:receptorFunction carnk:Inhibitory",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ReceptorFunction",
                  "states whether it is activating or inhibitory (exactly one carnk:ReceptorFunction)", "drop"),
             prop("geneSymbol", "carnk:geneSymbol", 'carnk:geneSymbol "KLRC1"',
                  "sh:minCount 1", "has an HGNC gene symbol so that it can be found by gene", "drop"),
         ]),
]

CONSTRUCT_POS = "carnk:hasDomainAt ex:pos1 , ex:pos2 , ex:pos3 , ex:pos4"
SPEC["constructs"] = [
    dict(cls="CARConstruct", label="CAR construct", target="sh:targetClass carnk:CARConstruct",
         what="A CAR construct", focus_type="carnk:CARConstruct",
         base=['rdfs:label "fixture construct"@en', "carnk:source ex:src"],
         sparql=[
             ("uniquePositions",
              "gives each of its domain positions a different position number",
              # a grouping, not a self-join of positions on their value: linear in the positions
              # (the self-join cost ~10 of 12 s of pyshacl-turbo's CPU on 100k triples, issue 9)
              """SELECT $this ?value WHERE {
    $this <https://w3id.org/carnk/hasDomainAt> ?position .
    ?position <https://w3id.org/carnk/position> ?value .
} GROUP BY $this ?value HAVING (COUNT(DISTINCT ?position) > 1)"""),
             ("costimulatoryDomainCount",
              "records a costimulatory domain count equal to the number of costimulatory domains it lists",
              """SELECT $this (SAMPLE(?count) AS ?value) WHERE {
    $this <https://w3id.org/carnk/costimulatoryDomainCount> ?count .
    OPTIONAL {
        $this <https://w3id.org/carnk/hasDomainAt>/<https://w3id.org/carnk/domain> ?d .
        ?d a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <https://w3id.org/carnk/CostimulatoryDomain> .
    }
} GROUP BY $this HAVING (COUNT(DISTINCT ?d) != SAMPLE(?count))"""),
         ],
         node_breaks={
             "uniquePositions": [("add", "carnk:hasDomainAt ex:pos-dup")],
             "costimulatoryDomainCount": [("add", "carnk:costimulatoryDomainCount 2")],
         },
         props=[
             prop("hasDomainAt", "carnk:hasDomainAt", CONSTRUCT_POS,
                  "sh:minCount 1 ; sh:class carnk:DomainPosition",
                  "lists its domains as carnk:DomainPosition records",
                  ("add", "carnk:hasDomainAt ex:src")),
             prop("antigenRecognitionDomain", "( carnk:hasDomainAt carnk:domain )", None,
                  "sh:qualifiedValueShape [ sh:class carnk:AntigenRecognitionDomain ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1",
                  "has exactly one antigen-recognition domain",
                  ("set", "carnk:hasDomainAt ex:pos2 , ex:pos3 , ex:pos4")),
             prop("transmembraneDomain", "( carnk:hasDomainAt carnk:domain )", None,
                  "sh:qualifiedValueShape [ sh:class carnk:TransmembraneDomain ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1",
                  "has exactly one transmembrane domain",
                  ("set", "carnk:hasDomainAt ex:pos1 , ex:pos3 , ex:pos4"), severity="Warning",
                  note=" Reported as a warning, not a violation: some published constructs are described without their transmembrane domain, and the graph records only verified domains."),
             prop("signallingDomain", "( carnk:hasDomainAt carnk:domain )", None,
                  "sh:qualifiedValueShape [ sh:class carnk:SignallingDomain ] ; sh:qualifiedMinCount 1",
                  "has at least one intracellular signalling domain",
                  ("set", "carnk:hasDomainAt ex:pos1 , ex:pos2"), severity="Warning",
                  note=" Reported as a warning: registry records and abstracts often name a CAR's target but not its domains, and the graph records only the domains a source gives (issue 13)."),
         ]),
    dict(cls="VectorConstruct", label="vector construct", target="sh:targetClass carnk:VectorConstruct",
         what="A vector construct", focus_type="carnk:VectorConstruct",
         props=std(
             prop("carriesCARConstruct", "carnk:carriesCARConstruct", "carnk:carriesCARConstruct ex:construct",
                  "sh:minCount 1 ; sh:class carnk:CARConstruct",
                  "names at least one CAR construct it carries", "drop"))),
    dict(cls="DomainPosition", label="domain position", target="sh:targetClass carnk:DomainPosition",
         what="A domain position", focus_type="carnk:DomainPosition",
         props=std(
             prop("position", "carnk:position", "carnk:position 1",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 1",
                  "has exactly one position, an integer of at least 1", ("set", "carnk:position 0")),
             prop("domain", "carnk:domain", "carnk:domain ex:ar-domain",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:CARDomain",
                  "names exactly one CAR domain", "drop"))),
    dict(cls="CARDomain", label="CAR domain", target="sh:targetClass carnk:CARDomain", what="A CAR domain",
         focus_type="carnk:CostimulatoryDomain", props=std()),
    dict(cls="TargetAntigen", label="target antigen", target="sh:targetClass carnk:TargetAntigen",
         what="A target antigen", focus_type="carnk:TargetAntigen",
         props=std(
             prop("moleculeKind", "carnk:moleculeKind", 'carnk:moleculeKind "protein"@en',
                  "sh:minCount 1", "says what kind of molecule it is (carnk:moleculeKind)", "drop"))),
]

SPEC["sources"] = [
    dict(cls="CellSource", label="cell source", target="sh:targetClass carnk:CellSource", what="A cell source",
         focus_type="carnk:CellSource", props=std()),
    dict(cls="CellLine", label="cell line", target="sh:targetClass carnk:CellLine", what="A cell line",
         focus_type="carnk:NKCellLine", props=std()),
    dict(cls="SourceDonorSetting", label="source donor-setting option", target="sh:targetClass carnk:SourceDonorSetting",
         what="A source donor-setting option", focus_type="carnk:SourceDonorSetting",
         props=std(
             prop("cellSource", "carnk:cellSource", "carnk:cellSource ex:cell-source",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:CellSource",
                  "names exactly one cell source", "drop"),
             prop("donorSetting", "carnk:donorSetting", "carnk:donorSetting carnk:Allogeneic",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:DonorSetting",
                  "names exactly one donor setting", "drop"))),
]

SPEC["products"] = [
    dict(cls="CellTherapyProduct", label="cell therapy product", target="sh:targetClass carnk:CellTherapyProduct",
         what="A cell therapy product", focus_type="carnk:CellTherapyProduct",
         props=std(
             prop("cellSource", "carnk:cellSource", "carnk:cellSource ex:cell-source",
                  "sh:minCount 1 ; sh:class carnk:CellSource",
                  "names the source of its cells", "drop", severity="Warning",
                  note=" Reported as a warning: the domain overview describes allogeneic CAR-NK products in general without naming one source."),
             prop("donorSetting", "carnk:donorSetting", "carnk:donorSetting carnk:Allogeneic",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:DonorSetting",
                  "names exactly one donor setting (autologous or allogeneic)", "drop"),
             prop("hasConstruct", "carnk:hasConstruct", "carnk:hasConstruct ex:construct",
                  "sh:minCount 1 ; sh:class carnk:CARConstruct",
                  "names the CAR construct its cells carry", "drop"),
             prop("ofTherapyType", "carnk:ofTherapyType", "carnk:ofTherapyType ex:therapy",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Immunotherapy",
                  "names exactly one therapy type", "drop"))),
    dict(cls="ManufacturingBurden", label="manufacturing burden", target="sh:targetClass carnk:ManufacturingBurden",
         what="A manufacturing burden", focus_type="carnk:ManufacturingBurden", props=std()),
    dict(cls="EngineeringMethod", label="engineering method", target="sh:targetClass carnk:EngineeringMethod",
         what="An engineering method", focus_type="carnk:EngineeringMethod", props=std()),
]

SPEC["therapies"] = [
    dict(cls="Immunotherapy", label="immunotherapy", target="sh:targetClass carnk:Immunotherapy",
         what="A therapy type", focus_type="carnk:CARTCellTherapy", props=std()),
]

SPEC["toxicities"] = [
    dict(cls="Toxicity", label="toxicity", target="sh:targetClass carnk:Toxicity", what="A toxicity",
         focus_type="carnk:GraftVersusHostDisease", props=std()),
    dict(cls="ToxicityAssociation", label="toxicity association", target="sh:targetClass carnk:ToxicityAssociation",
         what="A toxicity association", focus_type="carnk:ToxicityAssociation",
         props=std(
             prop("therapyType", "carnk:therapyType", "carnk:therapyType ex:therapy",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Immunotherapy",
                  "names exactly one therapy type", "drop"),
             prop("toxicity", "carnk:toxicity", "carnk:toxicity ex:toxicity",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Toxicity",
                  "names exactly one toxicity", "drop"),
             prop("frequencyLevel", "carnk:frequencyLevel", "carnk:frequencyLevel carnk:NotObserved",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:FrequencyLevel",
                  "names exactly one frequency level (common, rare, minimal, not observed, not expected or observed)", "drop"),
             prop("patientsAssessed", "carnk:patientsAssessed", "carnk:patientsAssessed 43",
                  "sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 1",
                  "gives at most one number of assessed patients, a positive integer",
                  ("add", "carnk:patientsAssessed 44")),
             prop("patientsAffected", "carnk:patientsAffected", "carnk:patientsAffected 2",
                  "sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 0 ; sh:lessThanOrEquals carnk:patientsAssessed",
                  "gives at most one number of affected patients, no more than the patients assessed",
                  ("set", "carnk:patientsAffected 50")))),
    dict(cls="TherapyDonorSetting", label="therapy donor-setting claim", target="sh:targetClass carnk:TherapyDonorSetting",
         what="A therapy donor-setting claim", focus_type="carnk:TherapyDonorSetting",
         props=std(
             prop("therapyType", "carnk:therapyType", "carnk:therapyType ex:therapy",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Immunotherapy",
                  "names exactly one therapy type", "drop"),
             prop("donorSetting", "carnk:donorSetting", "carnk:donorSetting carnk:Autologous",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:DonorSetting",
                  "names exactly one donor setting", "drop"),
             prop("extent", "carnk:extent", "carnk:extent carnk:AllProducts",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ProductExtent",
                  "says which of the therapy type's products it covers (exactly one carnk:ProductExtent)", "drop"))),
]

SPEC["outcomes"] = [
    dict(cls="ClinicalStudy", label="clinical study", target="sh:targetClass carnk:ClinicalStudy",
         what="A clinical study", focus_type="carnk:ClinicalStudy", props=std()),
    dict(cls="ClinicalTrial", label="clinical trial", target="sh:targetClass carnk:ClinicalTrial",
         what="A clinical trial", focus_type="carnk:ClinicalTrial",
         base=['rdfs:label "fixture trial"@en', "carnk:source ex:src"],
         props=[
             prop("nctId", "carnk:nctId", 'carnk:nctId "NCT03056339"',
                  'sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ; sh:pattern "^NCT[0-9]{8}$"',
                  "has exactly one NCT number, NCT followed by eight digits", ("set", 'carnk:nctId "NCT-3056339"')),
             prop("phase", "carnk:phase", 'carnk:phase "I/II"',
                  "sh:minCount 1 ; sh:maxCount 1", "states its phase", "drop"),
         ]),
    dict(cls="Disease", label="disease", target="sh:targetClass carnk:Disease", what="A disease",
         focus_type="carnk:Disease", props=std()),
    dict(cls="ClinicalEndpoint", label="clinical endpoint", target="sh:targetClass carnk:ClinicalEndpoint",
         what="A clinical endpoint", focus_type="carnk:ClinicalEndpoint", props=std()),
    dict(cls="ClinicalOutcome", label="clinical outcome", target="sh:targetClass carnk:ClinicalOutcome",
         what="A clinical outcome", focus_type="carnk:ClinicalOutcome",
         props=std(
             prop("study", "carnk:study", "carnk:study ex:study",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalStudy",
                  "names exactly one clinical study", "drop"),
             prop("endpoint", "carnk:endpoint", "carnk:endpoint ex:endpoint",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:ClinicalEndpoint",
                  "names exactly one endpoint", "drop"),
             prop("patientsEvaluated", "carnk:patientsEvaluated", "carnk:patientsEvaluated 11",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 1",
                  "gives exactly one number of evaluated patients, a positive integer", "drop"),
             prop("patientsWithOutcome", "carnk:patientsWithOutcome", "carnk:patientsWithOutcome 8",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 0 ; sh:lessThanOrEquals carnk:patientsEvaluated",
                  "gives exactly one number of patients who reached the endpoint, no more than the patients evaluated",
                  ("set", "carnk:patientsWithOutcome 12")),
             prop("patientsWithCompleteResponse", "carnk:patientsWithCompleteResponse", "carnk:patientsWithCompleteResponse 7",
                  "sh:maxCount 1 ; sh:datatype xsd:integer ; sh:minInclusive 0 ; sh:lessThanOrEquals carnk:patientsWithOutcome",
                  "gives at most one number of complete responders, no more than the patients who responded",
                  ("set", "carnk:patientsWithCompleteResponse 9")))),
]

SPEC["routes"] = [
    dict(cls="AdministrationRoute", label="administration route", target="sh:targetClass carnk:AdministrationRoute",
         what="An administration route", focus_type="carnk:LocoregionalRoute", props=std()),
    dict(cls="RouteUsage", label="route usage", target="sh:targetClass carnk:RouteUsage",
         what="A route usage", focus_type="carnk:RouteUsage",
         props=std(
             prop("therapyType", "carnk:therapyType", "carnk:therapyType ex:therapy",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Immunotherapy",
                  "names exactly one therapy type", "drop"),
             prop("route", "carnk:route", "carnk:route ex:route",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:AdministrationRoute",
                  "names exactly one administration route", "drop"),
             prop("usageLevel", "carnk:usageLevel", "carnk:usageLevel carnk:Usual",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:RouteUsageLevel",
                  "says whether the route is usual or occasional", "drop"))),
]

SPEC["challenges"] = [
    dict(cls="Challenge", label="challenge", target="sh:targetClass carnk:Challenge", what="A challenge",
         focus_type="carnk:Challenge", props=std()),
    dict(cls="Strategy", label="strategy", target="sh:targetClass carnk:Strategy", what="A strategy",
         focus_type="carnk:Strategy", props=std()),
    dict(cls="StrategyAddressesChallenge", label="strategy addresses challenge",
         target="sh:targetClass carnk:StrategyAddressesChallenge", what="A strategy-challenge record",
         focus_type="carnk:StrategyAddressesChallenge",
         props=std(
             prop("strategy", "carnk:strategy", "carnk:strategy ex:strategy",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Strategy",
                  "names exactly one strategy", "drop"),
             prop("challenge", "carnk:challenge", "carnk:challenge ex:challenge",
                  "sh:minCount 1 ; sh:maxCount 1 ; sh:class carnk:Challenge",
                  "names exactly one challenge", "drop"))),
]

TOPIC_TITLES = {
    "terms": "labels and definitions of the ontology's own terms",
    "provenance": "information sources, publications and statement pointers",
    "cells": "cell types, immune branches, capabilities, recognition mechanisms, engineering",
    "receptors": "proteins and NK receptors",
    "constructs": "CAR constructs, domain positions, domains and target antigens",
    "sources": "cell sources, cell lines and the donor settings each source allows",
    "products": "cell therapy products and manufacturing vocabulary",
    "therapies": "therapy types",
    "toxicities": "toxicities and toxicity associations",
    "outcomes": "clinical studies, diseases, endpoints and outcomes",
    "routes": "administration routes and route usages",
    "challenges": "challenges, strategies and which strategy addresses which challenge",
}

# The landscape's shapes (shapes/programmes.ttl) are specified in their own module (issue 13).
from shapes_landscape_spec import add_landscape  # noqa: E402

add_landscape(SPEC, TOPIC_TITLES, prop, std)


def shape_iri(node, p=None):
    return f"carnksh:{node['cls']}Shape" + (f"-{p}" if p else "")


def write_shapes(shapes_dir: Path = SHAPES_DIR) -> None:
    for topic, nodes in SPEC.items():
        out = ["\n".join([f"# shapes/{topic}.ttl: SHACL shapes for {TOPIC_TITLES[topic]}.",
                          "# Generated by tools/generate_shapes.py; edit the spec there and regenerate.",
                          "# Severity: sh:Violation fails the build; sh:Warning is reported only.", "", PREFIXES])]
        for node in nodes:
            props = node["props"]
            lines = [f"{shape_iri(node)} a sh:NodeShape ;",
                     f'    rdfs:label "{node["label"]} shape"@en ;',
                     f"    {node['target']} ;"]
            if props:
                lines.append("    sh:property " + " ,\n        ".join(shape_iri(node, p["name"]) for p in props) + " ;")
            for key, rule, _q in node.get("sparql", []):
                lines.append(f"    sh:sparql carnksh:{node['cls']}Shape-{key}Constraint ;")
            rules = [p["rule"] for p in props] + [r for _k, r, _q in node.get("sparql", [])]
            msg = f"{node['what']} " + "; ".join(rules) + "."
            lines.append("    sh:severity sh:Violation ;")
            lines.append(f'    sh:message "{msg}"@en .')
            out.append("\n".join(lines))
            for key, rule, query in node.get("sparql", []):
                out.append("\n".join([
                    f"carnksh:{node['cls']}Shape-{key}Constraint a sh:SPARQLConstraint ;",
                    f'    rdfs:label "{node["label"]}: {key}"@en ;',
                    f'    sh:message "{node["what"]} {rule}: value {{?value}} breaks this."@en ;',
                    "    sh:severity sh:Violation ;",
                    f'    sh:select """{query}""" .']))
            for p in props:
                out.append("\n".join([
                    f"{shape_iri(node, p['name'])} a sh:PropertyShape ;",
                    f'    rdfs:label "{node["label"]}: {p["name"]}"@en ;',
                    f"    sh:path {p['path']} ;",
                    f"    {p['constraints']} ;",
                    f"    sh:severity sh:{p['severity']} ;",
                    f'    sh:message "{node["what"]} {p["rule"]}.{p["note"]}"@en .']))
        text = format_text("\n\n".join(out) + "\n")
        (shapes_dir / f"{topic}.ttl").write_text(text, encoding="utf-8")


def focus_triples(node):
    base = node.get("base")
    triples = list(base) if base is not None else []
    for p in node["props"]:
        if p["triple"] is not None and p["triple"] not in triples:
            triples.append(p["triple"])
    return triples


def render(node, triples, note):
    body = f"ex:focus a {node['focus_type']}"
    if triples:
        body += " ;\n    " + " ;\n    ".join(triples)
    return f"# {note}\n{FIXTURE_PREFIXES}\n{SUPPORT}\n# --- the focus node ---\n{body} .\n"


def apply_break(triples, p, brk):
    t = list(triples)
    if brk == "drop":
        t.remove(p["triple"])
    elif brk[0] == "set":
        if p and p["triple"] in t:
            t[t.index(p["triple"])] = brk[1]
        else:  # replace the triple with the same predicate
            pred = brk[1].split()[0]
            t = [x for x in t if x.split()[0] != pred] + [brk[1]]
    elif brk[0] == "add":
        t.append(brk[1])
    elif brk[0] == "drop":  # a node-shape break that removes one named triple
        t.remove(brk[1])
    return t


def write_fixtures(fixtures_dir: Path = FIXTURES_DIR) -> None:
    for d in fixtures_dir.iterdir():
        if d.is_dir():
            shutil.rmtree(d)
    for nodes in SPEC.values():
        for node in nodes:
            triples = focus_triples(node)
            shapes = [(shape_iri(node), None, None)]
            shapes += [(shape_iri(node, p["name"]), p, p["brk"]) for p in node["props"]]
            for name, p, brk in shapes:
                short = name.split(":")[1]
                d = fixtures_dir / short
                d.mkdir(parents=True, exist_ok=True)
                (d / "valid.ttl").write_text(render(node, triples, f"Conforms to {name}."), encoding="utf-8")
                if p is None:  # node shape: break its first own rule
                    if node.get("node_breaks"):
                        brk_list = next(iter(node["node_breaks"].values()))
                        bad = triples
                        for b in brk_list:
                            bad = apply_break(bad, None, b)
                        why = "breaks the node shape's own SPARQL rule"
                    else:
                        p0 = node["props"][0]
                        bad = apply_break(triples, p0, p0["brk"])
                        why = f"breaks its property shape {shape_iri(node, p0['name'])}"
                else:
                    bad = apply_break(triples, p, brk)
                    why = f"breaks {name}"
                (d / "invalid.ttl").write_text(render(node, bad, f"Fires {name} only: the focus node {why}."), encoding="utf-8")
            # every further SPARQL rule of a node shape gets its own invalid-<rule>.ttl
            for key, brk_list in list(node.get("node_breaks", {}).items())[1:]:
                bad = triples
                for b in brk_list:
                    bad = apply_break(bad, None, b)
                d = fixtures_dir / shape_iri(node).split(":")[1]
                (d / f"invalid-{key}.ttl").write_text(
                    render(node, bad, f"Fires {shape_iri(node)} only: the focus node breaks its {key} rule."),
                    encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write shapes/ and fixtures/ under this folder instead")
    args = parser.parse_args(argv)
    shapes_dir = args.out / "shapes" if args.out else SHAPES_DIR
    fixtures_dir = args.out / "fixtures" if args.out else FIXTURES_DIR
    shapes_dir.mkdir(parents=True, exist_ok=True)
    fixtures_dir.mkdir(parents=True, exist_ok=True)
    write_shapes(shapes_dir)
    write_fixtures(fixtures_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
