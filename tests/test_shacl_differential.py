"""The fast SHACL engine (pyshacl-turbo) reports exactly what the reference (pyshacl) reports.

validate.py runs pyshacl-turbo for big data when it is installed (extra `fast`). That is only
allowed because, on the shipped graph and on every shape fixture, both engines give the same
results: same focus node, path, source shape, severity (and message and value). If they ever
disagree, pyshacl is right and the difference is documented in benchmarks/README.md.

Fixtures are validated in one batch per engine (each fixture's example.org nodes moved under a
namespace of their own, as tests/test_shapes.py does), then compared fixture by fixture, so a new
fixture is compared without editing this file.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

pytest.importorskip("pyshacl_turbo", reason="pyshacl-turbo (extra `fast`) is not installed")

from carnk_graph.errors import BadInputError  # noqa: E402
from carnk_graph.project import find_project  # noqa: E402
from carnk_graph.sources import load_sources, parse_graph  # noqa: E402
from carnk_graph.shacl import (  # noqa: E402
    FAST_MIN_TRIPLES, Finding, choose_engine, store_from_files, validate,
)
from lanes import few_fast, representative_shapes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "shapes"
EX = "http://example.org/fixture/"


def fixture_files() -> list[Path]:
    return sorted(f for d in FIXTURES.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))
                  for f in d.glob("*.ttl"))


def fixture_key(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@functools.lru_cache(maxsize=None)
def sources():
    return load_sources(find_project(ROOT))


def moved(path: Path) -> Graph:
    """The fixture with its example.org nodes under EX<dir>/<file>/, so fixtures can share a run."""
    base = f"{EX}{fixture_key(path)}/"

    def move(term):
        return URIRef(base + str(term)[len(EX):]) if isinstance(term, URIRef) and str(term).startswith(EX) else term

    g = Graph()
    for t in parse_graph(path):
        g.add(tuple(move(x) for x in t))
    return g


def owner(finding: Finding) -> str | None:
    """The fixture a finding belongs to (from its focus node), None for anything else."""
    focus = finding.focus.strip("<>")
    return "/".join(focus[len(EX):].split("/")[:2]) if focus.startswith(EX) else None


def fast(path: Path) -> bool:
    """Whether the fixture is one of the fast lane's representatives (tests/lanes.py)."""
    return path.parent.name in representative_shapes()


@functools.lru_cache(maxsize=None)
def batch(engine: str, only_fast: bool = False) -> dict[str | None, Counter]:
    """Findings of every fixture (or of the fast lane's representatives) validated together on one
    engine, grouped by fixture (a multiset)."""
    data = Graph()
    for f in fixture_files():
        if fast(f) or not only_fast:
            data += moved(f)
    src = sources()
    grouped: dict[str | None, Counter] = {}
    for finding in validate(data, src.shapes, src.ontology, engine=engine).findings:
        grouped.setdefault(owner(finding), Counter())[finding] += 1
    return grouped


def test_there_are_fixtures_to_compare():
    assert len(fixture_files()) >= 2


@pytest.mark.parametrize("path", few_fast(fixture_files(), fast, ids=fixture_key))
def test_both_engines_report_the_same_results_for_the_fixture(path):
    key = fixture_key(path)
    assert batch("turbo", fast(path)).get(key, Counter()) == batch("pyshacl", fast(path)).get(key, Counter())


@pytest.mark.parametrize("only_fast", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["fast", "all"])
def test_the_invalid_fixtures_give_the_comparison_something_to_compare(only_fast):
    """Guards the test above against comparing two empty reports."""
    invalid = [f for f in FIXTURES.glob("*/invalid*.ttl") if fast(f) or not only_fast]
    assert invalid and sum(len(c) for c in batch("pyshacl", only_fast).values()) >= len(invalid)


@pytest.mark.parametrize("only_fast", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["fast", "all"])
def test_both_engines_find_nothing_outside_the_fixtures(only_fast):
    assert batch("turbo", only_fast).get(None, Counter()) == batch("pyshacl", only_fast).get(None, Counter())


@pytest.mark.slow  # the whole shipped graph on both engines
def test_both_engines_report_the_same_results_for_the_shipped_graph(release_graphs):
    src = sources()
    data = release_graphs["kg"] + release_graphs["inferred"]
    reference = validate(data, src.shapes, src.ontology, engine="pyshacl")
    fast = validate(data, src.shapes, src.ontology, engine="turbo")
    assert Counter(fast.findings) == Counter(reference.findings)


def big_data_samples() -> list[list[Path]]:
    """Real files for the Store path: the shipped knowledge graph, and each invalid fixture of a
    node shape with SPARQL constraints (the constraints most likely to be evaluated differently)."""
    sparql = sorted(FIXTURES.glob("CARConstructShape/invalid*.ttl"))
    return [list(find_project(ROOT).kg), *([f] for f in sparql)]


@pytest.mark.parametrize("files", few_fast(big_data_samples(), lambda fs: len(fs) == 1,
                                           ids=lambda fs: fs[0].parent.name if len(fs) == 1 else "kg"))
def test_the_big_data_path_reads_files_into_a_store_with_the_same_results(files):
    """store_from_files + turbo (what validating a big user file runs) == parse_graph + pyshacl."""
    src = sources()
    data = Graph()
    for f in files:
        parse_graph(f, into=data)
    reference = validate(data, src.shapes, src.ontology, engine="pyshacl")
    fast = validate(store_from_files(files), src.shapes, src.ontology, engine="turbo")
    assert reference.findings and Counter(fast.findings) == Counter(reference.findings)


def test_the_reference_engine_reads_the_store_path_too():
    """A Store from store_from_files gives pyshacl the same data as parse_graph does."""
    src = sources()
    fixture = sorted(FIXTURES.glob("CARConstructShape/invalid*.ttl"))[0]
    from_graph = validate(parse_graph(fixture), src.shapes, src.ontology, engine="pyshacl")
    from_store = validate(store_from_files([fixture]), src.shapes, src.ontology, engine="pyshacl")
    assert from_graph.findings and from_store.findings == from_graph.findings


_PATH_STEP = re.compile(r"^\^?(\(.*\)|[A-Za-z][\w.-]*:[\w.-]+|<[^<>\s]+>)[*+?]?$")


def test_paths_read_as_steps_never_as_blank_node_labels():
    """Complex paths are rendered from their structure (a / b, a | b, ^a, a*), so both engines
    and every run print the same text."""
    paths = {f.path for c in (*batch("turbo", True).values(), *batch("pyshacl", True).values()) for f in c if f.path}
    steps = {step for p in paths for step in re.split(r" / | \| ", p)}
    assert any(" / " in p for p in paths), "no finding with a sequence path to check"
    assert sorted(s for s in steps if not _PATH_STEP.match(s)) == []


# --- engine choice ------------------------------------------------------------------------------------

def test_auto_keeps_small_data_on_the_reference_engine(monkeypatch):
    monkeypatch.delenv("CARNK_SHACL_ENGINE", raising=False)
    assert choose_engine("auto", range(FAST_MIN_TRIPLES - 1)) == "pyshacl"


def test_auto_sends_big_data_to_the_fast_engine(monkeypatch):
    monkeypatch.delenv("CARNK_SHACL_ENGINE", raising=False)
    assert choose_engine(None, range(FAST_MIN_TRIPLES)) == "turbo"


def test_the_environment_can_force_the_reference_engine(monkeypatch):
    monkeypatch.setenv("CARNK_SHACL_ENGINE", "pyshacl")
    assert choose_engine(None, range(10 * FAST_MIN_TRIPLES)) == "pyshacl"


def test_an_unknown_engine_is_bad_input():
    with pytest.raises(BadInputError, match="unknown SHACL engine"):
        choose_engine("fastest", [])


def test_the_store_path_refuses_an_ill_typed_literal_with_its_line(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix carnk: <https://w3id.org/carnk/> .\n\n'
                   '<urn:x> carnk:patientsEvaluated "eleven"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    with pytest.raises(BadInputError) as err:
        store_from_files([bad])
    assert err.value.line == 3 and "ill-typed" in str(err.value)
