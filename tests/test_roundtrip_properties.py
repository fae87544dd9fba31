"""Property-based round trips: random graphs with awkward literals survive every export and the store.

Hypothesis builds small graphs spread over the three named graphs, with
literals that break careless serialisers: astral-plane characters, combining
marks, newlines, tabs, carriage returns, quotes, backslashes, `]]>`, `&` and
`<`; language tags; many datatypes; blank nodes in cycles and self-loops. Each
graph is written with release.serialize in every release format, parsed back
with rdflib, and compared with rdflib.compare.isomorphic (per named graph for
the quad formats), then loaded into an embedded pyoxigraph store with
fill_store and read back the same way.

What the generators leave out, and why (each is a limit of a format, not of
the project):
- Predicate IRIs end in an XML NCName (`https://w3id.org/carnk/p...`):
  RDF/XML writes a predicate as an element name, i.e. namespace + local name,
  and an IRI ending in `/`, a digit-led segment or a `%` escape has no such
  split, so `carnk.owl` could not express it at all.
- Individual IRIs end in a letter or digit, like the project's kebab-case
  names: for an IRI ending in "." oxigraph writes the valid Turtle local name
  `carnkkg:a\\.`, which rdflib 7.6's Turtle parser rejects.
- Text has no C0 control characters other than tab, newline and carriage
  return, and no U+FFFE/U+FFFF: XML 1.0 cannot carry them in any escaping, so
  RDF/XML could not. Surrogates are not characters and are never generated.
- Typed literals use their XSD 1.1 canonical lexical form ("1", not "01" or
  "1.0" for a decimal): a store and JSON-LD's native numbers keep the value,
  not the spelling, and "01"^^xsd:integer and "1"^^xsd:integer are the same
  value. For the same reason there is no explicit ^^xsd:string: in RDF 1.1 it
  is the same literal as the plain one (rdflib alone tells them apart).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from carnk_graph.namespaces import GRAPH_NAMES, GRAPHS
from carnk_graph.release import FORMATS, QUAD_FORMATS, ox_quads, parse_release_bytes, serialize
from carnk_graph.store import fill_store, open_store
from carnk_graph.terms import ox_to_rdflib

XSD = "http://www.w3.org/2001/XMLSchema#"
CARNK = "https://w3id.org/carnk/"
KG = "https://w3id.org/carnk/kg/"

SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- strategies ---------------------------------------------------------------------------------------

# Characters XML 1.0 can carry (see the module docstring), weighted toward the awkward ones.
AWKWARD = ['"', "'", "\\", "\n", "\r", "\t", "<", ">", "&", "]]>", "\u00e9", "e\u0301", "\u0301",
           "\U0001F9EC", "\U0001D11E", "\u200b", "\u2028", "\u00a0", "\uFEFF", "#", "@", "{", "}", "^^", "\"\"\""]
xml_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff",
                         min_codepoint=0x20) | st.sampled_from(["\t", "\n", "\r"])
awkward_text = st.lists(st.sampled_from(AWKWARD) | st.text(xml_char, max_size=4), max_size=6).map("".join)

ncname = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True).filter(lambda s: not s.endswith("."))
iri_tail = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_.~\-]{0,8}[A-Za-z0-9])?(/[A-Za-z0-9_\-]{1,6})?", fullmatch=True)
subject_iri = iri_tail.map(lambda t: URIRef(KG + t)) | st.just(URIRef("https://example.org/\u00e9t\u00e9/\U0001F9EC"))
predicate_iri = ncname.map(lambda n: URIRef(CARNK + "p" + n)) | st.just(URIRef("http://www.w3.org/2000/01/rdf-schema#label"))

def canonical_decimal(hundredths: int) -> str:
    """XSD 1.1 canonical decimal (what a store writes back): no trailing zeros, no ".0" on whole numbers."""
    sign, n = ("-" if hundredths < 0 else ""), abs(hundredths)
    whole, frac = divmod(n, 100)
    text = f"{whole}.{frac:02d}".rstrip("0").rstrip(".")
    return "0" if text == "0" else sign + text


LANGS = ["en", "en-GB", "de", "fr", "zh-Hans-CN", "sr-Latn", "x-private", "es-419"]  # case is not significant
typed = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20).map(lambda i: Literal(str(i), datatype=URIRef(XSD + "integer"))),
    st.booleans().map(lambda b: Literal("true" if b else "false", datatype=URIRef(XSD + "boolean"))),
    st.dates().map(lambda d: Literal(d.isoformat(), datatype=URIRef(XSD + "date"))),
    st.integers(min_value=-10**6, max_value=10**6).map(lambda i: Literal(canonical_decimal(i), datatype=URIRef(XSD + "decimal"))),
    awkward_text.map(lambda s: Literal(s, datatype=URIRef(CARNK + "customType"))),
    st.sampled_from(["https://doi.org/10.1000/182", "urn:isbn:0451450523"]).map(lambda s: Literal(s, datatype=URIRef(XSD + "anyURI"))),
)
literal = st.one_of(
    awkward_text.map(Literal),
    st.tuples(awkward_text, st.sampled_from(LANGS)).map(lambda t: Literal(t[0], lang=t[1])),
    typed,
)


@st.composite
def graphs(draw) -> dict[str, Graph]:
    """Up to ~12 triples over the three named graphs, with blank nodes that may form cycles."""
    bnodes = [BNode(f"b{i}") for i in range(draw(st.integers(0, 3)))]
    node = st.sampled_from(bnodes) | subject_iri if bnodes else subject_iri
    out = {name: Graph() for name in GRAPH_NAMES}
    for _ in range(draw(st.integers(1, 8))):
        s = draw(node)
        o = draw(st.one_of(literal, node))
        out[draw(st.sampled_from(GRAPH_NAMES))].add((s, draw(predicate_iri), o))
    if len(bnodes) >= 2 and draw(st.booleans()):  # a cycle b0 -> b1 -> b0, kept in one graph
        g = out[draw(st.sampled_from(GRAPH_NAMES))]
        p = draw(predicate_iri)
        g.add((bnodes[0], p, bnodes[1]))
        g.add((bnodes[1], p, bnodes[0]))
    if bnodes and draw(st.booleans()):  # a self-loop
        out["kg"].add((bnodes[0], draw(predicate_iri), bnodes[0]))
    return out


# -- comparisons ------------------------------------------------------------------------------------

def union(gs: dict[str, Graph]) -> Graph:
    u = Graph()
    for g in gs.values():
        for t in g:
            u.add(t)
    return u


def same(a: Graph, b: Graph) -> bool:
    """Isomorphic, with language tags compared case-insensitively as RDF 1.1 and BCP 47 say
    (stores and writers lower-case them; rdflib's isomorphism hashes would not)."""
    return isomorphic(lower_tags(a), lower_tags(b))


def lower_tags(g: Graph) -> Graph:
    out = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.language:
            o = Literal(str(o), lang=o.language.lower())
        out.add((s, p, o))
    return out


def explain(expected: Graph, got: Graph) -> str:
    """The statements lost and gained, written out (hypothesis prints graphs only by identifier)."""
    from rdflib.compare import graph_diff, to_isomorphic

    _, only_expected, only_got = graph_diff(to_isomorphic(lower_tags(expected)), to_isomorphic(lower_tags(got)))
    line = lambda tr: " ".join(t.n3() for t in tr)  # noqa: E731
    return ("input:\n" + "\n".join(sorted(line(t) for t in expected))
            + "\nlost:\n" + "\n".join(sorted(line(t) for t in only_expected))
            + "\ngained:\n" + "\n".join(sorted(line(t) for t in only_got)))


def back_per_graph(ds) -> dict[str, Graph]:
    out = {name: Graph() for name in GRAPH_NAMES}
    by_iri = {GRAPHS[n]: n for n in GRAPH_NAMES}
    for s, p, o, g in ds.quads((None, None, None, None)):
        name = by_iri.get(str(getattr(g, "identifier", g)))
        assert name is not None, f"a statement came back outside the release's named graphs: {g}"
        out[name].add((s, p, o))
    return out


def back_union(ds) -> Graph:
    u = Graph()
    for s, p, o, _g in ds.quads((None, None, None, None)):
        u.add((s, p, o))
    return u


# -- the properties ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_export_format_round_trips_awkward_graphs(fmt):
    @SETTINGS
    @given(graphs())
    def check(gs):
        data = serialize(gs, fmt)
        try:
            ds = parse_release_bytes(data, fmt)
        except Exception as e:  # noqa: BLE001 - show the file that did not parse back
            raise AssertionError(f"{fmt} output does not parse back ({type(e).__name__}: {e}):\n"
                                 + data.decode("utf-8", "replace")[-1500:]) from e
        if fmt in QUAD_FORMATS:
            back = back_per_graph(ds)
            for name in GRAPH_NAMES:
                assert same(back[name], gs[name]), f"{fmt} graph {name}:\n" + explain(gs[name], back[name])
        else:
            expected, got = union(gs), back_union(ds)
            assert same(got, expected), f"{fmt}:\n" + explain(expected, got)

    check()


@SETTINGS
@given(graphs())
def test_the_embedded_store_round_trips_awkward_graphs(gs):
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp)
        fill_store(dist, ox_quads(gs, GRAPH_NAMES))
        store = open_store(dist)
        back = {name: Graph() for name in GRAPH_NAMES}
        by_iri = {GRAPHS[n]: n for n in GRAPH_NAMES}
        for q in store.quads_for_pattern(None, None, None, None):
            back[by_iri[q.graph_name.value]].add(
                (ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
        del store
    for name in GRAPH_NAMES:
        assert same(back[name], gs[name]), f"store graph {name}:\n" + explain(gs[name], back[name])


@SETTINGS
@given(graphs(), st.randoms(use_true_random=False))
def test_blank_node_canonicalisation_keeps_the_graph_and_ignores_input_labels(gs, rnd):
    """The build relabels blank nodes (canonical.canonical) for byte-identical releases: the relabelled
    graph must be the same graph, and relabelling the input must not change the output."""
    from carnk_graph.canonical import canonical

    g = union(gs)
    names = sorted({t for tr in g for t in (tr[0], tr[2]) if isinstance(t, BNode)}, key=str)
    fresh = [BNode(f"x{i}") for i in range(len(names))]
    rnd.shuffle(fresh)
    rename = dict(zip(names, fresh))
    renamed = Graph()
    for s, p, o in g:
        renamed.add((rename.get(s, s), p, rename.get(o, o)))
    once = canonical(g)
    assert same(once, g), "canonical() changed the graph:\n" + explain(g, once)
    assert set(canonical(renamed)) == set(once), "canonical() depends on the input's blank-node labels"
