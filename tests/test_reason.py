"""The reason stage: what HermiT (or OWL 2 RL without Java) concludes, and how it fails.

Small self-contained projects under tests/data/reasoning/ are copied into a temp
folder and built through `main([...])`; a case folder is an overlay on the base
project (a file at an existing path is appended to it, a new file is added).
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef

from carnk_graph.cli import main
from carnk_graph.errors import BadInputError, ReasonerError
from carnk_graph.hermit import find_java, to_ntriples
from carnk_graph.namespaces import PREFIXES
from carnk_graph.reason import reason, reasoner_input
from carnk_graph.release import read_release_graphs
from carnk_graph.project import find_project
from carnk_graph.sources import load_sources

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "reasoning"
BASE = DATA / "project"
CASES = sorted(p for p in (DATA / "inconsistent").iterdir() if p.is_dir())
CARNK, KG = PREFIXES["carnk"], PREFIXES["carnkkg"]

#: The wording the issue fixes for `auto` without Java.
FALLBACK_WARNING = ("Java runtime not found: using OWL 2 RL instead of HermiT; "
                    "install Java 11+ for full DL reasoning")

#: HermiT starts a JVM: such tests are skipped without Java and marked slow (`pytest -m "not slow"`).
JAVA = [pytest.mark.skipif(find_java() is None, reason="no Java runtime: HermiT cannot run"), pytest.mark.slow]
REASONERS = [pytest.param("hermit", marks=JAVA), "owlrl"]


def requires_java(test):
    for mark in JAVA:
        test = mark(test)
    return test


class _PerReasoner(dict):
    """Each reasoner's inferred graph, computed on first use (the JVM starts only for a HermiT test)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, mode: str) -> Graph:
        onto, kg = sources_of(self.root)
        self[mode] = reason(onto, kg, mode=mode).inferred
        return self[mode]


def make_project(dest: Path, *overlays: Path) -> Path:
    """A copy of the base fixture project with case folders laid over it."""
    shutil.copytree(BASE, dest)
    for overlay in overlays:
        for f in sorted(overlay.rglob("*.ttl")):
            target = dest / f.relative_to(overlay)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.write_text(target.read_text(encoding="utf-8") + "\n" + f.read_text(encoding="utf-8"),
                                  encoding="utf-8")
            else:
                shutil.copyfile(f, target)
    return dest


def build_cli(project: Path, *extra: str) -> int:
    return main(["build", "--root", str(project), "--dist", str(project / "dist"), "--quiet", *extra])


def sources_of(project: Path):
    src = load_sources(find_project(project))
    return src.ontology, src.kg


def c(name: str) -> URIRef:
    return URIRef(CARNK + name)


def i(name: str) -> URIRef:
    return URIRef(KG + name)


@pytest.fixture(autouse=True)
def _java_as_found(monkeypatch):
    """Tests start from the machine's own Java; each one hides it explicitly when it needs to."""
    monkeypatch.delenv("CARNK_JAVA", raising=False)


@pytest.fixture(scope="module")
def fixture_inferred() -> dict[str, Graph]:
    """Each reasoner's inferred graph for the base fixture project, computed once."""
    return _PerReasoner(BASE)


@pytest.fixture(scope="module")
def project_inferred() -> dict[str, Graph]:
    """Each reasoner's inferred graph for the real project, computed once."""
    return _PerReasoner(ROOT)


# -- what the reasoners conclude -----------------------------------------------------------------

@pytest.mark.parametrize("mode", REASONERS)
def test_defined_class_membership_is_inferred(fixture_inferred, mode):
    inferred = fixture_inferred[mode]
    assert (i("car-nk-1"), RDF.type, c("CARNKCell")) in inferred
    assert (i("car-t-1"), RDF.type, c("CARTCell")) in inferred


@pytest.mark.parametrize("mode", REASONERS)
def test_an_nk_cell_without_a_car_is_not_a_car_nk_cell(fixture_inferred, mode):
    assert (i("nk-1"), RDF.type, c("CARNKCell")) not in fixture_inferred[mode]


@pytest.mark.parametrize("mode", REASONERS)
def test_subclass_links_implied_by_definitions_are_inferred(fixture_inferred, mode):
    assert (c("CARNKCell"), RDFS.subClassOf, c("NKCell")) in fixture_inferred[mode]
    assert (c("CARNKCell"), RDFS.subClassOf, c("Cell")) in fixture_inferred[mode]


@pytest.mark.parametrize("mode", REASONERS)
def test_memberships_in_every_named_superclass_are_materialised(fixture_inferred, mode):
    """A plain `?x a carnk:Cell` finds an individual stated only to be an NK cell."""
    assert (i("nk-1"), RDF.type, c("Cell")) in fixture_inferred[mode]


@requires_java
def test_hermit_and_owl_rl_agree_on_an_owl_rl_ontology(fixture_inferred):
    assert set(fixture_inferred["hermit"]) == set(fixture_inferred["owlrl"])


def _assert_only_new_named_links(inferred: Graph, stated: Graph) -> None:
    assert len(inferred) > 0
    for s, p, o in inferred:
        assert p in (RDF.type, RDFS.subClassOf), (s, p, o)
        assert isinstance(s, URIRef) and isinstance(o, URIRef), (s, p, o)
        assert not str(o).startswith(("http://www.w3.org/2002/07/owl#", "http://www.w3.org/2001/XMLSchema#",
                                      "http://www.w3.org/2000/01/rdf-schema#",
                                      "http://www.w3.org/1999/02/22-rdf-syntax-ns#")), (s, p, o)
        assert s != o, (s, p, o)
        assert (s, p, o) not in stated, (s, p, o)


@pytest.mark.parametrize("mode", REASONERS)
def test_fixture_inferred_graph_holds_only_new_named_types_and_subclass_links(fixture_inferred, mode):
    _assert_only_new_named_links(fixture_inferred[mode], reasoner_input(*sources_of(BASE)))


@pytest.mark.slow  # the real project through each reasoner (OWL RL alone takes 5 s); the fixture project is the fast case
@pytest.mark.parametrize("mode", REASONERS)
def test_project_inferred_graph_holds_only_new_named_types_and_subclass_links(project_inferred, mode):
    _assert_only_new_named_links(project_inferred[mode], reasoner_input(*sources_of(ROOT)))


def test_blank_nodes_typed_by_a_range_stay_out_of_the_inferred_graph(fixture_inferred):
    """OWL 2 RL types the anonymous domain-position node through the range of hasDomainAt."""
    onto, kg = sources_of(BASE)
    assert any(isinstance(o, BNode) for o in kg.objects(i("car-19"), c("hasDomainAt")))
    assert not any(isinstance(s, BNode) for s in fixture_inferred["owlrl"].subjects())


# -- the real project: the curators' stated expectations ----------------------------------------

_EXPECTATION = re.compile(r"(carnkkg:[\w-]+(?:\s*(?:,|and)\s*carnkkg:[\w-]+)*)\s*->\s*"
                          r"(carnk:\w+(?:\s*(?:,|and)\s*carnk:\w+)*)")


def _header(path: Path) -> str:
    """The leading comment block of a Turtle file, as one line of text."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def expected_inferences() -> list[tuple[str, str, str]]:
    """(file, individual, class) for every `carnkkg:x[, carnkkg:y and ...] -> carnk:A[, carnk:B ...]`
    in a kg file's header comment."""
    out = []
    for f in sorted((ROOT / "ontology" / "kg").glob("*.ttl")):
        for individuals, classes in _EXPECTATION.findall(_header(f)):
            out += [(f.name, ind, cls) for ind in re.findall(r"carnkkg:[\w-]+", individuals)
                    for cls in re.findall(r"carnk:\w+", classes)]
    return sorted(set(out))


def test_the_knowledge_graph_headers_list_expected_inferences():
    assert len(expected_inferences()) >= 5


@requires_java
@pytest.mark.parametrize("file,individual,cls", expected_inferences(),
                         ids=[f"{f}:{a}->{b}" for f, a, b in expected_inferences()])
def test_hermit_derives_what_the_curators_expect(project_inferred, file, individual, cls):
    triple = (i(individual.split(":", 1)[1]), RDF.type, c(cls.split(":", 1)[1]))
    assert triple in project_inferred["hermit"], f"{file} expects {individual} -> {cls}"


@requires_java
def test_hermit_derives_car_nk_cells_in_the_real_project(project_inferred):
    assert (i("car-nk-cell"), RDF.type, c("CARNKCell")) in project_inferred["hermit"]
    assert (i("allogeneic-car-nk-product"), RDF.type, c("OffTheShelfCapableProduct")) in project_inferred["hermit"]


@requires_java
def test_owl_rl_concludes_nothing_hermit_does_not(project_inferred):
    """OWL 2 RL is sound for an OWL 2 DL ontology: its conclusions are a subset of HermiT's."""
    assert set(project_inferred["owlrl"]) - set(project_inferred["hermit"]) == set()


# -- the build: where the inferred triples go and what is recorded ------------------------------

@pytest.fixture(scope="module")
def hermit_build(tmp_path_factory):
    """The base fixture project built once with HermiT through the CLI."""
    if find_java() is None:
        pytest.skip("no Java runtime: HermiT cannot run")
    project = make_project(tmp_path_factory.mktemp("hermit-build") / "p")
    assert build_cli(project, "--reasoner", "hermit") == 0
    return project


@requires_java
def test_inferred_triples_live_only_in_the_inferred_graph(hermit_build):
    graphs = read_release_graphs(hermit_build / "dist")
    membership = (i("car-nk-1"), RDF.type, c("CARNKCell"))
    assert membership in graphs["inferred"]
    assert membership not in graphs["kg"] and membership not in graphs["ontology"]
    assert not set(graphs["inferred"]) & (set(graphs["kg"]) | set(graphs["ontology"]))


@requires_java
def test_the_kg_graph_of_the_release_is_the_curated_kg(hermit_build):
    graphs = read_release_graphs(hermit_build / "dist")
    _, kg = sources_of(hermit_build)
    assert len(graphs["kg"]) == len(kg)


@requires_java
def test_the_release_records_which_reasoner_ran(hermit_build):
    stamp = json.loads((hermit_build / "dist" / "build.json").read_text())
    assert re.fullmatch(r"HermiT [\d.]+ \(owlready2 [\d.]+\)", stamp["reasoner"])
    report = (hermit_build / "dist" / "report.txt").read_text()
    assert report.splitlines()[0] == f"reasoner: {stamp['reasoner']}"


@requires_java
def test_stats_show_the_inferred_triple_count(hermit_build, capsys):
    stamp = json.loads((hermit_build / "dist" / "build.json").read_text())
    assert stamp["triples"]["inferred"] > 0
    capsys.readouterr()
    assert main(["stats", "--root", str(hermit_build), "--dist", str(hermit_build / "dist"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"inferred {stamp['triples']['inferred']}" in out
    assert f"reasoner: {stamp['reasoner']}" in out


@requires_java
def test_the_build_summary_prints_the_reasoner(tmp_path, capsys):
    project = make_project(tmp_path / "p")
    assert build_cli(project, "--reasoner", "hermit") == 0
    assert re.search(r"reasoner: HermiT [\d.]+ \(owlready2", capsys.readouterr().out)


def test_no_reason_leaves_the_inferred_graph_empty(tmp_path):
    project = make_project(tmp_path / "p")
    assert build_cli(project, "--no-reason") == 0
    stamp = json.loads((project / "dist" / "build.json").read_text())
    assert stamp["reasoner"] == "none" and stamp["triples"]["inferred"] == 0


# -- without Java --------------------------------------------------------------------------------

def _hide_java_by_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CARNK_JAVA", str(tmp_path / "no-such-java"))


def _hide_java_from_owlready2(monkeypatch, tmp_path):
    import owlready2
    monkeypatch.setattr(owlready2, "JAVA_EXE", str(tmp_path / "no-such-dir" / "java"))


HIDE_JAVA = [pytest.param(_hide_java_by_env, id="CARNK_JAVA"),
             pytest.param(_hide_java_from_owlready2, id="owlready2.JAVA_EXE")]


@pytest.mark.parametrize("hide", HIDE_JAVA)
def test_auto_without_java_falls_back_to_owl_rl_with_the_warning(tmp_path, monkeypatch, capsys, hide):
    hide(monkeypatch, tmp_path)
    project = make_project(tmp_path / "p")
    assert build_cli(project) == 0
    assert f"carnk-graph: warning: {FALLBACK_WARNING}" in capsys.readouterr().err.splitlines()
    stamp = json.loads((project / "dist" / "build.json").read_text())
    assert stamp["reasoner"].startswith("OWL 2 RL (owlrl ")
    assert (i("car-nk-1"), RDF.type, c("CARNKCell")) in read_release_graphs(project / "dist")["inferred"]


@pytest.mark.parametrize("hide", HIDE_JAVA)
def test_hermit_without_java_stops_with_exit_3(tmp_path, monkeypatch, capsys, hide):
    hide(monkeypatch, tmp_path)
    project = make_project(tmp_path / "p")
    assert build_cli(project, "--reasoner", "hermit") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("carnk-graph: error: Java runtime not found")
    assert not (project / "dist" / "build.json").exists()


def test_owlrl_never_looks_for_java(tmp_path, monkeypatch, capsys):
    _hide_java_by_env(monkeypatch, tmp_path)
    project = make_project(tmp_path / "p")
    assert build_cli(project, "--reasoner", "owlrl") == 0
    assert "Java" not in capsys.readouterr().err


@requires_java
def test_a_java_that_fails_is_a_reasoner_error_with_its_message(tmp_path, monkeypatch):
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\necho 'Error: could not reserve the heap' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(ReasonerError, match="HermiT failed: Error: could not reserve the heap"):
        reason(*sources_of(BASE), mode="hermit", java=str(fake))


def test_an_unknown_reasoner_is_bad_input():
    with pytest.raises(BadInputError):
        reason(Graph(), Graph(), mode="pellet")


# -- consistency ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", REASONERS)
@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_a_contradiction_stops_the_build_with_exit_3_naming_the_culprits(tmp_path, capsys, case, mode):
    project = make_project(tmp_path / "p", case)
    assert build_cli(project, "--reasoner", mode) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("carnk-graph: error: ")
    parts = err[0].split(": ", 3)[-1].split("; ")  # after "carnk-graph: error: <reasoner>: "
    for expected in (case / "expect.txt").read_text(encoding="utf-8").splitlines():
        if expected.strip():
            assert expected in parts
    assert not (project / "dist" / "carnk.ttl").exists()


#: Contradictions written against the real project (by the knowledge curators): each top-level
#: .ttl here, added to a copy of the project as one more knowledge-graph file, must stop the build
#: with a message that names, by label, the classes or individuals the file adds.
CONTRADICTIONS = sorted(DATA.glob("*.ttl"))


@requires_java
@pytest.mark.parametrize("extra", CONTRADICTIONS, ids=[p.name for p in CONTRADICTIONS])
def test_a_contradiction_added_to_the_real_project_stops_the_build(tmp_path, capsys, extra):
    project = tmp_path / "p"
    for part in ("ontology", "shapes"):
        shutil.copytree(ROOT / part, project / part)
    shutil.copyfile(extra, project / "ontology" / "kg" / f"zz-{extra.name}")
    assert build_cli(project, "--reasoner", "hermit") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("carnk-graph: error: HermiT")
    assert "inconsistent" in err[0] or "unsatisfiable classes" in err[0]
    added = Graph().parse(extra)
    labels = {str(lb) for s in set(added.subjects()) for lb in added.objects(s, RDFS.label)}
    assert labels and all(f'"{lb}"' in err[0] for lb in labels)  # it names what the file added


# -- side effects: temp files, network -----------------------------------------------------------

@requires_java
@pytest.mark.parametrize("case", [None, DATA / "inconsistent" / "member-of-unsatisfiable-class"],
                         ids=["consistent", "inconsistent"])
def test_hermit_input_never_has_a_name_on_disk(tmp_path, monkeypatch, case):
    """HermiT reads its input from a file descriptor with no name (a memfd): a build stopped at any
    moment, even by SIGKILL, leaves no temporary copy of the graph behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    created = []
    for name in ("NamedTemporaryFile", "mkstemp", "mkdtemp"):
        real = getattr(tempfile, name)
        monkeypatch.setattr(tempfile, name, lambda *a, _real=real, **k: created.append(a) or _real(*a, **k))
    project = make_project(tmp_path / "p", *([case] if case else []))
    try:
        reason(*sources_of(project), mode="hermit")
    except ReasonerError:
        assert case is not None
    assert created == [] and sorted(tmp.iterdir()) == []


def fake_java(tmp_path: Path, body: str) -> str:
    """A `java` that is not HermiT: a shell script with `body`, which records its pid."""
    fake = tmp_path / "java"
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'java.pid'}\n{body}\n")
    fake.chmod(0o755)
    return str(fake)


@pytest.mark.parametrize("body", ["exit 0", "echo 'SubClassOf( <https://w3id.org/carnk/NKCell> "
                                  "<https://w3id.org/carnk/Cell> )'; exit 0"], ids=["silent", "plausible"])
def test_a_java_that_exits_0_without_running_hermit_gives_no_hermit_release(tmp_path, body):
    """The answer must hold the conclusion of the canary puzzle that only a real reasoner finds."""
    with pytest.raises(ReasonerError, match="did not give HermiT's answer"):
        reason(*sources_of(BASE), mode="hermit", java=fake_java(tmp_path, body))


def test_a_java_that_never_returns_is_stopped_at_the_time_limit(tmp_path):
    """Exit 5 (a timeout, as for queries), and the JVM is gone when the build goes on."""
    from carnk_graph.errors import ReasonerTimeoutError

    java = fake_java(tmp_path, "exec sleep 300")
    with pytest.raises(ReasonerTimeoutError) as err:
        reason(*sources_of(BASE), mode="hermit", java=java, timeout=0.5)
    assert err.value.exit_code == 5
    pid = int((tmp_path / "java.pid").read_text())
    assert not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "abc"])
def test_a_reasoner_timeout_that_is_not_a_positive_number_is_bad_input(tmp_path, monkeypatch, value):
    from carnk_graph.hermit import reasoner_timeout

    monkeypatch.setenv("CARNK_REASONER_TIMEOUT", value)
    with pytest.raises(BadInputError):
        reasoner_timeout()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc to see the JVM's process")
def test_a_killed_build_leaves_no_jvm_behind(tmp_path):
    """SIGKILL the build while "HermiT" runs: its JVM dies with it (PR_SET_PDEATHSIG)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    java = fake_java(tmp_path, "exec sleep 300")
    project = make_project(tmp_path / "p")
    build = subprocess.Popen([sys.executable, "-m", "carnk_graph", "build", "--root", str(project), "--dist",
                              str(tmp_path / "dist"), "--reasoner", "hermit", "-q"],
                             env={**os.environ, "CARNK_JAVA": java}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    pid_file = tmp_path / "java.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the build never started java"
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    build.send_signal(signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the JVM outlived the killed build"


@pytest.mark.parametrize("mode", REASONERS)
def test_owl_imports_are_never_followed(tmp_path, monkeypatch, capsys, mode):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    project = make_project(tmp_path / "p", DATA / "imports-url")
    assert build_cli(project, "--reasoner", mode) == 0
    assert attempts == []
    assert "owl:imports <http://carnk-never-fetched.invalid/ontology.owl> is not followed" in capsys.readouterr().err


def test_owlready2_is_given_no_owl_imports(tmp_path):
    project = make_project(tmp_path / "p", DATA / "imports-url")
    assert "owl:imports" in (project / "ontology" / "carnk.ttl").read_text()
    onto, kg = sources_of(project)
    assert (None, OWL.imports, None) not in onto  # taken out at load: never in the release either
    assert b"owl#imports" not in to_ntriples(reasoner_input(onto, kg))
    assert b"owl#imports" not in to_ntriples(onto)


def test_find_java_honours_an_explicit_missing_path(tmp_path):
    assert find_java(str(tmp_path / "java")) is None


def test_find_java_accepts_an_executable_path(tmp_path):
    exe = tmp_path / "java"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert find_java(str(exe)) == str(exe)


def test_the_build_s_cheap_java_guess_looks_on_path_without_owlready2(tmp_path, monkeypatch):
    """find_java(search_owlready2=False): $CARNK_JAVA, else `java` on PATH; owlready2 is never imported."""
    import subprocess
    import sys

    exe = tmp_path / "java"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.delenv("CARNK_JAVA", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_java(search_owlready2=False) == str(exe)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_java(search_owlready2=False) is None
    monkeypatch.setenv("CARNK_JAVA", str(exe))
    assert find_java(search_owlready2=False) == str(exe)
    probe = ("import sys; from carnk_graph.hermit import find_java; find_java(search_owlready2=False); "
             "print('owlready2' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_a_literal_of_a_derived_xsd_type_fits_its_base_range():
    """An xsd:int value for an xsd:integer range is no clash; a language tag for xsd:string is."""
    from carnk_graph.reason import datatype_clashes

    g = Graph()
    XSD = "http://www.w3.org/2001/XMLSchema#"
    g.add((c("n"), RDFS.range, URIRef(XSD + "integer")))
    g.add((c("s"), RDFS.range, URIRef(XSD + "string")))
    g.add((i("a"), c("n"), Literal("3", datatype=URIRef(XSD + "int"))))
    g.add((i("a"), c("s"), Literal("plain")))
    assert datatype_clashes(g) == []
    g.add((i("b"), c("s"), Literal("tagged", lang="en")))
    assert len(datatype_clashes(g)) == 1
