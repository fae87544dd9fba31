"""The SPARQL 1.1 Protocol query endpoint of `serve`, over the embedded store, read-only.

Every query goes through the project's read-only check before any parser or
engine sees it (no SERVICE, no FROM / FROM NAMED, no update), exactly as
`carnk-graph query` does, and runs with a time limit. The dataset is the one
every command uses: the union of the three named graphs as default graph, each
graph reachable with GRAPH <https://w3id.org/carnk/graph/...>; the protocol's
default-graph-uri / named-graph-uri parameters would load other data and are
refused. Results are serialised by pyoxigraph in the format the client asks
for (JSON, XML, CSV or TSV for SELECT and ASK; Turtle, N-Triples or JSON-LD for
CONSTRUCT and DESCRIBE), and the answer is capped in size.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from .conneg import negotiate
from .errors import BadInputError, CarnkError, QueryTimeoutError, RefusedError
from .namespaces import PREFIXES

#: The biggest query text accepted (SPARQL this long is a mistake or an attack on the parser).
MAX_QUERY_BYTES = 64 * 1024
#: The biggest answer sent; past it the client is told to narrow the query (LIMIT).
MAX_ANSWER_BYTES = 64 * 1024 * 1024

SOLUTION_FORMATS = {
    "application/sparql-results+json": "JSON", "application/json": "JSON",
    "application/sparql-results+xml": "XML", "application/xml": "XML",
    "text/csv": "CSV", "text/tab-separated-values": "TSV",
}
GRAPH_FORMATS = {"text/turtle": "TURTLE", "application/n-triples": "N_TRIPLES", "application/ld+json": "JSON_LD"}
#: `format=` shortcuts for links and forms (a browser cannot set Accept).
FORMAT_NAMES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values", "ttl": "text/turtle",
                "turtle": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json"}


@dataclass
class Answer:
    """An HTTP answer: status, media type, body."""

    status: int
    media_type: str
    body: bytes


def error(status: int, message: str) -> Answer:
    return Answer(status, "text/plain; charset=utf-8", (" ".join(message.split()) + "\n").encode("utf-8"))


def check(text: str) -> None:
    """The project's one read-only check (the same as `carnk-graph query`): refuses updates,
    SERVICE and FROM before any parser sees the text."""
    from .sparql import check_read_only

    check_read_only(text, "<request>")


class _Capped(io.RawIOBase):
    """A byte sink that refuses to grow past a limit (a serialiser writes into it)."""

    def __init__(self, limit: int) -> None:
        self.buf = bytearray()
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        if len(self.buf) + len(b) > self.limit:
            raise _TooBig()
        self.buf += b
        return len(b)


class _TooBig(Exception):
    pass


def run(store, text: str, accept: str | None, timeout: float) -> Answer:
    """Check, run and serialise one query; every failure is an HTTP answer with one line of text."""
    import pyoxigraph as ox

    from .timeout import run_with_timeout

    if len(text.encode("utf-8")) > MAX_QUERY_BYTES:
        return error(413, f"query refused: longer than {MAX_QUERY_BYTES // 1024} KiB")
    try:
        check(text)
    except RefusedError as e:
        return error(403, f"query refused: {e}")
    except CarnkError as e:
        return error(400, str(e))

    def work(_cancel) -> Answer:
        try:
            result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
        except SyntaxError as e:
            return error(400, f"query syntax error: {e}")
        except (ValueError, OSError, RuntimeError) as e:
            return error(400, f"cannot run query: {e}")
        graph = isinstance(result, ox.QueryTriples)
        offers = list(GRAPH_FORMATS if graph else SOLUTION_FORMATS)
        media = negotiate(accept, offers)
        if media is None:
            return error(406, "none of the accepted formats can carry this answer; ask for one of "
                         + ", ".join(offers))
        sink = _Capped(MAX_ANSWER_BYTES)
        try:
            if graph:
                result.serialize(sink, format=getattr(ox.RdfFormat, GRAPH_FORMATS[media]))
            else:
                result.serialize(sink, format=getattr(ox.QueryResultsFormat, SOLUTION_FORMATS[media]))
        except _TooBig:
            return error(413, f"the answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB; add a LIMIT")
        except (ValueError, OSError, RuntimeError) as e:
            return error(500, f"cannot evaluate the query: {e}")
        charset = "; charset=utf-8" if media.startswith("text/") or "json" in media or "xml" in media else ""
        return Answer(200, media + charset, bytes(sink.buf))

    try:
        return run_with_timeout(work, timeout, "query")
    except QueryTimeoutError:
        return error(503, f"query stopped after {timeout:g} s (the server's --timeout); narrow it or add a LIMIT")
    except BadInputError as e:
        return error(400, str(e))


def accept_for(params: dict[str, list[str]], header: str | None) -> str | None:
    """The Accept to negotiate with: a `format=` parameter wins over the header."""
    fmt = (params.get("format") or [""])[0].lower()
    if fmt in FORMAT_NAMES:
        return FORMAT_NAMES[fmt]
    return header
