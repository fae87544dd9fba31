"""Saved queries kept prepared beside the release, so a cold query does not scan its SPARQL again.

Preparing a query (queries.prepare: the read-only check, its header, its default parameters
bound into the text pyoxigraph runs) costs a cold query more than running it: the scanner's
patterns are compiled anew in every process, and `re` with them. So the first run of a saved
query with its default parameters writes what it prepared to `<dist>/.prepared/<name>`, and
later runs take it from there, but only for the very same query text (compared in full), the
same package version and the same modules that check and bind (their sizes and mtimes). The
record never vouches for safety on its own: the text must also pass `sparql.surely_read_only`,
a conservative test without the scanner (no backslash, no refused word outside whole-line
comments), so a forged record cannot let SERVICE, FROM or an update through. Anything else
(another text, a text that test cannot clear, --param values, an ad-hoc .rq file, the rdflib
engine, an unreadable record) prepares the query the full way, check included. Writing is
best-effort: a read-only dist/ just means no record.

A record is plain text: a line `key length`, then that many characters and a line break, per
field; no `json` (a cold query imports none) and nothing that could run code when read.
"""
from __future__ import annotations

import os

from .catalogue import Param, SavedQuery, read_query_text
from .errors import BadInputError
from .queries import Prepared
from .results import Term
from .sparql import surely_read_only

FOLDER = ".prepared"
_MAGIC = "carnk-graph prepared query"
#: The modules whose rules a record stands for: a change to any of them makes every record stale.
_RULES = ("sparql.py", "params.py", "catalogue.py", "queries.py", "engines.py", "namespaces.py", "prepared.py")
_SEP = "\x1f"  # between the parts of one field (a value that holds it is not recorded)


def _stamp() -> str:
    from . import __version__

    here = os.path.dirname(os.path.abspath(__file__))
    parts = [__version__]
    for name in _RULES:
        st = os.stat(os.path.join(here, name))
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return " ".join(parts)


def _record_path(dist: str, name: str) -> str:
    return os.path.join(dist, FOLDER, name)


def _opt(value: str | None) -> str:
    return "-" if value is None else "=" + value


def _unopt(value: str) -> str | None:
    if value == "-":
        return None
    if not value.startswith("="):
        raise ValueError("not an optional value")
    return value[1:]


def _fields(data: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(data):
        nl = data.index("\n", at)
        key, _, size = data[at:nl].partition(" ")
        start = nl + 1
        end = start + int(size)
        if data[end:end + 1] != "\n":
            raise ValueError("a field's length does not match")
        out.append((key, data[start:end]))
        at = end + 1
    return out


def load(name: str, query_file: str, dist: str) -> Prepared | None:
    """The saved query `name` (at `query_file`) as prepared before, if the record matches its text now."""
    try:
        with open(_record_path(dist, name), encoding="utf-8", newline="") as fh:
            data = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        fields = _fields(data)
        if not fields or fields[0] != ("magic", _MAGIC):
            return None
        record: dict = {"header": {}, "params": [], "bindings": {}}
        for key, value in fields[1:]:
            if key == "header":
                k, v = value.split(_SEP)
                record["header"][k] = v
            elif key == "param":
                n, kind, default = value.split(_SEP)
                record["params"].append(Param(n, _unopt(kind), _unopt(default)))
            elif key == "binding":
                n, kind, v, datatype, lang = value.split(_SEP)
                record["bindings"][n] = Term(kind, v, _unopt(datatype), _unopt(lang))
            else:
                record[key] = value
        if record["stamp"] != _stamp() or record["path"] != query_file or record["name"] != name:
            return None
        text = read_query_text(query_file)
        if text != record["text"] or not surely_read_only(text):
            return None  # another text; or one the keyword test cannot clear, so the full check reads it
        query = SavedQuery(name, query_file, text, record["header"], tuple(record["params"]))
        bound = (record["bound"], int(record["at"]), int(record["added"]))
        return Prepared(query, record["bindings"], bound, record["ordered"] == "1")
    except (KeyError, ValueError, IndexError, OSError, BadInputError):
        return None  # no usable record, or a query file gone or unreadable: the full way says why


def save(dist: str, prepared: Prepared) -> None:
    """Keep a saved query prepared with its default parameters (best-effort: errors leave no record)."""
    from .engines import OxigraphEngine

    query = prepared.query
    bound = prepared.bound or OxigraphEngine.bind(query.text, prepared.bindings)
    fields = [("magic", _MAGIC), ("stamp", _stamp()), ("name", query.name), ("path", str(query.path)),
              ("text", query.text), ("bound", bound[0]), ("at", str(bound[1])), ("added", str(bound[2])),
              ("ordered", "1" if prepared.ordered else "0")]
    groups = [("header", (k, v)) for k, v in query.header.items()]
    groups += [("param", (p.name, _opt(p.kind), _opt(p.default))) for p in query.params]
    groups += [("binding", (n, t.kind, t.value, _opt(t.datatype), _opt(t.lang))) for n, t in prepared.bindings.items()]
    if any(_SEP in part for _, group in groups for part in group):
        return
    fields += [(key, _SEP.join(group)) for key, group in groups]
    data = "".join(f"{key} {len(value)}\n{value}\n" for key, value in fields)
    folder = os.path.join(dist, FOLDER)
    tmp = os.path.join(folder, f".{query.name}.tmp-{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
        os.replace(tmp, _record_path(dist, query.name))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
