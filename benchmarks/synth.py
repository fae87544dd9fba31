#!/usr/bin/env python3
"""Synthetic CAR-NK knowledge graphs of any size, in the project's real vocabulary.

    python benchmarks/synth.py --triples 100000 -o /tmp/synth-100k.nq
    python benchmarks/synth.py --triples 10000 --invalid-rate 0.01 -o user-data.ttl

Why: the shipped graph is a few thousand triples, but users bring their own products, trials
and merged ontologies. To know how the store, the saved queries and validation behave at
10k, 100k and 1M triples, the benchmark needs data with the same *shape* as the real graph:
products with constructs whose domains are ordered position nodes, toxicity associations,
clinical outcomes with numbers (and second sources that disagree), sources, donor settings.

What it writes (deterministic for a given --seed):
- every node is typed with a class of ontology/carnk.ttl and carries rdfs:label, rdfs:comment
  and carnk:source, as the shapes of the real graph ask;
- it points at the project's own individuals (therapy types, toxicities, CAR domains, antigens,
  cell sources, endpoints, donor settings ...) read from ontology/ and ontology/kg/, so the saved
  queries find synthetic rows next to the real ones; a kind the graph does not hold yet is
  minted as a synthetic individual of the right class;
- into the `inferred` named graph (N-Quads output only) the memberships of the ontology's
  defined classes that HermiT would derive for these nodes (allogeneic / autologous /
  off-the-shelf capable products, products without HLA-matching requirement, negative
  toxicity findings): running HermiT at a million triples is not what is being measured;
- with --invalid-rate r, a fraction r of records carries one deliberate defect (responders
  above patients evaluated, a missing frequency level, a missing source, a position without
  its number) so validation has results to report.

Nothing here is a fact: every label says "synthetic", no DOI, PMID or NCT number is written.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent

CARNK = "https://w3id.org/carnk/"
KG = CARNK + "kg/"
GRAPH_KG = CARNK + "graph/kg"
GRAPH_INFERRED = CARNK + "graph/inferred"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT_SOURCE = CARNK + "source"  # carnk:source, the local subproperty of dcterms:source (issue 12.10)
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Pools of the project's own individuals, by ontology class (subclasses included), with how
#: many synthetic stand-ins to mint when the graph holds none of that class yet.
POOL_CLASSES = {
    "therapy": ("CellTherapy", 3), "toxicity": ("Toxicity", 3), "frequency": ("FrequencyLevel", 4),
    "donor": ("DonorSetting", 2), "cellsource": ("CellSource", 5), "antigen": ("TargetAntigen", 4),
    "binder": ("AntigenRecognitionDomain", 3), "hinge": ("HingeDomain", 2),
    "transmembrane": ("TransmembraneDomain", 2), "costim": ("CostimulatoryDomain", 3),
    "activation": ("ActivationDomain", 1), "endpoint": ("ClinicalEndpoint", 3),
    "disease": ("Disease", 4), "storage": ("StorageCondition", 2), "hla": ("HLAMatchStatus", 2),
    "evidence": ("EvidenceLevel", 2), "cell": ("Cell", 2), "burden": ("ManufacturingBurden", 2),
}

#: Every ontology term this generator writes; the smoke test checks each is declared in carnk.ttl.
TERMS_USED = sorted({c for c, _ in POOL_CLASSES.values()} | {
    "SourceDocument", "CARConstruct", "DomainPosition", "CellTherapyProduct", "ClinicalStudy",
    "ClinicalOutcome", "ToxicityAssociation", "SourceDonorSetting",
    "AllogeneicProduct", "AutologousProduct", "OffTheShelfCapableProduct",
    "ProductWithoutHLAMatchingRequirement", "NegativeToxicityFinding",
    "Allogeneic", "Autologous", "Cryopreserved", "HLAMismatched", "NotObserved",
    "targetsAntigen", "hasDomainAt", "position", "domain", "costimulatoryDomainCount",
    "ofTherapyType", "containsCellType", "hasConstruct", "cellSource", "donorSetting",
    "requiresHLAMatching", "patientSpecific", "multipleDosesPerDonor", "doseStorage",
    "hlaMatchStatus", "manufacturingBurden", "evaluatesProduct", "studiesCondition",
    "doseLevelCount", "study", "endpoint", "patientsEvaluated", "patientsWithOutcome",
    "therapyType", "toxicity", "frequencyLevel", "evidenceLevel",
})


@dataclass
class Pools:
    """IRIs of the project's individuals per pool name (see POOL_CLASSES)."""

    by_name: dict[str, list[str]] = field(default_factory=dict)
    minted: dict[str, list[str]] = field(default_factory=dict)  # pool -> IRIs minted here

    def __getitem__(self, name: str) -> list[str]:
        return self.by_name[name]


def read_pools(root: Path = ROOT) -> Pools:
    """Collect the project's individuals per pool class from ontology/carnk.ttl and ontology/kg/."""
    import pyoxigraph as ox

    store = ox.Store()
    files = [root / "ontology" / "carnk.ttl", *sorted((root / "ontology" / "kg").glob("*.ttl"))]
    for f in files:
        if f.is_file():
            store.load(path=str(f), format=ox.RdfFormat.TURTLE)
    pools = Pools()
    for name, (cls, mint) in POOL_CLASSES.items():
        rows = store.query(
            f"SELECT DISTINCT ?x WHERE {{ ?x a/<{RDFS}subClassOf>* <{CARNK}{cls}> FILTER(isIRI(?x)) }} ORDER BY ?x")
        found = [r["x"].value for r in rows]
        if not found:
            found = [f"{KG}synth-{name}-{i}" for i in range(1, mint + 1)]
            pools.minted[name] = found
        pools.by_name[name] = found
    return pools


def _iri(x: str) -> str:
    return f"<{x}>"


def _str(s: str, lang: str | None = "en") -> str:
    return f'"{s}"@{lang}' if lang else f'"{s}"'


def _int(n: int) -> str:
    return f'"{n}"^^<{XSD}integer>'


def _bool(b: bool) -> str:
    return f'"{"true" if b else "false"}"^^<{XSD}boolean>'


def _pick(pool: list[str], needle: str, fallback_rng: random.Random) -> str:
    """The pool member whose IRI mentions `needle` (e.g. 'car-nk' in therapy types), else a random one."""
    hits = [p for p in pool if needle in p.rsplit("/", 1)[-1].lower()]
    return hits[0] if hits else fallback_rng.choice(pool)


class Writer:
    """Collects statements as N-Quads/N-Triples lines and counts them."""

    def __init__(self, quads: bool) -> None:
        self.quads = quads
        self.lines: list[str] = []
        self.count = 0

    def add(self, s: str, p: str, o: str, graph: str = GRAPH_KG) -> None:
        if graph != GRAPH_KG and not self.quads:
            return  # entailments only travel in the named-graph output
        g = f" <{graph}>" if self.quads else ""
        self.lines.append(f"<{s}> <{p}> {o}{g} .\n")
        self.count += 1

    def node(self, s: str, cls: str, label: str, source: str | None, graph: str = GRAPH_KG) -> None:
        """A typed, labelled, commented, sourced node (source None = the deliberate defect)."""
        self.add(s, RDF_TYPE, _iri(CARNK + cls), graph)
        self.add(s, RDFS + "label", _str(label), graph)
        self.add(s, RDFS + "comment", _str(f"Synthetic benchmark record: {label}."), graph)
        if source:
            self.add(s, DCT_SOURCE, _iri(source), graph)


def _mint_pool_individuals(w: Writer, pools: Pools, source: str) -> None:
    """Declare the synthetic stand-ins for pool classes the real graph does not hold yet."""
    for name, iris in pools.minted.items():
        cls = POOL_CLASSES[name][0]
        for i, iri in enumerate(iris, 1):
            w.node(iri, cls, f"synthetic {cls} {i}", source)


def generate(n_triples: int, *, seed: int = 1, invalid_rate: float = 0.0, quads: bool = True,
             pools: Pools | None = None) -> Iterator[str]:
    """Yield statement lines until at least `n_triples` statements are written (whole records only)."""
    pools = pools or read_pools()
    rng = random.Random(seed)
    w = Writer(quads)
    car_nk = _pick(pools["therapy"], "car-nk", rng)
    car_t = _pick(pools["therapy"], "car-t", rng)
    allogeneic, autologous = CARNK + "Allogeneic", CARNK + "Autologous"
    not_observed, cryo, mismatched = CARNK + "NotObserved", CARNK + "Cryopreserved", CARNK + "HLAMismatched"

    first_source = f"{KG}synth-source-1"
    w.node(first_source, "SourceDocument", "synthetic source 1", first_source)
    _mint_pool_individuals(w, pools, first_source)
    yield from w.lines
    w.lines.clear()

    i = 0
    source = first_source
    while w.count < n_triples:
        i += 1
        if i % 10 == 1 and i > 1:  # a new source every ten records, its own source
            source = f"{KG}synth-source-{i // 10 + 1}"
            w.node(source, "SourceDocument", f"synthetic source {i // 10 + 1}", source)
        defect = rng.random() < invalid_rate and rng.choice(("responders", "frequency", "source", "position"))
        _record(w, i, rng, pools, source, defect, car_nk=car_nk, car_t=car_t, allogeneic=allogeneic,
                autologous=autologous, not_observed=not_observed, cryo=cryo, mismatched=mismatched)
        yield from w.lines
        w.lines.clear()


def _record(w: Writer, i: int, rng: random.Random, pools: Pools, source: str, defect, **v: str) -> None:
    """One product family: construct with ordered domains, product, study, outcomes, toxicities."""
    p = f"{KG}synth-{i}"
    nk = rng.random() < 0.7
    therapy = v["car_nk"] if nk else v["car_t"]
    donor = v["allogeneic"] if (nk and rng.random() < 0.85) else v["autologous"]

    # construct with ordered domains: binder, (hinge), transmembrane, costimulatory x k, activation
    construct = f"{p}-car"
    w.node(construct, "CARConstruct", f"synthetic CAR construct {i}", source)
    w.add(construct, CARNK + "targetsAntigen", _iri(rng.choice(pools["antigen"])))
    costims = rng.sample(pools["costim"], k=min(len(pools["costim"]), rng.choice((1, 1, 2))))
    layout = [rng.choice(pools["binder"])]
    if rng.random() < 0.6:
        layout.append(rng.choice(pools["hinge"]))
    layout += [rng.choice(pools["transmembrane"]), *costims, rng.choice(pools["activation"])]
    w.add(construct, CARNK + "costimulatoryDomainCount", _int(len(costims)))
    for pos, dom in enumerate(layout, 1):
        node = f"{construct}-pos{pos}"
        w.add(construct, CARNK + "hasDomainAt", _iri(node))
        w.node(node, "DomainPosition", f"synthetic CAR construct {i}, position {pos}", source)
        if not (defect == "position" and pos == 1):
            w.add(node, CARNK + "position", _int(pos))
        w.add(node, CARNK + "domain", _iri(dom))

    # product
    product = f"{p}-product"
    multi = donor == v["allogeneic"] and rng.random() < 0.8
    storage = v["cryo"] if (multi or rng.random() < 0.5) else rng.choice(pools["storage"])
    requires_hla = donor == v["allogeneic"] and not nk and rng.random() < 0.5
    w.node(product, "CellTherapyProduct", f"synthetic {'CAR-NK' if nk else 'CAR-T'} product {i}",
           None if defect == "source" else source)
    w.add(product, CARNK + "ofTherapyType", _iri(therapy))
    w.add(product, CARNK + "containsCellType", _iri(_pick(pools["cell"], "car-nk-cell" if nk else "car-t-cell", rng)))
    w.add(product, CARNK + "hasConstruct", _iri(construct))
    w.add(product, CARNK + "cellSource", _iri(rng.choice(pools["cellsource"])))
    w.add(product, CARNK + "donorSetting", _iri(donor))
    w.add(product, CARNK + "requiresHLAMatching", _bool(requires_hla))
    w.add(product, CARNK + "patientSpecific", _bool(donor == v["autologous"]))
    w.add(product, CARNK + "multipleDosesPerDonor", _bool(multi))
    w.add(product, CARNK + "doseStorage", _iri(storage))
    hla = v["mismatched"] if (donor == v["allogeneic"] and not requires_hla) else None
    if hla:
        w.add(product, CARNK + "hlaMatchStatus", _iri(hla))
    if donor == v["autologous"]:
        w.add(product, CARNK + "manufacturingBurden", _iri(rng.choice(pools["burden"])))
    # what HermiT would derive from the defined classes, for this product
    inferred = ["AllogeneicProduct" if donor == v["allogeneic"] else "AutologousProduct"]
    if donor == v["allogeneic"] and multi and storage == v["cryo"]:
        inferred.append("OffTheShelfCapableProduct")
    if not requires_hla or hla:
        inferred.append("ProductWithoutHLAMatchingRequirement")
    for cls in inferred:
        w.add(product, RDF_TYPE, _iri(CARNK + cls), GRAPH_INFERRED)

    # study and outcomes (a second source's figures disagree now and then)
    study = f"{p}-study"
    w.node(study, "ClinicalStudy", f"synthetic clinical study {i}", source)
    w.add(study, CARNK + "evaluatesProduct", _iri(product))
    w.add(study, CARNK + "studiesCondition", _iri(rng.choice(pools["disease"])))
    w.add(study, CARNK + "doseLevelCount", _int(rng.randint(1, 4)))
    for k, endpoint in enumerate(rng.sample(pools["endpoint"], k=min(2, len(pools["endpoint"]))), 1):
        evaluated = rng.randint(5, 60)
        responders = rng.randint(0, evaluated)
        if defect == "responders" and k == 1:
            responders = evaluated + 1 + rng.randint(0, 5)
        _outcome(w, f"{study}-outcome{k}", i, study, endpoint, evaluated, responders, source)
        if rng.random() < 0.1:  # a second source reports different figures for the same endpoint
            other = max(0, min(evaluated, responders + rng.choice((-2, -1, 1, 2))))
            _outcome(w, f"{study}-outcome{k}b", i, study, endpoint, evaluated, other, source)

    # toxicity associations for the therapy type, within the study and donor setting
    for k, tox in enumerate(rng.sample(pools["toxicity"], k=min(3, len(pools["toxicity"]))), 1):
        a = f"{p}-tox{k}"
        level = rng.choice(pools["frequency"])
        w.node(a, "ToxicityAssociation", f"synthetic toxicity association {i}.{k}", source)
        w.add(a, CARNK + "therapyType", _iri(therapy))
        w.add(a, CARNK + "toxicity", _iri(tox))
        if not (defect == "frequency" and k == 1):
            w.add(a, CARNK + "frequencyLevel", _iri(level))
            if level == v["not_observed"]:
                w.add(a, RDF_TYPE, _iri(CARNK + "NegativeToxicityFinding"), GRAPH_INFERRED)
        if i % 10 != 1:  # findings come from the study, except one record per source: general claims
            w.add(a, CARNK + "study", _iri(study))
        w.add(a, CARNK + "donorSetting", _iri(donor))
        w.add(a, CARNK + "evidenceLevel", _iri(rng.choice(pools["evidence"])))

    if i % 25 == 0:  # now and then a donor-setting option of a cell source
        opt = f"{p}-donor-option"
        w.node(opt, "SourceDonorSetting", f"synthetic donor-setting option {i}", source)
        w.add(opt, CARNK + "cellSource", _iri(rng.choice(pools["cellsource"])))
        w.add(opt, CARNK + "donorSetting", _iri(rng.choice(pools["donor"])))


def _outcome(w: Writer, node: str, i: int, study: str, endpoint: str, evaluated: int, responders: int,
             source: str) -> None:
    w.node(node, "ClinicalOutcome", f"synthetic clinical outcome of study {i}", source)
    w.add(node, CARNK + "study", _iri(study))
    w.add(node, CARNK + "endpoint", _iri(endpoint))
    w.add(node, CARNK + "patientsEvaluated", _int(evaluated))
    w.add(node, CARNK + "patientsWithOutcome", _int(responders))


def write(path: Path, n_triples: int, *, seed: int = 1, invalid_rate: float = 0.0,
          pools: Pools | None = None) -> int:
    """Write a synthetic graph to `path` (.nq: kg + inferred named graphs; .nt: kg only;
    .ttl: kg only, as Turtle). Returns the number of statements written."""
    suffix = path.suffix.lower()
    if suffix not in (".nq", ".nt", ".ttl"):
        raise SystemExit(f"synth: unsupported output type {suffix!r} (use .nq, .nt or .ttl)")
    lines = generate(n_triples, seed=seed, invalid_rate=invalid_rate, quads=suffix == ".nq", pools=pools)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".ttl":
        import pyoxigraph as ox

        data = "".join(lines).encode()
        triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        prefixes = {"carnk": CARNK, "carnkkg": KG, "rdfs": RDFS, "xsd": XSD, "dcterms": "http://purl.org/dc/terms/"}
        ox.serialize(triples, str(path), format=ox.RdfFormat.TURTLE, prefixes=prefixes)
        return len(triples)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", type=int, required=True, metavar="N", help="at least this many statements")
    ap.add_argument("-o", "--output", type=Path, help="output file (.nq, .nt or .ttl); default: N-Quads on stdout")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--invalid-rate", type=float, default=0.0, metavar="R",
                    help="fraction of records carrying one deliberate defect (default 0)")
    ap.add_argument("--root", type=Path, default=ROOT, help="project whose ontology/ supplies the vocabulary")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    pools = read_pools(args.root)
    if args.output is None:
        n = 0
        for line in generate(args.triples, seed=args.seed, invalid_rate=args.invalid_rate, pools=pools):
            sys.stdout.write(line)
            n += 1
    else:
        n = write(args.output, args.triples, seed=args.seed, invalid_rate=args.invalid_rate, pools=pools)
    print(f"synth: {n} statements in {time.perf_counter() - started:.2f}s"
          + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
