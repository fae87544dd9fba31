"""The network guard: no connection leaves the process unless the user asks.

(The check that keeps SPARQL read-only and inside the graph is sparql.py.)

A knowledge-graph build reads curators' files and runs other people's shapes
and queries; none of them may reach the network or the local file system
unless the user asks. Parsers are configured not to fetch (see sources.py),
but libraries change and a forgotten code path is enough, so the guard works
one level lower: a `sys.addaudithook` hook sees every `socket.connect`,
`socket.getaddrinfo` and `urllib.Request` in the process and, while a guard is
active, refuses those the policy does not allow by raising `RefusedError`.

Audit hooks cannot be removed, so the hook is installed once and does nothing
unless a `network_guard()` is active. Libraries sometimes catch broad
exceptions (rdflib's SPARQL graph loader tries four parsers in turn and
swallows each failure), so a refusal is also remembered and re-raised when the
guard closes: a swallowed refusal still ends the command with exit 4.
"""
from __future__ import annotations

# socket and urllib.parse are imported where used: a cold `query` installs the guard but opens no socket.

import _thread
import sys
from collections import namedtuple

from .errors import RefusedError

TYPE_CHECKING = False  # typing's flag without importing typing: every command, a cold query too, loads this
if TYPE_CHECKING:
    from typing import Iterable

#: Audit events that mean "about to talk to another machine".
NETWORK_EVENTS = frozenset({
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
    "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "urllib.Request", "http.client.connect",
})

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class Attempt(namedtuple("Attempt", "event target allowed")):
    """One network operation seen by the hook: the audit `event`, its `target`, and whether it was `allowed`."""

    __slots__ = ()


class Guard:
    """An active policy: allow everything, or only some hosts; records every attempt.

    A plain class, not a dataclass: `dataclasses` imports `inspect` (about 5 ms), and this
    module is imported by every command before it starts."""

    __slots__ = ("allow_all", "hosts", "attempts")

    def __init__(self, allow_all: bool = False, hosts: frozenset[str] = frozenset()) -> None:
        self.allow_all = allow_all
        self.hosts = hosts
        self.attempts: list[Attempt] = []

    def __repr__(self) -> str:
        return f"Guard(allow_all={self.allow_all!r}, hosts={self.hosts!r}, attempts={self.attempts!r})"

    @property
    def refused(self) -> list[Attempt]:
        return [a for a in self.attempts if not a.allowed]

    def allows(self, host: str | None) -> bool:
        if self.allow_all:
            return True
        return host is not None and host.strip("[]").lower() in self.hosts


_lock = _thread.allocate_lock()  # threading.Lock() without importing threading
_stack: list[Guard] = []
_installed = False


def _target(event: str, args: tuple) -> tuple[str | None, str]:
    """(host to check, printable target) of an audit event, or (None, "") when it is not a network one."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args[0], args[-1]
        family = getattr(sock, "family", None)
        import socket  # a socket exists, so the module is loaded: this costs a dict lookup

        if family is not None and family not in (socket.AF_INET, socket.AF_INET6):
            return None, ""  # a Unix socket or netlink: local IPC, not the network
        if isinstance(address, tuple) and address:
            return str(address[0]), f"{address[0]}:{address[1]}" if len(address) > 1 else str(address[0])
        return None, ""
    if event == "urllib.Request":  # file: and data: URLs too: a document must not read local files
        url = str(args[0])
        from urllib.parse import urlsplit

        return urlsplit(url).hostname or "", url
    if event == "http.client.connect":
        return str(args[1]), f"{args[1]}:{args[2]}"
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        return (str(host) if host is not None else ""), str(host)
    return None, ""


def _hook(event: str, args: tuple) -> None:
    """The audit hook: cheap when no guard is active (one set lookup and a list check)."""
    if event not in NETWORK_EVENTS or not _stack:
        return
    host, target = _target(event, args)
    if host is None:
        return
    with _lock:
        guards = list(_stack)
    if not guards:
        return
    allowed = guards[-1].allows(host)
    attempt = Attempt(event, target, allowed)
    for g in guards:
        g.attempts.append(attempt)
    if not allowed:
        raise RefusedError(_refusal_message(attempt))


def _refusal_message(attempt: Attempt) -> str:
    return (f"network access refused ({attempt.event} to {attempt.target}); nothing is fetched "
            "unless you pass --allow-network")


def install() -> None:
    """Install the audit hook (once per process); switch off rdflib's graph loading if rdflib is loaded.

    rdflib is not imported here (the oxigraph query path never loads it); code
    that runs rdflib SPARQL calls disable_rdflib_loading() itself (validate.py).
    """
    global _installed
    if "rdflib.plugins.sparql" in sys.modules:
        disable_rdflib_loading()
    if _installed:
        return
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


def disable_rdflib_loading() -> None:
    """Never let an rdflib SPARQL query load `FROM <...>` graphs from files or URLs.

    With SPARQL_LOAD_GRAPHS off, FROM names a graph already in the dataset and
    nothing is read. The package never needs it on, so it stays off.
    """
    import rdflib.plugins.sparql as rdflib_sparql

    rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def resolve_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """The names and the addresses they resolve to (connect() sees addresses, not names).

    Called before the guard is entered, so the lookups themselves are not refused.
    """
    out: set[str] = set()
    for h in hosts:
        if not h:
            continue
        h = h.strip("[]").lower()
        out.add(h)
        try:
            import socket

            for info in socket.getaddrinfo(h, None):
                out.add(str(info[4][0]).lower())
        except (OSError, UnicodeError):
            pass  # unresolvable: the connection will fail on its own, with the store's error
    return frozenset(out)


class network_guard:
    """Refuse network access inside the block, except to `hosts` (or everything if `allowed`).

    `with network_guard(...) as guard:` gives the Guard, so a caller (a test) can read the
    attempts it recorded. A refusal that a library swallowed is raised when the block ends.
    (A class rather than a contextlib generator: every command enters one, and `contextlib`
    with the `functools` it imports is a measurable share of a cold query.)
    """

    def __init__(self, allowed: bool = False, hosts: Iterable[str] = ()) -> None:
        self.allowed, self.hosts = allowed, hosts
        self.guard: Guard | None = None

    def __enter__(self) -> Guard:
        install()
        self.guard = Guard(allow_all=self.allowed, hosts=resolve_hosts(self.hosts))
        with _lock:
            _stack.append(self.guard)
        return self.guard

    def __exit__(self, kind, exc, tb) -> bool:
        guard = self.guard
        with _lock:
            _stack.remove(guard)
        refused = guard.refused
        if exc is None:
            if refused:
                raise RefusedError(_refusal_message(refused[0]))
            return False
        if refused and isinstance(exc, Exception) and not isinstance(exc, RefusedError):
            # the library turned our refusal into its own error: say what really happened
            raise RefusedError(_refusal_message(refused[0])) from exc
        return False


def hosts_of(urls: Iterable[str | None]) -> frozenset[str]:
    """Host names of the given URLs (None and empty ones skipped)."""
    out = set()
    for u in urls:
        if u:
            from urllib.parse import urlsplit

            host = urlsplit(u).hostname
            if host:
                out.add(host.lower())
    return frozenset(out)


#: Commands that never need the network unless the user passes --allow-network.
OFFLINE_COMMANDS = frozenset({"build", "validate", "query", "export", "stats"})


def guard_for(args) -> network_guard:
    """The guard a CLI command runs under.

    build / validate / query / export / stats: nothing, unless --allow-network.
    load: only the hosts of its --endpoint / --update / --gsp URLs.
    serve: only the loopback interface it binds to.
    """
    allow = bool(getattr(args, "allow_network", False))
    command = getattr(args, "command", None)
    if command == "load":
        urls = (getattr(args, "endpoint", None), getattr(args, "update", None), getattr(args, "gsp", None))
        return network_guard(allowed=allow, hosts=hosts_of(urls))
    if command == "serve":
        return network_guard(allowed=allow, hosts=LOOPBACK)
    return network_guard(allowed=allow)
