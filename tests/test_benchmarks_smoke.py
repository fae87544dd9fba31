"""The scale benchmark still runs (CI never runs it at full size; this keeps it from rotting).

A 10k-triple smoke run of benchmarks/run.py on the session build: it must finish and print the
rows the README's figures come from. No timing is asserted: speed is the benchmark's business.
The synthetic generator must keep speaking the project's real vocabulary.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import synth  # noqa: E402


def saved_queries() -> list[str]:
    return sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))


@pytest.fixture(scope="module")
def smoke(built, tmp_path_factory):
    """One quick run at 10k triples, reusing the session build of the shipped graph."""
    work = tmp_path_factory.mktemp("bench")
    readme = work / "README.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--sizes", "10000", "--quick", "--dist", str(built.dist),
         "--work", str(work), "--json", str(work / "figures.json")],
        capture_output=True, text=True, cwd=str(ROOT), timeout=600)
    return proc, work, readme


def test_the_smoke_run_succeeds(smoke):
    proc, _, _ = smoke
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_it_prints_the_cold_query_and_build_rows(smoke):
    out = smoke[0].stdout
    assert "== cold query" in out and "python start-up alone" in out and "import profile" in out
    assert "rebuild, no source change:" in out and "nothing rebuilt" in out


def test_it_prints_the_cold_query_against_a_padded_release(smoke):
    """Issue 15: the cold query's time next to release files of two sizes (same store)."""
    out = smoke[0].stdout
    assert "== cold query vs the size of the other release files ==" in out
    assert len(re.findall(r"^release files +[\d.]+ MB: cold query ", out, re.M)) == 2


def test_it_prints_the_load_time_into_the_embedded_store(smoke):
    assert re.search(r"^load into the embedded store: [\d.]+ (s|ms|µs) \(median of 1\)", smoke[0].stdout, re.M)


@pytest.mark.parametrize("name", saved_queries())
def test_every_saved_query_gets_a_row_with_both_engines(smoke, name):
    row = next((line for line in smoke[0].stdout.splitlines() if line.split()[:1] == [name]), None)
    assert row is not None, f"no row for {name}"
    cells = row.split()
    assert cells[1] != "-" and "error" not in row, row


def test_it_prints_validation_on_the_reference_engine(smoke):
    assert re.search(r"^validate 10k user triples \+ shipped kg, pyshacl: [\d.]+ (s|ms)", smoke[0].stdout, re.M)


def test_the_figures_render_into_a_readme_section(smoke):
    """--write-readme's renderer works on the run's figures (tried on a copy, never the real README)."""
    import json

    import run as bench

    _, work, readme = smoke
    figures = json.loads((work / "figures.json").read_text())
    readme.write_text(f"# Benchmarks\n\nkept text\n\n{bench.START}\nold figures\n{bench.END}\n\nkept tail\n")
    bench.README = readme
    bench.write_readme(figures)
    text = readme.read_text()
    assert "kept text" in text and "kept tail" in text and "old figures" not in text
    assert "### Scale: 10k triples" in text and "| saved query |" in text


# --- the generator --------------------------------------------------------------------------------

def declared_terms() -> set[str]:
    text = (ROOT / "ontology" / "carnk.ttl").read_text(encoding="utf-8")
    return set(re.findall(r"^carnk:(\w+) a ", text, re.M))


@pytest.mark.parametrize("term", synth.TERMS_USED)
def test_the_generator_uses_only_terms_the_ontology_declares(term):
    assert term in declared_terms()


def test_the_generator_writes_at_least_the_triples_asked_for_and_is_deterministic(tmp_path):
    a, b = tmp_path / "a.nq", tmp_path / "b.nq"
    n = synth.write(a, 3000, seed=7)
    synth.write(b, 3000, seed=7)
    assert 3000 <= n < 3200 and a.read_bytes() == b.read_bytes()


def test_the_generator_output_parses_strictly(tmp_path):
    from carnk_graph.sources import parse_graph

    out = tmp_path / "user.ttl"
    synth.write(out, 2000, seed=3)
    assert len(parse_graph(out)) >= 2000
