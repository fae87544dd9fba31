"""`carnk-graph serve`: the built store as a local, read-only SPARQL endpoint.

It runs the Oxigraph server (`oxigraph serve-read-only`, from the PyPI package
`oxigraph`) on 127.0.0.1 over dist/store, so nothing outside this machine can
reach it and no request can change the data. Its web page at the printed URL
is a SPARQL editor. Queries see the union of the three named graphs as their
default graph, as they do with `carnk-graph query`.

The server is a child process: Ctrl-C (SIGINT) or SIGTERM is passed on to it,
and the command returns once it has exited.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .errors import BadInputError, CarnkError, RemoteStoreError

HOST = "127.0.0.1"
READY_DEADLINE = 30.0  # seconds the server may take to open the store and listen


def find_oxigraph() -> str:
    """The `oxigraph` executable: on PATH, else next to this Python (an unactivated venv)."""
    found = shutil.which("oxigraph")
    if found:
        return found
    here = Path(sys.executable).parent
    for name in ("oxigraph", "oxigraph.exe"):
        candidate = here / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BadInputError("the Oxigraph server is not installed: `pip install oxigraph` "
                        "(it provides the `oxigraph` command that `serve` runs)")


def check_port(port: int) -> None:
    """Refuse early, with a clear message, a port that is invalid or already taken on 127.0.0.1."""
    if not 1 <= port <= 65535:
        raise BadInputError(f"--port must be between 1 and 65535, not {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError as e:
            raise BadInputError(f"cannot serve on {HOST}:{port}: {e.strerror or e}") from None


def saved_queries(queries_dir: Path) -> list[tuple[str, str]]:
    """(name, title) of every saved query, from each file's `# title:` header line."""
    out = []
    for path in sorted(Path(queries_dir).glob("*.rq")):
        title = ""
        try:
            for line in path.read_text(encoding="utf-8").splitlines():
                m = re.match(r"\s*#\s*title\s*:\s*(.*)", line)
                if m:
                    title = m.group(1).strip()
                    break
                if line.strip() and not line.lstrip().startswith("#"):
                    break
        except (OSError, UnicodeDecodeError):
            pass
        out.append((path.stem, title))
    return out


def command(exe: str, store_dir: Path, port: int) -> list[str]:
    """The server's command line: read-only, loopback only, union default graph."""
    return [exe, "serve-read-only", "--location", str(store_dir), "--bind", f"{HOST}:{port}",
            "--union-default-graph"]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return True  # something is listening and speaking HTTP
    except OSError:
        return False


def wait_ready(proc: subprocess.Popen, base: str, deadline: float = READY_DEADLINE) -> None:
    """Poll until the server answers; fail if it exits first or the deadline passes."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RemoteStoreError(f"the Oxigraph server exited with status {proc.returncode} before it was ready")
        if _answers(base + "/query?query=ASK%7B%7D"):
            return
        time.sleep(0.05)  # poll interval
    raise RemoteStoreError(f"the Oxigraph server did not answer at {base} within {deadline:.0f}s")


def serve(store_dir: Path, port: int, queries_dir: Path | None = None,
          out: Callable[[str], None] = print) -> int:
    """Run the read-only server until it is interrupted; 0 when it was stopped by a signal."""
    if not Path(store_dir).is_dir():
        raise BadInputError("no built store: run `carnk-graph build` first", path=store_dir)
    exe = find_oxigraph()
    check_port(port)
    base = f"http://{HOST}:{port}"
    stopping: list[int] = []

    proc = subprocess.Popen(command(exe, Path(store_dir), port), stdin=subprocess.DEVNULL)

    def forward(signum, _frame) -> None:
        stopping.append(signum)
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            wait_ready(proc, base)
        except CarnkError:
            if stopping:
                proc.wait()
                return 0
            raise
        out(f"serving the built graph read-only at {base}/ (SPARQL endpoint {base}/query)")
        queries = saved_queries(queries_dir) if queries_dir else []
        if queries:
            out(f"saved queries ({len(queries)}; run them in the web editor or with `carnk-graph query NAME`):")
            width = max(len(n) for n, _ in queries)
            for name, title in queries:
                out(f"  {name:<{width}}  {title}".rstrip())
        out("press Ctrl-C to stop")
        sys.stdout.flush()
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if proc.poll() is None:  # an exception on our side: never leave the server behind
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if stopping:
        return 0
    raise RemoteStoreError(f"the Oxigraph server stopped by itself with status {code}")
