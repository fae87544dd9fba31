"""The question catalogue: saved SPARQL queries, run safely on the built graph.

A saved query is a `queries/<name>.rq` file whose comment header says what it
answers (title, description, answers, params, returns). This module finds those
files, parses the header, refuses anything that is not a read-only query over
the built graph, binds parameters as RDF terms (never by pasting text into the
query), runs the query on one of two engines and formats the result.

Engines and dataset semantics, decided once for both: a query's default graph is
the union of the three named graphs (ontology, kg, inferred), and a query may
name one of them with `GRAPH <https://w3id.org/carnk/graph/inferred>`.

- `oxigraph` (default): the embedded store in dist/store, opened read-only. This
  path imports pyoxigraph and the light project modules only (no rdflib), so a
  cold `carnk-graph query` starts in tens of milliseconds.
- `rdflib`: dist/carnk.nq loaded into an rdflib Dataset whose default graph is
  the union. Slower; it exists as an independent second opinion (the tests run
  every saved query on both and compare).

Both engines produce the same neutral `Result` (rows of `Term`), which the
formatters turn into a table (labels), CSV/TSV (W3C SPARQL results forms) or
SPARQL 1.1 JSON results.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence

from .errors import BadInputError, QueryTimeoutError, RefusedError
from .namespaces import PREFIXES, prefixed_name, sparql_prologue

XSD = PREFIXES["xsd"]
XSD_STRING = XSD + "string"
RDF_LANGSTRING = PREFIXES["rdf"] + "langString"
RDFS_LABEL = PREFIXES["rdfs"] + "label"

HEADER_KEYS = ("title", "description", "answers", "params", "returns")
FORMATS = ("table", "csv", "tsv", "json")
ENGINES = ("oxigraph", "rdflib")
DEFAULT_TIMEOUT = 60.0


# -- terms and results --------------------------------------------------------------------------------

class Term(NamedTuple):
    """An RDF term, independent of the engine that produced it.

    `kind` uses the SPARQL JSON results names: "uri", "bnode" or "literal".
    A simple literal carries datatype xsd:string; a language-tagged one has `lang`.
    """

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    @classmethod
    def iri(cls, value: str) -> "Term":
        return cls("uri", value)

    @classmethod
    def literal(cls, value: str, datatype: str | None = None, lang: str | None = None) -> "Term":
        if lang:
            return cls("literal", value, RDF_LANGSTRING, lang.lower())
        return cls("literal", value, datatype or XSD_STRING, None)

    def n3(self) -> str:
        """The N-Triples form (escaped), used in TSV output and for label look-ups."""
        if self.kind == "uri":
            return f"<{_escape_iri(self.value)}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        text = '"' + _escape_string(self.value) + '"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD_STRING:
            return f"{text}^^<{_escape_iri(self.datatype)}>"
        return text


def _escape_string(value: str) -> str:
    return (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def _escape_iri(value: str) -> str:
    return "".join(c if c not in '<>"{}|^`\\' and ord(c) > 0x20 else f"\\u{ord(c):04X}" for c in value)


_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short",
                              "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
                              "negativeInteger", "unsignedInt", "unsignedLong")}


def _sort_key(term: Term | None) -> tuple:
    """A total order over terms: unbound, numbers (by value), IRIs, blank nodes, other literals."""
    if term is None:
        return (0, 0.0, "", "")
    if term.kind == "literal" and term.datatype in _NUMERIC:
        try:
            return (1, float(term.value), term.value, "")
        except ValueError:
            pass
    group = {"uri": 2, "bnode": 3}.get(term.kind, 4)
    return (group, 0.0, term.value, (term.datatype or "") + "@" + (term.lang or ""))


@dataclass
class Result:
    """A query's answer: variables and rows (SELECT), or a boolean (ASK)."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None

    def sort(self) -> None:
        """Put rows in a stable order (for queries without ORDER BY)."""
        self.rows.sort(key=lambda row: tuple(_sort_key(t) for t in row))

    def relabel_blank_nodes(self) -> None:
        """Name blank nodes b0, b1… by first appearance, so output does not depend on the engine."""
        names: dict[str, str] = {}

        def rename(t: Term | None) -> Term | None:
            if t is None or t.kind != "bnode":
                return t
            return t._replace(value=names.setdefault(t.value, f"b{len(names)}"))

        self.rows = [tuple(rename(t) for t in row) for row in self.rows]

    def iris(self) -> set[str]:
        return {t.value for row in self.rows for t in row if t is not None and t.kind == "uri"}


# -- the header ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A declared query parameter: `name`, optional `kind` ("iri", "literal" or a datatype IRI), default."""

    name: str
    kind: str | None = None
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def describe(self) -> str:
        kind = f" ({_compact(self.kind)})" if self.kind and self.kind not in ("iri", "literal") else ""
        return f"{self.name}{kind}=" + (self.default if self.default is not None else "<required>")


@dataclass(frozen=True)
class SavedQuery:
    """One .rq file: its text and the header fields the runner and the tests use."""

    name: str
    path: Path
    text: str
    header: Mapping[str, str]
    params: tuple[Param, ...] = ()

    @property
    def title(self) -> str:
        return self.header.get("title", "")

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(self.header.get("answers", "").split())

    @property
    def returns(self) -> tuple[str, ...]:
        return tuple(v.lstrip("?$") for v in self.header.get("returns", "").split())


_HEADER_LINE = re.compile(r"^#\s*([A-Za-z][\w-]*)\s*:\s?(.*)$")
_PARAM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<kind>[^)]*)\))?\s*(?:=\s*(?P<default>\S+))?$")


def parse_header(text: str, path: Path | str = "<query>") -> dict[str, str]:
    """The `# key: value` lines before the first line of SPARQL; an indented `#` line continues a value."""
    header: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            key = None
            continue
        if not stripped.startswith("#"):
            break
        m = _HEADER_LINE.match(stripped)
        if m and m.group(1).lower() in HEADER_KEYS:
            key = m.group(1).lower()
            if key in header:
                raise BadInputError(f"header field {key!r} given twice", path=path)
            header[key] = m.group(2).strip()
        elif key and re.match(r"^#\s{2,}\S", stripped):
            header[key] = (header[key] + " " + stripped.lstrip("#").strip()).strip()
        else:
            key = None
    return header


def parse_params(spec: str, path: Path | str = "<query>") -> tuple[Param, ...]:
    """`therapy = carnk:CARNKCellTherapy, minPatients (xsd:integer) = 5, antigen (iri)` -> Params.

    A parameter without a default is required. `none` (or nothing) declares no parameters.
    """
    # DESIGN.md's example ends with a remark in parentheses, "(name = default; ...)": not a parameter
    spec = re.sub(r"\s*\([^()]*=[^()]*\)\s*$", "", spec.strip())
    if not spec or spec.lower() == "none":
        return ()
    params: list[Param] = []
    for part in spec.split(","):
        m = _PARAM.match(part.strip())
        if not m:
            raise BadInputError(f"cannot read parameter declaration {part.strip()!r} "
                                "(expected `name = default` or `name (type)`)", path=path)
        kind = (m.group("kind") or "").strip() or None
        if kind and kind not in ("iri", "literal"):
            kind = _expand(kind, PREFIXES)
            if kind is None:
                raise BadInputError(f"parameter {m.group('name')}: unknown type {m.group('kind')!r}", path=path)
        params.append(Param(m.group("name"), kind, m.group("default")))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise BadInputError("a parameter is declared twice", path=path)
    return tuple(params)


def load_query(path: Path, name: str | None = None) -> SavedQuery:
    """Read one .rq file (UTF-8) and its header."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError("query file not found", path=path) from None
    except UnicodeDecodeError:
        raise BadInputError("query file is not UTF-8", path=path) from None
    except OSError as e:
        raise BadInputError(f"cannot read query file: {e.strerror}", path=path) from None
    header = parse_header(text, path)
    return SavedQuery(name or path.stem, path, text, header, parse_params(header.get("params", ""), path))


# -- the catalogue ------------------------------------------------------------------------------------

def catalogue(queries_dir: Path) -> dict[str, SavedQuery]:
    """Every saved query of a folder (not its checks/ subfolder), by name."""
    return {p.stem: load_query(p) for p in sorted(queries_dir.glob("*.rq"))}


def _looks_like_path(name: str) -> bool:
    return name.endswith(".rq") or "/" in name or "\\" in name


def resolve(name: str, queries_dir: Path) -> SavedQuery:
    """A saved query by name, or an ad-hoc .rq file by path; unknown names list close matches."""
    if _looks_like_path(name):
        path = Path(name)
        if not path.is_file():
            raise BadInputError("query file not found", path=path)
        return load_query(path)
    path = queries_dir / f"{name}.rq"
    if path.is_file():
        return load_query(path, name)
    import difflib

    known = sorted(p.stem for p in queries_dir.glob("*.rq"))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    close += [k for k in known if name.lower() in k and k not in close][: 3 - len(close)]
    hint = f"; did you mean: {', '.join(close)}?" if close else "; `carnk-graph query --list` shows the catalogue"
    raise BadInputError(f"unknown query {name!r}{hint}")


# -- safety: a tokenizer that sees only the bare words of a query ------------------------------------

_TOKEN = re.compile(r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][\w]+)
    | (?P<word>(?:[A-Za-z_][\w.-]*)?:(?:[\w.:%-]|\\[_~.!$&'()*+,;=/?\#@%-])*|[A-Za-z_]\w*)
    | (?P<other>\S)
""", re.VERBOSE | re.DOTALL)

#: Bare words that make a request something other than a read-only query of the built graph.
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                          "COPY", "WITH", "USING"})
NETWORK_WORDS = frozenset({"SERVICE"})
DATASET_WORDS = frozenset({"FROM"})


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token, strings, IRIs and comments recognised as wholes."""
    return [(m.lastgroup or "other", m.group(), m.start()) for m in _TOKEN.finditer(text)]


def _keywords(text: str) -> list[tuple[str, int]]:
    """Bare keywords (upper-cased) with their offsets: no strings, IRIs, comments, variables or prefixed names."""
    return [(t.upper(), i) for kind, t, i in _tokens(text) if kind == "word" and ":" not in t]


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")


def expand_escapes(text: str) -> str:
    """Apply \\uXXXX / \\UXXXXXXXX escapes to the whole text, as SPARQL (and rdflib) do before parsing.

    Without this, `\\u0053ERVICE` would pass a check that looks for SERVICE.
    """
    def expand(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)
    return _UNICODE_ESCAPE.sub(expand, text)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_read_only(text: str, path: Path | str = "<query>") -> None:
    """Refuse updates, SERVICE and FROM / FROM NAMED before anything is parsed or run.

    The check runs on the escape-expanded text and also looks at the prefix of
    prefixed names: pyoxigraph reads `SERVICE:x` as the keyword SERVICE.
    """
    expanded = expand_escapes(text)
    for kind, token, offset in _tokens(text) + (_tokens(expanded) if expanded != text else []):
        if kind != "word":
            continue
        word = token.split(":", 1)[0].upper()
        reason = None
        if word in UPDATE_WORDS:
            reason = f"{word} is an update: refused (saved and ad-hoc queries are read-only)"
        elif word in NETWORK_WORDS:
            reason = "SERVICE would reach another endpoint over the network: refused"
        elif word in DATASET_WORDS:
            reason = ("FROM / FROM NAMED would load a file or URL as the dataset: refused "
                      "(queries run on the built graph; use GRAPH <…> to pick a named graph)")
        if reason:
            line, col = _position(text if offset < len(text) and text[offset:].upper().startswith(word)
                                  else expanded, offset)
            raise RefusedError(reason, path=path, line=line, column=col)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of those keywords."""
    for word, _ in _keywords(text):
        if word in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return word
    return ""


def has_order_by(text: str) -> bool:
    """True when the outermost query orders its rows (an ORDER after the last closing brace)."""
    toks = _tokens(text)
    last_brace = max((i for i, (_, t, _) in enumerate(toks) if t == "}"), default=-1)
    return any(kind == "word" and t.upper() == "ORDER" for kind, t, _ in toks[last_brace + 1:])


def declared_prefixes(text: str) -> dict[str, str]:
    """PREFIX declarations of the query itself."""
    toks = [(k, t) for k, t, _ in _tokens(text) if k != "comment"]
    out: dict[str, str] = {}
    for i, (kind, t) in enumerate(toks[:-2]):
        if kind == "word" and t.upper() == "PREFIX" and toks[i + 2][0] == "iri":
            name = toks[i + 1][1]
            if name.endswith(":"):
                out[name[:-1]] = toks[i + 2][1][1:-1]
    return out


def projected_variables(text: str) -> list[str] | None:
    """The variables a SELECT projects, in order (None for SELECT *, ASK and the other forms)."""
    toks = [(k, t) for k, t, _ in _tokens(text) if k != "comment"]
    start = next((i for i, (k, t) in enumerate(toks) if k == "word" and t.upper() == "SELECT"), None)
    if start is None:
        return None
    out: list[str] = []
    depth = 0
    for i in range(start + 1, len(toks)):
        kind, t = toks[i]
        if t == "*" and depth == 0:
            return None
        if depth == 0 and (t == "{" or (kind == "word" and t.upper() in ("WHERE", "FROM"))):
            break
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        elif kind == "var" and (depth == 0 or (toks[i - 1][0] == "word" and toks[i - 1][1].upper() == "AS")):
            out.append(t[1:])
    return out


def values_insertion_point(text: str) -> int:
    """Offset just after the `{` that opens the outermost WHERE group (where a VALUES block goes)."""
    depth = 0
    seen_form = False
    for kind, t, offset in _tokens(text):
        if kind == "word" and t.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            seen_form = True
        elif t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        elif t == "{" and seen_form and depth == 0:
            return offset + 1
    raise BadInputError("cannot bind parameters: the query has no WHERE group")


def with_values(text: str, rendered: Mapping[str, str]) -> str:
    """The query with `VALUES (?a ?b) { (t1 t2) }` opening its WHERE group.

    `rendered` maps variable names to terms already in N-Triples form, produced
    by the engine's own RDF library from validated terms: the value never
    touches the query as raw text. A block at the start of the group (not a
    trailing VALUES clause) lets pyoxigraph use the binding while joining: it
    does not push a trailing VALUES into the pattern. (pyoxigraph's own
    `substitutions=` would need every parameter in the SELECT clause.)
    A parameter must therefore be used in the query's pattern; to compare it in
    HAVING, also GROUP BY it.
    """
    if not rendered:
        return text
    names = list(rendered)
    for n in names:
        if not re.fullmatch(r"[A-Za-z_]\w*", n):
            raise BadInputError(f"invalid parameter name {n!r}")
    block = (" VALUES (" + " ".join("?" + n for n in names) + ") { ("
             + " ".join(rendered[n] for n in names) + ") }\n")
    at = values_insertion_point(text)
    return text[:at] + block + text[at:]


# -- parameters ---------------------------------------------------------------------------------------

_BAD_IRI_CHARS = re.compile(r'[\s<>"{}|^`\\]')
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_PREFIXED = re.compile(r"^([A-Za-z][\w.-]*)?:([\w.:%-]*)$")
_LEXICAL = {
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
    XSD + "decimal": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    XSD + "double": re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|NaN)$"),
    XSD + "boolean": re.compile(r"^(true|false|1|0)$"),
    XSD + "date": re.compile(r"^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    XSD + "gYear": re.compile(r"^-?\d{4,}(Z|[+-]\d{2}:\d{2})?$"),
}


def _expand(value: str, prefixes: Mapping[str, str]) -> str | None:
    """A prefixed name's full IRI, or None when the prefix is unknown or the name malformed."""
    m = _PREFIXED.match(value)
    if not m or (m.group(1) or "") not in prefixes:
        return None
    return prefixes[m.group(1) or ""] + m.group(2)


def _compact(iri: str) -> str:
    """A prefixed name for an IRI, else <IRI>."""
    return prefixed_name(iri) or f"<{iri}>"


def parse_iri(value: str, prefixes: Mapping[str, str], what: str) -> Term | None:
    """`<IRI>` or a prefixed name as an IRI term; None when `value` is neither. Unsafe IRIs are refused."""
    if value.startswith("<"):
        inner = value[1:-1] if value.endswith(">") else value[1:]
        if not value.endswith(">") or _BAD_IRI_CHARS.search(inner) or not _ABSOLUTE_IRI.match(inner):
            raise BadInputError(f"{what}: {value!r} is not a valid absolute IRI "
                                "(no spaces, quotes, braces or angle brackets inside <…>)")
        return Term.iri(inner)
    if _BAD_IRI_CHARS.search(value):
        return None
    full = _expand(value, prefixes)
    return Term.iri(full) if full is not None else None


def param_term(param: Param, value: str, prefixes: Mapping[str, str]) -> Term:
    """A parameter value as an RDF term: an IRI (<…> or prefixed name) or a literal, per the declaration."""
    what = f"parameter {param.name}"
    if param.kind == "literal":
        return Term.literal(value)
    if param.kind and param.kind != "iri":  # a datatype
        pattern = _LEXICAL.get(param.kind)
        if pattern and not pattern.match(value):
            raise BadInputError(f"{what}: {value!r} is not a valid {_compact(param.kind)}")
        return Term.literal(value, param.kind)
    iri = parse_iri(value, prefixes, what)
    wants_iri = param.kind == "iri" or (param.default is not None
                                        and parse_iri(param.default, prefixes, what) is not None)
    if iri is None and wants_iri:
        looks_prefixed = re.match(r"^[A-Za-z][\w.-]*:", value)
        why = "unknown prefix" if looks_prefixed and not _BAD_IRI_CHARS.search(value) else "not an IRI"
        raise BadInputError(f"{what} expects an IRI such as {param.default or 'carnk:Name'} "
                            f"or <https://…>; got {value!r} ({why})")
    return iri if iri is not None else Term.literal(value)


def bind_params(query: SavedQuery, raw: Sequence[str]) -> dict[str, Term]:
    """Parse `KEY=VALUE` strings against the header's declarations; defaults fill the rest."""
    declared = {p.name: p for p in query.params}
    prefixes = {**PREFIXES, **declared_prefixes(query.text)}
    given: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInputError(f"--param {item!r}: expected KEY=VALUE")
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise BadInputError(f"unknown parameter {key!r} for query {query.name} (its parameters: {known})")
        if key in given:
            raise BadInputError(f"parameter {key!r} given twice")
        given[key] = value
    bound: dict[str, Term] = {}
    for p in query.params:
        value = given.get(p.name, p.default)
        if value is None:
            raise BadInputError(f"query {query.name} needs --param {p.name}=VALUE")
        bound[p.name] = param_term(p, value, prefixes)
    return bound


# -- running with a time limit -----------------------------------------------------------------------

class _Cancelled(BaseException):
    """Raised inside a worker thread whose query ran past its time limit."""


def run_with_timeout(work: Callable[[threading.Event], Result], timeout: float, what: str) -> Result:
    """Run `work` in a daemon thread; past `timeout` seconds raise QueryTimeoutError here.

    pyoxigraph releases the GIL while it evaluates, and its evaluation is lazy
    (one `next()` can be a whole aggregate in Rust), so the caller's thread
    cannot wait inside the iteration; it waits on the worker instead. The worker
    stops at its next row (the event) or its next Python bytecode (an
    asynchronous exception, which is what stops rdflib); a Rust step already
    running finishes in the background of a daemon thread, and the CLI process
    exits without waiting for it.
    """
    if not timeout or not timeout > 0:  # also NaN
        raise BadInputError(f"--timeout must be a positive number of seconds, not {timeout}")
    box: dict = {}
    cancel = threading.Event()

    def target() -> None:
        try:
            box["result"] = work(cancel)
        except _Cancelled:
            pass
        except BaseException as e:  # handed to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=target, name="carnk-query", daemon=True)
    worker.start()
    worker.join(None if timeout == float("inf") else timeout)
    if worker.is_alive():
        cancel.set()
        _interrupt(worker)
        raise QueryTimeoutError(f"{what}: stopped after {timeout:g} s (--timeout {timeout:g}); "
                                "narrow the query or raise --timeout")
    if "error" in box:
        raise box["error"]
    return box["result"]


def _interrupt(thread: threading.Thread) -> None:
    """Raise _Cancelled in `thread` at its next Python bytecode."""
    import ctypes

    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Cancelled))


# -- engines ------------------------------------------------------------------------------------------

class OxigraphEngine:
    """pyoxigraph: the embedded store (or any pyoxigraph Store, e.g. in memory for tests)."""

    name = "oxigraph"

    def __init__(self, store) -> None:
        self.store = store

    @staticmethod
    def _term(t) -> Term | None:
        import pyoxigraph as ox

        if t is None:
            return None
        if isinstance(t, ox.NamedNode):
            return Term.iri(t.value)
        if isinstance(t, ox.BlankNode):
            return Term("bnode", t.value)
        if isinstance(t, ox.Literal):
            return Term.literal(t.value, t.datatype.value, t.language)
        raise BadInputError(f"unsupported RDF term in a result: {t!r} (RDF-star is not supported)")

    @staticmethod
    def _native(term: Term):
        import pyoxigraph as ox

        if term.kind == "uri":
            return ox.NamedNode(term.value)
        if term.lang:
            return ox.Literal(term.value, language=term.lang)
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype or XSD_STRING))

    def _query(self, text: str):
        return self.store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)

    def check(self, text: str, path: Path | str) -> None:
        """Syntax errors with line and column, before the real run.

        pyoxigraph has no parse-only call, and `query()` may already evaluate
        (an aggregate is computed at once), so the text is parsed by running it
        on an empty in-memory store, where any query finishes immediately.
        """
        import pyoxigraph as ox

        try:
            ox.Store().query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
        except SyntaxError as e:
            raise _oxigraph_syntax_error(e, path, text) from None
        except ValueError as e:
            raise BadInputError(f"cannot run query: {e}", path=path) from None

    def run(self, text: str, bindings: Mapping[str, Term], cancel: threading.Event) -> Result:
        import pyoxigraph as ox

        try:
            answer = self._query(with_values(text, {k: str(self._native(v)) for k, v in bindings.items()}))
        except SyntaxError as e:
            raise BadInputError(f"cannot bind the parameters into this query: {e}") from None
        except (ValueError, RuntimeError) as e:
            raise BadInputError(f"cannot run query: {e}") from None
        if isinstance(answer, ox.QueryBoolean):
            return Result([], boolean=bool(answer))
        if not isinstance(answer, ox.QuerySolutions):
            raise BadInputError("only SELECT and ASK queries can be run (CONSTRUCT/DESCRIBE are not supported)")
        variables = [v.value for v in answer.variables]
        rows = []
        term = self._term
        for sol in answer:
            if cancel.is_set():
                raise _Cancelled()
            rows.append(tuple(term(sol[v]) for v in variables))
        return Result(variables, rows)

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        import pyoxigraph as ox

        values = " ".join(str(ox.NamedNode(i)) for i in sorted(iris))  # N-Triples form, escaped by pyoxigraph
        if not values:
            return {}
        found = self.store.query(f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }} ?s <{RDFS_LABEL}> ?l }}",
                                 use_default_graph_as_union=True)
        return _best_labels((s["s"].value, s["l"].value, s["l"].language) for s in found)


class RdflibEngine:
    """rdflib: the release's N-Quads in a Dataset whose default graph is the union of the named graphs."""

    name = "rdflib"

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    @classmethod
    def from_nquads(cls, path: Path, graphs: Iterable[str] | None = None) -> "RdflibEngine":
        """Load a release's carnk.nq (optionally only some named graphs, by IRI)."""
        import pyoxigraph as ox
        from rdflib import Dataset, URIRef

        from .sources import ox_to_rdflib

        keep = set(graphs) if graphs is not None else None
        ds = Dataset(default_union=True)
        contexts: dict[str, object] = {}
        try:
            quads = ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)
            for q in quads:
                g = getattr(q.graph_name, "value", "")
                if keep is not None and g not in keep:
                    continue
                if g not in contexts:
                    contexts[g] = ds.graph(URIRef(g)) if g else ds.default_context
                contexts[g].add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
        except OSError as e:
            raise BadInputError(f"cannot read the release: {e}", path=path) from None
        return cls(ds)

    @staticmethod
    def _term(t) -> Term | None:
        from rdflib import BNode, Literal, URIRef

        if t is None:
            return None
        if isinstance(t, URIRef):
            return Term.iri(str(t))
        if isinstance(t, BNode):
            return Term("bnode", str(t))
        if isinstance(t, Literal):
            return Term.literal(str(t), str(t.datatype) if t.datatype else None, t.language)
        raise BadInputError(f"unsupported RDF term in a result: {t!r}")

    @staticmethod
    def _native(term: Term):
        from rdflib import Literal, URIRef

        if term.kind == "uri":
            return URIRef(term.value)
        if term.lang:
            return Literal(term.value, lang=term.lang)
        if term.datatype in (None, XSD_STRING):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype))

    def prepare(self, text: str, path: Path | str):
        """Parse with rdflib's parser; refuse what the parsed query reveals (SERVICE, a dataset clause)."""
        import rdflib.plugins.sparql as sparql
        from pyparsing import ParseBaseException

        sparql.SPARQL_LOAD_GRAPHS = False  # never load FROM/GRAPH IRIs as files or URLs
        try:
            prepared = sparql.prepareQuery(text, initNs=PREFIXES)
        except ParseBaseException as e:
            raise BadInputError(f"syntax error: {e.msg}", path=path, line=e.lineno, column=e.col) from None
        except Exception as e:  # rdflib raises plain exceptions for e.g. undefined prefixes
            raise BadInputError(f"syntax error: {e}", path=path) from None
        if prepared.algebra.get("datasetClause"):
            raise RefusedError("FROM / FROM NAMED is refused", path=path)
        if _algebra_has(prepared.algebra, "ServiceGraphPattern"):
            raise RefusedError("SERVICE is refused", path=path)
        return prepared

    def check(self, text: str, path: Path | str) -> None:
        self.prepare(text, path)

    def run(self, text: str, bindings: Mapping[str, Term], cancel: threading.Event) -> Result:
        import rdflib.plugins.sparql as sparql
        from rdflib import Variable

        # initBindings pre-bind the parameters in every part of the query: rdflib joins nested
        # groups eagerly (only the innermost join is lazy), so a VALUES block would reach a
        # later pattern only after that pattern had been evaluated with the variable free.
        prepared = self.prepare(text, "<query>")
        sparql.SPARQL_LOAD_GRAPHS = False
        init = {Variable(k): self._native(v) for k, v in bindings.items()}
        answer = self.dataset.query(prepared, initBindings=init)
        if answer.type == "ASK":
            return Result([], boolean=bool(answer.askAnswer))
        if answer.type != "SELECT":
            raise BadInputError("only SELECT and ASK queries can be run (CONSTRUCT/DESCRIBE are not supported)")
        variables = [str(v) for v in answer.vars]
        rows = []
        for sol in answer:
            if cancel.is_set():
                raise _Cancelled()
            rows.append(tuple(self._term(sol[i]) for i in range(len(variables))))
        return Result(variables, rows)

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        from rdflib import URIRef

        label = URIRef(RDFS_LABEL)
        found = ((i, str(lit), getattr(lit, "language", None))
                 for i in iris for lit in self.dataset.objects(URIRef(i), label))
        return _best_labels(found)


def _algebra_has(node, name: str) -> bool:
    """True when a parsed rdflib query contains a node of this name anywhere."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if getattr(n, "name", None) == name:
            return True
        if isinstance(n, dict):
            stack.extend(n.values())
        elif isinstance(n, (list, tuple)):
            stack.extend(n)
    return False


def _best_labels(found: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """One label per IRI: English first, then untagged, then any; ties broken alphabetically."""
    best: dict[str, tuple] = {}
    for iri, text, lang in found:
        rank = (0 if (lang or "").lower().startswith("en") else 1 if not lang else 2, text)
        if iri not in best or rank < best[iri]:
            best[iri] = rank
    return {iri: rank[1] for iri, rank in best.items()}


_OX_POS = re.compile(r"^error at (\d+):(\d+):\s*")


def _oxigraph_syntax_error(e: SyntaxError, path: Path | str, text: str = "") -> BadInputError:
    """A one-line syntax error at the most useful position.

    pyoxigraph's PEG parser reports where it gave up, which for an error
    inside an expression is often the end of the text; rdflib's parser then
    points at the clause that went wrong. rdflib is imported only here, on the
    error path, so a query that parses never pays for it.
    """
    msg = str(e)
    m = _OX_POS.match(msg)
    if not m:
        return BadInputError(f"syntax error: {msg}", path=path)
    line, column, detail = int(m.group(1)), int(m.group(2)), msg[m.end():]
    if text and line >= text.rstrip().count("\n") + 1:
        where = _rdflib_error_position(text)
        if where is not None and where < (line, column):
            line, column = where
    return BadInputError(f"syntax error: {detail}", path=path, line=line, column=column)


def _rdflib_error_position(text: str) -> tuple[int, int] | None:
    """Where rdflib's SPARQL parser stops on `text` (line, column), or None if it parses."""
    try:
        from rdflib.plugins.sparql.parser import parseQuery
        parseQuery(sparql_prologue() + text)
    except Exception as e:  # pyparsing's ParseException carries lineno/col
        lineno, col = getattr(e, "lineno", None), getattr(e, "col", None)
        if isinstance(lineno, int) and isinstance(col, int):
            return lineno - len(PREFIXES), col
    return None


# -- opening an engine on a build ---------------------------------------------------------------------

def open_engine(engine: str, dist: Path):
    """The engine over a built release folder."""
    if engine == "oxigraph":
        from .store import open_store

        return OxigraphEngine(open_store(dist))
    if engine == "rdflib":
        nq = dist / "carnk.nq"
        if not nq.is_file():
            raise BadInputError("no built release: run `carnk-graph build` first", path=nq)
        from .checks import add_mappings_graph  # what the store holds beside the release graphs

        return RdflibEngine(add_mappings_graph(RdflibEngine.from_nquads(nq).dataset, dist / "mappings.sssom.tsv"))
    raise BadInputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


def execute(query: SavedQuery, engine, params: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Check, bind and run one query on an engine; rows in a stable order.

    The read-only check runs on the text before any parser sees it; the
    engine's parser then reports syntax errors with line and column.
    """
    check_read_only(query.text, query.path)
    engine.check(query.text, query.path)
    if query_form(query.text) not in ("SELECT", "ASK"):
        raise BadInputError("only SELECT and ASK queries can be run (CONSTRUCT/DESCRIBE are not supported)",
                            path=query.path)
    bindings = bind_params(query, params)
    result = run_with_timeout(lambda cancel: engine.run(query.text, bindings, cancel), timeout,
                              f"query {query.name}")
    if not has_order_by(query.text):
        result.sort()
    result.relabel_blank_nodes()
    return result


# -- formatting ---------------------------------------------------------------------------------------

def format_csv(result: Result) -> str:
    """W3C SPARQL 1.1 CSV results: IRIs in full, literals as their lexical form, CRLF line ends."""
    import csv
    import io

    if result.boolean is not None:
        return ("true" if result.boolean else "false") + "\r\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(result.variables)
    for row in result.rows:
        w.writerow(["" if t is None else (f"_:{t.value}" if t.kind == "bnode" else t.value) for t in row])
    return buf.getvalue()


_TSV_BARE = {XSD + "integer": re.compile(r"^[+-]?\d+$"),
             XSD + "decimal": re.compile(r"^[+-]?\d*\.\d+$"),
             XSD + "boolean": re.compile(r"^(true|false)$")}


def format_tsv(result: Result) -> str:
    """W3C SPARQL 1.1 TSV results: terms in N-Triples/Turtle form, numbers and booleans bare."""
    if result.boolean is not None:
        return ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        cells = []
        for t in row:
            if t is None:
                cells.append("")
            elif t.kind == "literal" and t.datatype in _TSV_BARE and _TSV_BARE[t.datatype].match(t.value):
                cells.append(t.value)
            else:
                cells.append(t.n3())
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def format_json(result: Result) -> str:
    """SPARQL 1.1 Query Results JSON."""
    import json

    if result.boolean is not None:
        return json.dumps({"head": {}, "boolean": result.boolean}) + "\n"
    bindings = []
    for row in result.rows:
        b = {}
        for var, t in zip(result.variables, row):
            if t is None:
                continue
            cell: dict[str, str] = {"type": t.kind, "value": t.value}
            if t.lang:
                cell["xml:lang"] = t.lang
            elif t.kind == "literal" and t.datatype and t.datatype != XSD_STRING:
                cell["datatype"] = t.datatype
            b[var] = cell
        bindings.append(b)
    doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def display(t: Term | None, labels: Mapping[str, str]) -> str:
    """A cell for people: an IRI's label, else its prefixed name; a literal's text on one line."""
    if t is None:
        return ""
    if t.kind == "uri":
        text = labels.get(t.value) or _compact(t.value)
    elif t.kind == "bnode":
        text = f"_:{t.value}"
    else:
        text = t.value
    return " ".join(text.split()) if any(c in text for c in "\n\r\t") else text


def format_table(result: Result, labels: Mapping[str, str]) -> str:
    """An aligned text table with labels instead of IRIs; a row count at the end."""
    if result.boolean is not None:
        return ("yes" if result.boolean else "no") + "\n"
    head = result.variables
    body = [[display(t, labels) for t in row] for row in result.rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]
    n = len(body)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def render(result: Result, fmt: str, engine=None) -> str:
    """The result in one output format (the table looks labels up on the engine)."""
    if fmt == "csv":
        return format_csv(result)
    if fmt == "tsv":
        return format_tsv(result)
    if fmt == "json":
        return format_json(result)
    if fmt == "table":
        return format_table(result, engine.labels(result.iris()) if engine is not None else {})
    raise BadInputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def list_catalogue(queries_dir: Path) -> str:
    """`query --list`: name, title and parameters of every saved query."""
    rows = [(q.name, q.title, ", ".join(p.describe() for p in q.params) or "-")
            for q in catalogue(queries_dir).values()]
    if not rows:
        return f"no saved queries in {queries_dir}\n"
    head = ("name", "title", "params")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]) + "\n"


def run_query(name: str, *, params: Sequence[str] = (), fmt: str = "table", engine: str = "oxigraph",
              timeout: float = DEFAULT_TIMEOUT, root: str | Path | None = None,
              dist: str | Path | None = None, progress: Callable[[str], None] | None = None) -> str:
    """`carnk-graph query NAME`: resolve, build if the sources changed, run, format."""
    from .build import ensure_built
    from .sources import find_project

    paths = find_project(root)
    query = resolve(name, paths.queries)
    check_read_only(query.text, query.path)  # refuse before building or opening anything
    release = ensure_built(root, dist, progress=progress)
    eng = open_engine(engine, release.dist)
    return render(execute(query, eng, params, timeout), fmt, eng)
