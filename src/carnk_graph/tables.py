"""Compile curation tables (ontology/tables/*.tsv) into the knowledge graph's qualified nodes.

Curators check clinical numbers row by row against the paper, so per-study figures are kept in
tables, one TSV per kind of figure and one row per figure, ROBOT-template style: each column names
what it fills (the study, the figure kind, the numbers, the source, the locator), and the build turns
every row into the same qualified node a curator would have written in Turtle.

Three rules make the tables safe to edit:
  * a row's IRI is derived from its identifying cells (table, study, kind, subgroup, time point,
    grades, source, locator), never from its line number: re-ordering rows or columns changes nothing
    in the release, and two rows for the same figure from the same source are caught as a duplicate;
  * every reference (a study, an endpoint, a toxicity, a source) must name something the ontology or
    the Turtle knowledge graph already declares, with the right type;
  * a bad row is ONE error naming file:line:column (column = character position of the cell), exit 2.
Numbers that are well-formed but impossible (8 responders of 5 treated, 120 percent, grade 7) are left
to the SHACL shapes (exit 1), which judge Turtle and tables alike.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import CurationTableError
from .namespaces import CARNK, KG, PREFIXES
from .terms import RDFS_LABEL

if TYPE_CHECKING:
    from rdflib import Graph

RDF_TYPE = PREFIXES["rdf"] + "type"
RDFS_SUBCLASS = PREFIXES["rdfs"] + "subClassOf"
SKOS_NOTE = PREFIXES["skos"] + "note"
#: The provenance property every compiled node carries (the team's local subproperty of dcterms:source).
SOURCE = CARNK + "source"
LOCATOR = CARNK + "locator"

#: Units a time point or a median may be given in, and the individual each compiles to.
TIME_UNITS = {"day": "Day", "days": "Day", "week": "Week", "weeks": "Week",
              "month": "Month", "months": "Month", "year": "Year", "years": "Year"}
#: Dose units a dose level may be given in (kept as the source words them).
DOSE_UNITS = ("cells", "cells/kg")

_INT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+]?[0-9]+)?")
_TIME = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s+([a-z]+)")


@dataclass(frozen=True)
class Column:
    """One column of a curation table: what its cells hold and which property they fill."""

    name: str
    kind: str                 # ref | int | decimal | time | text | dose-unit
    prop: str | None          # property IRI (for time: the value property; unit property in unit_prop)
    required: bool = False
    types: tuple[str, ...] = ()   # for ref: the class (or a superclass) the referenced node must have
    key: bool = True          # part of the row's identity (numbers and notes are not)
    unit_prop: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """One kind of qualified fact: the class its rows become and the columns it accepts."""

    name: str                 # file stem: ontology/tables/<name>.tsv
    rdf_class: str
    slug: str                 # row IRIs are carnkkg:<slug>-<hash>
    noun: str                 # used in generated labels
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _c(local: str) -> str:
    return CARNK + local


_STUDY = Column("study", "ref", _c("study"), True, (_c("ClinicalStudy"),))
_SUBGROUP = Column("subgroup", "text", _c("subgroup"))
_TIME_POINT = Column("time_point", "time", _c("timePointValue"), unit_prop=_c("timePointUnit"))
_NUMERATOR = Column("numerator", "int", _c("numerator"), key=False)
_DENOMINATOR = Column("denominator", "int", _c("denominator"), key=False)
_PERCENTAGE = Column("percentage", "decimal", _c("percentage"), key=False)
_SOURCE = Column("source", "ref", SOURCE, True, (_c("InformationSource"),))
_LOCATOR = Column("locator", "text", LOCATOR, True)
_NOTE = Column("note", "text", SKOS_NOTE, key=False)

SPECS: dict[str, TableSpec] = {s.name: s for s in (
    TableSpec("response-figures", _c("ResponseFigure"), "response", "response", (
        _STUDY, Column("kind", "ref", _c("figureKind"), True, (_c("ClinicalEndpoint"),)),
        _SUBGROUP, _TIME_POINT, _NUMERATOR, _DENOMINATOR, _PERCENTAGE, _SOURCE, _LOCATOR, _NOTE)),
    TableSpec("toxicity-figures", _c("ToxicityAssociation"), "toxicity", "toxicity", (
        _STUDY, Column("therapy", "ref", _c("therapyType"), True, (_c("Immunotherapy"),)),
        Column("toxicity", "ref", _c("toxicity"), True, (_c("Toxicity"),)),
        Column("grade_min", "int", _c("minimumGrade"), True),
        Column("grade_max", "int", _c("maximumGrade"), True),
        _SUBGROUP, Column("affected", "int", _c("patientsAffected"), True, key=False),
        Column("assessed", "int", _c("patientsAssessed"), key=False),
        _PERCENTAGE, _SOURCE, _LOCATOR, _NOTE)),
    TableSpec("survival-figures", _c("SurvivalFigure"), "survival", "survival", (
        _STUDY, Column("kind", "ref", _c("figureKind"), True, (_c("ClinicalEndpoint"),)),
        _SUBGROUP, _TIME_POINT, _PERCENTAGE,
        Column("median", "time", _c("medianValue"), key=False, unit_prop=_c("medianUnit")),
        _SOURCE, _LOCATOR, _NOTE)),
    TableSpec("patient-counts", _c("PatientCountFigure"), "patients", "patients", (
        _STUDY, Column("kind", "ref", _c("figureKind"), True, (_c("PatientCountKind"),)),
        _SUBGROUP, Column("count", "int", _c("patientCount"), True, key=False),
        _SOURCE, _LOCATOR, _NOTE)),
    TableSpec("dose-levels", _c("DoseLevel"), "dose", "dose level", (
        _STUDY, Column("amount", "decimal", _c("doseAmount"), True),
        Column("unit", "dose-unit", _c("doseUnit"), True),
        Column("schedule", "text", _c("doseSchedule")),
        _SOURCE, _LOCATOR, _NOTE)),
)}


@dataclass(frozen=True)
class Cell:
    text: str
    line: int
    column: int   # 1-based character position of the cell in its line


class _Lookup:
    """What the Turtle sources declare: types (with the ontology's subclass closure) and labels."""

    def __init__(self, graphs: Iterable["Graph"]) -> None:
        from rdflib import URIRef

        self.types: dict[str, set[str]] = {}
        self.labels: dict[str, str] = {}
        self.supers: dict[str, set[str]] = {}
        for g in graphs:
            for s, o in g.subject_objects(URIRef(RDF_TYPE)):
                self.types.setdefault(str(s), set()).add(str(o))
            for s, o in g.subject_objects(URIRef(RDFS_LABEL)):
                self.labels.setdefault(str(s), str(o))
            for s, o in g.subject_objects(URIRef(RDFS_SUBCLASS)):
                self.supers.setdefault(str(s), set()).add(str(o))

    def ancestors(self, cls: str) -> set[str]:
        seen, todo = {cls}, [cls]
        while todo:
            for sup in self.supers.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
        return seen

    def is_a(self, iri: str, wanted: tuple[str, ...]) -> bool:
        return any(w in self.ancestors(t) for t in self.types.get(iri, ()) for w in wanted)

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or iri.rsplit("/", 1)[-1]


def _expand(text: str) -> str | None:
    """A CURIE (carnkkg:liu2020) or <IRI> as a full IRI; None when it is neither."""
    if text.startswith("<") and text.endswith(">") and len(text) > 2:
        return text[1:-1]
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and re.fullmatch(r"[\w.\-]+", local):
        return PREFIXES[prefix] + local
    return None


def _read_rows(path: Path) -> tuple[list[Cell], list[list[Cell]]]:
    """The header cells and the data rows of a TSV file; '#' lines and blank lines are skipped."""
    from .limits import max_input_bytes

    try:
        size = path.stat().st_size
        if size > max_input_bytes():
            raise CurationTableError(f"file is over the input cap of {max_input_bytes()} bytes", path=path)
        data = path.read_bytes()
    except OSError as e:
        raise CurationTableError(f"cannot read file: {e.strerror}", path=path) from None
    if b"\0" in data:
        raise CurationTableError("binary data (NUL byte): not a TSV text file", path=path,
                                 line=data[: data.index(b"\0")].count(b"\n") + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CurationTableError("not UTF-8 (save the table as UTF-8)", path=path,
                                 line=data[: e.start].count(b"\n") + 1) from None
    header: list[Cell] | None = None
    rows: list[list[Cell]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells, col = [], 1
        for part in line.split("\t"):
            cells.append(Cell(part.strip(), number, col))
            col += len(part) + 1
        if header is None:
            header = cells
        else:
            rows.append(cells)
    if header is None:
        raise CurationTableError("table is empty: no header row", path=path, line=1)
    return header, rows


def _fail(path: Path, cell: Cell, message: str) -> CurationTableError:
    return CurationTableError(message, path=path, line=cell.line, column=cell.column)


def _number(path: Path, cell: Cell, column: Column) -> str:
    """The cell as a canonical number literal (integers without exponent, decimals plain)."""
    pattern = _INT if column.kind == "int" else _DECIMAL
    if not pattern.fullmatch(cell.text):
        what = "a whole number" if column.kind == "int" else "a number"
        raise _fail(path, cell, f"column '{column.name}': {cell.text!r} is not {what}")
    if column.kind == "int":
        return str(int(cell.text))
    try:
        value = Decimal(cell.text)
    except InvalidOperation:  # the pattern makes this unreachable; kept as a guard
        raise _fail(path, cell, f"column '{column.name}': {cell.text!r} is not a number") from None
    return _decimal_text(value)


def _decimal_text(value: Decimal) -> str:
    """The canonical xsd:decimal form of XSD 1.1 (what Oxigraph writes): no exponent, no trailing
    zeros, no decimal point for a whole number. rdflib keeps a lexical form as given, so writing the
    canonical one makes both query engines print the same number."""
    return format(value.normalize(), "f")


class _Compiler:
    """Turns the rows of one table into triples, checking every cell."""

    def __init__(self, spec: TableSpec, path: Path, lookup: _Lookup) -> None:
        self.spec, self.path, self.lookup = spec, path, lookup

    def header(self, cells: list[Cell]) -> list[Column]:
        columns: list[Column] = []
        for cell in cells:
            column = self.spec.column(cell.text)
            if column is None:
                known = ", ".join(c.name for c in self.spec.columns)
                raise _fail(self.path, cell, f"unknown column {cell.text!r} (this table takes: {known})")
            if column in columns:
                raise _fail(self.path, cell, f"column {cell.text!r} appears twice")
            columns.append(column)
        for column in self.spec.columns:
            if column.required and column not in columns:
                raise _fail(self.path, cells[0], f"required column {column.name!r} is missing from the header")
        return columns

    def row(self, columns: list[Column], cells: list[Cell]) -> tuple[str, dict[str, str], list[tuple]]:
        """(identity key, values by column name, triples without subject) of one row."""
        from rdflib import Literal, URIRef
        from rdflib.namespace import XSD

        if len(cells) != len(columns):
            where = cells[min(len(cells), len(columns)) - 1] if len(cells) > len(columns) else cells[-1]
            raise _fail(self.path, where, f"row has {len(cells)} cells but the header has {len(columns)} columns")
        values: dict[str, str] = {}
        triples: list[tuple] = []
        for column, cell in zip(columns, cells):
            if not cell.text:
                if column.required:
                    raise _fail(self.path, cell, f"column '{column.name}' must not be empty"
                                + (" (every figure names where its source states it)" if column.prop == LOCATOR else ""))
                continue
            if column.kind == "ref":
                iri = _expand(cell.text)
                if iri is None:
                    raise _fail(self.path, cell, f"column '{column.name}': {cell.text!r} is not a CURIE or <IRI>")
                if iri not in self.lookup.types:
                    raise _fail(self.path, cell, f"column '{column.name}': {cell.text} is not declared in the "
                                "ontology or the knowledge graph")
                if not self.lookup.is_a(iri, column.types):
                    wanted = " or ".join(self.lookup.label(t) for t in column.types)
                    raise _fail(self.path, cell, f"column '{column.name}': {cell.text} is not of type {wanted}")
                values[column.name] = iri
                triples.append((URIRef(column.prop), URIRef(iri)))
            elif column.kind in ("int", "decimal"):
                number = _number(self.path, cell, column)
                values[column.name] = number
                triples.append((URIRef(column.prop), _number_literal(number)))
            elif column.kind == "time":
                m = _TIME.fullmatch(cell.text)
                if not m or m.group(2) not in TIME_UNITS:
                    raise _fail(self.path, cell, f"column '{column.name}': {cell.text!r} is not a number and a "
                                "unit (day, week, month or year), e.g. '30 day'")
                amount = _decimal_text(Decimal(m.group(1)))
                values[column.name] = f"{amount} {TIME_UNITS[m.group(2)]}"
                triples.append((URIRef(column.prop), _number_literal(amount)))
                triples.append((URIRef(column.unit_prop), URIRef(CARNK + TIME_UNITS[m.group(2)])))
            elif column.kind == "dose-unit":
                if cell.text not in DOSE_UNITS:
                    raise _fail(self.path, cell, f"column '{column.name}': {cell.text!r} is not one of "
                                + ", ".join(DOSE_UNITS))
                values[column.name] = cell.text
                triples.append((URIRef(column.prop), Literal(cell.text)))
            else:  # text
                values[column.name] = cell.text
                plain = column.prop in (LOCATOR, _c("subgroup"))   # identifiers-like text: xsd:string
                triples.append((URIRef(column.prop), Literal(cell.text) if plain else Literal(cell.text, lang="en")))
        key = "\x1f".join([self.spec.name] + [f"{c.name}={values.get(c.name, '')}"
                                              for c in self.spec.columns if c.key])
        return key, values, triples

    def label(self, values: dict[str, str]) -> str:
        """A readable English label built from the row, e.g. 'CAR2BRAIN: stable disease in 5 of 9 (…)'."""
        lk = self.lookup.label
        parts = [lk(values["study"]) + ":"]
        kind = values.get("kind") or values.get("toxicity")
        if self.spec.name == "dose-levels":
            parts.append(f"dose level {_scientific(values['amount'])} {values['unit']}")
        elif kind:
            parts.append(lk(kind))
        if "grade_min" in values:
            lo, hi = values["grade_min"], values.get("grade_max", "")
            parts.append(f"grade {lo}" if lo == hi else f"grade {lo}-{hi}")
        if values.get("subgroup"):
            parts.append(f"[{values['subgroup']}]")
        if values.get("time_point"):
            parts.append(f"at {_time_words(values['time_point'])}")
        if "affected" in values:
            parts.append(f"{values['affected']} of {values['assessed']}" if "assessed" in values
                         else f"{values['affected']} patients")
        if "numerator" in values and "denominator" in values:
            parts.append(f"{values['numerator']} of {values['denominator']}")
        elif "numerator" in values:
            parts.append(f"{values['numerator']} patients")
        if "percentage" in values:
            parts.append(f"{values['percentage']}%")
        if values.get("median"):
            parts.append(f"median {_time_words(values['median'])}")
        if "count" in values:
            parts.append(values["count"])
        parts.append(f"({lk(values['source'])}, {values['locator']})")
        return " ".join(parts)


def _number_literal(text: str):
    """A whole number as xsd:integer, any other as xsd:decimal. Every engine then prints the same
    term: Oxigraph writes a whole xsd:decimal without its point, rdflib keeps the form given, and
    Virtuoso turns it into an integer on load. An integer is a decimal value, so the properties'
    xsd:decimal ranges hold."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    return Literal(text, datatype=XSD.decimal if "." in text else XSD.integer)


def _scientific(number: str) -> str:
    """A cell count as sources print it: 10000000 as '1 x 10^7', 25000 stays '25000'."""
    value = Decimal(number)
    if value < 100000:
        return number
    mantissa, exponent = f"{value:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa} x 10^{int(exponent)}"


def _time_words(canonical: str) -> str:
    """'30.0 Day' as 'day 30', '1.0 Year' as '1 year', '31.0 Week' as '31 weeks'."""
    amount, unit = canonical.split(" ")
    number = amount
    if unit == "Day":
        return f"day {number}"
    return f"{number} {unit.lower()}" + ("" if number == "1" else "s")


def _derived(spec: TableSpec, values: dict[str, str]) -> list[tuple]:
    """Triples a row implies: a toxicity count of 0 is an explicit negative finding (NotObserved),
    any other count an observation (Observed), as the toxicity-association pattern records them."""
    from rdflib import URIRef

    if spec.name == "toxicity-figures":
        level = "NotObserved" if int(values["affected"]) == 0 else "Observed"
        return [(URIRef(_c("frequencyLevel")), URIRef(_c(level)))]
    return []


def compile_table(path: str | Path, lookup_graphs: Iterable["Graph"], into: "Graph | None" = None) -> "Graph":
    """Compile one curation table into `into` (or a new graph). The table's kind is its file stem."""
    from rdflib import Graph, Literal, URIRef

    p = Path(path)
    spec = SPECS.get(p.stem)
    if spec is None:
        raise CurationTableError(f"unknown curation table {p.name!r} (known: "
                                 + ", ".join(f"{n}.tsv" for n in sorted(SPECS)) + ")", path=p)
    out = into if into is not None else Graph()
    lookup = _Lookup(lookup_graphs)
    compiler = _Compiler(spec, p, lookup)
    header, rows = _read_rows(p)
    columns = compiler.header(header)
    seen: dict[str, int] = {}
    for cells in rows:
        key, values, triples = compiler.row(columns, cells)
        if key in seen:
            raise _fail(p, cells[0], f"duplicate row: the same figure (same study, kind, subgroup, time point, "
                        f"grades, source and locator) as line {seen[key]}")
        seen[key] = cells[0].line
        node = URIRef(f"{KG}{spec.slug}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}")
        out.add((node, URIRef(RDF_TYPE), URIRef(spec.rdf_class)))
        out.add((node, URIRef(RDF_TYPE), URIRef(PREFIXES["owl"] + "NamedIndividual")))  # OWL tools list it (14.4)
        out.add((node, URIRef(RDFS_LABEL), Literal(compiler.label(values), lang="en")))
        for prop, obj in triples + _derived(spec, values):
            out.add((node, prop, obj))
    return out


def table_files(root: str | Path) -> tuple[Path, ...]:
    """The curation tables of a project, in a stable order."""
    return tuple(sorted((Path(root) / "ontology" / "tables").glob("*.tsv")))


def compile_tables(paths: Iterable[Path], lookup_graphs: Iterable["Graph"]) -> "Graph":
    """Every table compiled into one graph; references are checked against `lookup_graphs`."""
    from rdflib import Graph

    graphs = list(lookup_graphs)
    out = Graph()
    for p in paths:
        compile_table(p, graphs, into=out)
    return out
