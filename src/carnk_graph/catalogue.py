"""The question catalogue: saved `queries/<name>.rq` files and their header language.

A saved query's comment header says what it answers (title, description,
answers, params, returns). This module finds the files, reads the header and
the parameter declarations, and resolves a name (with close matches when it
is unknown). It neither checks nor runs SPARQL (sparql.py, queries.py).
"""
from __future__ import annotations

import os
from collections import namedtuple

from .errors import BadInputError
from .limits import MAX_QUERY_CHARS
from .namespaces import compact_iri, expand_prefixed

HEADER_KEYS = ("title", "description", "answers", "params", "returns")


TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from pathlib import Path


class Param(namedtuple("Param", "name kind default", defaults=(None, None))):
    """A declared query parameter: `name`, optional `kind` ("iri", "literal" or a datatype IRI), default.

    Values here are named tuples, not dataclasses: the cold query path does not import
    `dataclasses` (its `inspect` import costs about 5 ms; see benchmarks/run.py)."""

    __slots__ = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def describe(self) -> str:
        kind = f" ({compact_iri(self.kind)})" if self.kind and self.kind not in ("iri", "literal") else ""
        return f"{self.name}{kind}=" + (self.default if self.default is not None else "<required>")


class SavedQuery(namedtuple("SavedQuery", "name path text header params", defaults=((),))):
    """One .rq file: `name`, `path`, `text`, `header` (field -> text) and its declared `params`."""

    __slots__ = ()

    @property
    def title(self) -> str:
        return self.header.get("title", "")

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(self.header.get("answers", "").split())

    @property
    def returns(self) -> tuple[str, ...]:
        return tuple(v.lstrip("?$") for v in self.header.get("returns", "").split())


# The header's patterns are compiled where a header is read: a cold query on a prepared saved
# query (prepared.py) reads no header and imports no `re` (about 5 ms with its `enum`).
_HEADER_LINE = r"^#\s*([A-Za-z][\w-]*)\s*:\s?(.*)$"
_CONTINUATION = r"^#\s{2,}\S"
_PARAM = r"^(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<kind>[^)]*)\))?\s*(?:=\s*(?P<default>\S+))?$"


def parse_header(text: str, path: Path | str = "<query>") -> dict[str, str]:
    """The `# key: value` lines before the first line of SPARQL; an indented `#` line continues a value."""
    import re

    header: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            key = None
            continue
        if not stripped.startswith("#"):
            break
        m = re.match(_HEADER_LINE, stripped)
        if m and m.group(1).lower() in HEADER_KEYS:
            key = m.group(1).lower()
            if key in header:
                raise BadInputError(f"header field {key!r} given twice", path=path)
            header[key] = m.group(2).strip()
        elif key and re.match(_CONTINUATION, stripped):
            header[key] = (header[key] + " " + stripped.lstrip("#").strip()).strip()
        else:
            key = None
    return header


def parse_params(spec: str, path: Path | str = "<query>") -> tuple[Param, ...]:
    """`therapy = carnk:CARNKCellTherapy, minPatients (xsd:integer) = 5, antigen (iri)` -> Params.

    A parameter without a default is required. `none` (or nothing) declares no parameters.
    """
    import re

    # the header's documented example ends with a remark in parentheses, "(name = default; ...)"
    spec = re.sub(r"\s*\([^()]*=[^()]*\)\s*$", "", spec.strip())
    if not spec or spec.lower() == "none":
        return ()
    params: list[Param] = []
    for part in spec.split(","):
        m = re.match(_PARAM, part.strip())
        if not m:
            raise BadInputError(f"cannot read parameter declaration {part.strip()!r} "
                                "(expected `name = default` or `name (type)`)", path=path)
        kind = (m.group("kind") or "").strip() or None
        if kind and kind not in ("iri", "literal"):
            kind = expand_prefixed(kind)
            if kind is None:
                raise BadInputError(f"parameter {m.group('name')}: unknown type {m.group('kind')!r}", path=path)
        params.append(Param(m.group("name"), kind, m.group("default")))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise BadInputError("a parameter is declared twice", path=path)
    return tuple(params)


def read_query_text(path: str | Path) -> str:
    """A .rq file's text: a regular UTF-8 file no longer than the SPARQL limit, else BadInputError."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BadInputError("query file not found", path=path) from None
    except OSError as e:
        raise BadInputError(f"cannot read query file: {e.strerror}", path=path) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BadInputError("a query file must be a regular file (not a directory, device or pipe)",
                                path=path)
        chunks, total = [], 0
        while total <= 4 * MAX_QUERY_CHARS:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
    except OSError as e:
        raise BadInputError(f"cannot read query file: {e.strerror}", path=path) from None
    finally:
        os.close(fd)
    if len(data) > 4 * MAX_QUERY_CHARS:
        raise BadInputError(f"query file over {4 * MAX_QUERY_CHARS:,} bytes: refused unread", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError("query file is not UTF-8", path=path) from None


def load_query(path: str | Path, name: str | None = None) -> SavedQuery:
    """Read one .rq file (UTF-8) and its header."""
    from pathlib import Path

    path = Path(path)
    text = read_query_text(path)
    header = parse_header(text, path)
    return SavedQuery(name or path.stem, path, text, header, parse_params(header.get("params", ""), path))


def query_files(queries_dir: str | Path) -> list[Path]:
    """The saved-query files of a folder (regular files only; not its checks/ subfolder)."""
    from pathlib import Path

    return [p for p in sorted(Path(queries_dir).glob("*.rq")) if p.is_file()]


def catalogue(queries_dir: Path) -> dict[str, SavedQuery]:
    """Every saved query of a folder, by name."""
    return {p.stem: load_query(p) for p in query_files(queries_dir)}


def looks_like_path(name: str) -> bool:
    """A query named by its file (an ad-hoc .rq) rather than by its name in the catalogue."""
    return name.endswith(".rq") or "/" in name or "\\" in name


def saved_query_file(name: str, queries_dir: str | os.PathLike) -> str:
    """Where the saved query `name` (not a path: see `looks_like_path`) lives in the catalogue folder."""
    return os.path.join(queries_dir, f"{name}.rq")


def resolve(name: str, queries_dir: str | Path) -> SavedQuery:
    """A saved query by name, or an ad-hoc .rq file by path; unknown names list close matches."""
    if looks_like_path(name):
        if not os.path.exists(name):
            from pathlib import Path

            raise BadInputError("query file not found", path=Path(name))
        return load_query(name)
    path = saved_query_file(name, queries_dir)
    if os.path.exists(path):
        return load_query(path, name)
    import difflib

    known = [p.stem for p in query_files(queries_dir)]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    close += [k for k in known if name.lower() in k and k not in close][: 3 - len(close)]
    hint = f"; did you mean: {', '.join(close)}?" if close else "; `carnk-graph query --list` shows the catalogue"
    raise BadInputError(f"unknown query {name!r}{hint}")


def catalogue_result(queries_dir: Path):
    """`query --list` as a result table (name, title, params, description), for --format csv|tsv|json."""
    from .results import Result, Term

    rows = [tuple(Term.literal(v) for v in (q.name, q.title, ", ".join(p.describe() for p in q.params),
                                           " ".join(q.header.get("description", "").split())))
            for q in catalogue(queries_dir).values()]
    return Result(["name", "title", "params", "description"], rows)


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
