"""The SPARQL scanner and the read-only check, as specifications (sparql.py).

The check must see what the engines see. Three kinds of evidence:
- the W3C SPARQL 1.1 syntax suites (at ../shared/w3c/sparql, skipped where absent): every positive
  test is read, the verdict on each query equals what rdflib's parse tree shows (SERVICE, FROM),
  every update is refused, and no negative test gets through the check and pyoxigraph's parser;
- a property test: on generated queries full of names that end in the characters SPARQL allows
  there (·, ‿, combining marks, `\\#`, `\\'`, %23), whatever rdflib's parser reads, the scanner
  reads too, and both agree on SERVICE and FROM;
- the hostile examples of issue 17 and their relatives, unit by unit.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnk_graph import sparql as S
from carnk_graph.errors import BadInputError, RefusedError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: ../shared/w3c beside the project (CI's layout); a worktree one level deeper finds it one level up.
W3C = next((d for d in (PROJECT_ROOT.parent / "shared" / "w3c" / "sparql" / "sparql11",
                        PROJECT_ROOT.parent.parent / "shared" / "w3c" / "sparql" / "sparql11") if d.is_dir()),
           PROJECT_ROOT.parent / "shared" / "w3c" / "sparql" / "sparql11")
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"


def w3c_cases() -> list[tuple[str, Path]]:
    """(test kind, file) of every syntax test of the SPARQL 1.1 suites."""
    if not W3C.is_dir():
        return []
    from rdflib import RDF, Graph, URIRef

    cases = []
    for manifest in sorted(W3C.glob("*/manifest.ttl")):
        g = Graph().parse(manifest, format="turtle")
        for test, kind in g.subject_objects(RDF.type):
            name = str(kind).rsplit("#", 1)[-1]
            if "SyntaxTest" in name:
                action = g.value(test, URIRef(MF + "action"))
                cases.append((name, Path(str(action).removeprefix("file://"))))
    return sorted(cases, key=lambda c: (c[0], str(c[1])))


CASES = w3c_cases()
needs_w3c = pytest.mark.skipif(not CASES, reason=f"W3C SPARQL 1.1 suites not found at {W3C}")


def case_id(case) -> str:
    return f"{case[1].parent.name}/{case[1].name}"


def rdflib_verdict(text: str) -> set[str]:
    """{SERVICE, FROM}: what rdflib's parse tree has of them; raises if unparseable."""
    from rdflib.plugins.sparql.parser import parseQuery

    tree = parseQuery(text)

    def walk(node):
        from rdflib.plugins.sparql.parserutils import CompValue

        if isinstance(node, CompValue):
            yield node.name, node
            for key, value in node.items():
                yield key, value
                yield from walk(value)
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            for item in node:
                yield from walk(item)

    found = set()
    for key, value in walk(tree):
        if key == "ServiceGraphPattern":
            found.add("SERVICE")
        if key == "datasetClause" and value:
            found.add("FROM")
    return found


def agree(text: str, theirs: set[str]) -> bool:
    """The check refuses exactly when rdflib's tree has SERVICE or FROM, naming one of them."""
    ours = our_verdict(text)
    return ours in theirs if theirs else ours is None


def our_verdict(text: str) -> str | None:
    refusal = S.find_refusal(text)
    return refusal.keyword if refusal else None


# -- the W3C SPARQL 1.1 syntax suites ---------------------------------------------------------------

def test_the_suites_are_all_there_when_present():
    if not CASES:
        pytest.skip(f"W3C SPARQL 1.1 suites not found at {W3C}")
    kinds = {k for k, _ in CASES}
    assert kinds == {"PositiveSyntaxTest11", "NegativeSyntaxTest11", "PositiveUpdateSyntaxTest11",
                     "NegativeUpdateSyntaxTest11"}
    assert len(CASES) >= 150


@needs_w3c
@pytest.mark.parametrize("case", [c for c in CASES if c[0] == "PositiveSyntaxTest11"], ids=case_id)
def test_every_positive_query_is_read_and_judged_as_rdflib_parses_it(case):
    text = case[1].read_text(encoding="utf-8")
    assert agree(text, rdflib_verdict(text))


@needs_w3c
@pytest.mark.parametrize("case", [c for c in CASES if c[0] == "PositiveUpdateSyntaxTest11"], ids=case_id)
def test_every_positive_update_is_refused_unless_it_has_no_operation(case):
    """An update request with no operation (only a prologue and comments) changes nothing; it is then
    not a query either, and the engine refuses it as a syntax error."""
    import pyoxigraph as ox

    text = case[1].read_text(encoding="utf-8")
    if our_verdict(text) is None:
        assert not [t for t in S.tokens(text) if t.kind == "word" and t.text.upper() not in ("BASE", "PREFIX")]
        with pytest.raises(SyntaxError):
            ox.Store().query(text)
    else:
        assert our_verdict(text) in S.UPDATE_WORDS


@needs_w3c
@pytest.mark.parametrize("case", [c for c in CASES if c[0].startswith("Negative")], ids=case_id)
def test_no_negative_test_gets_through_the_check_and_the_parser(case):
    import pyoxigraph as ox

    text = case[1].read_text(encoding="utf-8")
    try:
        verdict = our_verdict(text)
    except BadInputError:
        return  # unreadable: refused before any parser
    if verdict is not None:
        return  # refused (exit 4): an update or SERVICE never runs, valid or not
    with pytest.raises(SyntaxError):
        ox.Store().query(text)  # no SERVICE (the check found none), so nothing leaves the machine


# -- a property test against rdflib's parser --------------------------------------------------------

NAME_PIECES = ["a", "Z", "9", "_", "-", "é", "\u00b7", "\u203f", "\u2040", "\u0300", "\\#", "\\'", "\\.",
               "\\~", "%23", ".", ":"]
name = st.lists(st.sampled_from(NAME_PIECES), max_size=6).map(lambda p: ("p" + "".join(p)).rstrip("."))
term = st.one_of(st.just("?o"), name.map(lambda n: "ex:" + n),
                 st.sampled_from(['"a # b"', "'c'", "'''d\n# e'''", '"""f " #"""', "<http://e/x#y>", "1.5",
                                  "true", "'\\''", '"\\u0022 SERVICE"']))
tail = st.sampled_from(["SERVICE <http://127.0.0.1:9/> { ?a ?b ?c }", "SERVICE SILENT ?v { ?a ?b ?c }",
                        "\\u0053ERVICE <http://127.0.0.1:9/> { ?a ?b ?c }", "OPTIONAL { ?a ?b ?c }",
                        "# SERVICE <http://127.0.0.1:9/> { }", "FILTER(?o != 'SERVICE')", ""])
sep = st.sampled_from([" . ", ".", " .\n", "\n. ", " ;  ex:q ?z . "])
dataset = st.sampled_from(["", "FROM <file:///etc/passwd> ", "FROM NAMED <http://e/g> ",
                           "\\u0046ROM <file:///x> "])


@pytest.mark.slow  # 400 generated queries; the W3C queries above are the fast lane's comparison with rdflib
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=term, p=name, o=term, sep=sep, tail=tail, ds=dataset, head=name)
def test_the_check_reads_what_rdflibs_parser_reads(s, p, o, sep, tail, ds, head):
    text = (f"PREFIX ex: <http://e/>\nSELECT (ex:{head} AS ?h) {ds}WHERE {{ {s if s != '?o' else '?s'} "
            f"ex:{p} {o}{sep}{tail} }}")
    try:
        theirs = rdflib_verdict(text)
    except Exception:  # noqa: BLE001 - rdflib cannot read it: the engine refuses it; no claim here
        return
    assert agree(text, theirs), text


# -- the hostile examples of issue 17 and their relatives -------------------------------------------

HIDDEN = ["\u00b7\\#x", "\u203f\\#x", "\u2040\\#x", "\u0300\\#x", "-\\#x", "\u00b7\\#", "\\#\u00b7",
          "\u00b7%23x\\#", "\u00b7\\'", "\u0300\\'x"]


@pytest.mark.parametrize("suffix", HIDDEN)
def test_a_name_never_hides_service_behind_a_comment_or_a_string(suffix):
    text = (f"PREFIX ex: <http://example.org/>\nSELECT * WHERE {{ ?s ex:p{suffix} ?o . "
            "SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }")
    with pytest.raises(RefusedError, match="SERVICE"):
        S.check_read_only(text)


@pytest.mark.parametrize("suffix", HIDDEN)
def test_a_name_never_hides_from_behind_a_comment_or_a_string(suffix):
    text = f"PREFIX ex: <http://example.org/>\nSELECT (ex:p{suffix} AS ?v) FROM <file:///etc/passwd> WHERE {{ }}"
    with pytest.raises(RefusedError, match="FROM"):
        S.check_read_only(text)


SAVED = sorted((PROJECT_ROOT / "queries").glob("*.rq"))


def never_refused(text: str) -> bool:
    try:
        return S.find_refusal(text) is None
    except BadInputError:  # unreadable: refused too, but not for a keyword
        return True


@pytest.mark.parametrize("path", SAVED, ids=lambda p: p.stem)
def test_every_saved_query_is_cleared_by_the_cheap_test(path):
    """The prepared path (prepared.py) skips the scanner only for texts this test clears."""
    assert S.surely_read_only(path.read_text(encoding="utf-8"))


@needs_w3c
def test_the_cheap_test_never_clears_a_text_the_check_refuses():
    """`surely_read_only` may say False of a safe text, never True of a refused one: over every
    W3C syntax test (updates and negative tests included) and every disguise above."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for _, p in CASES]
    cleared = [t for t in texts if S.surely_read_only(t)]
    assert cleared and all(never_refused(t) for t in cleared)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    "PREFIX service: <http://e/> SELECT * WHERE { ?s ?p true.SERVICE:x }",
    'SELECT * WHERE { ?s ?p "\\u0022 SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } #" }',
    "SELECT * WHERE { ?s ?p ?o } # with\nDELETE WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ?p \"\u017fSERVICE\" . SERVICE <x> {} }",
    "select * from <file:///etc/passwd> where { }",
])
def test_the_cheap_test_does_not_clear_a_refused_word_anywhere_outside_a_comment_line(text):
    assert not S.surely_read_only(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["SELECT", "*", "WHERE", "{", "}", "?s", "?p", "?o", "service", "SERVICE", "From",
                                 "#", "\n", "\"", "'", "<x>", "ex:a", "true.", "INSERT", ":", ".", " ", "\\u0053",
                                 "é", "WITH", "withx", "_:b"]), max_size=30))
def test_what_the_cheap_test_clears_the_full_check_never_refuses(parts):
    text = "".join(parts)
    if S.surely_read_only(text):
        assert never_refused(text), text


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT ?endpoint { ?s ?p ?o } }",
    "PREFIX service: <http://e/> SELECT * WHERE { ?s ?p true.SERVICE:x }",
    'SELECT * WHERE { ?s ?p "\\u0022 SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } #" }',
])
def test_service_in_every_disguise_is_refused(text):
    with pytest.raises(RefusedError):
        S.check_read_only(text)


def test_the_refusal_names_line_and_column_in_the_text_as_written():
    with pytest.raises(RefusedError) as e:
        S.check_read_only("PREFIX ex: <http://e/>\nSELECT * WHERE { ?s ex:p\u00b7\\#x ?o .\n  SERVICE <http://x/> {} }",
                          "q.rq")
    assert str(e.value).startswith("q.rq:3:3: SERVICE")


@pytest.mark.parametrize("text, what", [
    ("SELECT * WHERE " + "{ " * 5000 + "}" * 5000, "nested"),
    ("SELECT * WHERE { FILTER(" + "(" * 30 + "1" + ")" * 30 + ") }", "nested"),
    ("SELECT * WHERE { ?s ?p '" + "x" * (S.MAX_QUERY_CHARS + 1) + "' }", "over the limit"),
    ("SELECT * WHERE { ?s ?p ?o } \x00", "cannot read"),
    ("SELECT * WHERE { ?s ?p ?o ` }", "cannot read"),
    ("SELECT * WHERE { ?s ?p 'unterminated }", "cannot read"),
])
def test_what_no_parser_should_see_is_refused_before_any_parser(text, what):
    with pytest.raises(BadInputError, match=what):
        S.check_read_only(text)


def test_nesting_up_to_the_limit_is_read():
    depth = S.MAX_NESTING - 2
    S.check_read_only("SELECT * WHERE {" + " {" * depth + " ?s ?p ?o " + "} " * depth + "}")


@pytest.mark.parametrize("text", [
    "PREFIX ex: <http://example.org/>\nSELECT ?from ?load WHERE { ?from ex:delete ?load }",
    'SELECT ?s WHERE { ?s ?p "INSERT DATA { <a:b> <a:b> <a:b> }" }',
    "SELECT ?s WHERE { ?s ?p <http://example.org/service#FROM> }",
    "PREFIX ex: <http://example.org/>\nSELECT * WHERE { ?s ex:p\u00b7\\#x ?o } # SERVICE <x> in a comment",
    "PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:service.from ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?s<?p&&?o>?s) }",
])
def test_read_only_queries_pass(text):
    S.check_read_only(text)


def test_tokens_follow_the_grammar_for_names():
    toks = S.tokens("PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:p\u00b7\\#x ?o\u00b7 . ex:a. ?b _:c\u00b7d }")
    texts = [t.text for t in toks if t.kind in ("pname", "var", "bnode")]
    assert texts == ["ex:", "?s", "ex:p\u00b7\\#x", "?o\u00b7", "ex:a", "?b", "_:c\u00b7d"]


@pytest.mark.parametrize("chain", [" UNION ".join(["{ ?s ?p ?o }"] * (S.MAX_OPERATORS + 1)),
                                   "?s ?p ?o FILTER(" + " || ".join(["?o = 1"] * (S.MAX_OPERATORS + 1)) + ")",
                                   "?s ?p ?o " + " ".join(["OPTIONAL { ?s ?q ?r }"] * (S.MAX_OPERATORS + 1))])
def test_a_chain_of_operators_longer_than_the_cap_is_refused_before_any_parser(chain):
    with pytest.raises(BadInputError, match="operators"):
        S.check_read_only("SELECT * WHERE { " + chain + " }")


def test_a_chain_up_to_the_cap_is_read():
    S.check_read_only("SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * S.MAX_OPERATORS) + " }")
