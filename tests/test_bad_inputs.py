"""Hostile and broken input: every case of tests/data/bad/ gets a clear answer, and nothing is lost.

Each case is a folder `tests/data/bad/<case-name>/` holding its input files and a
`case.toml` that says how to run it and what must come back:

    why = "what the case proves"
    args = ["validate", "{dir}/input.ttl", "--standalone"]   # the command line
    exit = 2                                                  # per DESIGN.md's exit-code contract
    stderr = "syntax error"          # a fragment of the ONE line the command prints on stderr
    location = "input.ttl:4"         # optional: file (and line) named in that line

and, optionally:

    project = "minimal" | "real" | "none"  # the project passed as --root (default: a copy of minimal)
    prebuild = true                  # build the project first (so `dist/` holds a release to protect)
    dist = "{dir}/afile/dist"        # --dist other than the project's dist/
    env = { NAME = "value" }         # environment for the run
    sparse = { "big.ttl" = 209715200 }  # sparse files made at run time (never committed)
    special = { "{root}/ontology/kg/x.ttl" = "fifo" }  # made after the pre-build: "fifo", "dir",
                                     # or "symlink:TARGET" (a FIFO or /dev/zero cannot be committed)
    server = "500" | "hang" | "closed" | "drip" | "flood"  # an endpoint on 127.0.0.1 ("{endpoint}")
    stdout_has = ["..."]   stdout_lacks = ["..."]
    changes = ["dist/report.txt"]    # files the run may create or change (fnmatch patterns)
    needs = ["java"]                 # skipped, saying so, when missing (and marked slow: the JVM)
    slow = true                      # starts the JVM or a server some other way (a rebuild with HermiT)
    subprocess = true                # also run the installed command
    xfail_reason = "..."             # a known gap, listed in the report

A case folder may hold `project/` (copied over the project before the pre-build)
and `after_build/` (copied over it after the pre-build: a broken edit made to a
project that has a good release). Placeholders in args, env and dist: {dir} (the
case's files, copied), {root}, {dist}, {tmp}, {endpoint}.

Every case asserts: the exit code; exactly one line on stderr, containing the
fragment (and the location); no traceback; and that no file under the work
folder was created, changed or removed except those `changes` allows: no
partial output, no *.tmp, no half-written release.
"""
from __future__ import annotations

import copy
import fnmatch
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import unicodedata
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from carnk_graph.cli import main

from spine_helpers import MINIMAL, copy_project
from stores import drip, flood, free_port, scripted_server, tiny_server

DRIP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 400\r\n\r\n"

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

BAD = Path(__file__).resolve().parent / "data" / "bad"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CASES = sorted(p for p in BAD.iterdir() if p.is_dir() and ((p / "case.toml").is_file() or (p / "case.json").is_file()))
SPECIAL_DIRS = ("project", "after_build")


def read_case(case_dir: Path) -> dict:
    """The case's description (a fresh copy: a test may not change what the next one reads)."""
    return copy.deepcopy(_parsed_case(case_dir))


@functools.lru_cache(maxsize=None)
def _parsed_case(case_dir: Path) -> dict:
    """Each case file parsed once per session (choosing the fast-lane cases reads every case for
    every case: 30,000 parses, 3.5 s of collection, before this cache). Read-only: see read_case."""
    if (case_dir / "case.toml").is_file():
        return tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    return json.loads((case_dir / "case.json").read_text(encoding="utf-8"))


def installed_command() -> str:
    exe = shutil.which("carnk-graph") or str(Path(sys.executable).with_name("carnk-graph"))
    assert Path(exe).is_file(), "carnk-graph is not installed: pip install -e '.[test]'"
    return exe


# -- endpoints that misbehave ------------------------------------------------------------------------

@contextmanager
def endpoint(kind: str) -> Iterator[str]:
    """A SPARQL endpoint URL on 127.0.0.1: "closed" (nothing listens), "500" (answers every
    request with HTTP 500), "hang" (accepts, never answers), "drip" (answers one byte every 50
    ms), "flood" (a 300 MB answer)."""
    if kind == "closed":
        yield f"http://127.0.0.1:{free_port()}/sparql"
        return
    if kind in ("drip", "flood"):
        script = drip(DRIP_HEAD + b" " * 400) if kind == "drip" else flood(declared=False)
        with scripted_server(script) as url:
            yield url
        return
    status = None if kind == "hang" else 500
    with tiny_server(status, "Internal Server Error: the store is broken today") as server:
        yield server.url + "/sparql"


# -- the work folder and its snapshot ---------------------------------------------------------------

def snapshot(root: Path) -> dict[str, tuple]:
    """Every file under root with its content digest (size and mtime for big sparse files)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            key = (st.st_size, st.st_mtime_ns) if st.st_size > 1 << 20 else hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p.relative_to(root))] = key
    return out


def fill(value: str, places: dict[str, str]) -> str:
    for k, v in places.items():
        value = value.replace("{" + k + "}", v)
    return value


def overlay(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=True)


def tree_digest(folder: Path) -> str:
    """The names and contents of every file under `folder` ("" when there is no such folder)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16] if folder.is_dir() else "plain"


class Prebuilt:
    """Pre-built projects shared by the cases that say `prebuild = true`, one per `project/` overlay.

    A build takes about 90 ms (mostly the embedded store) and sixty cases pre-build one of two
    projects. The first case of each builds it in a folder of its own and keeps a copy; each later
    case gets that copy back at the very same path, with the same bytes and mtimes (shutil.copy2),
    so its release is exactly as current as right after the build (a release records its sources'
    absolute paths, sizes and mtimes). Cases run one after the other, so one folder per project
    serves them all; a folder that cannot be cleared falls back to a build of the case's own.
    (Should the product's freshness check ever look at more than that, a restored release would be
    rebuilt and the cases would fail naming dist/ files as changed: then drop this sharing.)
    """

    def __init__(self, home: Path) -> None:
        self.home = home

    def work(self, case_dir: Path) -> Path | None:
        """The case's work folder holding the pre-built project under project/, or None."""
        slot = self.home / tree_digest(case_dir / "project")
        work, template = slot / "work", slot / "template"
        shutil.rmtree(work, ignore_errors=True)
        if work.exists():
            return None
        if template.is_dir():
            shutil.copytree(template, work / "project", symlinks=True)
            return work
        root = copy_project(MINIMAL, work / "project")
        overlay(case_dir / "project", root)
        code = main(["build", "--root", str(root), "--dist", str(root / "dist"), "--no-reason", "-q"])
        assert code == 0, "the pre-build of the case's project failed"
        shutil.copytree(root, template, symlinks=True)
        return work


@pytest.fixture(scope="session")
def prebuilt(tmp_path_factory) -> Prebuilt:
    return Prebuilt(tmp_path_factory.mktemp("prebuilt"))


class Prepared:
    """A case made ready to run in tmp_path (or in a shared pre-built project): its files, its
    project, its environment."""

    def __init__(self, case_dir: Path, tmp: Path, stack: ExitStack, prebuilt: Prebuilt | None = None) -> None:
        self.case = read_case(case_dir)
        kind = self.case.get("project", "minimal")
        shared = None
        if prebuilt is not None and self.case.get("prebuild") and kind == "minimal" and "dist" not in self.case:
            shared = prebuilt.work(case_dir)
        self.work = shared or tmp / "work"
        files = self.work / "case"
        shutil.copytree(case_dir, files, ignore=shutil.ignore_patterns(*SPECIAL_DIRS, "case.toml", "case.json"))
        if kind == "minimal":
            root = self.work / "project" if shared else copy_project(MINIMAL, self.work / "project")
        elif kind == "real":
            root = PROJECT_ROOT  # read, never written: the case must not build (dist goes to tmp)
        else:
            root = None
        places = {"dir": str(files), "tmp": str(self.work), "root": str(root or ""),
                  "dist": str(self.work / "project" / "dist") if kind == "minimal" else str(self.work / "dist")}
        if root is not None and kind == "minimal" and not shared:
            overlay(case_dir / "project", root)
        if "server" in self.case:
            places["endpoint"] = stack.enter_context(endpoint(self.case["server"]))
        self.dist = fill(self.case.get("dist", "{dist}"), places)
        self.env = {k: fill(str(v), places) for k, v in self.case.get("env", {}).items()}
        for name, size in self.case.get("sparse", {}).items():
            with open(files / name, "wb") as fh:
                fh.truncate(int(size))  # a hole: takes no disk space, reads as zeros
        if self.case.get("prebuild"):
            assert root is not None and kind == "minimal", "prebuild needs the minimal project"
            if not shared:
                code = main(["build", "--root", str(root), "--dist", self.dist, "--no-reason", "-q"])
                assert code == 0, "the pre-build of the case's project failed"
            overlay(case_dir / "after_build", root)
        for name, kind in self.case.get("special", {}).items():
            make_special(Path(fill(name, places)), kind)
        self.args = [fill(a, places) for a in self.case["args"]]
        if root is not None:
            self.args += ["--root", str(root), "--dist", self.dist]
        self.outputs = [self.args[i + 1] for i, a in enumerate(self.args[:-1]) if a in ("-o", "--output")]

    def skip_if_missing_needs(self) -> None:
        for need in self.case.get("needs", []):
            if need == "java" and not shutil.which("java"):
                pytest.skip("needs a Java runtime (HermiT); .ci/run installs one")


def make_special(path: Path, kind: str) -> None:
    """A file-system entry that is not a regular file, where a file is expected."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
        (path / "inside.txt").write_text("a folder named like a file\n")
    elif kind.startswith("symlink:"):
        os.symlink(kind.split(":", 1)[1], path)
    else:
        raise ValueError(f"unknown special kind {kind!r}")


def stray_temporaries(outputs: list[str]) -> list[str]:
    """Temporary files an atomic write could leave beside an output outside the work folder."""
    found = []
    for out in outputs:
        parent, name = Path(out).parent, Path(out).name
        if parent.is_dir():
            try:
                found += [str(p) for p in parent.glob(f".{name}.*.tmp")]
            except OSError:
                pass
    return found


def check_stderr(err: str, case: dict) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    if not case["stderr"]:  # a case that must succeed quietly
        assert not lines, f"expected nothing on stderr, got:\n{err}"
        return
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}:\n{err}"
    assert not [c for c in lines[0] if unicodedata.category(c) == "Cc"], "a raw control character on stderr"
    assert case["stderr"] in lines[0], f"{case['stderr']!r} not in {lines[0]!r}"
    if "location" in case:
        assert case["location"] in lines[0], f"location {case['location']!r} not in {lines[0]!r}"


def check_stdout(out: str, case: dict) -> None:
    for s in case.get("stdout_has", []):
        assert s in out, f"{s!r} missing from stdout:\n{out}"
    for s in case.get("stdout_lacks", []):
        assert s not in out, f"{s!r} must not be in stdout:\n{out}"


def check_nothing_left_behind(before: dict, after: dict, case: dict, outputs: list[str]) -> None:
    allowed = case.get("changes", [])
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    unexpected = [k for k in changed if not any(fnmatch.fnmatch(k, pat) for pat in allowed)]
    assert not unexpected, f"files created, changed or removed: {unexpected}"
    assert not [k for k in after if k.endswith(".tmp")], "a temporary file was left behind"
    assert not stray_temporaries(outputs), "a temporary file was left beside the output"


def case_param(case_dir: Path, fast: bool = True):
    case = read_case(case_dir)
    marks = [pytest.mark.xfail(reason=case["xfail_reason"], strict=True)] if case.get("xfail_reason") else []
    if not fast or case.get("slow") or "java" in case.get("needs", ()):  # the HermiT JVM, or not a representative
        marks.append(pytest.mark.slow)
    return pytest.param(case_dir, id=case_dir.name, marks=marks)


def fast_in_process(case_dir: Path) -> bool:
    """Whether the fast lane runs the case in process: all but the second and later cases that
    validate the real project (one such case proves that path; each costs a full validation)."""
    real = [c for c in CASES if _parsed_case(c).get("project") == "real"]
    return case_dir not in real[1:]


@pytest.mark.parametrize("case_dir", [case_param(c, fast_in_process(c)) for c in CASES])
def test_bad_input_gets_one_clear_line_and_leaves_nothing_behind(case_dir, tmp_path, capfd, monkeypatch, prebuilt):
    with ExitStack() as stack:
        prep = Prepared(case_dir, tmp_path, stack, prebuilt)
        prep.skip_if_missing_needs()
        for k, v in prep.env.items():
            monkeypatch.setenv(k, v)
        capfd.readouterr()  # drop the pre-build's output
        before = snapshot(prep.work)
        code = main(prep.args)
        out, err = capfd.readouterr()
        after = snapshot(prep.work)
    case = prep.case
    assert code == case["exit"], f"exit {code}, expected {case['exit']}; stderr: {err}"
    check_stderr(err, case)
    check_stdout(out, case)
    check_nothing_left_behind(before, after, case, prep.outputs)


SUBPROCESS_CASES = [c for c in CASES if read_case(c).get("subprocess")]


def fast_subprocess(case_dir: Path) -> bool:
    """The fast lane runs the installed command on the first case of each exit code (one process
    start each); the slow lane on every case."""
    firsts = {}
    for c in SUBPROCESS_CASES:
        firsts.setdefault(read_case(c)["exit"], c)
    return case_dir in firsts.values()


@pytest.mark.parametrize("case_dir", [case_param(c, fast_subprocess(c)) for c in SUBPROCESS_CASES])
def test_the_installed_command_answers_bad_input_the_same_way(case_dir, tmp_path, prebuilt):
    with ExitStack() as stack:
        prep = Prepared(case_dir, tmp_path, stack, prebuilt)
        prep.skip_if_missing_needs()
        before = snapshot(prep.work)
        env = {**os.environ, **prep.env}
        proc = subprocess.run([installed_command(), *prep.args], capture_output=True, text=True, env=env,
                              timeout=300)
        after = snapshot(prep.work)
    assert proc.returncode == prep.case["exit"], proc.stderr
    check_stderr(proc.stderr, prep.case)
    check_stdout(proc.stdout, prep.case)
    check_nothing_left_behind(before, after, prep.case, prep.outputs)


def test_the_corpus_covers_at_least_forty_cases():
    assert len(CASES) >= 40


def test_a_file_name_with_a_newline_still_gives_one_line(tmp_path, capfd):
    """File names are quoted in messages; a hostile one must not break the one-line contract."""
    bad = tmp_path / "two\nlines\x1b[2J.ttl"
    bad.write_bytes(b"")
    root = copy_project(MINIMAL, tmp_path / "project")
    capfd.readouterr()
    assert main(["validate", str(bad), "--standalone", "--root", str(root)]) == 2
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "two\\nlines\\x1b[2J.ttl:1: file is empty" in err


def test_with_debug_an_error_shows_its_traceback(tmp_path):
    """--debug is the one way to get a traceback: the typed error propagates out of main()."""
    from carnk_graph.errors import BadInputError

    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    root = copy_project(MINIMAL, tmp_path / "project")
    with pytest.raises(BadInputError, match="bad.ttl:2"):
        main(["validate", str(bad), "--standalone", "--debug", "--root", str(root)])
