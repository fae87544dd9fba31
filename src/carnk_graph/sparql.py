"""SPARQL scanning and the one check that keeps SPARQL read-only and inside the graph.

Every SPARQL text the package runs goes through `check_read_only` (saved and
ad-hoc queries, both engines) or `sparql_refusal` (SHACL shapes' SPARQL, with
the PREFIX lines pySHACL prepends): both read the same tokens with the same
keyword list, so a safety rule has one home.

Why a tokenizer and not an engine's parsed form: pyoxigraph parses and runs in
one call (no algebra to inspect without running), and rdflib's parser costs
half a second of imports on the cold query path. So the scanner follows
SPARQL 1.1's terminals (section 19.8 of the recommendation) character class
by character class: a prefixed name `ex:p·\\#x` is one token, exactly as the
engines read it, and cannot start a comment that hides the rest of the line.
`tests/test_sparql.py` runs it over the W3C SPARQL 1.1 syntax suites and a
property test checks it against rdflib's parser. Text the scanner cannot
read is refused (exit 2): what the check cannot read, it cannot vouch for.

Engines disagree on `\\u` escapes: rdflib expands them in the whole text
before parsing (as the recommendation says), pyoxigraph only inside strings
and IRIs. The check therefore reads the text both ways and refuses what either
reading shows.
"""
from __future__ import annotations

from collections import namedtuple

from .errors import BadInputError, RefusedError
from .limits import MAX_QUERY_CHARS

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    import re
    from pathlib import Path
    from typing import Mapping

#: Deepest nesting of ( [ { read. rdflib's recursive parser overflows near 25 nested parentheses and
#: pyoxigraph's crashes the process (exit 139) near 5,000 brackets; saved queries stay below 10.
MAX_NESTING = 24
#: Most operators that chain into one deep tree (UNION, OPTIONAL, MINUS, || && = != < > <= >= + - * / | ! ^).
#: A flat chain is nesting too: pyoxigraph crashed (exit 139) on 10,000 UNIONs or `+`s, 20,000 `!`s, and rdflib's
#: evaluator overflows its recursion near 800 UNIONs; the saved queries use at most 34.
MAX_OPERATORS = 256
_CHAIN_PUNCT = frozenset({"||", "&&", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "|", "!", "^"})
_CHAIN_WORDS = frozenset({"UNION", "OPTIONAL", "MINUS"})

# -- SPARQL 1.1 terminals (section 19.8) ----------------------------------------------------------------
# Names (prefixed names, variables, blank-node labels) are scanned by the small functions below: one
# regular expression with these Unicode classes costs ~60 ms to compile, on every cold query.

_BASE_RANGES = ((0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2FF), (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D),
                (0x2070, 0x218F), (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD),
                (0x10000, 0xEFFFF))
_LOCAL_ESCAPES = frozenset("_~.-!$&'()*+,;=/?#@%")
_HEX = frozenset("0123456789abcdefABCDEF")


def _is_base(c: str) -> bool:
    """PN_CHARS_BASE."""
    if c < "\x80":
        return ("A" <= c <= "Z") or ("a" <= c <= "z")
    o = ord(c)
    return any(lo <= o <= hi for lo, hi in _BASE_RANGES)


def _is_u(c: str) -> bool:
    """PN_CHARS_U."""
    return c == "_" or _is_base(c)


def _is_extra(c: str) -> bool:
    """What PN_CHARS and VARNAME allow after the first character: digits, U+00B7, combining marks, ties."""
    return ("0" <= c <= "9") or c == "\u00b7" or "\u0300" <= c <= "\u036f" or "\u203f" <= c <= "\u2040"


def _is_chars(c: str) -> bool:
    """PN_CHARS."""
    return c == "-" or _is_extra(c) or _is_u(c)


def _plx(text: str, i: int) -> int:
    """Length of the PLX (%HH, or a local-name escape such as \\#) at i; 0 when there is none."""
    c = text[i]
    if c == "%":
        return 3 if i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX else 0
    if c == "\\":
        return 2 if i + 1 < len(text) and text[i + 1] in _LOCAL_ESCAPES else 0
    return 0


def _dotted(text: str, i: int, inner) -> int:
    """End of a run of `inner` characters and dots from i that does not end in a dot."""
    end = j = i
    n = len(text)
    while j < n and (text[j] == "." or inner(text[j])):
        j += 1
        if text[j - 1] != ".":
            end = j
    return end


def _pname_end(text: str, i: int) -> int:
    """End of the PNAME_NS or PNAME_LN starting at i, or -1 when there is none."""
    n = len(text)
    j = i
    if text[i] != ":":
        if not _is_base(text[i]):
            return -1
        j = _dotted(text, i + 1, _is_chars)
        if j >= n or text[j] != ":":
            return -1
    j += 1  # the colon
    if j >= n:
        return j
    # PN_LOCAL ::= (PN_CHARS_U | ':' | [0-9] | PLX) ((PN_CHARS | '.' | ':' | PLX)* (PN_CHARS | ':' | PLX))?
    c = text[j]
    step = _plx(text, j) or (1 if _is_u(c) or c == ":" or "0" <= c <= "9" else 0)
    if step == 0:
        return j
    end = j = j + step
    while j < n:
        c = text[j]
        step = _plx(text, j) or (1 if c == "." or c == ":" or _is_chars(c) else 0)
        if step == 0:
            break
        j += step
        if c != ".":
            end = j
    return end


def _varname_end(text: str, i: int) -> int:
    """End of the VARNAME starting at i (i itself when there is none)."""
    n = len(text)
    if i >= n or not (_is_u(text[i]) or "0" <= text[i] <= "9"):
        return i
    j = i + 1
    while j < n and (_is_u(text[j]) or _is_extra(text[j])):
        j += 1
    return j


def _bnode_end(text: str, i: int) -> int:
    """End of the BLANK_NODE_LABEL `_:...` starting at i, or -1."""
    j = i + 2
    if j >= len(text) or not (_is_u(text[j]) or "0" <= text[j] <= "9"):
        return -1
    return _dotted(text, j + 1, _is_chars)


_ECHAR = r"""\\[tbnrf"'\\]"""
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_EXPONENT = r"[eE][+-]?[0-9]+"


def _token_pattern(uchar: bool) -> re.Pattern:
    """Every token but names; `uchar` lets \\u escapes stand inside strings and IRIs (pyoxigraph's
    reading of the unexpanded text); without it the text is taken as already expanded (rdflib's)."""
    import re  # here: `surely_read_only`, which a prepared query runs, needs no pattern

    esc = f"{_ECHAR}|{_UCHAR}" if uchar else _ECHAR
    iri_char = r'[^<>"{}|^`\\\x00-\x20]' + (f"|{_UCHAR}" if uchar else "")
    return re.compile(rf"""
          (?P<ws>[\x20\t\r\n]+)
        | (?P<comment>\#[^\r\n]*)
        | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|{esc}))*'''
                     |\"\"\"(?:(?:"|"")?(?:[^"\\]|{esc}))*\"\"\"
                     |'(?:[^'\\\n\r]|{esc})*'
                     |"(?:[^"\\\n\r]|{esc})*")
        | (?P<iri><(?:{iri_char})*>)
        | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
        | (?P<number>[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}|[0-9]*\.[0-9]+|[0-9]+)
        | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
        | (?P<punct>\^\^|&&|\|\||!=|<=|>=|[{{}}()\[\];,.*/|^!=<>+\-?])
    """, re.VERBOSE)


_patterns: dict[bool, re.Pattern] = {}


def _pattern(uchar: bool) -> re.Pattern:
    """The token pattern, compiled on first use (the expanded reading is needed only with \\u escapes)."""
    if uchar not in _patterns:
        _patterns[uchar] = _token_pattern(uchar)
    return _patterns[uchar]


def is_prefix_name(text: str) -> bool:
    """True when `text` is a PN_PREFIX of SPARQL 1.1 (or empty: the default prefix)."""
    return text == "" or (_is_base(text[0]) and _dotted(text, 1, _is_chars) == len(text))


class Token(namedtuple("Token", "kind text offset")):
    """One SPARQL token: its kind (a group name of the scanner), text and offset in the scanned text."""

    __slots__ = ()


def position(text: str, offset: int) -> tuple[int, int]:
    """(line, column), both from 1, of an offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _scan(text: str, uchar: bool, path: Path | str, source: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise BadInputError(f"SPARQL text of {len(text):,} characters is over the limit of "
                            f"{MAX_QUERY_CHARS:,}: refused before parsing", path=path)
    match = _pattern(uchar).match
    found: list[Token] = []
    depth = operators = 0
    at = 0
    end = len(text)
    while at < end:
        c = text[at]
        kind, stop = "", -1
        if c == "?" or c == "$":
            stop = _varname_end(text, at + 1)
            kind, stop = ("var", stop) if stop > at + 1 else ("", -1)
        elif c == "_" and text[at + 1:at + 2] == ":":
            kind, stop = "bnode", _bnode_end(text, at)
        elif c == ":" or _is_base(c):
            kind, stop = "pname", _pname_end(text, at)
        if stop < 0:
            m = match(text, at)
            if m is None:
                line, col = position(source, min(at, len(source)))
                raise BadInputError(f"cannot read the SPARQL text at {text[at:at + 12]!r} (not a SPARQL 1.1 "
                                    "token; the safety check refuses what it cannot read)",
                                    path=path, line=line, column=col)
            kind, stop = m.lastgroup or "punct", m.end()
        if kind != "ws" and kind != "comment":
            t = text[at:stop]
            if kind == "punct":
                if t in "([{":
                    depth += 1
                    if depth > MAX_NESTING:
                        line, col = position(source, min(at, len(source)))
                        raise BadInputError(f"SPARQL nested more than {MAX_NESTING} brackets deep: refused "
                                            "before parsing", path=path, line=line, column=col)
                elif t in ")]}":
                    depth -= 1
            if (kind == "punct" and t in _CHAIN_PUNCT) or (kind == "word" and t.upper() in _CHAIN_WORDS):
                operators += 1
                if operators > MAX_OPERATORS:
                    line, col = position(source, min(at, len(source)))
                    raise BadInputError(f"SPARQL with more than {MAX_OPERATORS} operators (UNION, OPTIONAL, "
                                        "||, +, ...) chained: refused before parsing", path=path, line=line,
                                        column=col)
            found.append(Token(kind, t, at))
        at = stop
    return found


_last_tokens: dict[str, tuple[Token, ...]] = {}  # one entry: running a query asks the same text several questions


def tokens(text: str, path: Path | str = "<query>") -> tuple[Token, ...]:
    """Every token of `text` (no whitespace, no comments), as pyoxigraph reads the unexpanded text.

    Raises BadInputError for text that is not made of SPARQL 1.1 tokens, is too
    long or nests too deep: limits that hold before any parser sees the text.
    """
    found = _last_tokens.get(text)
    if found is None:
        found = tuple(_scan(text, True, path, text))  # a text that cannot be read raises, and is not kept
        _last_tokens.clear()
        _last_tokens[text] = found
    return found


_UNICODE_ESCAPE = r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})"


def expand_escapes(text: str) -> str:
    """Apply \\uXXXX / \\UXXXXXXXX escapes to the whole text, as SPARQL (and rdflib) do before parsing.

    Without this, `\\u0053ERVICE` would pass a check that looks for SERVICE.
    """
    def expand(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)
    import re

    return re.sub(_UNICODE_ESCAPE, expand, text)


# -- the read-only rule ------------------------------------------------------------------------------

#: Keywords that make a request something other than a read-only query of the built graph.
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                          "COPY", "WITH", "USING"})
NETWORK_WORDS = frozenset({"SERVICE"})
DATASET_WORDS = frozenset({"FROM"})
REFUSED_WORDS = UPDATE_WORDS | NETWORK_WORDS | DATASET_WORDS
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def surely_read_only(text: str) -> bool:
    """True when `text` cannot hold a refused keyword however it is read: no backslash (so no escape
    can spell one) and, outside whole-line comments, no refused word between non-word characters.

    A conservative test with no scanner and no pattern, for a text already prepared once (prepared.py):
    False says nothing against the text, only that the full check (`check_read_only`) must read it.
    Whole lines starting with `#` are comments or lie inside a long string (an IRI cannot span lines,
    a name cannot start with `#`), so a keyword there is never one; every other ASCII run of letters
    is compared, upper-cased, whatever stands around it (`SERVICE:x`, `x.FROM` and `éSERVICE` are caught:
    any character that is not an ASCII letter, digit or underscore ends a word).
    """
    if "\\" in text:
        return False
    for line in text.splitlines():
        body = line.lstrip()
        if body.startswith("#"):
            continue
        word = []
        for ch in body + " ":
            if ch in _WORD_CHARS:
                word.append(ch)
            elif word:
                if "".join(word).upper() in REFUSED_WORDS:
                    return False
                word = []
    return True


class Refusal(namedtuple("Refusal", "keyword reason line column")):
    """Why a SPARQL text is refused: the keyword, a sentence, and where (line, column in the text as written)."""

    __slots__ = ()


def _reason(word: str) -> str:
    if word in UPDATE_WORDS:
        return f"{word} is an update: refused (saved and ad-hoc queries are read-only)"
    if word in NETWORK_WORDS:
        return "SERVICE would reach another endpoint over the network: refused"
    return ("FROM / FROM NAMED would load a file or URL as the dataset: refused "
            "(queries run on the built graph; use GRAPH <…> to pick a named graph)")


def _refused_word(tok: Token) -> str | None:
    """The refused keyword a token is, or hides in a prefix: pyoxigraph reads `SERVICE:x { }` as the
    keyword SERVICE and the name `:x`, and `true.SERVICE:x` as `true`, `.` and that again."""
    if tok.kind == "word":
        word = tok.text.upper()
        return word if word in REFUSED_WORDS else None
    if tok.kind == "pname":
        for part in tok.text.split(":", 1)[0].split("."):
            if part.upper() in REFUSED_WORDS:
                return part.upper()
    return None


def find_refusal(text: str, path: Path | str = "<query>") -> Refusal | None:
    """The first construct that would let `text` change data, reach the network or read another
    dataset, read both as written (pyoxigraph) and with \\u escapes expanded (rdflib); else None.

    Raises BadInputError when either reading is not SPARQL 1.1 tokens, too long or too deep.
    """
    expanded = expand_escapes(text)
    # The same text both ways means it holds no \u escape, so the escape alternatives of the
    # pyoxigraph reading can match nowhere: one scan, shared (through `tokens`) with the runner.
    readings = [(text, lambda: tokens(text, path))]
    if expanded != text:
        readings.insert(0, (expanded, lambda: _scan(expanded, False, path, text)))
    unreadable: BadInputError | None = None
    for scanned, scan in readings:
        try:
            toks = scan()
        except BadInputError as e:  # a refusal in the other reading is the better message
            unreadable = unreadable or e
            continue
        for tok in toks:
            word = _refused_word(tok)
            if word:
                line, col = position(scanned, tok.offset)
                return Refusal(word, _reason(word), line, col)
    if unreadable is not None:
        raise unreadable
    return None


_last_passed: list[str] = []  # the last text that passed: the query path checks before building and again before running


def check_read_only(text: str, path: Path | str = "<query>") -> None:
    """Refuse updates, SERVICE and FROM / FROM NAMED (exit 4) before anything is parsed or run;
    refuse text the scanner cannot read (exit 2)."""
    if _last_passed and _last_passed[0] == text:  # the same text again: the same verdict, no second scan
        return
    refusal = find_refusal(text, path)
    if refusal:
        raise RefusedError(refusal.reason, path=path, line=refusal.line, column=refusal.column)
    _last_passed[:] = [text]


def sparql_refusal(text: str) -> str | None:
    """The refused keyword of a shape's SPARQL (the full text pySHACL runs), else None.

    The same rule as `check_read_only`; text the scanner cannot read raises BadInputError.
    """
    refusal = find_refusal(text, "<shape SPARQL>")
    return refusal.keyword if refusal else None
