"""`carnk-graph serve`: the site, the entity IRIs and a SPARQL endpoint, read-only on 127.0.0.1.

One small Python HTTP server (the standard library's ThreadingHTTPServer) over
the embedded pyoxigraph store and dist/site/, so `pip install carnk-graph` is
all it needs (no `oxigraph` command, no Java):

- `/` and every page of the site (built first when it is missing or stale);
- entity IRIs: https://w3id.org/carnk/kg/liu2020 is served as /kg/liu2020 and
  answers HTML to a browser and Turtle, JSON-LD or N-Triples to a client that
  asks for them (Accept), as do the .ttl / .jsonld / .nt files beside each page;
- `/sparql` (also `/query`): the SPARQL 1.1 Protocol, GET or POST, every query
  through the project's read-only check and a time limit (endpoint.py);
- `/saved/NAME?param=value`: a saved question run as `carnk-graph query` runs it.

Nothing can change the data: the store is opened read-only, updates are refused
with 403, and only GET, HEAD and POST are served. Unknown addresses get the
site's 404 page. The server binds 127.0.0.1 only, with address reuse (a restart
on the same port works at once). It watches dist/: when the release is rebuilt
it says so, rebuilds the site and reopens the store, so it never serves the old
release silently. Ctrl-C, SIGINT (also when started in the background, where a
shell ignores it by default) and SIGTERM stop it cleanly with exit 0.
"""
from __future__ import annotations

import json
import mimetypes
import re
import signal
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from .conneg import negotiate
from .errors import BadInputError, CarnkError

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 30.0
#: How often the server looks at dist/ for a rebuilt release (seconds).
WATCH_INTERVAL = 1.0
#: The largest request body read (a form or a query posted to /sparql).
MAX_BODY = 1024 * 1024

ENTITY_FORMATS = {"text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld",
                  "application/n-triples": "nt"}
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".json": "application/json",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ttl": "text/turtle; charset=utf-8",
                 ".jsonld": "application/ld+json", ".nt": "application/n-triples"}
#: Pages may load only what this server serves: nothing from the network, ever.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def check_port(port: int) -> None:
    """A port number we can bind (0 asks the system for a free one)."""
    if not 0 <= port <= 65535:
        raise BadInputError(f"--port must be between 1 and 65535 (or 0 for any free port), not {port}")


# -- what is being served ----------------------------------------------------------------------------

@dataclass
class Release:
    """The release being served: its store, its site, its labels; swapped whole on a rebuild."""

    dist: Path
    paths: object
    say: Callable[[str], None]
    timeout: float = DEFAULT_TIMEOUT
    ident: str = ""
    store: object = None
    labels: dict = field(default_factory=dict)
    _stat: tuple = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def site(self) -> Path:
        from .site import SITE_DIR

        return self.dist / SITE_DIR

    def load(self) -> None:
        """Open the store and make sure the site is this release's."""
        from .site import ensure_site
        from .site.build import release_id
        from .store import open_store

        ident = release_id(self.dist)
        result = ensure_site(self.paths, self.dist)
        if result.rebuilt:
            self.say(f"site written to {result.directory} ({result.pages} pages, {result.seconds:.1f}s)")
        store = open_store(self.dist)
        labels = {}
        try:
            for row in json.loads((self.site / "static" / "search-index.json").read_text(encoding="utf-8")):
                labels[row[0]] = (row[1], row[4])  # IRI -> (label, page)
        except (OSError, ValueError):
            pass
        self.store, self.labels, self.ident, self._stat = store, labels, ident, self._stamp_stat()

    def _stamp_stat(self) -> tuple:
        from .layout import Release as Layout

        try:
            st = Layout(self.dist).stamp_path.stat()  # follows dist/build.json into the current release
            return (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            return ()

    def refresh(self) -> None:
        """Look for a rebuilt release; if there is one, rebuild the site and reopen the store."""
        from .site.build import release_id

        if self._stamp_stat() == self._stat:
            return
        with self._lock:
            try:
                ident = release_id(self.dist)
            except CarnkError:
                return  # a build is writing dist/ right now: look again at the next tick
            if ident == self.ident:
                self._stat = self._stamp_stat()
                return
            self.say("the release in dist/ was rebuilt: updating the site and reopening the store")
            try:
                self.load()
            except CarnkError as e:
                self._stat = self._stamp_stat()
                self.say(f"warning: still serving the previous release: {e}")
                return
            self.say("now serving the rebuilt release")


# -- the request handler -----------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


class Handler(BaseHTTPRequestHandler):
    """GET/HEAD/POST only; every answer carries the security headers; errors are one line, never a traceback."""

    server_version = "carnk-graph"
    sys_version = ""
    protocol_version = "HTTP/1.0"
    release: Release  # set on the subclass made per server

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # requests are not logged: the terminal shows the server's own lines only

    # answers -------------------------------------------------------------------------------------

    def send(self, status: int, media_type: str, body: bytes, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def text(self, status: int, message: str, extra: dict | None = None) -> None:
        self.send(status, "text/plain; charset=utf-8", (message.rstrip() + "\n").encode("utf-8"), extra)

    def not_found(self, path: str) -> None:
        """The site's 404 page for a browser (links made relative to the address asked for), one line
        for a program."""
        from . import __version__
        from .site.templating import environment

        if negotiate(self.headers.get("Accept"), ["text/html", "text/plain"]) == "text/html":
            html = environment().get_template("404.html.j2").render(
                root="../" * path.lstrip("/").count("/"), site_title="CAR-NK knowledge graph",
                version=__version__, title="Not found", missing=path[:200])
            self.send(404, "text/html; charset=utf-8", html.encode("utf-8"))
        else:
            self.text(404, f"not found: {path[:200]}")

    # dispatch ------------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self._guarded(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _refuse_method(self) -> None:
        self.text(405, f"{self.command} is not served: this server is read-only (GET, HEAD and POST to /sparql)",
                  {"Allow": "GET, HEAD, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = (  # noqa: N815
        lambda self: self._guarded(self._refuse_method))

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            self.release.refresh()
            work()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001 - one line for the client, never a traceback
            try:
                self.text(500, f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}")
            except OSError:
                pass

    def _get(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if path in ("/sparql", "/query"):
            return self._sparql(params)
        if path.startswith("/saved/"):
            return self._saved(path[len("/saved/"):], params)
        if path == "/update":
            return self.text(403, "updates are refused: this endpoint is read-only")
        return self._static(path)

    def _post(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path == "/update":
            return self.text(403, "updates are refused: this endpoint is read-only")
        if path not in ("/sparql", "/query"):
            return self._refuse_method()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self.text(400, "bad Content-Length")
        if length < 0 or length > MAX_BODY:
            return self.text(413, f"request body refused: larger than {MAX_BODY // 1024} KiB")
        body = self.rfile.read(length) if length else b""
        media = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.text(400, "the request body is not UTF-8")
        if media == "application/sparql-query":
            params["query"] = [text]
        elif media == "application/x-www-form-urlencoded":
            for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        elif media == "application/sparql-update":
            return self.text(403, "updates are refused: this endpoint is read-only")
        else:
            return self.text(415, "send the query as application/sparql-query or as a form "
                                  "(application/x-www-form-urlencoded)")
        return self._sparql(params)

    # the endpoint --------------------------------------------------------------------------------

    def _sparql(self, params: dict[str, list[str]]) -> None:
        from . import endpoint

        if "update" in params:
            return self.text(403, "updates are refused: this endpoint is read-only")
        if "default-graph-uri" in params or "named-graph-uri" in params:
            from .namespaces import GRAPH_BASE

            return self.text(400, "default-graph-uri / named-graph-uri are not supported: queries run on the "
                                  f"built graph; use GRAPH <{GRAPH_BASE}...> to pick a named graph")
        queries = params.get("query") or []
        if len(queries) != 1 or not queries[0].strip():
            return self.text(400, "give exactly one query parameter (SPARQL 1.1 Protocol)")
        html = (params.get("format") or [""])[0].lower() == "html"
        accept = "application/sparql-results+json" if html else endpoint.accept_for(params, self.headers.get("Accept"))
        answer = endpoint.run(self.release.store, queries[0], accept, self.release.timeout)
        if html and answer.status == 200 and answer.media_type.startswith("application/sparql-results+json"):
            return self._results_page("Your query", json.loads(answer.body))
        self.send(answer.status, answer.media_type, answer.body, {"Vary": "Accept"})

    def _saved(self, name: str, params: dict[str, list[str]]) -> None:
        """A saved question, run as `carnk-graph query` runs it (the same check, binding and deadline)."""
        from . import formats
        from .catalogue import catalogue
        from .engines import OxigraphEngine
        from .errors import QueryTimeoutError, RefusedError
        from .queries import execute

        if not _SAFE_NAME.fullmatch(name):
            return self.not_found("/saved/" + name)
        saved = catalogue(self.release.paths.queries).get(name)
        if saved is None:
            return self.not_found("/saved/" + name)
        declared = {p.name for p in saved.params}
        bound = [f"{k}={v[-1]}" for k, v in sorted(params.items()) if k in declared and v and v[-1].strip()]
        try:
            result = execute(saved, OxigraphEngine(self.release.store), bound, self.release.timeout)
        except RefusedError as e:
            return self.text(403, f"query refused: {e}")
        except QueryTimeoutError as e:
            return self.text(503, str(e))
        except CarnkError as e:
            return self.text(400, str(e))
        fmt = (params.get("format") or [""])[0].lower()
        if fmt == "html":
            if result.is_graph:
                table = {"head": {"vars": ["subject", "predicate", "object"]}, "results": {"bindings": [
                    {k: formats._json_term(t) for k, t in zip(("subject", "predicate", "object"), row)}
                    for row in result.triples]}}
                return self._results_page(saved.title or saved.name, table)
            return self._results_page(saved.title or saved.name, json.loads(formats.format_json(result)))
        if result.is_graph:
            writers = {"text/turtle": formats.format_ttl, "application/n-triples": formats.format_nt,
                       "application/ld+json": formats.format_jsonld}
        else:
            writers = {"application/sparql-results+json": formats.format_json, "application/json": formats.format_json,
                       "text/csv": formats.format_csv, "text/tab-separated-values": formats.format_tsv}
        from .endpoint import FORMAT_NAMES

        accept = FORMAT_NAMES.get(fmt) or self.headers.get("Accept")
        media = negotiate(accept, list(writers))
        if media is None:
            return self.text(406, "ask for one of " + ", ".join(writers), {"Vary": "Accept"})
        self.send(200, f"{media}; charset=utf-8", writers[media](result).encode("utf-8"), {"Vary": "Accept"})

    def _results_page(self, title: str, data: dict) -> None:
        """An answer as an HTML table, for forms submitted without JavaScript."""
        from .site.entities import Value
        from .site.templating import environment

        variables = data.get("head", {}).get("vars", [])
        rows = []
        for b in data.get("results", {}).get("bindings", []):
            row = []
            for v in variables:
                cell = b.get(v)
                if cell is None:
                    row.append(None)
                elif cell["type"] == "uri" and cell["value"] in self.release.labels:
                    label, href = self.release.labels[cell["value"]]
                    row.append(Value(label, href=href, title=cell["value"]))
                else:
                    row.append(Value(cell["value"], title=cell.get("datatype", "")))
            rows.append(row)
        from . import __version__

        html = environment().get_template("results.html.j2").render(
            root="../", site_title="CAR-NK knowledge graph", version=__version__, title=title,
            variables=variables, rows=rows, boolean=data.get("boolean"))
        self.send(200, "text/html; charset=utf-8", html.encode("utf-8"))

    # the site and the entity IRIs ----------------------------------------------------------------

    def _static(self, path: str) -> None:
        site = self.release.site
        rel = path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        parts = rel.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts) or "\x00" in rel or "\\" in rel:
            return self.not_found(path)
        target = site.joinpath(*parts)
        if target.is_file():
            media = CONTENT_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return self.send(200, media, target.read_bytes())
        page = site.joinpath(*parts[:-1], parts[-1] + ".html")
        if not page.is_file():
            return self.not_found(path)
        # an entity IRI (or a page named without .html): HTML for people, RDF for programs
        offers = list(ENTITY_FORMATS)
        if not site.joinpath(*parts[:-1], parts[-1] + ".ttl").is_file():
            offers = ["text/html"]
        wanted = negotiate(self.headers.get("Accept"), offers)
        if wanted is None:
            return self.text(406, "this entity is available as " + ", ".join(offers), {"Vary": "Accept"})
        suffix = ENTITY_FORMATS[wanted]
        body = site.joinpath(*parts[:-1], f"{parts[-1]}.{suffix}").read_bytes()
        extra = {"Vary": "Accept", "Content-Location": f"{parts[-1]}.{suffix}"}
        self.send(200, CONTENT_TYPES["." + suffix], body, extra)


class LocalServer(ThreadingHTTPServer):
    """Loopback only, address reuse on (a restart finds the port free at once), threads die with it."""

    allow_reuse_address = True
    daemon_threads = True


def make_server(release: Release, port: int) -> LocalServer:
    check_port(port)
    handler = type("BoundHandler", (Handler,), {"release": release})
    try:
        return LocalServer((HOST, port), handler)
    except OSError as e:
        raise BadInputError(f"cannot serve on {HOST}:{port}: {e.strerror or e}") from None


def serve(root: str | Path | None, dist: str | Path | None, port: int, *, timeout: float = DEFAULT_TIMEOUT,
          out: Callable[[str], None] = print, progress: Callable[[str], None] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; 0 when stopped that way."""
    from .api import ensure_built
    from .catalogue import catalogue

    if not timeout > 0:
        raise BadInputError(f"--timeout must be a positive number of seconds, not {timeout}")
    check_port(port)
    built = ensure_built(root, dist, progress=progress)
    paths = built.paths
    release = Release(Path(built.dist), paths, out, timeout)
    release.load()
    server = make_server(release, port)
    base = f"http://{HOST}:{server.server_address[1]}"
    stop = threading.Event()

    def on_signal(_signum, _frame) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="carnk-serve",
                              daemon=True)
    worker.start()
    try:
        out(f"serving the site and the built graph read-only at {base}/ (SPARQL endpoint {base}/sparql)")
        saved = catalogue(paths.queries) if Path(paths.queries).is_dir() else {}
        if saved:
            out(f"saved questions ({len(saved)}; run them at {base}/browse/query.html or with `carnk-graph query NAME`):")
            width = max(len(n) for n in saved)
            for name, query in saved.items():
                out(f"  {name:<{width}}  {query.title}".rstrip())
        out("press Ctrl-C to stop")
        sys.stdout.flush()
        while not stop.wait(WATCH_INTERVAL):
            release.refresh()
    finally:
        server.shutdown()
        server.server_close()
        worker.join(timeout=10)
        for s, handler in previous.items():
            signal.signal(s, handler)
    out("stopped")
    return 0


__all__ = ["serve", "make_server", "Release", "HOST", "check_port"]
