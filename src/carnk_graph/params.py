"""Query parameters: `--param KEY=VALUE` text checked against the header's declarations and turned
into RDF terms. Values are never pasted into SPARQL as text; the engine binds the terms."""
from __future__ import annotations

import re

from .catalogue import Param, SavedQuery
from .errors import BadInputError
from .namespaces import PREFIXES, compact_iri, expand_prefixed
from .results import XSD, Term
from .structure import declared_prefixes

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from typing import Mapping, Sequence

_BAD_IRI_CHARS = re.compile(r'[\s<>"{}|^`\\]')
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
#: Lexical forms of the datatypes a parameter may declare (compiled when a typed parameter is bound).
_LEXICAL_FORMS = {
    XSD + "integer": r"^[+-]?\d+$",
    XSD + "decimal": r"^[+-]?(\d+(\.\d*)?|\.\d+)$",
    XSD + "double": r"^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|NaN)$",
    XSD + "boolean": r"^(true|false|1|0)$",
    XSD + "date": r"^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$",
    XSD + "gYear": r"^-?\d{4,}(Z|[+-]\d{2}:\d{2})?$",
}


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
    full = expand_prefixed(value, dict(prefixes))
    return Term.iri(full) if full is not None else None


def param_term(param: Param, value: str, prefixes: Mapping[str, str]) -> Term:
    """A parameter value as an RDF term: an IRI (<…> or prefixed name) or a literal, per the declaration."""
    what = f"parameter {param.name}"
    if param.kind == "literal":
        return Term.literal(value)
    if param.kind and param.kind != "iri":  # a datatype
        pattern = _LEXICAL_FORMS.get(param.kind)
        if pattern and not re.match(pattern, value):
            raise BadInputError(f"{what}: {value!r} is not a valid {compact_iri(param.kind)}")
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
