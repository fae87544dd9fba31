"""Blank-node labels derived from a graph's content, so the same graph is written the same way.

A release is byte-identical from build to build only if its blank nodes (OWL
restrictions, lists) get the same names every time: a hash of what each blank
node says (linear for the tree-shaped blank nodes of OWL), else rdflib's full
canonicalisation where the hashes cannot tell every blank node apart.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rdflib import Graph


def _content_labels(graph: "Graph") -> dict | None:
    """Blank-node labels from a hash of what each blank node says (its outgoing
    statements, recursively): linear time for the tree-shaped blank nodes of OWL
    (restrictions, lists). None when that does not tell every blank node apart
    (cycles, or two blank nodes saying the same thing), so the caller falls back
    to full canonicalisation."""
    import hashlib
    from collections import defaultdict

    from rdflib import BNode

    edges: dict = defaultdict(list)
    nodes: set = set()
    for s, p, o in graph:
        if isinstance(s, BNode):
            edges[s].append((p, o))
            nodes.add(s)
        if isinstance(o, BNode):
            nodes.add(o)
    memo: dict = {}
    expanded: set = set()  # expanded but not yet hashed: exactly the blank nodes on the current path
    # Depth-first, children before parents, with an explicit stack: a long rdf:List is a chain
    # of thousands of blank nodes, deeper than Python's recursion limit.
    for root in nodes:
        stack = [root]
        while stack:
            b = stack[-1]
            if b in memo:
                stack.pop()
                continue
            if b not in expanded:
                expanded.add(b)
                children = [o for _, o in edges[b] if isinstance(o, BNode) and o not in memo]
                if any(o in expanded for o in children):
                    return None  # a cycle
                if children:
                    stack.extend(children)
                    continue
            parts = [f"{p.n3()} {'_:' + memo[o] if isinstance(o, BNode) else o.n3()}" for p, o in edges[b]]
            memo[b] = hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()
            expanded.discard(b)
            stack.pop()
    labels = {b: memo[b] for b in nodes}
    # Blank nodes that say the same thing (one restriction written under two
    # classes) are told apart by who points at them; refine until stable.
    inbound: dict = defaultdict(list)
    for s, p, o in graph:
        if isinstance(o, BNode):
            inbound[o].append((s, p))
    for _ in range(len(nodes)):
        if len(set(labels.values())) == len(labels):
            return labels
        refined = {}
        for b, label in labels.items():
            ctx = sorted(f"{'_:' + labels[s] if isinstance(s, BNode) else s.n3()} {p.n3()}" for s, p in inbound[b])
            refined[b] = hashlib.sha256((label + "\n" + "\n".join(ctx)).encode("utf-8")).hexdigest()
        if len(set(refined.values())) == len(set(labels.values())):
            return None  # no progress: truly symmetric blank nodes
        labels = refined
    return labels if len(set(labels.values())) == len(labels) else None


def canonical(graph: "Graph") -> "Graph":
    """A copy of `graph` whose blank nodes carry labels derived from the graph's content.

    Content hashes serve where they tell every blank node apart (the usual case,
    and fast); otherwise rdflib's canonicalisation (RDFC-style, slower) decides.
    Labels are short prefixes of the hashes; the full hash is used if a prefix
    would collide.
    """
    from rdflib import BNode, Graph
    from rdflib.compare import to_canonical_graph

    out = Graph()
    labels = _content_labels(graph)
    if labels is not None:
        source, key = graph, lambda t: labels[t]
    else:
        source, key = list(to_canonical_graph(graph)), lambda t: str(t)[2:]
    ids = sorted({key(t) for tr in source for t in (tr[0], tr[2]) if isinstance(t, BNode)})
    short = {i: "b" + i[:12] for i in ids}
    if len(set(short.values())) != len(ids):
        short = {i: "b" + i for i in ids}
    relabel = lambda t: BNode(short[key(t)]) if isinstance(t, BNode) else t  # noqa: E731
    for s, p, o in sorted(((relabel(s), p, relabel(o)) for s, p, o in source),
                          key=lambda tr: tuple(x.n3() for x in tr)):
        out.add((s, p, o))
    return out
