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
5. staging and backup graphs are dropped (best effort, also on failure); staging
   graphs an earlier, killed run left behind are dropped first, its backups once the
   swap is verified;
6. a swap that gets no answer at all (a dropped connection, a killed store) is checked
   against the staging graphs before it is called failed, and when the store cannot be
   asked the error says the outcome is unknown instead of guessing.

The whole load runs against one wall-clock deadline (`--timeout`), enforced by a
watchdog that closes the socket, so a store that drips its answer cannot stretch it;
answers are read in blocks up to a size limit. No URL, password or secret query
value is ever printed (see `redact`).

Blank nodes are skolemised into IRIs under ``namespaces.SKOLEM_BASE`` built
from the release's canonical labels, so a reload replaces them instead of
adding copies.
"""
from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from .errors import BadInputError, RefusedError, RemoteStoreError
from .namespaces import GRAPH_BASE, GRAPH_NAMES, GRAPHS, PREFIXES, SKOLEM_BASE

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

#: The most a store's answer may hold. The client only reads COUNT results, update acknowledgements
#: and error pages; anything bigger is a misbehaving or hostile server, refused rather than read whole.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: The most of an error page read to quote its first line.
MAX_ERROR_BYTES = 64 * 1024
READ_BLOCK = 64 * 1024

#: Query-string keys whose values are secrets (API keys, tokens, signatures): never printed.
_SECRET_KEY = re.compile(r"(?i)(pass|pwd|secret|token|key|auth|sig|session|credential|cookie)")
_URL = re.compile(r"""(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"']+""")


def redact_url(url: str) -> str:
    """`url` safe to print: the password of a `user:pass@` part and secret query values become ***."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@\s]*@", "//***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _pw = userinfo.partition(":")
        netloc = f"{user}{':***' if sep else ''}@{host}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str | None) -> list[str]:
    """The secret values inside `url` (its password, secret query values): masked wherever they appear,
    also in a store's error message that echoes them."""
    if not url:
        return []
    try:
        parts = urllib.parse.urlsplit(url)
        out = [parts.password] if parts.password else []
        out += [v for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if _SECRET_KEY.search(k) and v]
    except ValueError:
        return []
    return out


def _redact_pair(pair: str) -> str:
    key, sep, _value = pair.partition("=")
    return f"{key}=***" if sep and _SECRET_KEY.search(urllib.parse.unquote_plus(key)) else pair


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every URL redacted (see redact_url) and each of `secrets` (a password) replaced by ***."""
    def one(m: re.Match) -> str:
        url = m.group(0)
        trail = len(url) - len(url.rstrip(".,:;)]}"))  # sentence punctuation after a URL
        return redact_url(url[:len(url) - trail]) + url[len(url) - trail:]

    text = _URL.sub(one, text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _store_message(body: bytes) -> str:
    """The first line of an error body, at most 200 characters (HTML tags stripped)."""
    text = body.decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)
    for line in text.splitlines():
        if line.strip():
            return " ".join(line.split())[:200]
    return ""


#: A store's message saying the user lacks a right, whatever the status: a stock Virtuoso 7.2 answers
#: an anonymous update with HTTP 500 "SR186:SECURITY: No permission to execute procedure ...".
_NO_PERMISSION = re.compile(r"(?i)\bSR186\b|no permission|permission denied|not authori[sz]ed|access denied")


def _auth_hint(status: int, user: str | None, auth: str, detail: str = "") -> str:
    """Which option to try after a 401, a 403 or a refusal for lack of rights (Virtuoso's anonymous
    /sparql cannot update)."""
    if status not in (401, 403) and _NO_PERMISSION.search(detail):
        status = 403
    if status == 401:
        if user is None:
            return ("the store wants a login: give --user (the password from $CARNK_STORE_PASSWORD or the "
                    "terminal), and --auth digest for Virtuoso's /sparql-auth")
        if auth == "basic":
            return "check --user and the password, or try --auth digest (Virtuoso's /sparql-auth uses digest)"
        return "check --user and the password, or try --auth basic"
    if status == 403:
        if user is None:
            return ("the store does not let anonymous users update: log in with --user and --auth digest at "
                    "Virtuoso's /sparql-auth (or the store's authenticated endpoint)")
        return f"user {user!r} may not update this store: grant it update rights (Virtuoso: SPARQL_UPDATE)"
    return ""


class _Watchdog:
    """Closes the sockets of the request in flight when the load's wall-clock deadline passes.

    urllib's timeout applies to each socket operation, so a server sending one byte every
    half second never trips it; shutting the socket down ends any wait at the deadline,
    whatever phase (connect, headers, body) the request is in.
    """

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.fired = False
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> None:
        if self.deadline is None:
            return
        remaining = self.deadline - time.monotonic()

        def fire() -> None:
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        if remaining <= 0:
            fire()
            return
        timer = threading.Timer(remaining, fire)
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def done(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for t in timers:
            t.cancel()


def _handlers(watchdog: _Watchdog) -> list:
    """HTTP and HTTPS handlers whose connections report their socket to the watchdog."""
    import http.client

    class _HTTPConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    class _HTTPSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    class _HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_HTTPConnection, req)

    class _HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_HTTPSConnection, req, context=self._context)

    return [_HTTPHandler(), _HTTPSHandler()]


class SparqlClient:
    """A SPARQL 1.1 protocol client: queries, updates and Graph Store POSTs, with a wall-clock
    deadline, bounded answers and auth. No URL it prints shows a password or a secret query value."""

    def __init__(self, endpoint: str, update: str | None = None, gsp: str | None = None, *,
                 user: str | None = None, password: str | None = None, auth: str = "basic",
                 timeout: float = 300.0) -> None:
        for url in (endpoint, update, gsp):
            if url is None:
                continue
            try:
                parts = urllib.parse.urlsplit(url)
            except ValueError as e:
                raise BadInputError(f"not a URL: {redact_url(url)!r} ({e})") from None
            if parts.scheme not in ("http", "https"):
                raise BadInputError(f"not an http(s) URL: {redact_url(url)!r}")
            if "@" in parts.netloc:
                # Never in the URL: it shows in `ps`, shell history and proxy logs.
                raise RefusedError(f"refusing credentials inside the URL {redact_url(url)}: give --user, and the "
                                   "password in $CARNK_STORE_PASSWORD or on the terminal")
        if not (0 < timeout < float("inf")):
            raise BadInputError(f"--timeout must be a finite number of seconds above 0, not {timeout!r}")
        self.endpoint = endpoint
        self.update_url = update or endpoint
        self.gsp_url = gsp
        self.timeout = timeout
        self.user = user
        self.auth = auth
        self._secrets = (password, *(x for u in (endpoint, update, gsp) for x in url_secrets(u)))
        self._watchdog = _Watchdog()
        self.deadline: float | None = None  # monotonic; None: each request gets `timeout`
        self.server: str | None = None  # the store's Server header, once it has answered
        handlers: list = _handlers(self._watchdog)
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

    @property
    def is_virtuoso(self) -> bool:
        """Whether the store said it is Virtuoso (its Server header), for its known quirks."""
        return "virtuoso" in (self.server or "").lower()

    def show(self, url: str) -> str:
        """`url` as it may be printed."""
        return redact_url(url)

    def start_clock(self, seconds: float | None = None) -> None:
        """From now on every request must finish within `seconds` (default: the timeout) in total."""
        self.deadline = time.monotonic() + (self.timeout if seconds is None else seconds)

    def _timed_out(self, what: str, url: str) -> RemoteStoreError:
        return RemoteStoreError(f"{what} to {self.show(url)} timed out after {self.timeout:g}s "
                                "(--timeout, wall clock for the whole load)")

    def _send(self, url: str, body: bytes, content_type: str, accept: str | None = None,
              what: str = "request") -> bytes:
        """POST `body` to `url`; any failure becomes one RemoteStoreError line."""
        deadline = self.deadline if self.deadline is not None else time.monotonic() + self.timeout
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out(what, url)
        headers = {"Content-Type": content_type, "User-Agent": "carnk-graph"}
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        self._watchdog.deadline = deadline
        self._watchdog.fired = False
        try:
            with self._opener.open(req, timeout=remaining) as resp:
                if not self.is_virtuoso:  # any endpoint saying so is enough (a proxy may hide it on another)
                    self.server = resp.headers.get("Server") or self.server
                return self._read(resp, MAX_RESPONSE_BYTES, deadline, what, url)
        except urllib.error.HTTPError as e:
            try:
                detail = _store_message(e.read(MAX_ERROR_BYTES))
            except Exception:  # a dropped or dripping error page: the status says enough
                detail = ""
            hint = _auth_hint(e.code, self.user, self.auth, detail)
            err = RemoteStoreError(self._clean(f"{what} to {self.show(url)} failed: HTTP {e.code} {e.reason}"
                                               + (f": {detail}" if detail else "") + (f"; {hint}" if hint else "")))
            err.status = e.code
            raise err from None
        except RemoteStoreError:
            raise
        except Exception as e:
            if self._watchdog.fired or time.monotonic() >= deadline or _is_timeout(e):
                raise self._timed_out(what, url) from None
            if isinstance(e, urllib.error.URLError):
                raise RemoteStoreError(self._clean(f"cannot reach {self.show(url)}: {e.reason}")) from None
            if isinstance(e, (ConnectionError, OSError)):  # reset, refused, or dropped mid-response
                raise RemoteStoreError(self._clean(f"{what} to {self.show(url)} failed: connection lost ({e})")) from None
            # http.client.RemoteDisconnected, IncompleteRead, BadStatusLine...
            raise RemoteStoreError(self._clean(f"{what} to {self.show(url)} failed: {type(e).__name__}: {e}")) from None
        finally:
            self._watchdog.done()

    def _read(self, resp, limit: int, deadline: float, what: str, url: str) -> bytes:
        """The answer's body, read in blocks: refused past `limit` bytes or past the deadline."""
        length = resp.headers.get("Content-Length")
        if length and length.strip().isdigit() and int(length) > limit:
            raise RemoteStoreError(f"{what} to {self.show(url)}: the store's answer of {int(length)} bytes is over "
                                   f"the {limit // (1024 * 1024)} MB limit; refused, not read")
        out = bytearray()
        while True:
            block = resp.read1(READ_BLOCK) if hasattr(resp, "read1") else resp.read(READ_BLOCK)
            if not block:
                break
            out += block
            if len(out) > limit:
                raise RemoteStoreError(f"{what} to {self.show(url)}: the store's answer is over the "
                                       f"{limit // (1024 * 1024)} MB limit; refused, not read further")
            if time.monotonic() >= deadline:
                raise self._timed_out(what, url)
        if self._watchdog.fired:  # the watchdog's shutdown looks like the end of the answer
            raise self._timed_out(what, url)
        if length and length.strip().isdigit() and len(out) < int(length):
            raise RemoteStoreError(f"{what} to {self.show(url)} failed: connection lost after {len(out)} of "
                                   f"{int(length)} bytes")
        return bytes(out)

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def select(self, query: str) -> list[dict[str, dict]]:
        """Run a SELECT query; the JSON result bindings."""
        body = urllib.parse.urlencode({"query": query}).encode("ascii")
        raw = self._send(self.endpoint, body, "application/x-www-form-urlencoded", RESULTS_JSON, "query")
        try:
            return json.loads(raw.decode("utf-8"))["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise RemoteStoreError(f"query to {self.show(self.endpoint)}: not SPARQL JSON results: "
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
        return _int_result(rows, self.show(self.endpoint))

    def missing(self, source: str, target: str) -> int:
        """Triples of graph `source` that graph `target` lacks."""
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{source}> {{ ?s ?p ?o }} "
                           f"FILTER NOT EXISTS {{ GRAPH <{target}> {{ ?s ?p ?o }} }} }}")
        return _int_result(rows, self.show(self.endpoint))

    def graphs_starting(self, prefixes: Sequence[str], limit: int = 10_000) -> list[str]:
        """Named graphs whose IRI starts with one of `prefixes`."""
        if not prefixes:
            return []
        test = " || ".join(f"STRSTARTS(STR(?g), {json.dumps(p)})" for p in prefixes)
        rows = self.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({test}) }} LIMIT {limit}")
        return sorted({r["g"]["value"] for r in rows if r.get("g", {}).get("type") == "uri"})


def _is_timeout(e: BaseException) -> bool:
    reason = getattr(e, "reason", None)
    return isinstance(e, (socket.timeout, TimeoutError)) or isinstance(reason, (socket.timeout, TimeoutError))


def _int_result(rows: list[dict], endpoint: str) -> int:
    try:
        return int(rows[0]["n"]["value"]) if rows else 0
    except (KeyError, ValueError, IndexError, TypeError):
        raise RemoteStoreError(f"query to {endpoint}: unexpected COUNT result {rows!r:.200}") from None


# -- loading -----------------------------------------------------------------------------------------

#: Helper graphs are the target IRI + ".staging-" or ".backup-" + a 12-hex-digit token of one run.
_HELPER = re.compile(r"\.(staging|backup)-[0-9a-f]{12}$")


@dataclass
class LoadResult:
    """Verified triple counts per target graph after a load, and what else the load did."""

    counts: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (target IRI, triples)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{name}: {n} triples in <{iri}> (verified)" for name, (iri, n) in self.counts.items()] + self.notes


class _RestoreFailed(RemoteStoreError):
    """The swap failed and so did putting the old graphs back: the backup graphs must survive."""


#: An N-Triples line whose object is an xsd:decimal written without a fraction ("68"^^xsd:decimal).
_XSD_DECIMAL = PREFIXES["xsd"] + "decimal"
_WHOLE_DECIMAL = re.compile(r'(?<=\s)"([+-]?\d+)"\^\^<' + re.escape(_XSD_DECIMAL) + r'> \.$')


def _insert_data(graph: str, lines: Sequence[str], virtuoso: bool = False) -> str:
    """One INSERT DATA request. For Virtuoso, a decimal without a fraction is written with ".0":
    its SPARQL parser reads "68"^^xsd:decimal as xsd:integer (its Graph Store upload does not),
    while "68.0"^^xsd:decimal is stored, and answered, as the release's "68"^^xsd:decimal."""
    if virtuoso:
        lines = [_WHOLE_DECIMAL.sub(r'"\1.0"^^<' + _XSD_DECIMAL + '> .', line) for line in lines]
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
            client.update(_insert_data(staging, part, client.is_virtuoso), what="upload")
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


def _leftovers(client: SparqlClient, plan: LoadPlan) -> list[str]:
    """Helper graphs of these targets left by earlier loads that were killed or lost their store."""
    prefixes = [g.target + kind for g in plan.graphs for kind in (".staging-", ".backup-")]
    found = client.graphs_starting(prefixes)
    targets = {g.target for g in plan.graphs}
    return [g for g in found if _HELPER.search(g) and _HELPER.sub("", g) in targets]


def load(plan: LoadPlan, client: SparqlClient, *, say: Say | None = None,
         progress: bool | None = None) -> LoadResult:
    """Load every graph of `plan` through staging graphs; never leave a target half-replaced.

    `client.timeout` bounds the whole load by the wall clock; restoring and cleaning up after
    a failure get one more such budget. Staging graphs left by earlier runs are dropped first;
    their backup graphs once this load's swap is verified (until then they may be the only copy
    of a release an earlier failed restore kept).
    """
    from .progress import Progress, wants_progress

    say = say or (lambda _m: None)
    if progress is None:
        progress = wants_progress()
    client.start_clock()
    token = secrets.token_hex(6)
    staging = {g.name: f"{g.target}.staging-{token}" for g in plan.graphs}
    backup = {g.name: f"{g.target}.backup-{token}" for g in plan.graphs}
    before: dict[str, int] = {}
    keep = True  # drop the backups afterwards (not when a restore failed: they hold the old graphs)
    notes: list[str] = []
    old = _leftovers(client, plan)
    old_staging = [g for g in old if ".staging-" in g]
    if old_staging:
        say(f"removing {len(old_staging)} staging graph(s) left by an earlier load")
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in old_staging), what="cleanup")
        notes.append(f"removed {len(old_staging)} staging graph(s) left by an earlier load")
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
        notes += _swap(client, plan, staging, backup, before)
        result = LoadResult({g.name: (g.target, client.count(g.target)) for g in plan.graphs}, notes)
        old_backups = [g for g in old if ".backup-" in g]
        if old_backups:  # the verified new release supersedes what they kept
            _drop_quietly(client, old_backups)
            result.notes.append(f"removed {len(old_backups)} backup graph(s) kept by an earlier failed load: "
                                + ", ".join(f"<{g}>" for g in old_backups))
        return result
    except _RestoreFailed:
        keep = False  # the backups are the only copy of the old graphs now: never drop them
        raise
    finally:
        if client.deadline is not None and client.deadline <= time.monotonic():
            client.start_clock()  # the load ran out of time: cleaning up gets its own budget
        _drop_quietly(client, [*staging.values(), *(backup.values() if keep else ())])


def _holds(client: SparqlClient, target: str, triples: int, source: str | None) -> bool:
    """Whether `target` holds exactly the triples of graph `source` (`triples` of them; None: empty)."""
    if client.count(target) != triples:
        return False
    return source is None or triples == 0 or client.missing(source, target) == 0


def _swap(client: SparqlClient, plan: LoadPlan, staging: Mapping[str, str], backup: Mapping[str, str],
          before: Mapping[str, int]) -> list[str]:
    """Replace all targets in one request, verify them, and restore the backups if anything is off.

    A swap that got no answer (connection dropped, store killed after it committed, deadline
    passed) may still have been applied: the targets are compared with the staging graphs
    before anything is called a failure. A swap the store answered with an error is undone
    (Virtuoso keeps the operations before the failing one). Returns notes for the report.
    """
    pairs = [(g.target, staging[g.name] if g.triples else None) for g in plan.graphs]
    failure: RemoteStoreError | None = None
    try:
        client.update(_replace(pairs), what="swap")
    except RemoteStoreError as e:
        failure = e
        if getattr(e, "status", None) is not None:  # the store answered: the swap failed (maybe half-way)
            _restore(client, plan, backup, before, failure)
        client.start_clock()  # no answer at all: asking what happened gets its own budget
        try:
            if all(_holds(client, g.target, g.triples, staging[g.name] if g.triples else None) for g in plan.graphs):
                return [f"the swap's answer was lost ({e.detail}), but every target holds the new release"]
        except RemoteStoreError as asked:
            _unknown(plan, backup, before, e, asked)
    else:
        wrong = [(g, n) for g in plan.graphs if (n := client.count(g.target)) != g.triples]
        if wrong:
            g, n = wrong[0]
            failure = RemoteStoreError(f"after the swap <{g.target}> holds {n} triples, expected {g.triples}")
    if failure is None:
        return []
    _restore(client, plan, backup, before, failure)
    return []  # not reached: _restore raises


def _kept(plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int]) -> str:
    return ", ".join(f"<{backup[g.name]}>" for g in plan.graphs if before[g.name]) or "no backup (targets were empty)"


def _unknown(plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int],
             failure: RemoteStoreError, asked: RemoteStoreError) -> None:
    """The swap's outcome cannot be known: say so, never 'failed' or 'unchanged'."""
    raise _RestoreFailed(
        f"{failure.detail}; the store then stopped answering ({asked.detail}), so whether it applied the swap "
        f"is unknown: the targets hold the new release or the previous one; the previous graphs are kept in "
        f"{_kept(plan, backup, before)}; run the load again when the store answers") from None


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
        raise _RestoreFailed(f"{failure.detail}; restoring the previous graphs also failed ({e.detail}); "
                             f"the previous graphs are kept in {_kept(plan, backup, before)}") from None
    raise RemoteStoreError(f"{failure.detail}; previous graphs restored, nothing changed") from None
