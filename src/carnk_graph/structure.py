"""Reading a query's structure from its tokens: its form, whether it orders its rows, its PREFIX
declarations, the variables it projects, and where a VALUES block for its parameters goes.

Apart from sparql.py (the scanner and the one read-only rule) because nothing here decides what
may run: these readers serve the runner (ORDER BY), parameters (prefixes, VALUES) and `--print`.
"""
from __future__ import annotations

from .errors import BadInputError
from .sparql import tokens

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Mapping

    from .sparql import Token

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def _is(tok: Token, word: str) -> bool:
    return tok.kind == "word" and tok.text.upper() == word


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of those keywords ("" when none)."""
    for tok in tokens(text):
        if tok.kind == "word" and tok.text.upper() in QUERY_FORMS:
            return tok.text.upper()
    return ""


def has_order_by(text: str) -> bool:
    """True when the outermost query orders its rows (an ORDER after the last closing brace)."""
    toks = tokens(text)
    last_brace = max((i for i, t in enumerate(toks) if t.text == "}" and t.kind == "punct"), default=-1)
    return any(_is(t, "ORDER") for t in toks[last_brace + 1:])


def declared_prefixes(text: str) -> dict[str, str]:
    """PREFIX declarations of the query itself."""
    toks = tokens(text)
    out: dict[str, str] = {}
    for i, tok in enumerate(toks[:-2]):
        if _is(tok, "PREFIX") and toks[i + 1].kind == "pname" and toks[i + 2].kind == "iri":
            name = toks[i + 1].text
            if name.endswith(":"):
                out[name[:-1]] = toks[i + 2].text[1:-1]
    return out


def projected_variables(text: str) -> list[str] | None:
    """The variables a SELECT projects, in order (None for SELECT *, ASK and the other forms)."""
    toks = tokens(text)
    start = next((i for i, t in enumerate(toks) if _is(t, "SELECT")), None)
    if start is None:
        return None
    out: list[str] = []
    depth = 0
    for i in range(start + 1, len(toks)):
        tok = toks[i]
        if tok.text == "*" and depth == 0:
            return None
        if depth == 0 and (tok.text == "{" or _is(tok, "WHERE") or _is(tok, "FROM")):
            break
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.kind == "var" and (depth == 0 or _is(toks[i - 1], "AS")):
            out.append(tok.text[1:])
    return out


def values_insertion_point(text: str) -> int:
    """Offset just after the `{` that opens the outermost WHERE group (where a VALUES block goes);
    a CONSTRUCT template (triples only, no braces inside) is skipped."""
    depth = 0
    seen_form = in_template = False
    previous: Token | None = None
    for tok in tokens(text):
        if in_template:
            in_template = tok.text != "}"
        elif tok.kind == "word" and tok.text.upper() in QUERY_FORMS:
            seen_form = True
        elif tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.text == "{" and seen_form and depth == 0:
            if previous is None or not _is(previous, "CONSTRUCT"):
                return tok.offset + 1
            in_template = True
        previous = tok
    raise BadInputError("cannot bind parameters: the query has no WHERE group")


def with_values(text: str, rendered: Mapping[str, str]) -> tuple[str, int, int]:
    """The query with `VALUES (?a ?b) { (t1 t2) }` opening its WHERE group, and where it went
    (offset and length, so a syntax error's column can be mapped back to the text as written).

    `rendered` maps variable names to terms already in N-Triples form, produced
    by the engine's own RDF library from validated terms: the value never
    touches the query as raw text. A block at the start of the group (not a
    trailing VALUES clause) lets pyoxigraph use the binding while joining: it
    does not push a trailing VALUES into the pattern. (pyoxigraph's own
    `substitutions=` would need every parameter in the SELECT clause.)
    A parameter must therefore be used in the query's pattern; to compare it in
    HAVING, also GROUP BY it. The block has no line break, so line numbers stay.
    """
    if not rendered:
        return text, len(text), 0
    import re

    names = list(rendered)
    for n in names:
        if not re.fullmatch(r"[A-Za-z_]\w*", n):
            raise BadInputError(f"invalid parameter name {n!r}")
    block = (" VALUES (" + " ".join("?" + n for n in names) + ") { ("
             + " ".join(rendered[n] for n in names) + ") } ")
    at = values_insertion_point(text)
    return text[:at] + block + text[at:], at, len(block)
