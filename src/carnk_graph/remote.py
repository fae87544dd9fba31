"""Load a built release into a remote triple store over the SPARQL 1.1 protocols.

Any store that speaks SPARQL 1.1 Update (and, optionally, the Graph Store
HTTP Protocol for the uploads) will do: GraphDB, Virtuoso, Fuseki, Neptune,
Oxigraph. Only the standard library talks HTTP, so loading adds no dependency.

A load never leaves a half-replaced graph, even on stores whose updates are
not atomic (Virtuoso commits each operation of a multi-operation request as it
goes, so a request that fails half-way keeps its first half):

1. every graph is uploaded, in chunks the store accepts, into a fresh staging
   graph (``<target>.staging-<random>``) and its triple count is checked
   against the release;
2. each non-empty target is copied to a backup graph (``<target>.backup-<random>``);
3. all targets are replaced in ONE update request
   (``DROP SILENT GRAPH <t>; ADD <staging> TO <t>; ...``), atomic where the
   store is (Oxigraph), so a reader never sees one graph of the new release
   beside one of the old;
4. every target's count is verified; if the swap failed or a count is wrong,
   the targets are restored from the backups;
5. staging and backup graphs are dropped (best effort, also on failure).

Blank nodes are skolemised into IRIs under ``namespaces.SKOLEM_BASE`` built
from the release's canonical labels, so a reload replaces them instead of
adding copies.
"""
from __future__ import annotations

import json
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from .errors import BadInputError, RemoteStoreError
from .namespaces import GRAPH_BASE, GRAPH_NAMES, GRAPHS, SKOLEM_BASE

#: Chunk limits per upload method. Virtuoso 7 compiles INSERT DATA into SQL and refuses
#: more than 10 000 lines of it ("SP031"), about 1 500 triples of distinct terms, and its
#: parser runs out of memory near 5 000; its Graph Store POST took 50 000 triples (5 MB)
#: in under a second. A chunk a store still refuses (HTTP 400/413) is split in half and
#: retried, so a stricter store only costs a few extra requests.
CHUNK_TRIPLES = {"update": 500, "gsp": 10_000}
CHUNK_BYTES = {"update": 1_000_000, "gsp": 4_000_000}
SPLIT_STATUSES = (400, 413)
SPLIT_MIN = 32  # below this a refusal is about content, not size: report it
#: Uploads larger than this get a progress bar (when stderr is a terminal).
PROGRESS_BYTES = 4_000_000
RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"

if TYPE_CHECKING:
    from .progress import Progress

Say = Callable[[str], None]


# -- reading the release -----------------------------------------------------------------------------

def skolem_iri(label: str) -> str:
    """The IRI a blank node of the release becomes in a remote store (stable across builds)."""
    return SKOLEM_BASE + urllib.parse.quote(label, safe="")


def _nt_term(term) -> str:
    """N-Triples text of a pyoxigraph term, blank nodes replaced by their skolem IRIs."""
    import pyoxigraph as ox

    if isinstance(term, ox.BlankNode):
        return f"<{skolem_iri(term.value)}>"
    if isinstance(term, ox.Triple):
        raise BadInputError("RDF-star triple terms cannot be loaded into a remote store")
    return str(term)


def read_release(dist: Path) -> dict[str, list[str]]:
    """The release's triples per named-graph name, as sorted, skolemised N-Triples lines."""
    import pyoxigraph as ox

    from .layout import Release

    path = Release(Path(dist)).nquads
    if not path.is_file():
        raise BadInputError("no built release: run `carnk-graph build` first", path=path)
    by_iri = {iri: name for name, iri in GRAPHS.items()}
    lines: dict[str, set[str]] = {name: set() for name in GRAPH_NAMES}
    try:
        quads = ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)
        for q in quads:
            name = by_iri.get(getattr(q.graph_name, "value", None))
            if name is None:
                continue
            lines[name].add(f"{_nt_term(q.subject)} {_nt_term(q.predicate)} {_nt_term(q.object)} .")
    except SyntaxError as e:
        raise BadInputError(f"cannot read the release: {e}", path=path) from None
    return {name: sorted(lines[name]) for name in GRAPH_NAMES}


# -- the plan ----------------------------------------------------------------------------------------

@dataclass
class GraphLoad:
    """One named graph of the release and where it goes."""

    name: str
    target: str
    chunks: list[list[str]]
    triples: int

    @property
    def bytes(self) -> int:
        return sum(len(line.encode("utf-8")) + 1 for chunk in self.chunks for line in chunk)


@dataclass
class LoadPlan:
    """What a load sends: computed without touching the network, printed by --dry-run."""

    graphs: list[GraphLoad]
    method: str  # "update" (INSERT DATA) or "gsp" (Graph Store POST)

    @property
    def bytes(self) -> int:
        return sum(g.bytes for g in self.graphs)

    def describe(self) -> list[str]:
        how = "Graph Store HTTP POST" if self.method == "gsp" else "SPARQL Update INSERT DATA"
        out = [f"would load {len(self.graphs)} graph(s), {sum(g.triples for g in self.graphs)} triples, "
               f"{self.bytes} bytes of N-Triples, via {how} into staging graphs, then swap in one update:"]
        for g in self.graphs:
            out.append(f"  {g.name}: {g.triples} triples in {len(g.chunks)} chunk(s) -> <{g.target}>")
        return out


def target_iris(names: Sequence[str], prefix: str | None) -> dict[str, str]:
    """Target graph IRI per graph name: the release's own, or `prefix` + name."""
    base = prefix if prefix else GRAPH_BASE
    if not urllib.parse.urlsplit(base).scheme or any(c in base for c in '<>"{}|\\^` \n'):
        raise BadInputError(f"--graph-prefix must be an absolute IRI: {base!r}")
    return {name: base + name for name in names}


def chunk(lines: Sequence[str], max_triples: int = CHUNK_TRIPLES["update"],
          max_bytes: int = CHUNK_BYTES["update"]) -> list[list[str]]:
    """Split N-Triples lines into chunks under both limits (a single huge line gets its own chunk)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode("utf-8")) + 1
        if current and (len(current) >= max_triples or size + n > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        chunks.append(current)
    return chunks


def plan_load(release: Mapping[str, Sequence[str]], names: Iterable[str] | None = None,
              prefix: str | None = None, method: str = "update",
              max_triples: int | None = None, max_bytes: int | None = None) -> LoadPlan:
    """Decide graphs, target IRIs and chunks for `release` (graph name -> N-Triples lines)."""
    if method not in CHUNK_TRIPLES:
        raise BadInputError(f"unknown upload method {method!r}")
    max_triples = max_triples or CHUNK_TRIPLES[method]
    max_bytes = max_bytes or CHUNK_BYTES[method]
    wanted = [n for n in GRAPH_NAMES if n in set(names or GRAPH_NAMES)]
    targets = target_iris(wanted, prefix)
    graphs = [GraphLoad(n, targets[n], chunk(release[n], max_triples, max_bytes), len(release[n])) for n in wanted]
    return LoadPlan(graphs, method)


# -- talking to the store ----------------------------------------------------------------------------

def _store_message(body: bytes) -> str:
    """The first line of an error body, at most 200 characters (HTML tags stripped)."""
    import re

    text = body.decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())[:200]
    return ""


class SparqlClient:
    """A SPARQL 1.1 protocol client: queries, updates and Graph Store POSTs, with timeouts and auth."""

    def __init__(self, endpoint: str, update: str | None = None, gsp: str | None = None, *,
                 user: str | None = None, password: str | None = None, auth: str = "basic",
                 timeout: float = 30.0) -> None:
        for url in (endpoint, update, gsp):
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise BadInputError(f"not an http(s) URL: {url!r}")
        self.endpoint = endpoint
        self.update_url = update or endpoint
        self.gsp_url = gsp
        self.timeout = timeout
        handlers: list = []
        if user is not None:
            urls = [u for u in (endpoint, self.update_url, gsp) if u]
            if auth == "digest":
                mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                mgr.add_password(None, urls, user, password or "")
                handlers.append(urllib.request.HTTPDigestAuthHandler(mgr))
            else:  # basic: send credentials up front, so large bodies are not sent twice
                prior = urllib.request.HTTPPasswordMgrWithPriorAuth()
                prior.add_password(None, urls, user, password or "", is_authenticated=True)
                handlers.append(urllib.request.HTTPBasicAuthHandler(prior))
        self._opener = urllib.request.build_opener(*handlers)

    def _send(self, url: str, body: bytes, content_type: str, accept: str | None = None,
              what: str = "request") -> bytes:
        """POST `body` to `url`; any failure becomes one RemoteStoreError line."""
        headers = {"Content-Type": content_type, "User-Agent": "carnk-graph"}
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.read()
        except urllib.error.HTTPError as e:
            try:
                detail = _store_message(e.read())
            except (OSError, socket.timeout):
                detail = ""
            err = RemoteStoreError(f"{what} to {url} failed: HTTP {e.code} {e.reason}"
                                   + (f": {detail}" if detail else ""))
            err.status = e.code
            raise err from None
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise RemoteStoreError(f"{what} to {url} timed out after {self.timeout:g}s") from None
            raise RemoteStoreError(f"cannot reach {url}: {reason}") from None
        except (socket.timeout, TimeoutError):
            raise RemoteStoreError(f"{what} to {url} timed out after {self.timeout:g}s") from None
        except (ConnectionError, OSError) as e:  # reset, refused, or dropped mid-response
            raise RemoteStoreError(f"{what} to {url} failed: connection lost ({e})") from None
        except Exception as e:  # http.client.RemoteDisconnected, IncompleteRead, BadStatusLine...
            raise RemoteStoreError(f"{what} to {url} failed: {type(e).__name__}: {e}") from None

    def select(self, query: str) -> list[dict[str, dict]]:
        """Run a SELECT query; the JSON result bindings."""
        body = urllib.parse.urlencode({"query": query}).encode("ascii")
        raw = self._send(self.endpoint, body, "application/x-www-form-urlencoded", RESULTS_JSON, "query")
        try:
            return json.loads(raw.decode("utf-8"))["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise RemoteStoreError(f"query to {self.endpoint}: not SPARQL JSON results: "
                                   f"{_store_message(raw)!r}") from None

    def update(self, text: str, what: str = "update") -> None:
        """Run a SPARQL 1.1 Update request (URL-encoded POST, the protocol's portable form)."""
        body = urllib.parse.urlencode({"update": text}).encode("ascii")
        self._send(self.update_url, body, "application/x-www-form-urlencoded; charset=UTF-8", None, what)

    def post_triples(self, graph: str, ntriples: bytes) -> None:
        """Add N-Triples to a graph with the Graph Store HTTP Protocol (POST ?graph=)."""
        if not self.gsp_url:
            raise BadInputError("no Graph Store endpoint (--gsp) given")
        sep = "&" if "?" in self.gsp_url else "?"
        url = self.gsp_url + sep + urllib.parse.urlencode({"graph": graph})
        self._send(url, ntriples, NTRIPLES, None, "Graph Store upload")

    def count(self, graph: str) -> int:
        """Triples in one named graph (0 when it does not exist)."""
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        try:
            return int(rows[0]["n"]["value"]) if rows else 0
        except (KeyError, ValueError, IndexError):
            raise RemoteStoreError(f"query to {self.endpoint}: unexpected COUNT result {rows!r:.200}") from None


# -- loading -----------------------------------------------------------------------------------------

@dataclass
class LoadResult:
    """Verified triple counts per target graph after a load."""

    counts: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (target IRI, triples)

    def lines(self) -> list[str]:
        return [f"{name}: {n} triples in <{iri}> (verified)" for name, (iri, n) in self.counts.items()]


class _RestoreFailed(RemoteStoreError):
    """The swap failed and so did putting the old graphs back: the backup graphs must survive."""


def _insert_data(graph: str, lines: Sequence[str]) -> str:
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n" + "\n".join(lines) + "\n} }"


def _upload(client: SparqlClient, plan: LoadPlan, g: GraphLoad, staging: str, bar: "Progress") -> None:
    for part in g.chunks:
        _send_chunk(client, plan.method, staging, part, bar)


def _send_chunk(client: SparqlClient, method: str, staging: str, part: Sequence[str], bar: "Progress") -> None:
    """Send one chunk; if the store refuses it (400/413, as too large), send its halves instead.

    Resending is safe: a refused INSERT DATA or POST added nothing, and a graph is a set,
    so a triple that did arrive twice is still one triple.
    """
    data = ("\n".join(part) + "\n").encode("utf-8")
    try:
        if method == "gsp":
            client.post_triples(staging, data)
        else:
            client.update(_insert_data(staging, part), what="upload")
    except RemoteStoreError as e:
        if getattr(e, "status", None) not in SPLIT_STATUSES or len(part) < SPLIT_MIN:
            raise
        half = len(part) // 2
        _send_chunk(client, method, staging, part[:half], bar)
        _send_chunk(client, method, staging, part[half:], bar)
        return
    bar.update(len(data))


def _replace(pairs: Sequence[tuple[str, str | None]]) -> str:
    """One update request replacing each target by its source graph (None: just empty it)."""
    ops = []
    for target, source in pairs:
        ops.append(f"DROP SILENT GRAPH <{target}>")
        if source is not None:
            ops.append(f"ADD <{source}> TO <{target}>")
    return " ;\n".join(ops)


def _drop_quietly(client: SparqlClient, graphs: Iterable[str]) -> None:
    """Best-effort removal of helper graphs; a failure here must not hide the real error."""
    graphs = list(graphs)
    if not graphs:
        return
    try:
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs), what="cleanup")
    except RemoteStoreError:
        pass


def load(plan: LoadPlan, client: SparqlClient, *, say: Say | None = None,
         progress: bool | None = None) -> LoadResult:
    """Load every graph of `plan` through staging graphs; never leave a target half-replaced."""
    from .progress import Progress, wants_progress

    say = say or (lambda _m: None)
    if progress is None:
        progress = wants_progress()
    token = secrets.token_hex(6)
    staging = {g.name: f"{g.target}.staging-{token}" for g in plan.graphs}
    backup = {g.name: f"{g.target}.backup-{token}" for g in plan.graphs}
    before: dict[str, int] = {}
    keep = True  # drop the backups afterwards (not when a restore failed: they hold the old graphs)
    try:
        bar = Progress("upload", plan.bytes, unit="B", enabled=progress and plan.bytes > PROGRESS_BYTES)
        try:
            for g in plan.graphs:
                say(f"uploading {g.name}: {g.triples} triples in {len(g.chunks)} chunk(s) to <{staging[g.name]}>")
                _upload(client, plan, g, staging[g.name], bar)
        finally:
            bar.close()
        for g in plan.graphs:
            got = client.count(staging[g.name])
            if got != g.triples:
                raise RemoteStoreError(f"staging graph <{staging[g.name]}> holds {got} triples, the release "
                                       f"{g.triples}: store changed or dropped data; targets left unchanged")
        for g in plan.graphs:
            before[g.name] = client.count(g.target)
            if before[g.name]:
                client.update(f"ADD <{g.target}> TO <{backup[g.name]}>", what="backup")
                got = client.count(backup[g.name])
                if got != before[g.name]:
                    raise RemoteStoreError(f"backup of <{g.target}> holds {got} of {before[g.name]} triples; "
                                           f"targets left unchanged")
        say("replacing " + ", ".join(f"<{g.target}>" for g in plan.graphs) + " in one update")
        _swap(client, plan, staging, backup, before)
        return LoadResult({g.name: (g.target, client.count(g.target)) for g in plan.graphs})
    except _RestoreFailed:
        keep = False  # the backups are the only copy of the old graphs now: never drop them
        raise
    finally:
        _drop_quietly(client, [*staging.values(), *(backup.values() if keep else ())])


def _swap(client: SparqlClient, plan: LoadPlan, staging: Mapping[str, str], backup: Mapping[str, str],
          before: Mapping[str, int]) -> None:
    """Replace all targets in one request, verify them, and restore the backups if anything is off."""
    pairs = [(g.target, staging[g.name] if g.triples else None) for g in plan.graphs]
    pairs_text = _replace(pairs)
    failure: RemoteStoreError | None = None
    try:
        client.update(pairs_text, what="swap")
        wrong = [(g, n) for g in plan.graphs if (n := client.count(g.target)) != g.triples]
        if wrong:
            g, n = wrong[0]
            failure = RemoteStoreError(f"after the swap <{g.target}> holds {n} triples, expected {g.triples}")
    except RemoteStoreError as e:
        failure = e
    if failure is None:
        return
    _restore(client, plan, backup, before, failure)


def _restore(client: SparqlClient, plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int],
             failure: RemoteStoreError) -> None:
    """Put the targets back as they were before the swap; always raises."""
    try:
        client.update(_replace([(g.target, backup[g.name] if before[g.name] else None) for g in plan.graphs]),
                      what="restore")
        for g in plan.graphs:
            if client.count(g.target) != before[g.name]:
                raise RemoteStoreError(f"<{g.target}> not restored")
    except RemoteStoreError as e:
        kept = ", ".join(f"<{backup[g.name]}>" for g in plan.graphs if before[g.name])
        raise _RestoreFailed(f"{failure.detail}; restoring the previous graphs also failed ({e.detail}); "
                             f"the previous graphs are kept in {kept or 'no backup (targets were empty)'}") from None
    raise RemoteStoreError(f"{failure.detail}; previous graphs restored, nothing changed") from None
