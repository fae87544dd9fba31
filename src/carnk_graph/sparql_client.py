"""A SPARQL 1.1 protocol client over HTTP: queries, updates and Graph Store POSTs.

Only the standard library talks HTTP, so a remote store adds no dependency. The
client runs against one wall-clock deadline, enforced by a watchdog that closes
the socket, so a store that drips its answer cannot stretch it; answers are
read in blocks up to a size limit; every failure becomes one RemoteStoreError
line (exit 6) that names no password or secret query value (redaction.py), with
a hint for a refused login.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Sequence

from .errors import BadInputError, RefusedError, RemoteStoreError
from .redaction import redact, redact_url, url_secrets

RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"

#: The most a store's answer may hold. The client only reads COUNT results, update acknowledgements
#: and error pages; anything bigger is a misbehaving or hostile server, refused rather than read whole.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: The most of an error page read to quote its first line.
MAX_ERROR_BYTES = 64 * 1024
READ_BLOCK = 64 * 1024

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
