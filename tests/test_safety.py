"""The safety guarantees, one test each: no network, no local files, inputs untouched, atomic writes."""
from __future__ import annotations

import errno
import http.server
import os
import socket
import stat
import sys
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from carnk_graph.cli import main, make_parser
from carnk_graph.errors import BadInputError, RefusedError
from carnk_graph.atomic import atomic_write
from carnk_graph.canonical import canonical
from carnk_graph.release import parse_release_bytes, read_release_graphs
from carnk_graph.safety import guard_for, network_guard
from carnk_graph.sparql import sparql_refusal
from carnk_graph.sources import parse_graph

from spine_helpers import MINIMAL, copy_project, release_snapshot
from stores import SHUTDOWN_POLL

RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


# -- helpers -----------------------------------------------------------------------------------------

class Listener:
    """An HTTP server on 127.0.0.1 that counts the requests it receives (it must receive none),
    answering each with `status`."""

    def __init__(self, status: int = 200) -> None:
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self.server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    srv = Listener()
    yield srv
    srv.close()


_opened: list[str] | None = None
_hook_installed = False


def _open_hook(event: str, args: tuple) -> None:
    if event == "open" and _opened is not None and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.fsdecode(args[0]))


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Record every path Python opens inside the block (audit event "open")."""
    global _opened, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_open_hook)
        _hook_installed = True
    _opened = record = []
    try:
        yield record
    finally:
        _opened = None


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_project(MINIMAL, tmp_path / "project")


def cli(project: Path, *args: str) -> int:
    return main([*args, "--root", str(project), "--dist", str(project / "dist")])


# -- no network unless --allow-network -----------------------------------------------------------------

@pytest.mark.parametrize("reasoner", [pytest.param("hermit", marks=pytest.mark.slow), "owlrl", None])
def test_a_build_makes_zero_network_attempts(project, reasoner):
    """An outer guard that allows everything records what the CLI's own guard saw: nothing at all."""
    if reasoner == "hermit" and not __import__("shutil").which("java"):
        pytest.skip("needs Java for HermiT")
    args = ["build", "-q"] + (["--reasoner", reasoner] if reasoner else ["--no-reason"])
    with network_guard(allowed=True) as recorder:
        assert cli(project, *args) == 0
        assert cli(project, "validate") == 0
        assert cli(project, "export", "--format", "jsonld", "-o", str(project / "out.jsonld")) == 0
    assert recorder.attempts == []


@contextmanager
def refused_guard() -> Iterator:
    """A guard whose refusal the test expects (a refusal is raised again when the guard closes)."""
    holder = []
    with pytest.raises(RefusedError, match="network access refused"):
        with network_guard() as guard:
            holder.append(guard)
            yield guard
    assert holder[0].refused, "nothing was refused"


@pytest.mark.slow  # the shipped graph through the HermiT JVM
@pytest.mark.slow  # the real project with the default reasoner (HermiT): a second JVM build
def test_building_and_querying_the_shipped_graph_makes_zero_network_attempts(project_root, tmp_path):
    dist = str(tmp_path / "dist")
    with network_guard(allowed=True) as recorder:
        assert main(["build", "-q", "--root", str(project_root), "--dist", dist]) == 0
        for q in sorted((project_root / "queries").glob("*.rq"))[:3]:
            main(["query", q.stem, "--root", str(project_root), "--dist", dist])
    assert recorder.attempts == []


def test_the_guard_refuses_a_connection_and_records_it(listener):
    with refused_guard() as guard:
        with socket.socket() as s:
            s.connect(("127.0.0.1", listener.port))
    assert [(a.event, a.target, a.allowed) for a in guard.attempts] == [
        ("socket.connect", f"127.0.0.1:{listener.port}", False)]
    assert listener.requests == 0


def test_the_guard_refuses_urllib_before_any_socket_is_opened(listener):
    with refused_guard() as guard:
        urllib.request.urlopen(listener.url, timeout=5)
    assert [a.event for a in guard.attempts] == ["urllib.Request"]
    assert listener.requests == 0


def test_the_guard_refuses_name_lookups():
    with refused_guard() as guard:
        socket.getaddrinfo("example.org", 80)
    assert [(a.event, a.target) for a in guard.attempts] == [("socket.getaddrinfo", "example.org")]


def test_a_refusal_swallowed_by_a_library_still_ends_the_command(listener):
    """rdflib's SPARQL graph loader catches every exception; the guard re-raises at its end."""
    with pytest.raises(RefusedError):
        with network_guard():
            try:
                socket.create_connection(("127.0.0.1", listener.port), timeout=5)
            except Exception:  # noqa: BLE001 - what a careless library does
                pass
    assert listener.requests == 0


def test_an_rdflib_service_call_is_refused_and_never_sent(listener):
    g = Graph()
    g.add((URIRef("http://example.org/s"), RDFS_LABEL, Literal("x")))
    with pytest.raises(RefusedError):
        with network_guard():
            list(g.query(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"))
    assert listener.requests == 0


def test_allow_network_lets_a_connection_through(listener):
    with network_guard(allowed=True) as guard:
        with urllib.request.urlopen(listener.url, timeout=5) as resp:
            assert resp.status == 200
    assert listener.requests == 1
    assert guard.refused == []


@pytest.mark.parametrize("argv, allowed", [
    (["build"], False),
    (["build", "--allow-network"], True),
    (["validate"], False),
    (["export", "--format", "nt"], False),
    (["query", "x"], False),
    (["load", "--endpoint", "http://127.0.0.1:{port}/sparql"], True),   # its own endpoint
    (["load", "--endpoint", "http://192.0.2.1:{port}/sparql"], False),  # another host only
    (["serve"], True),                                                  # loopback
])
def test_each_command_runs_under_its_policy(argv, allowed, listener):
    args = make_parser().parse_args([a.replace("{port}", str(listener.port)) for a in argv])
    if allowed:
        with guard_for(args):
            socket.create_connection(("127.0.0.1", listener.port), timeout=5).close()
    else:
        with pytest.raises(RefusedError):
            with guard_for(args):
                socket.create_connection(("127.0.0.1", listener.port), timeout=5).close()


def test_load_may_reach_its_endpoint_but_nothing_else(listener):
    args = make_parser().parse_args(["load", "--endpoint", f"http://127.0.0.1:{listener.port}/sparql"])
    with pytest.raises(RefusedError, match="example.org"):
        with guard_for(args):
            socket.getaddrinfo("example.org", 80)


# -- no local file read from inside a query, a shape or a document ------------------------------------

@pytest.fixture
def secret(tmp_path) -> Path:
    """A local file nothing may read: it holds one triple a leak would show."""
    p = tmp_path / "secret.ttl"
    p.write_text('<http://example.org/secret> <http://example.org/is> "leaked" .\n', encoding="utf-8")
    return p


def test_an_rdflib_query_never_loads_a_from_graph(secret):
    from carnk_graph.safety import disable_rdflib_loading
    from rdflib import Dataset

    disable_rdflib_loading()
    with files_opened() as opened:
        rows = list(Dataset().query(f"SELECT ?o FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}"))
    assert rows == []
    assert str(secret) not in opened


def test_a_query_file_reading_a_local_file_is_refused_unread(project, secret, tmp_path, capsys):
    assert cli(project, "build", "--no-reason", "-q") == 0
    q = tmp_path / "q.rq"
    q.write_text(f"SELECT ?o FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}\n", encoding="utf-8")
    for engine in ("oxigraph", "rdflib"):
        with files_opened() as opened:
            assert cli(project, "query", str(q), "--engine", engine) == 4
        assert str(secret) not in opened
        assert "leaked" not in capsys.readouterr().out


def test_a_shape_reading_a_local_file_is_refused_unread(project, secret, tmp_path):
    (project / "shapes" / "evil.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<https://w3id.org/carnk/shapes/EvilShape> a sh:NodeShape ;\n"
        "    sh:targetClass <https://w3id.org/carnk/Cell> ;\n"
        f'    sh:sparql [ sh:select """SELECT $this FROM <{secret.as_uri()}> WHERE {{ ?s ?p ?o }}""" ] .\n',
        encoding="utf-8")
    data = tmp_path / "data.ttl"
    data.write_text("<https://w3id.org/carnk/kg/a> a <https://w3id.org/carnk/Cell> .\n", encoding="utf-8")
    with files_opened() as opened:  # a data file: no build first, so no reasoner JVM
        assert cli(project, "validate", str(data), "--standalone") == 4
    assert str(secret) not in opened


def test_an_rdfxml_external_entity_is_never_opened(secret, tmp_path):
    doc = tmp_path / "in.owl"
    doc.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE r [ <!ENTITY x SYSTEM "{secret.as_uri()}"> ]>\n'
                   '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n', encoding="utf-8")
    with files_opened() as opened:
        with pytest.raises(RefusedError):
            parse_graph(doc)
    assert str(secret) not in opened


def test_a_jsonld_file_context_is_never_opened(secret, tmp_path):
    doc = tmp_path / "in.jsonld"
    doc.write_text('{"@context": "%s", "@id": "http://example.org/a"}\n' % secret.as_uri(), encoding="utf-8")
    with files_opened() as opened:
        with pytest.raises(RefusedError):
            parse_graph(doc)
    assert str(secret) not in opened


def test_entity_expansion_is_refused_before_the_parser_runs(tmp_path, monkeypatch):
    """'Refused fast' made structural: the parser is never called, so no expansion can happen."""
    import pyoxigraph

    def parser_called(*_a, **_k):
        raise AssertionError("the XML parser must not see a DOCTYPE")

    monkeypatch.setattr(pyoxigraph, "parse", parser_called)
    doc = tmp_path / "laughs.owl"
    doc.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;"> ]>\n'
                   '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n', encoding="utf-8")
    with pytest.raises(RefusedError, match="DOCTYPE"):
        parse_graph(doc)


def test_a_file_over_the_size_cap_is_never_read(tmp_path, monkeypatch):
    """Checked on a descriptor (os.open + fstat, no race with a rename), refused from its size: no byte
    is read (sources.read_regular)."""
    big = tmp_path / "big.ttl"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: no disk space used
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with files_opened() as opened:
        with pytest.raises(BadInputError, match="input cap"):
            parse_graph(big)
    assert reads == []
    assert opened.count(str(big)) <= 1  # the descriptor for fstat, never a file object to read


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVI\\u0043E <http://example.org/sparql> { ?s ?p ?o } }",
    "PREFIX service: <http://example.org/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o .SERVICE <http://example.org/> { } }",
    "ASK { FILTER EXISTS { SERVICE <http://example.org/> { ?s ?p ?o } } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <file:///etc/passwd>",
    "CLEAR ALL",
    "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_sparql_that_leaves_the_graph_or_changes_it_is_refused(text):
    assert sparql_refusal(text)


@pytest.mark.parametrize("text", [
    "SELECT ?from WHERE { ?from ?p ?o }",
    'SELECT ?s WHERE { ?s ?p "SERVICE FROM DELETE" }',
    'SELECT ?s WHERE { ?s ?p """a "quoted" LOAD""" }',
    "SELECT ?s WHERE { ?s a <http://example.org/Service> } # FROM a comment",
    "PREFIX carnkkg: <https://w3id.org/carnk/kg/> SELECT * WHERE { carnkkg:nk-from-cord-blood ?p ?o }",
    "SELECT $this WHERE { $this <http://example.org/p> ?value . FILTER NOT EXISTS { ?value a ?t } }",
])
def test_read_only_sparql_is_not_mistaken_for_unsafe(text):
    assert sparql_refusal(text) is None


# -- validation and reasoning never change their inputs --------------------------------------------------

def _triples(g: Graph) -> set:
    return set(g)


def test_validation_never_changes_its_input_graphs(project):
    from carnk_graph.project import find_project
    from carnk_graph.sources import load_sources
    from carnk_graph.shacl import validate

    src = load_sources(find_project(project))
    data = src.kg + Graph()
    data.add((URIRef("https://w3id.org/carnk/kg/nameless"), URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
              URIRef("https://w3id.org/carnk/NKCell")))  # a violation: pyshacl has a report to write
    before = (_triples(data), _triples(src.shapes), _triples(src.ontology))
    result = validate(data, src.shapes, src.ontology)
    assert not result.conforms
    assert (_triples(data), _triples(src.shapes), _triples(src.ontology)) == before


@pytest.mark.slow  # the HermiT JVM
def test_inferred_triples_live_only_in_the_inferred_graph(project):
    if not __import__("shutil").which("java"):
        pytest.skip("needs Java for HermiT")
    assert cli(project, "build", "--reasoner", "hermit", "-q") == 0
    graphs = read_release_graphs(project / "dist")
    kg_sources = Graph()
    for f in sorted((project / "ontology" / "kg").glob("*.ttl")):
        parse_graph(f, into=kg_sources)
    assert len(graphs["inferred"]) > 0, "the fixture must entail something, or the test proves nothing"
    assert isomorphic(graphs["kg"], kg_sources)
    assert isomorphic(graphs["ontology"], parse_graph(project / "ontology" / "carnk.ttl"))
    stated = _triples(graphs["kg"]) | _triples(graphs["ontology"])
    assert not _triples(graphs["inferred"]) & stated


# -- writes are atomic ------------------------------------------------------------------------------------

class _FailingFile:
    """A file object that writes half of what it is given, then fails like a full disk."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, data: bytes) -> int:
        self.real.write(data[: len(data) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.real.close()


def fail_nth_write(monkeypatch, n: int, error: type[BaseException] | None = None) -> list[int]:
    """Make the n-th file written by atomic.write_files fail half-way (ENOSPC, or `error`)."""
    import carnk_graph.atomic as atomic

    calls = [0]
    real_fdopen = os.fdopen

    def fdopen(fd, *a, **k):
        calls[0] += 1
        f = real_fdopen(fd, *a, **k)
        if calls[0] != n:
            return f
        if error is None:
            return _FailingFile(f)
        f.close()
        raise error("injected crash in the middle of writing")

    monkeypatch.setattr(atomic.os, "fdopen", fdopen)
    return calls


def test_an_export_that_fails_mid_write_leaves_the_old_file(project, tmp_path, monkeypatch, capsys):
    assert cli(project, "build", "--no-reason", "-q") == 0
    out = tmp_path / "out.nt"
    out.write_bytes(b"previous content\n")
    fail_nth_write(monkeypatch, 1)
    assert cli(project, "export", "--format", "nt", "-o", str(out)) == 2
    assert out.read_bytes() == b"previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out.nt"]
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("error", [None, RuntimeError, KeyboardInterrupt])
def test_a_build_that_fails_mid_release_keeps_the_previous_release(project, monkeypatch, error):
    """The fourth of the release files fails half-written (disk full, a bug, Ctrl-C): dist/ is as it was."""
    assert cli(project, "build", "--no-reason", "-q") == 0
    before = release_snapshot(project / "dist")
    kg = project / "ontology" / "kg" / "cells.ttl"
    kg.write_text(kg.read_text(encoding="utf-8") + '\n<https://w3id.org/carnk/kg/nk-2> a <https://w3id.org/carnk/NKCell> ;'
                  ' <http://www.w3.org/2000/01/rdf-schema#label> "second" .\n', encoding="utf-8")
    calls = fail_nth_write(monkeypatch, 4, error)
    if error is None:
        assert cli(project, "build", "--no-reason", "-q") == 2
    else:
        with pytest.raises(error):
            from carnk_graph.build import build
            build(project, project / "dist", no_reason=True)
    assert calls[0] == 4
    assert release_snapshot(project / "dist") == before
    assert not [p for p in (project / "dist").iterdir() if p.name.endswith(".tmp")]


def test_a_failed_store_fill_keeps_the_previous_store(project, monkeypatch):
    import pyoxigraph

    from carnk_graph.store import count_per_graph, open_store

    assert cli(project, "build", "--no-reason", "-q") == 0
    counts = count_per_graph(open_store(project / "dist"))

    def broken(self, quads):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyoxigraph.Store, "bulk_extend", broken)
    assert cli(project, "build", "--no-reason", "--force", "-q") == 2
    monkeypatch.undo()
    assert count_per_graph(open_store(project / "dist")) == counts
    assert [p.name for p in (project / "dist").iterdir() if p.name.startswith(".store")] == []


def test_writing_to_a_device_writes_in_place_and_keeps_the_device():
    """-o /dev/full must fail with ENOSPC, never rename a regular file over the device node (we run as root)."""
    with pytest.raises(BadInputError, match="No space left on device"):
        atomic_write(Path("/dev/full"), b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not list(Path("/dev").glob(".full.*.tmp"))


def test_writing_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.ttl"
    target.write_bytes(b"old\n")
    link = tmp_path / "link.ttl"
    link.symlink_to(target)
    atomic_write(link, b"new\n")
    assert link.is_symlink() and target.read_bytes() == b"new\n"


# -- deep input -------------------------------------------------------------------------------------------

@pytest.mark.slow  # a stress case: 6,000 extra triples through the whole build and three exports
def test_a_long_list_and_deeply_nested_blank_nodes_build_and_export(project, tmp_path):
    """A 2,000-item rdf:List and 1,500 nested blank nodes: deeper than Python's recursion limit,
    so any recursive walk (canonical labels, serialisers) would crash the build."""
    depth = 1500
    # properties outside carnk: (a carnk: term used but not declared in the ontology fails the build)
    (project / "ontology" / "kg" / "deep.ttl").write_text(
        "<https://w3id.org/carnk/kg/list-holder> <http://example.org/members> ("
        + " ".join(f'"m{i}"' for i in range(2000)) + ") .\n"
        "<https://w3id.org/carnk/kg/nest-holder> <http://example.org/part> "
        + "[ <http://example.org/part> " * depth + '"core"' + " ]" * depth + " .\n",
        encoding="utf-8")
    assert cli(project, "build", "--no-reason", "-q") == 0
    kg = read_release_graphs(project / "dist")["kg"]
    assert len(kg) == 7 + 2 * 2000 + 1 + depth + 1
    for fmt in ("ttl", "jsonld", "owl"):
        out = tmp_path / f"kg.{fmt}"
        assert cli(project, "export", "--format", fmt, "--graph", "kg", "-o", str(out)) == 0
        back = Graph()
        for s, p, o, _g in parse_release_bytes(out.read_bytes(), fmt).quads((None, None, None, None)):
            back.add((s, p, o))
        # canonical() labels blank nodes by content (fast on trees; rdflib's isomorphic is not on chains)
        assert set(canonical(back)) == set(canonical(kg)), fmt


# -- the HermiT JVM runs outside the audit hook: it must get nothing to fetch --------------------------

class ProxyTrap:
    """A 'proxy' on 127.0.0.1 that records the first bytes of every request a JVM sends it."""

    def __init__(self) -> None:
        self.hits: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.hits.append(conn.recv(200))
                except OSError:
                    self.hits.append(b"")

    def java_options(self) -> str:
        return " ".join(f"-D{scheme}.proxy{k}={v}" for scheme in ("http", "https")
                        for k, v in (("Host", "127.0.0.1"), ("Port", self.port)))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy_trap() -> Iterator[ProxyTrap]:
    if not __import__("shutil").which("java"):
        pytest.skip("needs Java for HermiT")
    trap = ProxyTrap()
    yield trap
    trap.close()


IMPORTS = "<http://purl.obolibrary.org/obo/cl.owl>"


@pytest.mark.slow  # the HermiT JVM
def test_hermit_itself_would_fetch_an_import(proxy_trap, tmp_path):
    """The control: given owl:imports, the OWL API inside HermiT.jar fetches it (through the trap)."""
    import subprocess

    import owlready2.reasoning

    nt = tmp_path / "o.nt"
    nt.write_text("<http://example.org/o> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                  "<http://www.w3.org/2002/07/owl#Ontology> .\n"
                  f"<http://example.org/o> <http://www.w3.org/2002/07/owl#imports> {IMPORTS} .\n", encoding="utf-8")
    subprocess.run(["java", *proxy_trap.java_options().split(), "-cp", owlready2.reasoning._HERMIT_CLASSPATH,
                    "org.semanticweb.HermiT.cli.CommandLine", "-c", nt.as_uri()],
                   capture_output=True, timeout=120)
    assert any(b"cl.owl" in h for h in proxy_trap.hits)


@pytest.mark.slow  # the HermiT JVM
def test_a_build_with_owl_imports_gives_hermit_nothing_to_fetch(project, proxy_trap, monkeypatch):
    ontology = project / "ontology" / "carnk.ttl"
    ontology.write_text(ontology.read_text(encoding="utf-8")
                        + f"\n<https://w3id.org/carnk/ontology> owl:imports {IMPORTS} .\n", encoding="utf-8")
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", proxy_trap.java_options())
    assert cli(project, "build", "--reasoner", "hermit", "-q") == 0
    assert proxy_trap.hits == []


# -- --allow-network, end to end ------------------------------------------------------------------------

@pytest.mark.parametrize("allow", [False, True])
def test_load_through_a_proxy_needs_allow_network(project, monkeypatch, allow, capsys):
    """The proxy is another host than the endpoint: refused (exit 4, nothing sent) unless the
    user passes --allow-network; then the request goes out (and the proxy's 502 is exit 6)."""
    assert cli(project, "build", "--no-reason", "-q") == 0
    proxy = Listener(status=502)  # a 'proxy' that counts requests and answers 502
    try:
        for var in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("http_proxy", f"http://localhost:{proxy.port}")
        args = ["load", "--endpoint", "http://store.invalid:7878/sparql", "--timeout", "5", "-q"]
        code = cli(project, *args, *(["--allow-network"] if allow else []))
        err = capsys.readouterr().err
    finally:
        proxy.close()
    if allow:
        assert (code, proxy.requests > 0) == (6, True), err
        assert "HTTP 502" in err
    else:
        assert (code, proxy.requests) == (4, 0), err
        assert "--allow-network" in err
