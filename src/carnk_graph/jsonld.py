"""The release's JSON-LD file: compacted with the shipped context, stable bytes, nothing lost.

rdflib's JSON-LD writer does the compaction; this module inlines the context
(never referenced remotely), mends two ways rdflib 7.x loses statements, and
sorts every unordered array so the same graph gives the same bytes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BadInputError
from .namespaces import PREFIXES

if TYPE_CHECKING:
    from rdflib import Dataset


def jsonld_bytes(ds: "Dataset", context_file: Path | None = None) -> bytes:
    """The JSON-LD file of a dataset: compacted with the context, keys and unordered arrays sorted."""
    return (json.dumps(_stable_json(_jsonld_object(ds, _jsonld_context(context_file))), indent=1,
                       sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _jsonld_context(context_file: Path | None) -> dict:
    """The shipped JSON-LD context (inlined, never referenced remotely), or the project prefixes.

    The shipped context declares no "@version": 1.1: it uses no JSON-LD 1.1 feature, and the
    declaration alone makes JSON-LD 1.0 processors (jsonld-java in Jena, pyld in 1.0 mode) refuse
    the whole file (tests/test_release.py reads the release with pyld in 1.0 mode)."""
    if context_file is not None and context_file.exists():
        from .sources import check_nesting, read_regular

        data = read_regular(context_file)  # a FIFO or a link to /dev/zero: exit 2, not a hang
        check_nesting(data, "jsonld", context_file)  # json.loads recurses: deep nesting would crash it
        try:
            ctx = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise BadInputError(f"not a JSON-LD context: {e}", path=context_file) from None
        ctx = ctx.get("@context", ctx) if isinstance(ctx, dict) else None
        if not isinstance(ctx, dict):
            raise BadInputError("not a JSON-LD context: expected an object (or {\"@context\": {...}})",
                                path=context_file)
        return ctx
    return dict(PREFIXES)


def _jsonld_object(ds: "Dataset", context: dict):
    """What rdflib's JSON-LD serializer writes (compacted, native types), without its data loss.

    rdflib 7.x loses statements in two ways, both found by the hypothesis round
    trips (tests/test_roundtrip_properties.py) and both mended by the subclass:
    it starts its walk only from IRI subjects and from blank nodes that are
    never objects, so a blank node in a cycle of blank nodes (or a self-loop
    `_:b p _:b`) is never reached; and a second value of a property replaces a
    first value that is "", 0 or false.
    """
    from rdflib import BNode, URIRef
    from rdflib.plugins.serializers.jsonld import Converter
    from rdflib.plugins.shared.jsonld.context import Context

    class CompleteConverter(Converter):
        def from_graph(self, graph):
            nodemap: dict = {}
            subjects = sorted(set(graph.subjects()), key=lambda t: t.n3())
            roots = [s for s in subjects
                     if isinstance(s, URIRef) or (isinstance(s, BNode) and not any(graph.subjects(None, s)))]
            self._pending: list = []
            for s in roots:
                self.process_subject(graph, s, nodemap)
                self._drain(graph, nodemap)
            for s in _unreachable_bnodes(graph, roots, subjects):
                if s.n3() not in nodemap:
                    self.process_subject(graph, s, nodemap)
                    self._drain(graph, nodemap)
            return list(nodemap.values())

        def _drain(self, graph, nodemap) -> None:
            while self._pending:
                b = self._pending.pop()
                if b.n3() not in nodemap:
                    self.process_subject(graph, b, nodemap)

        def to_raw_value(self, graph, s, o, nodemap):
            # rdflib writes every blank node at the top level and refers to it by @id, but it gets
            # there by recursion, one Python frame per level of nesting; a chain of a few thousand
            # blank nodes overflowed the stack. Same output, with a work list instead.
            if isinstance(o, BNode) and self.to_collection(graph, o) is None:
                if o.n3() not in nodemap:
                    self._pending.append(o)
                return {self.context.id_key: o.n3()}
            return super().to_raw_value(graph, s, o, nodemap)

        def add_to_node(self, graph, s, p, o, s_node, nodemap):
            # rdflib tests `if value:` before appending a second value, so a first value that is
            # falsy ("", 0, false) is overwritten by the second one; put both back.
            falsy = {k: v for k, v in s_node.items() if isinstance(v, (str, int, float)) and not v}
            super().add_to_node(graph, s, p, o, s_node, nodemap)
            for key, old in falsy.items():
                new = s_node.get(key)
                if new is not old:
                    s_node[key] = [old, *(new if isinstance(new, list) else [new])]

    ctx = Context(context)
    result = CompleteConverter(ctx, True, False).convert(ds)
    if ctx.active:
        if isinstance(result, list):
            result = {ctx.get_key("@graph"): result}
        result["@context"] = context
    return result


def _unreachable_bnodes(graph, roots, subjects) -> list:
    """Blank-node subjects no path of object links leads to from `roots` (only cycles of blank nodes)."""
    from rdflib import BNode

    seen = set(roots)

    def reach(todo: list) -> None:
        """Mark every blank node an object link leads to from `todo`."""
        while todo:
            for o in graph.objects(todo.pop(), None):
                if isinstance(o, BNode) and o not in seen:
                    seen.add(o)
                    todo.append(o)

    reach(list(roots))
    missing = []
    for s in subjects:
        if isinstance(s, BNode) and s not in seen:
            missing.append(s)  # process it: everything it reaches is emitted with it
            seen.add(s)
            reach([s])
    return missing


def _stable_json(node, ordered: bool = False):
    """JSON-LD with every unordered array sorted (rdflib emits nodes in hash order).

    Arrays under @list are RDF collections whose order is meaning, so they keep it.
    """
    if isinstance(node, dict):
        return {k: _stable_json(v, ordered=(k == "@list")) for k, v in node.items()}
    if isinstance(node, list):
        items = [_stable_json(v) for v in node]
        return items if ordered else sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node
