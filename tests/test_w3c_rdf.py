"""The W3C RDF 1.1 syntax suites through `validate FILE`: valid RDF is accepted, invalid RDF is exit 2.

The suites live outside the project (../shared/w3c/rdf/rdf11/, see its README); the tests skip
where they are absent. Every positive syntax and evaluation test file is accepted, except where
one of the documented rules of README.md ("What validate FILE accepts") applies, and each
such rule is checked to really apply (a rejected file is re-parsed to prove it):

- relative IRIs without a base: a file is read without a base IRI;
- named graphs: a data file is one graph;
- a file with no statements;
- an ill-typed literal ("flargh"^^xsd:integer).

Every negative syntax test file is exit 2 with one line naming the file.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from carnk_graph.cli import main
from carnk_graph.errors import BadInputError, CarnkError
from carnk_graph.shacl import store_from_files

from lanes import few_fast
from spine_helpers import MINIMAL

ROOT = Path(__file__).resolve().parents[1]
#: ../shared/w3c from the project root (a clone beside the team's desk); one level further up for a git worktree.
W3C = next((d for d in (ROOT.parent / "shared" / "w3c" / "rdf" / "rdf11", ROOT.parent.parent / "shared" / "w3c" / "rdf" / "rdf11")
            if d.is_dir()), ROOT.parent / "shared" / "w3c" / "rdf" / "rdf11")
SUITES = ("rdf-n-triples", "rdf-n-quads", "rdf-turtle", "rdf-trig", "rdf-xml")
RDFT = "http://www.w3.org/ns/rdftest#"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

pytestmark = pytest.mark.skipif(not W3C.is_dir(), reason=f"W3C RDF suites not found at {W3C}")


def manifest(suite: str) -> list[tuple[str, Path]]:
    """(test kind, action file) for every test of one suite's manifest."""
    import pyoxigraph as ox

    folder = W3C / suite
    quads = list(ox.parse(path=str(folder / "manifest.ttl"), format=ox.RdfFormat.TURTLE,
                          base_iri=(folder / "manifest.ttl").as_uri()))
    kinds = {q.subject: q.object.value.replace(RDFT, "") for q in quads if q.predicate.value == RDF_TYPE}
    actions = {q.subject: q.object.value for q in quads if q.predicate.value == MF + "action"}
    from urllib.parse import unquote, urlparse
    return sorted((kinds.get(s, ""), Path(unquote(urlparse(a).path))) for s, a in actions.items())


def is_positive(kind: str) -> bool:
    return "Negative" not in kind


def documented_rule(path: Path, message: str) -> str | None:
    """The documented rule a rejection of a valid file falls under, after proving that it applies."""
    import pyoxigraph as ox

    from carnk_graph.sources import _ox_format, format_of

    fmt = _ox_format(format_of(path))
    if "No scheme found" in message or "relative IRI" in message:
        ox.parse(path=str(path), format=fmt, base_iri=path.as_uri())  # parses once a base is given
        return "relative IRI without a base"
    quads = list(ox.parse(path=str(path), format=fmt, base_iri=path.as_uri()))
    if "named graphs are not allowed" in message:
        assert any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads)
        return "named graph"
    if "no RDF statements" in message or "file is empty" in message:
        assert quads == []
        return "no statements"
    if "ill-typed literal" in message:
        return "ill-typed literal"
    return None


@pytest.mark.parametrize("suite", SUITES)
def test_every_valid_file_is_accepted_or_falls_under_a_documented_rule(suite):
    wrong = []
    for kind, path in manifest(suite):
        if not is_positive(kind):
            continue
        try:
            store_from_files([path])
        except CarnkError as e:
            if documented_rule(path, str(e)) is None:
                wrong.append(f"{path.name}: {e}")
    assert wrong == []


@pytest.mark.parametrize("suite", SUITES)
def test_every_invalid_file_is_refused_as_bad_input(suite):
    accepted = []
    for kind, path in manifest(suite):
        if is_positive(kind):
            continue
        try:
            store_from_files([path])
            accepted.append(path.name)
        except BadInputError:
            pass
    assert accepted == []


def test_the_control_character_files_are_read_not_called_binary():
    """Raw NUL and other C0 controls are legal inside Turtle literals (LITERAL1_all_controls.ttl)."""
    store = store_from_files([W3C / "rdf-turtle" / "LITERAL1_all_controls.ttl"])
    (quad,) = list(store)
    assert quad.object.value.startswith("\x00\x01\x02")


# every suite through the command is slow; the fast lane answers the N-Triples suite (the reader tests
# above cover every suite in both lanes)
@pytest.mark.parametrize("suite", few_fast(SUITES, lambda suite: suite == "rdf-n-triples"))
def test_the_command_answers_every_suite_file_with_the_contract(suite):
    """Through `carnk-graph validate FILE --standalone`: exit 0 (or a documented rule) for valid files,
    exit 2 and one line naming the file for invalid ones."""
    wrong = []
    for kind, path in manifest(suite):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["validate", str(path), "--standalone", "--root", str(MINIMAL)])
        line = err.getvalue().strip()
        if is_positive(kind):
            if code != 0 and (code != 2 or documented_rule(path, line) is None):
                wrong.append(f"{path.name}: exit {code}: {line}")
        elif code != 2 or len(line.splitlines()) != 1 or path.name not in line:
            wrong.append(f"{path.name}: exit {code}: {line}")
    assert wrong == []
