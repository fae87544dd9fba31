"""Real triple stores and misbehaving endpoints for the remote-store tests.

Everything here binds 127.0.0.1 on a free port, waits for readiness by
polling with a deadline (never a fixed sleep), and is stopped by PID.

- `OxigraphServer`: `oxigraph serve --location DIR --bind 127.0.0.1:PORT`.
- `VirtuosoServer`: `virtuoso-t +foreground +configfile INI` on a copy of the
  packaged ini with the database in a temp dir and both ports (ISQL and HTTP)
  on 127.0.0.1; anonymous SPARQL updates granted through `isql-vt`.
- `FaultProxy`: forwards to a real store, but fails chosen requests (drops
  the connection, answers an error, or rewrites the request body).
- `tiny_server`: answers every request with a fixed status, or never answers.
- `scripted_server`: writes raw answers (`drip`: one byte every 50 ms; `flood`: 300 MB).
"""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

START_DEADLINE = 90.0  # seconds a server may take to come up on a loaded CI machine
#: How often a test's HTTP server thread looks for a shutdown request. socketserver's default (0.5 s)
#: made every `with tiny_server(...)` block end half a second after its test was done.
SHUTDOWN_POLL = 0.01


# -- processes and polling ---------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], what: str, proc: subprocess.Popen | None = None,
               deadline: float = START_DEADLINE, log: Path | None = None) -> None:
    """Poll `ready` until it is true; fail with the process's log if it dies or the deadline passes."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.05)  # poll interval, not a wait for the server
    raise RuntimeError(f"{what} not ready after {deadline:.0f}s:\n{_tail(log)}")


def _tail(log: Path | None, n: int = 20) -> str:
    if log is None or not log.is_file():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def stop_pid(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 30.0) -> int:
    """Stop a process we started, by its PID: `sig`, then SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    return proc.returncode


def oxigraph_exe() -> str | None:
    """The `oxigraph` server command of the test extra: on PATH, else beside this Python (a venv)."""
    found = shutil.which("oxigraph")
    if found:
        return found
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


# -- SPARQL over HTTP (independent of the code under test) -------------------------------------------

def sparql_select(endpoint: str, query: str, params: dict | None = None, timeout: float = 60.0) -> list[dict]:
    """JSON bindings of a SELECT (or the boolean of an ASK as [{'ask': ...}])."""
    form = [("query", query)] + [(k, v) for k, vs in (params or {}).items() for v in vs]
    req = urllib.request.Request(endpoint, data=urllib.parse.urlencode(form).encode(),
                                 headers={"Accept": "application/sparql-results+json",
                                          "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:  # say what the store said, not just the status
        raise AssertionError(f"{endpoint}: HTTP {e.code}: {e.read().decode('utf-8', 'replace')[:1500]}") from None
    if "boolean" in data:
        return [{"ask": {"type": "literal", "value": str(data["boolean"]).lower()}}]
    return data["results"]["bindings"]


def sparql_update(endpoint: str, update: str, timeout: float = 60.0) -> None:
    req = urllib.request.Request(endpoint, data=urllib.parse.urlencode({"update": update}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        r.read()


# -- the stores --------------------------------------------------------------------------------------

@dataclass
class Store:
    """A running store: where to query, update and POST graphs, and how to stop it."""

    kind: str
    query: str
    update: str
    gsp: str
    proc: subprocess.Popen
    folder: Path

    def triples(self, graph: str) -> set[tuple[str, str, str]]:
        """Every triple of one named graph, as N-Triples-ish strings (for exact comparisons)."""
        rows = sparql_select(self.query, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return {(_term(r["s"]), _term(r["p"]), _term(r["o"])) for r in rows}

    def graphs(self) -> set[str]:
        rows = sparql_select(self.query, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return {r["g"]["value"] for r in rows}

    def count(self, graph: str) -> int:
        rows = sparql_select(self.query, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"]["value"])

    def clear(self, prefix: str) -> None:
        """Drop every graph whose IRI starts with `prefix` (tests share one store per session)."""
        for g in self.graphs():
            if g.startswith(prefix):
                sparql_update(self.update, f"DROP SILENT GRAPH <{g}>")

    def stop(self) -> int:
        return stop_pid(self.proc)


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                               "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
                               "unsignedShort", "unsignedByte")}


def canonical_lexical(value: str, datatype: str | None) -> str:
    """The canonical lexical form of a literal's value, where stores are known to rewrite it.

    Virtuoso stores typed literals by value and returns, e.g., "true"^^xsd:boolean as
    "1"^^xsd:boolean and "05"^^xsd:integer as "5": the same value, another spelling.
    Comparing canonical forms compares values, so such a rewrite is not a difference.
    """
    from decimal import Decimal, InvalidOperation

    v = value.strip()
    try:
        if datatype == XSD + "boolean":
            return {"1": "true", "0": "false"}.get(v, v)
        if datatype in _INTEGERS:
            return str(int(v))
        if datatype == XSD + "decimal":
            d = Decimal(v).normalize()
            return format(d, "f") if d == d.to_integral() else str(d)
        if datatype in (XSD + "double", XSD + "float"):
            return repr(float(v))
    except (ValueError, InvalidOperation):
        pass
    return value


def _term(b: dict) -> str:
    """A SPARQL JSON term as text, literals in canonical lexical form; xsd:string literals written
    as simple literals (RDF 1.1: the same term)."""
    t = b["type"]
    if t == "uri":
        return f"<{b['value']}>"
    if t == "bnode":
        return "_:"
    dt = b.get("datatype")
    if b.get("xml:lang"):
        return f"{json.dumps(b['value'])}@{b['xml:lang'].lower()}"
    if dt and dt != XSD_STRING:
        return f"{json.dumps(canonical_lexical(b['value'], dt))}^^<{dt}>"
    return json.dumps(b["value"])


def start_oxigraph(folder: Path) -> Store:
    exe = oxigraph_exe()
    if exe is None:
        pytest.skip("oxigraph server not installed (pip install oxigraph: it is in the test extra)")
    port = free_port()
    log = folder / "oxigraph.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_status(base + "/query?query=ASK%7B%7D") == 200, "oxigraph serve", proc, log=log)
    except BaseException:
        stop_pid(proc)
        raise
    return Store("oxigraph", base + "/query", base + "/update", base + "/store", proc, folder)


VIRTUOSO_INI_TEMPLATES = (Path("/usr/share/virtuoso-opensource-7/virtuoso.ini"),
                          Path("/etc/virtuoso-opensource-7/virtuoso.ini"))


def virtuoso_missing() -> str | None:
    """Why the Virtuoso tests cannot run here, or None when they can."""
    for tool in ("virtuoso-t", "isql-vt"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install virtuoso-opensource; .ci/run installs it)"
    if not any(p.is_file() for p in VIRTUOSO_INI_TEMPLATES):
        return "no packaged virtuoso.ini to copy"
    return None


def virtuoso_ini(template: str, folder: Path, isql_port: int, http_port: int) -> str:
    """The packaged ini with every file in `folder` and every port on 127.0.0.1."""
    settings = {
        ("Database", "DatabaseFile"): folder / "virtuoso.db",
        ("Database", "ErrorLogFile"): folder / "virtuoso.log",
        ("Database", "LockFile"): folder / "virtuoso.lck",
        ("Database", "TransactionFile"): folder / "virtuoso.trx",
        ("Database", "xa_persistent_file"): folder / "virtuoso.pxa",
        ("TempDatabase", "DatabaseFile"): folder / "virtuoso-temp.db",
        ("TempDatabase", "TransactionFile"): folder / "virtuoso-temp.trx",
        ("Parameters", "ServerPort"): f"127.0.0.1:{isql_port}",
        ("Parameters", "DirsAllowed"): f"., {folder}",
        ("Parameters", "NumberOfBuffers"): 10000,
        ("Parameters", "MaxDirtyBuffers"): 6000,
        ("HTTPServer", "ServerPort"): f"127.0.0.1:{http_port}",
        ("HTTPServer", "ServerRoot"): folder / "vsp",
        ("URIQA", "DefaultHost"): f"127.0.0.1:{http_port}",
        ("SPARQL", "ResultSetMaxRows"): 1000000,
    }
    section, seen, out = None, set(), []
    for line in template.splitlines():
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            section = m.group(1).strip()
        m = re.match(r"\s*([A-Za-z_0-9]+)\s*=", line)
        if m and (section, m.group(1)) in settings:
            seen.add((section, m.group(1)))
            line = f"{m.group(1)} = {settings[(section, m.group(1))]}"
        elif m and section == "Plugins" and m.group(1).startswith("Load"):
            line = ";" + line  # no hosting plugins: nothing but SPARQL is needed
        out.append(line)
    missing = {k for k in settings if k[0] in ("Database", "Parameters", "HTTPServer")} - seen
    if missing:
        raise RuntimeError(f"virtuoso.ini template lacks {sorted(missing)}")
    return "\n".join(out) + "\n"


def start_virtuoso(folder: Path, anonymous_updates: bool = True) -> Store:
    """A Virtuoso on a fresh database; `anonymous_updates=False` keeps the stock rights (the anonymous
    user of /sparql may only read: loads go through /sparql-auth with digest authentication)."""
    why = virtuoso_missing()
    if why:
        pytest.skip(f"Virtuoso tests skipped: {why}")
    template = next(p for p in VIRTUOSO_INI_TEMPLATES if p.is_file())
    isql_port, http_port = free_port(), free_port()
    (folder / "vsp").mkdir(parents=True, exist_ok=True)
    ini = folder / "virtuoso.ini"
    ini.write_text(virtuoso_ini(template.read_text(encoding="utf-8", errors="replace"), folder, isql_port, http_port),
                   encoding="utf-8")
    log = folder / "virtuoso.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)], cwd=folder,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until(lambda: http_status(base + "/sparql?query=ASK%7B%7D") == 200, "virtuoso-t", proc,
                   log=folder / "virtuoso.log")
        if anonymous_updates:
            isql(isql_port, 'GRANT SPARQL_UPDATE TO "SPARQL";',
                 'GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "SPARQL";',
                 "GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO \"SPARQL\";")
    except BaseException:
        stop_pid(proc)
        raise
    return Store("virtuoso", base + "/sparql", base + "/sparql", base + "/sparql-graph-crud", proc, folder)


def isql(port: int, *statements: str) -> str:
    """Run SQL statements as dba through isql-vt; fail loudly on an error."""
    args = ["isql-vt", f"127.0.0.1:{port}", "dba", "dba"] + [f"EXEC={s}" for s in statements]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
        raise RuntimeError(f"isql-vt failed: {done.stdout}{done.stderr}")
    return done.stdout


# -- misbehaving endpoints ---------------------------------------------------------------------------

#: What a FaultProxy does with a request: None forwards it; "drop" closes the connection
#: without answering; (status, text) answers that; ("rewrite", bytes) forwards a new body;
#: ("apply-then-drop", callback or None) forwards it, lets the store answer, calls the callback
#: (e.g. kills the store), then closes the connection without passing the answer on.
Action = object


class FaultProxy:
    """An HTTP proxy in a thread that forwards to a real store but fails the requests `rule` picks.

    `rule(path, form)` sees the request path and its decoded form (or {"body": text} for
    non-form bodies) and returns an Action. Every request is recorded in `seen`.
    """

    def __init__(self, upstream_base: str, rule: Callable[[str, dict], Action]) -> None:
        self.upstream = upstream_base.rstrip("/")
        self.rule = rule
        self.seen: list[tuple[str, dict]] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):  # keep test output clean
                pass

            def do_GET(self):
                self._handle(b"")

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(n))

            def _handle(self, body: bytes) -> None:
                ctype = self.headers.get("Content-Type", "")
                form = ({k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()}
                        if ctype.startswith("application/x-www-form-urlencoded") else {"body": body.decode("utf-8", "replace")})
                proxy.seen.append((self.path, form))
                action = proxy.rule(self.path, form)
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, tuple) and isinstance(action[0], int):
                    self._reply(action[0], action[1].encode(), "text/plain")
                    return
                if isinstance(action, tuple) and action[0] == "rewrite":
                    body = action[1]
                if isinstance(action, tuple) and action[0] == "apply-then-drop":
                    self._forward(body, answer=False)
                    if action[1] is not None:
                        action[1]()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._forward(body)

            def _forward(self, body: bytes, answer: bool = True) -> None:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "accept", "authorization")}
                req = urllib.request.Request(proxy.upstream + self.path, data=body if self.command == "POST" else None,
                                             headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=120) as r:
                        status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
                except urllib.error.HTTPError as e:
                    status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
                except OSError as e:  # the store is down: answer as a real proxy would
                    status, data, ctype = 502, f"Bad Gateway: {e}".encode(), "text/plain"
                if answer:
                    self._reply(status, data, ctype)

            def _reply(self, status: int, data: bytes, ctype: str) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True)

    def url(self, upstream_url: str) -> str:
        """The proxy's URL for one of the upstream store's URLs."""
        assert upstream_url.startswith(self.upstream)
        return self.base + upstream_url[len(self.upstream):]

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class TinyServer:
    """A running tiny endpoint: its base URL and the requests it received (method, path, headers)."""

    url: str
    hits: list[dict]


@contextmanager
def tiny_server(status: int | None, body: str = "") -> Iterator[TinyServer]:
    """An endpoint on 127.0.0.1 answering every request with `status` and `body`;
    status None accepts requests and never answers."""
    release = threading.Event()
    hits: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hits.append({"method": self.command, "path": self.path,
                         **{k.lower(): v for k, v in self.headers.items()}})
            if status is None:
                release.wait(120)  # hold the request until the test is over
                return
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True)
    thread.start()
    try:
        yield TinyServer(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def scripted_server(script):
    """An HTTP endpoint on 127.0.0.1 whose every answer is written by `script(wfile, stop)` byte by byte."""
    stop = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                script(self.wfile, stop)
            except OSError:  # the client gave up: what the test wants
                pass

        do_GET = do_POST

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


#: Seconds between two bytes of a dripping answer: well under the timeouts the tests give a load
#: (0.3 s), so no per-read timeout ever trips and only the load's wall-clock deadline can end it.
DRIP_EVERY = 0.05


def drip(raw: bytes, head: bytes = b""):
    """Send `head` at once, then `raw` one byte every DRIP_EVERY seconds (never tripping a per-read
    timeout: 400 bytes take 20 s, far past any deadline the tests set)."""
    def script(w, stop):
        w.write(head)
        w.flush()
        for i in range(len(raw)):
            if stop.wait(DRIP_EVERY):
                return
            w.write(raw[i:i + 1])
            w.flush()
    return script


def flood(declared: bool):
    """An answer of 300 MB: declared in Content-Length up front, or streamed without a length."""
    def script(w, stop):
        length = f"Content-Length: {300 * 1024 * 1024}\r\n" if declared else "Connection: close\r\n"
        w.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n{length}\r\n".encode())
        block = b"[" * 65536
        for _ in range(300 * 16):  # 300 MB, unless the client hangs up first
            if stop.is_set():
                return
            w.write(block)
    return script


# -- fixtures ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def oxigraph_store(tmp_path_factory) -> Iterator[Store]:
    store = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield store
    store.stop()


@pytest.fixture(scope="session")
def virtuoso_store(tmp_path_factory) -> Iterator[Store]:
    store = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield store
    store.stop()


@pytest.fixture(params=["oxigraph", "virtuoso"])
def store(request) -> Store:
    """Each real store in turn (Virtuoso skips with its reason when it is not installed)."""
    return request.getfixturevalue(f"{request.param}_store")
