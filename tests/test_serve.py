"""`carnk-graph serve`: the site, the entity IRIs and a read-only SPARQL endpoint on 127.0.0.1.

Every test here talks to a real server process over HTTP with plain clients (urllib),
as any program would; the browser scenario is in test_browser.py.
"""
from __future__ import annotations

import json
import os
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
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_graph.conneg import negotiate, parse_accept
from carnk_graph.namespaces import sparql_prologue
from carnk_graph.store import open_store

from spine_helpers import copy_project
from site_helpers import Served, fetch
from stores import free_port, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LIU = "https://w3id.org/carnk/kg/liu2020"
STUDY = "https://w3id.org/carnk/kg/nct03056339"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

RDF_FORMATS = {  # media type -> (pyoxigraph format, file suffix)
    "text/turtle": (ox.RdfFormat.TURTLE, "ttl"),
    "application/ld+json": (ox.RdfFormat.JSON_LD, "jsonld"),
    "application/n-triples": (ox.RdfFormat.N_TRIPLES, "nt"),
}


def sparql_get(base: str, query: str, accept: str | None = None) -> tuple[int, dict, bytes]:
    return fetch(f"{base}/sparql?" + urllib.parse.urlencode({"query": query}), accept)


@pytest.fixture(scope="module")
def server(built, project_root, tmp_path_factory):
    s = Served(project_root, built.dist, tmp_path_factory.mktemp("serve") / "stdout.txt")
    yield s
    s.stop()


# -- content negotiation (no server needed) -----------------------------------------------------------

@pytest.mark.parametrize("accept, expected", [
    (None, "text/html"),
    ("*/*", "text/html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
    ("text/*;q=0.9, application/n-triples;q=0.2", "text/html"),
    ("text/html;q=0, text/turtle;q=0.1", "text/turtle"),
    ("image/png", None),
])
def test_negotiation_picks_the_format_the_client_prefers(accept, expected):
    offers = ["text/html", "text/turtle", "application/ld+json", "application/n-triples"]
    assert negotiate(accept, offers) == expected


def test_a_malformed_quality_counts_as_refusal():
    assert parse_accept("text/turtle;q=abc") == [("text/turtle", 0.0)]


# -- the site and the entity IRIs ----------------------------------------------------------------------

@pytest.mark.slow
def test_serve_prints_its_loopback_url_and_the_saved_questions(server):
    text = server.output()
    assert f"http://127.0.0.1:{server.port}/" in text
    for p in sorted((PROJECT_ROOT / "queries").glob("*.rq")):
        assert p.stem in text


@pytest.mark.slow
def test_the_home_page_is_the_site_index(server):
    status, headers, body = fetch(server.base + "/", "text/html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"browse/programmes.html" in body


@pytest.mark.slow
def test_an_entity_iri_answers_html_to_a_browser(server):
    status, headers, body = fetch(server.base + "/kg/liu2020",
                                  "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert f'data-iri="{LIU}"'.encode() in body
    assert "accept" in headers.get("vary", "").lower()


@pytest.mark.slow
@pytest.mark.parametrize("media", sorted(RDF_FORMATS))
def test_an_entity_iri_answers_rdf_by_content_negotiation(server, media):
    status, headers, body = fetch(server.base + "/kg/liu2020", media)
    assert status == 200 and headers["content-type"].split(";")[0] == media
    triples = list(ox.parse(body, format=RDF_FORMATS[media][0]))
    subjects = {t.subject.value for t in triples}
    assert LIU in subjects
    assert any(t.subject.value == LIU and t.predicate.value == RDFS_LABEL for t in triples)


@pytest.mark.slow
@pytest.mark.parametrize("media", sorted(RDF_FORMATS))
def test_the_suffixed_files_answer_the_same_triples_as_negotiation(server, media):
    fmt, suffix = RDF_FORMATS[media]
    _, headers, by_suffix = fetch(f"{server.base}/kg/nct03056339.{suffix}")
    _, _, by_accept = fetch(f"{server.base}/kg/nct03056339", media)
    assert headers["content-type"].split(";")[0] == media
    assert set(ox.parse(by_suffix, format=fmt)) == set(ox.parse(by_accept, format=fmt))


@pytest.mark.slow
def test_an_entity_description_carries_its_qualified_facts(server):
    """A study's Turtle includes its outcome nodes with their figures and sources."""
    _, _, body = fetch(server.base + "/kg/nct03056339", "text/turtle")
    triples = list(ox.parse(body, format=ox.RdfFormat.TURTLE))
    outcomes = {t.subject.value for t in triples if t.predicate.value == "https://w3id.org/carnk/study"
                and t.object.value == STUDY}
    assert len(outcomes) >= 2
    for o in outcomes:
        assert any(t.subject.value == o and t.predicate.value.endswith("source") for t in triples), o


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/kg/no-such-thing", "/NoSuchClass", "/kg/liu2020/extra", "/a/b/c/d",
                                  "/%2e%2e/%2e%2e/etc/passwd", "/static/../../build.json", "/.hidden",
                                  "/kg/liu2020.exe", "/saved/no-such-question", "/saved/../../x"])
def test_an_unknown_address_is_a_404_page_not_a_traceback(server, path):
    status, headers, body = fetch(server.base + path, "text/html")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b"Not found" in body and b"Traceback" not in body


@pytest.mark.slow
def test_the_404_page_links_back_into_the_site_from_any_depth(server):
    _, _, body = fetch(server.base + "/kg/deep/no-such-thing", "text/html")
    assert b'href="../../index.html"' in body


@pytest.mark.slow
def test_an_unknown_iri_asked_for_as_rdf_is_a_plain_404(server):
    status, headers, body = fetch(server.base + "/kg/no-such-thing", "text/turtle")
    assert status == 404 and headers["content-type"].startswith("text/plain")
    assert len(body.decode().strip().splitlines()) == 1


@pytest.mark.slow
def test_every_answer_forbids_loading_anything_from_elsewhere(server):
    _, headers, _ = fetch(server.base + "/kg/liu2020", "text/html")
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp


# -- the SPARQL endpoint ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("accept, fmt", [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", None),  # lossy by design: read as CSV, IRIs in full
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_answers_in_every_results_format(server, accept, fmt):
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/carnk/ClinicalTrial> } ORDER BY ?s"
    status, headers, body = sparql_get(server.base, query, accept)
    assert status == 200 and headers["content-type"].split(";")[0] == accept
    expected = [r["s"].value for r in open_store(server_dist(server)).query(query, use_default_graph_as_union=True)]
    if fmt is None:
        lines = body.decode("utf-8").splitlines()
        assert lines[0] == "s" and lines[1:] == expected
    else:
        assert [r["s"].value for r in ox.parse_query_results(body, format=fmt)] == expected
    assert expected


@pytest.mark.slow
@pytest.mark.parametrize("media", sorted(RDF_FORMATS))
def test_construct_answers_in_every_graph_format(server, media):
    query = f"CONSTRUCT {{ <{LIU}> ?p ?o }} WHERE {{ <{LIU}> ?p ?o }}"
    status, headers, body = sparql_get(server.base, query, media)
    assert status == 200 and headers["content-type"].split(";")[0] == media
    triples = list(ox.parse(body, format=RDF_FORMATS[media][0]))
    assert triples and all(t.subject.value == LIU for t in triples)


@pytest.mark.slow
def test_post_forms_and_direct_posts_answer_like_get(server):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    _, _, by_get = sparql_get(server.base, query, "application/sparql-results+json")
    _, _, by_form = fetch(server.base + "/sparql", "application/sparql-results+json",
                          urllib.parse.urlencode({"query": query}).encode(), "application/x-www-form-urlencoded")
    _, _, direct = fetch(server.base + "/sparql", "application/sparql-results+json", query.encode(),
                         "application/sparql-query")
    assert json.loads(by_get) == json.loads(by_form) == json.loads(direct)


@pytest.mark.slow
def test_queries_see_the_three_graphs_as_the_default_graph_and_the_project_prefixes(server):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    _, _, body = sparql_get(server.base, query, "application/sparql-results+json")
    union = next(iter(open_store(server_dist(server)).query(query, use_default_graph_as_union=True)))
    assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) == int(union["n"].value) > 0
    status, _, _ = sparql_get(server.base, "ASK { carnkkg:liu2020 a carnk:Publication }")
    assert status == 200


@pytest.mark.slow
def test_a_saved_query_text_over_http_answers_as_the_embedded_store(server):
    text = sparql_prologue() + (PROJECT_ROOT / "queries" / "construct-domains-in-order.rq").read_text(encoding="utf-8")
    status, _, body = sparql_get(server.base, text, "application/sparql-results+json")
    res = open_store(server_dist(server)).query(text, use_default_graph_as_union=True)
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == len(list(res))


@pytest.mark.slow
@pytest.mark.parametrize("how", ["form", "direct", "get-param", "update-path", "update-form"])
def test_updates_are_refused_and_change_nothing(server, how):
    update = "INSERT DATA { <urn:x> <urn:y> <urn:z> }"
    if how == "form":
        status, _, _ = fetch(server.base + "/sparql", None, urllib.parse.urlencode({"update": update}).encode(),
                             "application/x-www-form-urlencoded")
    elif how == "direct":
        status, _, _ = fetch(server.base + "/sparql", None, update.encode(), "application/sparql-update")
    elif how == "get-param":
        status, _, _ = sparql_get(server.base, update)
    elif how == "update-path":
        status, _, _ = fetch(server.base + "/update", None, update.encode(), "application/sparql-update")
    else:
        status, _, _ = fetch(server.base + "/update", None, urllib.parse.urlencode({"update": update}).encode(),
                             "application/x-www-form-urlencoded")
    assert status == 403
    _, _, body = sparql_get(server.base, "ASK { <urn:x> <urn:y> <urn:z> }", "application/sparql-results+json")
    assert json.loads(body)["boolean"] is False


@pytest.mark.slow
def test_head_answers_the_headers_of_get_without_a_body(server):
    status, headers, body = fetch(server.base + "/kg/liu2020", "text/turtle", method="HEAD")
    _, get_headers, get_body = fetch(server.base + "/kg/liu2020", "text/turtle")
    assert status == 200 and body == b""
    assert headers["content-type"] == get_headers["content-type"]
    assert int(headers["content-length"]) == len(get_body)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(server, method):
    status, headers, _ = fetch(server.base + "/kg/liu2020", None, b"x", "text/turtle", method=method)
    assert status == 405 and "GET" in headers["allow"]


class _Listener:
    """A TCP listener on 127.0.0.1 that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


@pytest.mark.slow
@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
])
def test_service_and_from_are_refused_and_nothing_is_contacted(server, template):
    listener = _Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/sparql"
        for send in ("get", "post"):
            query = template.format(url=url)
            if send == "get":
                status, _, body = sparql_get(server.base, query)
            else:
                status, _, body = fetch(server.base + "/sparql", None, query.encode(), "application/sparql-query")
            assert status == 403, body
            assert b"refused" in body
        time.sleep(0.3)  # a request the server might have sent would have arrived by now
    finally:
        listener.close()
    assert listener.connections == 0


@pytest.mark.slow
def test_dataset_parameters_are_refused(server):
    q = urllib.parse.urlencode({"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
    status, _, _ = fetch(f"{server.base}/sparql?{q}")
    assert status == 400


@pytest.mark.slow
@pytest.mark.parametrize("query, status", [
    ("SELECT * WHERE { ?s ?p }", 400),       # syntax error
    ("", 400),
    ("SELECT * WHERE { " + "{ " * 40000 + "}" * 40000 + " }", 413),  # far too long: refused before parsing
    ("SELECT * WHERE " + "{" * 5000 + "}" * 5000, 400),  # 10 KB of nesting: refused by the check, no crash
])
def test_bad_queries_are_one_line_errors(server, query, status):
    got, headers, body = fetch(server.base + "/sparql", None, query.encode(), "application/sparql-query")
    assert got == status
    assert headers["content-type"].startswith("text/plain") and len(body.decode().strip().splitlines()) == 1


@pytest.mark.slow
def test_a_saved_question_runs_with_its_parameters(server):
    status, headers, body = fetch(server.base + "/saved/study-outcomes-by-source?study=carnkkg:nct03056339",
                                  "application/sparql-results+json")
    assert status == 200
    rows = json.loads(body)["results"]["bindings"]
    assert rows and {r["endpoint"]["value"] for r in rows} >= {"https://w3id.org/carnk/kg/complete-response"}
    status, _, body = fetch(server.base + "/saved/study-outcomes-by-source?study=carnkkg:no-such-study",
                            "application/sparql-results+json")
    assert status in (200, 400)  # an unknown study is no rows, or a refusal naming close matches


@pytest.mark.slow
def test_a_saved_question_answers_an_html_table_for_a_form_without_javascript(server):
    status, headers, body = fetch(server.base + "/saved/construct-domains-in-order?format=html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<table" in body and b"row" in body


@pytest.mark.slow
def test_it_listens_on_loopback_only(server):
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("ss not available")
    addrs = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}
    assert addrs == {"127.0.0.1"}


@pytest.mark.slow
def test_it_runs_no_other_program(server):
    """The server is this Python process alone (no `oxigraph` child): `pip install .` is all it needs."""
    if shutil.which("ps") is None:
        pytest.skip("ps not available")
    children = subprocess.run(["ps", "--ppid", str(server.proc.pid), "-o", "pid="], capture_output=True, text=True)
    assert children.stdout.strip() == ""


def server_dist(server: Served) -> Path:
    args = server.proc.args
    return Path(args[args.index("--dist") + 1])


# -- stopping, restarting, rebuilding --------------------------------------------------------------------

@pytest.mark.slow
def test_ctrl_c_stops_it_with_exit_0(built, project_root, tmp_path):
    s = Served(project_root, built.dist, tmp_path / "out.txt")
    assert fetch(s.base + "/")[0] == 200
    assert s.stop(signal.SIGINT) == 0
    assert "Traceback" not in s.output()


@pytest.mark.slow
def test_sigint_stops_it_when_started_in_the_background(built, project_root, tmp_path):
    """A shell starts background jobs with SIGINT ignored; the server must still stop on it."""
    s = Served(project_root, built.dist, tmp_path / "out.txt",
               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    s.proc.send_signal(signal.SIGINT)
    try:
        assert s.proc.wait(timeout=30) == 0
    finally:
        s.stop(signal.SIGKILL)


@pytest.mark.slow
def test_a_restart_on_the_same_port_works_at_once(built, project_root, tmp_path):
    """Connections closed by the server leave the port in TIME_WAIT; address reuse lets a new server bind."""
    port = free_port()
    first = Served(project_root, built.dist, tmp_path / "1.txt", port=port)
    for _ in range(3):
        assert fetch(first.base + "/kg/liu2020", "text/turtle")[0] == 200
    assert first.stop() == 0
    second = Served(project_root, built.dist, tmp_path / "2.txt", port=port)
    try:
        assert fetch(second.base + "/")[0] == 200
    finally:
        second.stop()


@pytest.mark.slow
def test_a_port_in_use_is_exit_2_with_one_line(built, project_root):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "carnk_graph", "serve", "--root", str(project_root),
                               "--dist", str(built.dist), "--port", str(port)], capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_query_past_the_time_limit_is_a_503(built, project_root, tmp_path):
    s = Served(project_root, built.dist, tmp_path / "out.txt", extra=("--timeout", "0.5"))
    try:
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
        status, _, body = sparql_get(s.base, slow)
        assert status == 503 and b"stopped after" in body
    finally:
        s.stop(signal.SIGKILL)  # the abandoned evaluation would keep a core busy until the process ends


@pytest.mark.slow
def test_a_rebuilt_release_is_noticed_and_served(tmp_path):
    project = copy_project(PROJECT_ROOT, tmp_path / "p")
    for junk in ("dist", ".venv", ".git"):
        shutil.rmtree(project / junk, ignore_errors=True)
    env = {**os.environ, "CARNK_NO_GRAPHVIZ": "1"}
    subprocess.run([sys.executable, "-m", "carnk_graph", "build", "--root", str(project), "-q", "--reasoner", "owlrl"],
                   check=True, capture_output=True, env=env, timeout=600)
    s = Served(project, project / "dist", tmp_path / "out.txt")
    try:
        before = fetch(s.base + "/kg/liu2020", "text/html")[2]
        assert b"Liu et al. 2020, NEJM" in before
        src = project / "ontology" / "kg" / "sources.ttl"
        src.write_text(src.read_text(encoding="utf-8").replace('"Liu et al. 2020, NEJM"@en',
                                                               '"Liu et al. 2020 (renamed)"@en'), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "carnk_graph", "build", "--root", str(project), "-q",
                        "--reasoner", "owlrl"], check=True, capture_output=True, env=env, timeout=600)
        wait_until(lambda: "now serving the rebuilt release" in s.output(), "the rebuilt release", s.proc,
                   log=s.log)
        after = fetch(s.base + "/kg/liu2020", "text/html")[2]
        assert b"Liu et al. 2020 (renamed)" in after
    finally:
        s.stop()
