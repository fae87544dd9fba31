"""`carnk-graph serve`: a read-only Oxigraph server on 127.0.0.1 over the built store."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_graph import serve as serve_mod
from carnk_graph.cli import main
from carnk_graph.namespaces import sparql_prologue
from carnk_graph.store import open_store

from stores import free_port, http_status, oxigraph_exe, sparql_select, stop_pid, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _runnable_queries(queries_dir: Path) -> list[Path]:
    """Saved queries without parameters (so their text runs as it is)."""
    out = []
    for p in sorted(queries_dir.glob("*.rq")):
        text = p.read_text(encoding="utf-8")
        params = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                       if line.lstrip("# ").lower().startswith("params:")), "")
        if not params or params.lower() == "none":
            out.append(p)
    return out


@pytest.fixture(scope="module")
def server(built, project_root, tmp_path_factory):
    """`carnk-graph serve --port P` as a subprocess, ready; stopped by PID after the module."""
    if oxigraph_exe() is None:
        pytest.skip("oxigraph server not installed (pip install oxigraph: it is in the test extra)")
    port = free_port()
    out = tmp_path_factory.mktemp("serve") / "stdout.txt"
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "carnk_graph", "serve", "--root", str(project_root),
                                 "--dist", str(built.dist), "--port", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: "press Ctrl-C" in out.read_text(encoding="utf-8", errors="replace"),
                   "carnk-graph serve", proc, log=out)
    except BaseException:
        stop_pid(proc, signal.SIGINT)
        raise
    yield {"proc": proc, "base": base, "port": port, "out": out, "project_root": project_root, "dist": built.dist}
    stop_pid(proc, signal.SIGINT)


def test_serve_prints_its_loopback_url_and_the_saved_queries(server):
    text = server["out"].read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{server['port']}/" in text
    for p in sorted((server["project_root"] / "queries").glob("*.rq")):
        assert p.stem in text


def test_a_saved_query_over_http_answers_as_the_embedded_store(server):
    queries = _runnable_queries(server["project_root"] / "queries")
    if not queries:
        pytest.skip("no saved query without parameters")
    text = sparql_prologue() + queries[0].read_text(encoding="utf-8")
    rows = sparql_select(server["base"] + "/query", text)
    res = open_store(server["dist"]).query(text, use_default_graph_as_union=True)
    expected = len(list(res)) if isinstance(res, ox.QuerySolutions) else 1
    assert len(rows) == expected


def test_queries_see_the_three_graphs_as_the_default_graph(server):
    rows = sparql_select(server["base"] + "/query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    union = next(iter(open_store(server["dist"]).query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                                       use_default_graph_as_union=True)))
    assert int(rows[0]["n"]["value"]) == int(union["n"].value) > 0


def test_an_update_is_refused(server):
    body = urllib.parse.urlencode({"update": "INSERT DATA { <urn:x> <urn:y> <urn:z> }"}).encode()
    req = urllib.request.Request(server["base"] + "/update", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert 400 <= err.value.code < 500
    rows = sparql_select(server["base"] + "/query", "ASK { <urn:x> <urn:y> <urn:z> }")
    assert rows[0]["ask"]["value"] == "false"


def test_it_listens_on_loopback_only(server):
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{server['port']}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("ss not available")
    addrs = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines() if line.strip()}
    assert addrs == {"127.0.0.1"}


def test_ctrl_c_stops_it_cleanly(built, project_root, tmp_path):
    if oxigraph_exe() is None:
        pytest.skip("oxigraph server not installed")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "carnk_graph", "serve", "--root", str(project_root),
                             "--dist", str(built.dist), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: http_status(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D") == 200, "serve", proc)
    finally:
        code = stop_pid(proc, signal.SIGINT)
    assert code == 0
    assert http_status(f"http://127.0.0.1:{port}/") is None  # the server child is gone too
    assert b"Traceback" not in proc.stderr.read()


def test_missing_oxigraph_is_exit_2_with_the_install_hint(built, project_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(serve_mod.shutil, "which", lambda _name: None)
    monkeypatch.setattr(serve_mod.sys, "executable", str(tmp_path / "python"))
    assert main(["serve", "--root", str(project_root), "--dist", str(built.dist), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install oxigraph" in err


def test_a_port_in_use_is_exit_2(built, project_root, capsys):
    if oxigraph_exe() is None:
        pytest.skip("oxigraph server not installed")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--root", str(project_root), "--dist", str(built.dist), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_the_server_command_is_read_only_and_loopback(tmp_path):
    cmd = serve_mod.command("oxigraph", tmp_path, 7878)
    assert cmd[1] == "serve-read-only"
    assert cmd[cmd.index("--bind") + 1] == "127.0.0.1:7878"
    assert "--union-default-graph" in cmd
