"""Prepared saved queries (prepared.py) and the cold path's own CSV writer, as specifications.

A record may only ever stand for the text, the rules and the parameters it was made with: any
other text, an unreadable record or a change to the checking modules means the query is prepared
(and checked) the full way again.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carnk_graph import api
from carnk_graph import prepared as P
from carnk_graph.catalogue import load_query
from carnk_graph.errors import RefusedError
from carnk_graph.formats import csv_row
from carnk_graph.queries import prepare

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEXT = ('# title: cells\n# params: cell = carnkkg:car-nk-cell, label (literal) = café\n'
        'SELECT ?cell ?label WHERE { ?cell rdfs:label ?label }\nORDER BY ?cell\n')


@pytest.fixture
def saved(tmp_path):
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "cells.rq").write_text(TEXT, encoding="utf-8")
    return load_query(folder / "cells.rq", "cells")


@pytest.fixture
def dist(tmp_path):
    return str(tmp_path / "dist")


def kept(saved, dist):
    P.save(dist, prepare(saved))
    return P.load("cells", str(saved.path), dist)


def test_a_record_gives_back_what_was_prepared(saved, dist):
    ready = prepare(saved)
    back = kept(saved, dist)
    assert back is not None
    assert back.query.text == saved.text and back.query.header == saved.header
    assert back.query.params == saved.params
    assert back.bindings == ready.bindings and back.ordered is True
    assert back.bound[0].count("VALUES") == 1


def test_a_record_does_not_serve_an_edited_text(saved, dist):
    kept(saved, dist)
    Path(saved.path).write_text(TEXT.replace("?label }", "?label . }"), encoding="utf-8")
    assert P.load("cells", str(saved.path), dist) is None


def test_a_record_does_not_serve_another_file_or_name(saved, dist, tmp_path):
    kept(saved, dist)
    other = tmp_path / "other.rq"
    other.write_text(TEXT, encoding="utf-8")
    assert P.load("cells", str(other), dist) is None


def test_a_record_made_under_other_rules_is_stale(saved, dist, monkeypatch):
    kept(saved, dist)
    monkeypatch.setattr(P, "_stamp", lambda: "0.0.0 sparql.py:1:1")
    assert P.load("cells", str(saved.path), dist) is None


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],                 # cut short
    lambda data: data.replace("text ", "text 9", 1),     # a length that does not match
    lambda data: "garbage\n" + data,                     # not a record
    lambda data: data.replace("carnk-graph prepared query", "something else query", 1),
    lambda data: "\udcff".join([data[:10], data[10:]]),  # not UTF-8 once written
], ids=["truncated", "bad-length", "garbage", "wrong-magic", "not-utf8"])
def test_a_damaged_record_is_ignored(saved, dist, damage):
    kept(saved, dist)
    record = Path(dist) / P.FOLDER / "cells"
    data = record.read_bytes().decode("utf-8")
    record.write_bytes(damage(data).encode("utf-8", "surrogateescape"))
    assert P.load("cells", str(saved.path), dist) is None


def test_a_forged_record_cannot_vouch_for_a_refused_text(saved, dist):
    """Even a record whose text matches the file (written by someone else) is not trusted alone."""
    refused = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }\n"
    kept(saved, dist)
    record = Path(dist) / P.FOLDER / "cells"
    data = record.read_bytes().decode("utf-8")
    record.write_bytes(data.replace(f"text {len(TEXT)}\n{TEXT}", f"text {len(refused)}\n{refused}").encode("utf-8"))
    Path(saved.path).write_text(refused, encoding="utf-8")
    assert P.load("cells", str(saved.path), dist) is None


def test_a_query_file_gone_means_no_record_and_the_full_way_explains(saved, dist):
    kept(saved, dist)
    os.unlink(saved.path)
    assert P.load("cells", str(saved.path), dist) is None


def test_an_unwritable_dist_leaves_no_record_and_no_error(saved, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would go", encoding="utf-8")
    P.save(str(blocked), prepare(saved))
    assert blocked.read_text(encoding="utf-8") == "a file where the folder would go"


def test_an_update_put_in_place_of_a_prepared_query_is_refused(tmp_path):
    """The end-to-end promise: the cold path's record of a safe text never vouches for a new one."""
    dist = tmp_path / "dist"
    queries = tmp_path / "queries"
    queries.mkdir()
    rq = queries / "q.rq"
    rq.write_text("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    P.save(str(dist), prepare(load_query(rq, "q")))
    rq.write_text("DELETE WHERE { ?s ?p ?o }\n", encoding="utf-8")
    assert P.load("q", str(rq), str(dist)) is None
    with pytest.raises(RefusedError):
        prepare(load_query(rq, "q"))


def test_a_saved_query_run_with_its_defaults_is_kept_and_answers_the_same(built):
    first = api.answer("study-outcomes-by-source", root=PROJECT_ROOT, dist=built.dist)
    assert (Path(built.dist) / P.FOLDER / "study-outcomes-by-source").is_file()
    again = api.answer("study-outcomes-by-source", root=PROJECT_ROOT, dist=built.dist)
    assert again.result == first.result and first.result.rows


def test_a_run_with_parameters_writes_no_record(built):
    record = Path(built.dist) / P.FOLDER / "construct-domains-in-order"
    if record.exists():
        record.unlink()
    api.answer("construct-domains-in-order", ["construct=carnkkg:typical-car-construct"], root=PROJECT_ROOT,
               dist=built.dist)
    assert not record.exists()


# -- the CSV writer of the cold path -----------------------------------------------------------------

def reference_csv(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


@pytest.mark.parametrize("cells", [[], [""], ["", ""], ["a,b"], ['say "hi"'], ["line\nbreak"], ["cr\r"],
                                   [" lead", "trail "], ["é", "\t"]])
def test_csv_rows_are_written_as_the_csv_module_writes_them(cells):
    assert csv_row(cells) == reference_csv(cells)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list('ab ,"\r\n\t;\'é')), max_size=6), max_size=4))
def test_csv_rows_match_the_csv_module_for_any_cells(cells):
    assert csv_row(cells) == reference_csv(cells)
