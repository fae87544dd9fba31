"""A tour of the carnk-graph Python API, written as the cells you would run in a notebook.

    python examples/notebook_tour.py                 # inside a clone: builds dist/ if needed
    python examples/notebook_tour.py --dist /tmp/d   # build into (or reuse) another folder

Each step prints what it found. Nothing here is special to scripts: paste the cells
into Jupyter and the same calls return the same values.
"""
from __future__ import annotations

import argparse
import carnk_graph as ck


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="project folder (default: found from the working directory)")
    parser.add_argument("--dist", help="build folder (default: <root>/dist)")
    args = parser.parse_args(argv)
    where = {"root": args.root, "dist": args.dist}

    # -- 1. The whole graph as an rdflib Dataset (built first if the sources changed) --------------
    from rdflib import RDFS, URIRef

    ds = ck.load(**where)
    print(f"carnk-graph {ck.__version__}: named graphs and their sizes")
    for g in sorted(ds.graphs(), key=lambda g: str(g.identifier)):
        if len(g):
            print(f"  {g.identifier}  {len(g)} triples")

    def label(iri: str | None) -> str:
        """The English label of an IRI in the dataset (its default graph is the union)."""
        if iri is None:
            return "-"
        labels = [o for o in ds.objects(URIRef(iri), RDFS.label) if getattr(o, "language", None) in ("en", None)]
        return str(sorted(labels)[0]) if labels else iri

    # -- 2. A saved question, with a parameter: the domains of Liu et al. 2020's CAR, in order ------
    rows = ck.query("construct-domains-in-order", construct="carnkkg:liu2020-car", **where)
    print(f"\nThe domains of {label('https://w3id.org/carnk/kg/liu2020-car')}, outside to inside:")
    for row in rows:
        print(f"  {row['position']}. {label(row['domain'])} ({label(row['domainKind'])}), "
              f"from {label(row['derivedFrom'])}")

    # -- 3. The same rows as a pandas DataFrame, when pandas is installed -------------------------
    try:
        frame = rows.to_dataframe()
    except ImportError as e:
        print(f"\n(no DataFrame: {e})")
    else:
        print(f"\nAs a DataFrame: {frame.shape[0]} rows x {frame.shape[1]} columns: {list(frame.columns)}")

    # -- 4. Validate your own data against the shapes, before you add it to the graph -------------
    from rdflib import RDF, Graph

    mine = Graph()
    mine.add((URIRef("https://w3id.org/carnk/kg/my-new-nk-cell"), RDF.type, URIRef("https://w3id.org/carnk/NKCell")))
    result = ck.validate(mine, root=args.root)
    counts = result.counts()
    print(f"\nA new NK cell with nothing but its type: conforms={result.conforms}, "
          f"{counts['Violation']} violations, {counts['Warning']} warnings")
    for finding in result.findings[:3]:
        print("  " + finding.line())

    # -- 5. Export one named graph for another tool ------------------------------------------------
    import json

    data = ck.export("jsonld", ["kg"], **where)
    doc = json.loads(data)
    print(f"\nThe knowledge graph as JSON-LD: {len(data)} bytes, {len(doc['@context'])} context entries, "
          f"top-level keys {sorted(doc)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
