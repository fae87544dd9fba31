#!/usr/bin/env python3
"""Write the project's hand-edited Turtle in one canonical layout, so diffs show only real changes.

ROBOT and QUDT get the same effect by re-serialising whole files, which throws away the comments that
make our sources readable. This formatter keeps every comment line where it stands and re-writes each
statement (everything up to its closing ``.``) on its own, from the triples it holds:

* the prefix block: one ``@prefix`` per line, names padded to one column;
* a statement: subject on the first line; ``a`` first, then ``rdfs:label``, ``skos:prefLabel``,
  ``skos:altLabel``, ``skos:definition``, ``rdfs:comment``, then every other predicate in
  prefixed-name order, each on its own line indented by four spaces; objects of one predicate sorted
  and joined by `` , `` (one per line when they do not fit in 100 columns);
* blank nodes used once are written inline ``[ ... ]`` and RDF lists as ``( ... )``, on one line when
  they fit, otherwise one entry per line;
* literals keep their exact lexical form; integers, decimals and booleans whose lexical form Turtle
  can write bare are written bare; a string with a line break is written in triple quotes;
* exactly one blank line between statements, none at the end of the file.

Formatting never changes the graph (the tests compare both graphs for every source file) and is
idempotent. ``python tools/format_turtle.py FILE ...`` rewrites files in place (temp file + rename);
``--check`` only lists the files that are not formatted and exits 1 if there is any.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

WIDTH = 100
INDENT = "    "
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
HEAD_PREDICATES = [
    RDF + "type",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "http://www.w3.org/2004/02/skos/core#definition",
    "http://www.w3.org/2000/01/rdf-schema#comment",
]
_DIRECTIVE_RE = re.compile(r"^(@prefix|@base|(?i:prefix|base))\s")
_PREFIX_RE = re.compile(r"@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*\.\s*$")
# Local names we write without escapes: a conservative subset of PN_LOCAL (no escapes, no '%').
_PLAIN_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?$")
_BARE = {
    XSD + "integer": re.compile(r"^[+-]?[0-9]+$"),
    XSD + "decimal": re.compile(r"^[+-]?[0-9]*\.[0-9]+$"),
    XSD + "boolean": re.compile(r"^(true|false)$"),
}


class FormatError(Exception):
    """The file cannot be formatted (it is not Turtle this formatter writes back faithfully)."""


@dataclass
class _Chunk:
    kind: str  # "comment", "blank", "prefix", "statement"
    text: str
    line: int


def _split(text: str) -> list[_Chunk]:
    """Cut a Turtle file into comment lines, blank lines, prefix lines and statements."""
    chunks: list[_Chunk] = []
    i, n, line = 0, len(text), 1
    while i < n:
        eol = text.find("\n", i)
        eol = n if eol < 0 else eol
        stripped = text[i:eol].strip()
        if not stripped:
            chunks.append(_Chunk("blank", "", line))
            i, line = eol + 1, line + 1
            continue
        if stripped.startswith("#"):
            chunks.append(_Chunk("comment", text[i:eol].rstrip(), line))
            i, line = eol + 1, line + 1
            continue
        if _DIRECTIVE_RE.match(stripped):
            if not stripped.startswith("@prefix"):
                raise FormatError(f"line {line}: only '@prefix' directives are written back")
            chunks.append(_Chunk("prefix", stripped, line))
            i, line = eol + 1, line + 1
            continue
        end = _statement_end(text, i, line)
        chunks.append(_Chunk("statement", text[i:end], line))
        line += text.count("\n", i, end)
        i = end
        # the rest of the line after the '.' must be blank or a comment
        eol = text.find("\n", i)
        eol = n if eol < 0 else eol
        rest = text[i:eol].strip()
        if rest and not rest.startswith("#"):
            raise FormatError(f"line {line}: one statement per line start, please ('{rest[:30]}')")
        if rest:
            raise FormatError(f"line {line}: a comment after a statement's '.' would move; put it on its own line")
        i = eol + 1 if eol < n else n
        line += 1 if eol < n else 0
    return chunks


def _statement_end(text: str, i: int, line: int) -> int:
    """Index just past the '.' that closes the statement starting at i (strings, IRIs, comments skipped)."""
    n, depth = len(text), 0
    while i < n:
        c = text[i]
        if c in "\"'":
            q3 = text[i:i + 3]
            if q3 in ('"""', "'''"):
                j = i + 3
                while j < n and text[j:j + 3] != q3:
                    j += 2 if text[j] == "\\" else 1
                i = j + 3
                continue
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\n":
                    raise FormatError(f"near line {line}: unterminated string")
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "<":
            j = text.find(">", i)
            if j < 0:
                raise FormatError(f"near line {line}: unterminated IRI")
            i = j + 1
            continue
        if c == "#":
            raise FormatError(f"near line {line}: a comment inside a statement would be lost; move it above")
        if c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "." and depth == 0 and (i + 1 == n or text[i + 1].isspace() or text[i + 1] == "#"):
            return i + 1
        i += 1
    raise FormatError(f"near line {line}: statement without a closing '.'")


class _Writer:
    """Renders the triples of one statement with the file's prefixes."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        # longest namespace first, so the most specific prefix wins
        self.prefixes = sorted(prefixes.items(), key=lambda kv: (-len(kv[1]), kv[0]))

    def iri(self, value: str) -> str:
        if value == RDF + "type":
            return "a"
        for name, ns in self.prefixes:
            if value.startswith(ns):
                local = value[len(ns):]
                if local == "" or _PLAIN_LOCAL.match(local):
                    return f"{name}:{local}"
        return f"<{value}>"

    def literal(self, lit: ox.Literal) -> str:
        value, dt = lit.value, lit.datatype.value
        if lit.language:
            return f"{_quote(value)}@{lit.language}"
        if dt in _BARE and _BARE[dt].match(value):
            return value
        if dt == XSD + "string":
            return _quote(value)
        return f"{_quote(value)}^^{self.iri(dt)}"


def _quote(value: str) -> str:
    if "\n" in value:
        body = value.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if body.endswith('"'):
            body = body[:-1] + '\\"'
        return f'"""{body}"""'
    body = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{body}"'


def _format_statement(chunk: _Chunk, prefix_text: str, writer: _Writer) -> str:
    try:
        triples = [q.triple for q in ox.parse(prefix_text + chunk.text, format=ox.RdfFormat.TURTLE)]
    except SyntaxError as exc:
        raise FormatError(f"line {chunk.line}: {exc}") from None
    by_subject: dict[object, list[ox.Triple]] = {}
    as_object: dict[ox.BlankNode, int] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
        if isinstance(t.object, ox.BlankNode):
            as_object[t.object] = as_object.get(t.object, 0) + 1
    roots = [s for s in by_subject if not (isinstance(s, ox.BlankNode) and as_object.get(s))]
    if len(roots) != 1 or any(count > 1 for count in as_object.values()):
        raise FormatError(f"line {chunk.line}: a statement must describe one subject, blank nodes used once")
    root = roots[0]
    used: set[object] = set()

    def lst(node: ox.BlankNode) -> list[object] | None:
        """The members of an RDF list starting at node, if node is a well-formed list head."""
        items, seen = [], set()
        while node != ox.NamedNode(RDF + "nil"):
            if not isinstance(node, ox.BlankNode) or node in seen:
                return None
            seen.add(node)
            props = {t.predicate.value: t.object for t in by_subject.get(node, [])}
            if set(props) != {RDF + "first", RDF + "rest"} or len(by_subject[node]) != 2:
                return None
            if as_object.get(node, 0) != 1:
                return None
            items.append(props[RDF + "first"])
            node = props[RDF + "rest"]
        return items

    def obj(term: object, depth: int) -> str:
        if isinstance(term, ox.NamedNode):
            return writer.iri(term.value)
        if isinstance(term, ox.Literal):
            return writer.literal(term)
        if isinstance(term, ox.BlankNode):
            if term in used:
                raise FormatError(f"line {chunk.line}: blank node cycle")
            used.add(term)
            members = lst(term)
            if members is not None:
                cells = [obj(m, depth + 1) for m in members]
                flat = "( " + " ".join(cells) + " )"
                if "\n" not in flat and len(INDENT * depth) + len(flat) <= WIDTH:
                    return flat
                inner = INDENT * (depth + 1)
                return "(\n" + "".join(f"{inner}{c}\n" for c in cells) + INDENT * depth + ")"
            body = po_list(term, depth + 1)
            flat = "[ " + " ; ".join(body) + " ]"
            if "\n" not in flat and len(INDENT * depth) + len(flat) <= WIDTH:
                return flat
            inner = INDENT * (depth + 1)
            return "[\n" + " ;\n".join(inner + b for b in body) + "\n" + INDENT * depth + "]"
        raise FormatError(f"line {chunk.line}: unsupported term {term!r}")

    def po_list(subject: object, depth: int) -> list[str]:
        groups: dict[str, list[object]] = {}
        for t in by_subject.get(subject, []):
            groups.setdefault(t.predicate.value, []).append(t.object)
        order = sorted(groups, key=lambda p: (HEAD_PREDICATES.index(p) if p in HEAD_PREDICATES
                                              else len(HEAD_PREDICATES), writer.iri(p)))
        lines = []
        for p in order:
            name = writer.iri(p)
            rendered = sorted(obj(o, depth) for o in groups[p])
            one = f"{name} " + " , ".join(rendered)
            if "\n" not in one and len(INDENT * depth) + len(one) <= WIDTH:
                lines.append(one)
            elif len(rendered) == 1:
                lines.append(one)
            else:
                sep = " ,\n" + INDENT * (depth + 1)
                lines.append(f"{name}\n" + INDENT * (depth + 1) + sep.join(rendered))
        return lines

    if isinstance(root, ox.BlankNode):
        head = "[]"
    else:
        head = writer.iri(root.value)
    body = po_list(root, 1)
    if not body:
        raise FormatError(f"line {chunk.line}: empty statement")
    out = head + " " + body[0]
    if len(body) > 1:
        out += " ;\n" + " ;\n".join(INDENT + b for b in body[1:])
    return out + " ."


def format_text(text: str) -> str:
    """The canonical layout of a Turtle document (FormatError if it cannot be written back)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    chunks = _split(text)
    prefixes: dict[str, str] = {}
    for c in chunks:
        if c.kind == "prefix":
            m = _PREFIX_RE.match(c.text)
            if not m:
                raise FormatError(f"line {c.line}: cannot read prefix directive")
            prefixes[m.group(1) or ""] = m.group(2)
    prefix_text = "".join(f"@prefix {k}: <{v}> .\n" for k, v in prefixes.items())
    writer = _Writer(prefixes)
    width = max((len(k) for k in prefixes), default=0) + 1
    out: list[str] = []
    for c in chunks:
        if c.kind == "blank":
            if out and out[-1] != "":
                out.append("")
            continue
        if c.kind == "comment":
            out.append(c.text)
        elif c.kind == "prefix":
            m = _PREFIX_RE.match(c.text)
            out.append(f"@prefix {(m.group(1) or '') + ':':<{width}} <{m.group(2)}> .")
        else:
            if out and out[-1] != "" and not out[-1].lstrip().startswith("#"):
                out.append("")  # one blank line between statements
            out.append(_format_statement(c, prefix_text, writer))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="Turtle files to format")
    parser.add_argument("--check", action="store_true", help="list unformatted files, change nothing")
    args = parser.parse_args(argv)
    unformatted = 0
    for path in args.files:
        original = path.read_text(encoding="utf-8")
        try:
            formatted = format_text(original)
        except FormatError as exc:
            print(f"{path}:{exc}", file=sys.stderr)
            return 2
        if formatted != original:
            unformatted += 1
            if args.check:
                print(f"{path}: not formatted (run: python tools/format_turtle.py {path})")
            else:
                _write_atomically(path, formatted)
                print(f"formatted {path}")
    return 1 if args.check and unformatted else 0


if __name__ == "__main__":
    sys.exit(main())
