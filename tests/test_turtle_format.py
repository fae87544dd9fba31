"""Turtle sources are machine-formatted the same way on every save (tools/format_turtle.py).

A diff of a source file then shows only what really changed. Every hand-edited Turtle file of the
project is checked, so a new file is covered without editing a list.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from spine_helpers import same_graph

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    [*ROOT.glob("ontology/**/*.ttl"), *ROOT.glob("shapes/*.ttl")], key=lambda p: p.as_posix()
)


def _formatter():
    spec = importlib.util.spec_from_file_location("format_turtle", ROOT / "tools" / "format_turtle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["format_turtle"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


fmt = _formatter()


def _ids(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", SOURCES, ids=_ids)
def test_the_source_file_is_formatted(path):
    text = path.read_text(encoding="utf-8")
    assert fmt.format_text(text) == text, f"run: python tools/format_turtle.py {_ids(path)}"


@pytest.mark.parametrize("path", SOURCES, ids=_ids)
def test_formatting_keeps_the_graph_and_is_idempotent(path):
    text = path.read_text(encoding="utf-8")
    once = fmt.format_text(text)
    assert fmt.format_text(once) == once
    assert same_graph(Graph().parse(data=text, format="turtle"), Graph().parse(data=once, format="turtle"))


PREFIXES = "@prefix ex: <https://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"


def test_comments_and_their_places_are_kept():
    text = PREFIXES + "\n# a section\n\n# about b\nex:b ex:p ex:o .\n"
    assert fmt.format_text(text) == (
        "@prefix ex:  <https://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "\n# a section\n\n# about b\nex:b ex:p ex:o .\n"
    )


def test_predicates_and_objects_come_in_one_order_whatever_the_input_order():
    a = PREFIXES + 'ex:s ex:z ex:b , ex:a ; ex:y 1 ; a ex:C ; <http://www.w3.org/2000/01/rdf-schema#label> "s" .\n'
    b = PREFIXES + 'ex:s a ex:C ; ex:y 1 ; ex:z ex:a , ex:b ; <http://www.w3.org/2000/01/rdf-schema#label> "s" .\n'
    assert fmt.format_text(a) == fmt.format_text(b)
    statement = fmt.format_text(a).split("\n\n")[-1]
    assert statement.startswith("ex:s a ex:C ;\n    <http://www.w3.org/2000/01/rdf-schema#label> \"s\" ;")


def test_literals_keep_their_exact_lexical_form():
    text = PREFIXES + 'ex:s ex:p "007"^^xsd:integer , 7 , "1.50"^^xsd:decimal , "x\\ny" , "1e0"^^xsd:double .\n'
    out = fmt.format_text(text)
    assert "007" in out and "1.50" in out and '"""x\ny"""' in out and '"1e0"^^xsd:double' in out
    assert isomorphic(Graph().parse(data=text, format="turtle"), Graph().parse(data=out, format="turtle"))


def test_lists_and_blank_nodes_are_written_inline():
    text = PREFIXES + "ex:s ex:p ( ex:a [ ex:q ex:b ] ) .\n"
    assert fmt.format_text(text).endswith("ex:s ex:p ( ex:a [ ex:q ex:b ] ) .\n")


def test_a_comment_inside_a_statement_is_refused_rather_than_lost():
    with pytest.raises(fmt.FormatError, match="line 3"):
        fmt.format_text(PREFIXES + "ex:s ex:p ex:o ; # why\n ex:q ex:r .\n")


def test_check_mode_lists_an_unformatted_file_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "x.ttl"
    path.write_text(PREFIXES + "ex:s    ex:p ex:o.\n", encoding="utf-8")
    before = path.read_bytes()
    assert fmt.main(["--check", str(path)]) == 1
    assert path.read_bytes() == before
    assert "not formatted" in capsys.readouterr().out
    assert fmt.main([str(path)]) == 0
    assert fmt.main(["--check", str(path)]) == 0
