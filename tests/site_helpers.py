"""A `carnk-graph serve` process for the tests, and a plain HTTP client that returns error answers too."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from stores import stop_pid, wait_until




class Served:
    """`carnk-graph serve` as a child process on a port it picked; its stdout in a file."""

    def __init__(self, root: Path, dist: Path, log: Path, port: int = 0, extra: tuple = (), **popen) -> None:
        self.log = log
        self.fh = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "carnk_graph", "serve", "--root", str(root),
                                      "--dist", str(dist), "--port", str(port), *extra],
                                     stdout=self.fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **popen)
        try:
            wait_until(lambda: "press Ctrl-C" in self.output(), "carnk-graph serve", self.proc, log=log)
        except BaseException:
            self.stop()
            raise
        self.port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", self.output()).group(1))
        self.base = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        code = stop_pid(self.proc, sig)
        self.fh.close()
        return code


def fetch(url: str, accept: str | None = None, data: bytes | None = None, content_type: str | None = None,
          method: str | None = None) -> tuple[int, dict, bytes]:
    """(status, headers, body) of one request; HTTP errors are answers too."""
    headers = {}
    if accept:
        headers["Accept"] = accept
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


