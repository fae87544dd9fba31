"""The package's shape, as specifications: no import cycles, one home for the SPARQL check,
one module that spells out our IRIs, and a front door that the command line goes through."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "carnk_graph"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))


def imports_of(module: str) -> set[str]:
    """The package's modules that `module` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found |= {a.name for a in node.names}
            elif node.module and node.module.startswith("carnk_graph."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("carnk_graph.")}
    return (found & set(MODULES)) - {module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_import_graph_is_acyclic():
    """Lazy imports inside functions count too: a cycle through them still ties the modules together."""
    graph = {m: imports_of(m) for m in MODULES if m not in ("__init__", "__main__")}
    assert find_cycle({m: deps - {"__init__", "__main__"} for m, deps in graph.items()}) is None


def test_the_sparql_check_has_one_home():
    """Keyword lists and the escape rule live in sparql.py; nothing else spells them out."""
    for module in MODULES:
        if module == "sparql":
            continue
        text = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
        for marker in ('"SERVICE"', "'SERVICE'", "UPDATE_WORDS", "_UNSAFE_KEYWORDS", "UNSAFE_KEYWORDS",
                       "def expand_escapes", "def sparql_refusal", "def check_read_only"):
            assert marker not in text, f"{module}.py holds {marker}: the SPARQL check belongs in sparql.py"


@pytest.mark.parametrize("module", ["cli"])
def test_the_command_line_runs_queries_only_through_the_api(module):
    """cli.py parses and prints; what a query does is decided in api.py."""
    deps = imports_of(module)
    assert not deps & {"queries", "engines", "params", "timeout", "sparql"}, deps


def test_the_command_line_reaches_the_build_line_only_through_the_api():
    """Whether to build, what to validate and which bytes to export are decided in api.py; cli.py
    imports none of the modules that do that work."""
    assert not imports_of("cli") & {"build", "layout", "sources", "shacl", "release", "store", "reason"}


def test_only_the_api_decides_to_build_for_a_reader():
    """`ensure_built` has one home; the modules that read a release (serve, site, load) call it there."""
    homes = [m for m in MODULES if "def ensure_built" in (PACKAGE / f"{m}.py").read_text(encoding="utf-8")]
    assert homes == ["api"]
    sub = [p for p in PACKAGE.rglob("*.py") if "def ensure_built" in p.read_text(encoding="utf-8")]
    assert [p.name for p in sub] == ["api.py"]


def test_only_namespaces_py_spells_out_an_iri_of_the_project_or_its_vocabularies():
    """Every IRI base (ours and rdf/rdfs/owl/xsd/sh/...) lives in namespaces.py; code outside it (docstrings
    aside) builds IRIs from PREFIXES, so changing a base there changes it everywhere."""
    from carnk_graph.namespaces import BASE, PREFIXES

    bases = set(PREFIXES.values()) | {BASE}
    found = []
    for module in MODULES:
        if module == "namespaces":
            continue
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and any(b in node.value for b in bases)):
                found.append(f"{module}.py:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)


#: A module longer than this needs a paragraph in its docstring saying why it stays whole.
MAX_LINES = 500
LONG_REASON = "Why this module is long"


def long_modules_without_a_reason(package: Path) -> list[str]:
    """'module.py: N lines' for every module of `package` (sub-packages included) over MAX_LINES lines
    whose docstring lacks a "Why this module is long" paragraph."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_LINES and LONG_REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append(f"{path.relative_to(package).as_posix()}: {lines} lines")
    return found


def test_no_module_is_over_500_lines_without_a_reason_in_its_docstring():
    """Small modules with one job; a long one says in its docstring why a split would hurt."""
    found = long_modules_without_a_reason(PACKAGE)
    assert not found, (f"over {MAX_LINES} lines without a {LONG_REASON!r} paragraph in the docstring: "
                       + "; ".join(found))


def test_the_length_rule_names_a_long_module_and_accepts_a_stated_reason(tmp_path):
    body = "x = 1\n" * MAX_LINES
    (tmp_path / "short.py").write_text('"""Short."""\n' + "x = 1\n" * (MAX_LINES - 1), encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "long.py").write_text('"""Long, and silent about it."""\n' + body, encoding="utf-8")
    (tmp_path / "reasoned.py").write_text(f'"""Long.\n\n{LONG_REASON}: one parser, one state machine."""\n' + body,
                                          encoding="utf-8")
    assert long_modules_without_a_reason(tmp_path) == [f"sub/long.py: {MAX_LINES + 1} lines"]
