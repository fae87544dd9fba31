#!/usr/bin/env python3
"""The benchmark of issue 9: is carnk-graph fast at every size?

    python benchmarks/run.py                        # all sections, 10k / 100k / 1M triples
    python benchmarks/run.py --write-readme         # ... and put the figures in benchmarks/README.md
    python benchmarks/run.py --sizes 10000 --quick  # the smoke run the tests keep alive

Sections (each prints its rows as it goes):
- cold query: `carnk-graph query NAME --format csv` on the shipped graph, one fresh process per run,
  against the `oxigraph query` command on the same store and the same (bound) query, the two run
  alternately (target: at most 3x, issue 15); the import profile of the query path (`python -X
  importtime`). The unmeasured first run of each query fills file caches, writes the .pyc files and
  keeps the saved query prepared (dist/.prepared, see src/carnk_graph/prepared.py), as a user's
  first run does.
- build: `carnk-graph build --force` of the shipped graph (HermiT included when Java is found) and a
  rebuild with no source change.
- scale, at each size: the shipped release plus synthetic triples (benchmarks/synth.py) loaded into
  the embedded store; every saved query on the embedded store and on rdflib (capped, reported as
  "> cap"), their ratio and whether both engines agree; validation of the synthetic triples as user
  data (plus the shipped knowledge graph) with pyshacl-turbo and pyshacl (capped); peak memory.

Every measured step runs in a subprocess of its own (peak memory is that process's ru_maxrss, and a
runaway engine can be killed). Times are medians of --repeat runs; a slow step stops repeating once
it has used its time budget, and the number of runs is printed with it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
PY = sys.executable
README = HERE / "README.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"

#: Issue 9's targets, checked (and flagged) by this script.
TARGET_COLD_QUERY_S = 0.15
#: Issue 15: a cold saved query at most this many times the bare `oxigraph query` on the same store.
TARGET_COLD_RATIO = 3.0
TARGET_BUILD_S = 5.0
TARGET_REBUILD_S = 0.3
TARGET_LOAD_1M_S = 10.0
TARGET_QUERY_1M_S = 1.0
TARGET_VALIDATE_100K_S = 3.0


# -- small helpers ---------------------------------------------------------------------------------------

def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    if x < 1e-3:
        return f"{x * 1e6:.0f} µs"
    if x < 1:
        return f"{x * 1e3:.1f} ms"
    return f"{x:.2f} s"


def fmt_ratio(slow: float | None, fast: float | None) -> str:
    """slow / fast as '12x', '3.4x' or '0.25x' (below 1: the first engine was the faster one)."""
    if not slow or not fast:
        return "-"
    r = slow / fast
    return f"{r:.0f}x" if r >= 10 else f"{r:.1f}x" if r >= 1 else f"{r:.2f}x"


def fmt_mb(kb: int | None) -> str:
    return "-" if not kb else f"{kb / 1024:.0f} MB"


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def peak_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def emit(obj: dict) -> None:
    """A worker's one JSON line on stdout."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def say(line: str = "") -> None:
    print(line, flush=True)


# -- workers (run as `run.py --worker NAME ARGS_JSON` in a subprocess) ------------------------------------

def worker_load(a: dict) -> None:
    """Fill an embedded store from N-Quads files exactly as a build does (store.fill_store)."""
    from itertools import chain

    import pyoxigraph as ox

    from carnk_graph.store import fill_store

    dist = Path(a["dist"])
    dist.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    quads = chain.from_iterable(ox.parse(path=f, format=ox.RdfFormat.N_QUADS) for f in a["files"])
    fill_store(dist, quads)
    emit({"load_s": time.perf_counter() - t, "peak_kb": peak_kb()})


def _run_queries(engine, a: dict) -> None:
    """Run each named saved query `repeat` times (fewer once it has used `budget` seconds)."""
    import hashlib

    from carnk_graph.errors import CarnkError, QueryTimeoutError
    from carnk_graph.catalogue import catalogue
    from carnk_graph.formats import format_csv
    from carnk_graph.queries import execute

    cat = catalogue(Path(a["root"]) / "queries")
    for name in a["queries"]:
        times: list[float] = []
        digest, rows = None, None
        while len(times) < a["repeat"]:
            t = time.perf_counter()
            try:
                result = execute(cat[name], engine, (), a["cap"])
            except QueryTimeoutError:
                emit({"name": name, "timeout": True, "peak_kb": peak_kb()})
                return  # a timed-out query may still run in a native thread: start afresh
            except CarnkError as e:
                emit({"name": name, "error": str(e), "peak_kb": peak_kb()})
                break
            times.append(time.perf_counter() - t)
            if digest is None:
                digest = hashlib.sha256(format_csv(result).encode()).hexdigest()[:16]
                rows = len(result.rows)
            if sum(times) + times[-1] > a["budget"]:
                break
        else:
            pass
        if times:
            emit({"name": name, "times": times, "rows": rows, "digest": digest, "peak_kb": peak_kb()})


def worker_oxigraph(a: dict) -> None:
    from carnk_graph.engines import OxigraphEngine
    from carnk_graph.store import open_store

    _run_queries(OxigraphEngine(open_store(Path(a["dist"]))), a)


def worker_rdflib(a: dict) -> None:
    from carnk_graph.engines import RdflibEngine

    t = time.perf_counter()
    engine = RdflibEngine.from_nquads(Path(a["nq"]))
    emit({"load_s": time.perf_counter() - t, "peak_kb": peak_kb()})
    _run_queries(engine, a)


def worker_validate(a: dict) -> None:
    """Validate a user data file together with the shipped knowledge graph, as `carnk-graph validate FILE`."""
    import hashlib

    from carnk_graph.project import find_project
    from carnk_graph.sources import load_sources, parse_graph
    from carnk_graph.shacl import store_from_files, validate

    src = load_sources(find_project(a["root"]))
    t = time.perf_counter()
    if a["engine"] == "turbo":
        data = store_from_files([a["file"]], extra=[src.kg])
    else:
        data = parse_graph(a["file"])
        data += src.kg
    parsed = time.perf_counter()
    result = validate(data, src.shapes, src.ontology, engine=a["engine"])
    done = time.perf_counter()
    digest = hashlib.sha256("\n".join(f.line() for f in result.findings).encode()).hexdigest()[:16]
    emit({"parse_s": parsed - t, "validate_s": done - parsed, "total_s": done - t, "counts": result.counts(),
          "digest": digest, "peak_kb": peak_kb()})


WORKERS = {"load": worker_load, "oxigraph": worker_oxigraph, "rdflib": worker_rdflib, "validate": worker_validate}


# -- running a worker with deadlines ----------------------------------------------------------------------

@dataclass
class WorkerRun:
    lines: list[dict] = field(default_factory=list)
    killed: bool = False      # a line did not come in time
    failed: str = ""          # the worker died (stderr tail)


def run_worker(name: str, args: dict, line_deadline: float) -> WorkerRun:
    """Run a worker; kill it when no line arrives within `line_deadline` seconds.

    The input-size cap (CARNK_MAX_INPUT_MB) is raised for workers: a user validating a 1M-triple
    file sets it too, and the cap is a safety default, not what is measured."""
    env = {**os.environ, "CARNK_MAX_INPUT_MB": os.environ.get("CARNK_MAX_INPUT_MB", "4096")}
    proc = subprocess.Popen([PY, str(Path(__file__).resolve()), "--worker", name, json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT), env=env)
    out = WorkerRun()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = ""
    deadline = time.monotonic() + line_deadline
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            proc.wait()
            out.killed = True
            break
        if not sel.select(timeout=min(remaining, 1.0)):
            continue
        chunk = proc.stdout.readline()
        if chunk == "":
            break
        buf = chunk
        if buf.strip():
            out.lines.append(json.loads(buf))
            deadline = time.monotonic() + line_deadline
    sel.close()
    proc.wait()
    if proc.returncode not in (0, None) and not out.killed:
        err = proc.stderr.read().strip().splitlines()
        out.failed = (err[-1] if err else f"exit {proc.returncode}")
    proc.stderr.close()
    proc.stdout.close()
    return out


def run_queries(engine: str, names: list[str], args: dict, line_deadline: float) -> tuple[dict, dict]:
    """Every query on one engine; a killed or timed-out worker is restarted for the remaining queries.
    Returns (per-query records, worker records such as rdflib's load time)."""
    results: dict[str, dict] = {}
    meta: dict = {}
    todo = list(names)
    while todo:
        run = run_worker(engine, {**args, "queries": todo}, line_deadline)
        for line in run.lines:
            if "name" in line:
                results[line["name"]] = line
            else:
                meta.update(line)
        done = [n for n in todo if n in results]
        todo = [n for n in todo if n not in results]
        if todo and (run.killed or run.failed):
            results[todo[0]] = {"name": todo[0], "timeout": run.killed, "error": run.failed or None}
            todo = todo[1:]
        elif todo and not done:
            for n in todo:
                results[n] = {"name": n, "error": run.failed or "no result"}
            break
    return results, meta


# -- sections ---------------------------------------------------------------------------------------------

#: The project measured: a snapshot of the sources taken at the start (see snapshot_project).
PROJECT = ROOT


def snapshot_project(work: Path) -> Path:
    """Copy the sources (ontology, shapes, queries) so that edits made while the benchmark runs
    neither change what is measured nor trigger rebuilds in the middle of a cold-query series."""
    snap = work / "project"
    if snap.exists():
        shutil.rmtree(snap)
    for part in ("ontology", "shapes", "queries"):
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, snap / part)
    return snap


def saved_query_names() -> list[str]:
    from carnk_graph.catalogue import catalogue

    return sorted(catalogue(PROJECT / "queries"))


def ensure_shipped_build(dist: Path) -> None:
    from carnk_graph.build import build

    build(PROJECT, dist)


def bound_query_text(name: str) -> str:
    """The saved query as the runner sends it (prefixes, default parameters), for `oxigraph query`."""
    from carnk_graph.namespaces import sparql_prologue
    from carnk_graph.catalogue import catalogue
    from carnk_graph.engines import OxigraphEngine
    from carnk_graph.params import bind_params
    from carnk_graph.structure import with_values

    q = catalogue(PROJECT / "queries")[name]
    bindings = bind_params(q, [])
    text, _, _ = with_values(q.text, {k: str(OxigraphEngine.native(v)) for k, v in bindings.items()})
    declared = {m.group(1) for m in re.finditer(r"(?im)^\s*PREFIX\s+([\w-]*):", text)}
    prologue = "".join(line for line in sparql_prologue().splitlines(keepends=True)
                       if line.split()[1].rstrip(":") not in declared)
    return prologue + text


def installed_env() -> dict:
    """The environment of a normal installation: bytecode caching on.

    pip writes .pyc files when it installs a wheel; an editable install under
    PYTHONDONTWRITEBYTECODE=1 (as on the project's machines) would recompile every module on every
    cold start, which is a property of this machine, not of the package."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_command(cmd: list[str], repeat: int, env: dict | None = None,
                 warm_up: bool = True) -> tuple[list[float], subprocess.CompletedProcess]:
    """Wall time of `repeat` fresh processes (after one unmeasured run that fills file and bytecode caches)."""
    env = env if env is not None else installed_env()
    if warm_up:
        subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), env=env)
    times, last = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        last = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), env=env)
        times.append(time.perf_counter() - t)
    return times, last


def import_profile(name: str, dist: Path) -> dict:
    """Top-level import cost of the cold query path, from `python -X importtime` on the installed command
    (pip's launcher script imports `re` itself: that is part of what a user waits for)."""
    exe = shutil.which("carnk-graph", path=str(Path(PY).parent))  # the installed command, launcher included
    start = [exe] if exe and Path(exe).read_bytes()[:2] == b"#!" else ["-m", "carnk_graph"]
    proc = subprocess.run([PY, "-X", "importtime", *start, "query", name, "--format", "csv",
                           "--root", str(PROJECT), "--dist", str(dist)], capture_output=True, text=True, cwd=str(ROOT),
                          env=installed_env())
    cumulative: dict[str, int] = {}
    everything: set[str] = set()
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if not m:
            continue
        everything.add(m.group(4))
        if m.group(3) == "":  # top level: its cumulative time includes its children
            top = m.group(4).split(".")[0]
            cumulative[top] = cumulative.get(top, 0) + int(m.group(2))
    heavy = sorted(n for n in ("rdflib", "pyshacl", "pyshacl_turbo", "owlready2", "pyparsing", "shifty")
                   if n in {m.split(".")[0] for m in everything})
    top = sorted(cumulative.items(), key=lambda kv: -kv[1])[:8]
    return {"total_us": sum(cumulative.values()), "top": top, "heavy": heavy}


def time_pair(ours: list[str], theirs: list[str] | None, repeat: int) -> tuple[list[float], list[float],
                                                                               subprocess.CompletedProcess,
                                                                               subprocess.CompletedProcess | None]:
    """Wall times of two commands run alternately (ours, theirs, ours, ...), after one unmeasured run of
    each: a burst of other work on the machine then slows both sides, not one, so the ratio holds."""
    env = installed_env()
    run = lambda cmd: subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), env=env)  # noqa: E731
    run(ours)
    if theirs:
        run(theirs)
    a, b, last_a, last_b = [], [], None, None
    for _ in range(repeat):
        t = time.perf_counter()
        last_a = run(ours)
        a.append(time.perf_counter() - t)
        if theirs:
            t = time.perf_counter()
            last_b = run(theirs)
            b.append(time.perf_counter() - t)
    return a, b, last_a, last_b


def section_cold(dist: Path, names: list[str], repeat: int, results: dict) -> None:
    say("== cold query: `carnk-graph query NAME --format csv` vs `oxigraph query`, shipped graph ==")
    exe = shutil.which("carnk-graph", path=str(Path(PY).parent)) or "carnk-graph"
    ox_cli = shutil.which("oxigraph", path=str(Path(PY).parent) + os.pathsep + os.environ.get("PATH", ""))
    floor, _ = time_command([PY, "-c", "pass"], repeat)
    say(f"python start-up alone: {fmt_s(median(floor))}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        say(f"{'query':48} {'carnk-graph':>12} {'oxigraph':>10} {'ratio':>7}  rows")
        for name in names:
            theirs_cmd = None
            if ox_cli:
                qf = Path(tmp) / f"{name}.rq"
                qf.write_text(bound_query_text(name), encoding="utf-8")
                theirs_cmd = [ox_cli, "query", "--location", str(dist / "store"), "--query-file", str(qf),
                              "--results-format", "csv", "--union-default-graph"]
            ours, theirs, proc, oproc = time_pair([exe, "query", name, "--format", "csv", "--root", str(PROJECT),
                                                   "--dist", str(dist)], theirs_cmd, repeat)
            if oproc is not None and oproc.returncode != 0:
                theirs = []
            lines = max(0, len(proc.stdout.splitlines()) - 1) if proc.returncode == 0 else None
            row = {"name": name, "carnk_s": median(ours), "oxigraph_s": median(theirs) if theirs else None,
                   "runs": repeat, "rows": lines, "ok": proc.returncode == 0,
                   "error": proc.stderr.strip().splitlines()[-1] if proc.returncode else ""}
            rows.append(row)
            ratio = f"{row['carnk_s'] / row['oxigraph_s']:.1f}x" if row["oxigraph_s"] else "-"
            flag = "" if row["ok"] else f"  FAILED: {row['error']}"
            if row["ok"] and row["carnk_s"] > TARGET_COLD_QUERY_S:
                flag += f"  over the {TARGET_COLD_QUERY_S:g} s target"
            say(f"{name:48} {fmt_s(row['carnk_s']):>12} {fmt_s(row['oxigraph_s']):>10} {ratio:>7}  {lines}{flag}")
    ratios = sorted((r["carnk_s"] / r["oxigraph_s"], r["name"]) for r in rows if r["ok"] and r["oxigraph_s"])
    if ratios:
        over = [n for x, n in ratios if x > TARGET_COLD_RATIO]
        say(f"ratio to `oxigraph query`: median {median([x for x, _ in ratios]):.2f}x, highest {ratios[-1][0]:.2f}x "
            f"({ratios[-1][1]}); target at most {TARGET_COLD_RATIO:g}x: "
            + ("met by every query" if not over else f"{len(over)} over ({', '.join(over)})"))
    profile = import_profile(names[0], dist) if names else {}
    if profile:
        say(f"import profile ({names[0]}): {profile['total_us'] / 1000:.0f} ms of imports; heaviest: "
            + ", ".join(f"{n} {us / 1000:.0f} ms" for n, us in profile["top"][:5])
            + f"; heavy libraries on the path: {', '.join(profile['heavy']) or 'none'}")
    results["cold"] = {"python_s": median(floor), "queries": rows, "import_profile": profile, "runs": repeat,
                       "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       "load": os.getloadavg()[0], "alternate": True}
    say()


def section_build(repeat: int, quick: bool, results: dict) -> None:
    say("== build of the shipped graph ==")
    exe = shutil.which("carnk-graph", path=str(Path(PY).parent)) or "carnk-graph"
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp) / "dist"
        cmd = [exe, "build", "--root", str(PROJECT), "--dist", str(dist)]
        first = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
        if first.returncode != 0:
            say(f"build failed: {first.stderr.strip().splitlines()[-1:]}")
            results["build"] = {"error": first.stderr.strip()[-300:]}
            return
        reasoner = next((ln.split("reasoner:")[1].strip() for ln in first.stdout.splitlines() if "reasoner:" in ln), "?")
        if not quick:
            forced, proc = time_command(cmd + ["--force"], repeat)
            stages = next((ln for ln in proc.stdout.splitlines() if ln.startswith("time:")), "")
            out.update(build_s=median(forced), build_runs=len(forced), stages=stages, reasoner=reasoner)
            flag = "" if median(forced) <= TARGET_BUILD_S else f"  over the {TARGET_BUILD_S:g} s target"
            say(f"build --force: {fmt_s(median(forced))} (median of {len(forced)}; reasoner {reasoner}){flag}")
            say(f"  stages of the last run: {stages.removeprefix('time: ')}")
        same, proc = time_command(cmd, repeat)
        up_to_date = "up to date" in proc.stdout
        out.update(rebuild_s=median(same), rebuild_runs=len(same), rebuild_skipped=up_to_date)
        flag = "" if median(same) <= TARGET_REBUILD_S else f"  over the {TARGET_REBUILD_S:g} s target"
        say(f"rebuild, no source change: {fmt_s(median(same))} (median of {len(same)}; "
            f"{'nothing rebuilt' if up_to_date else 'REBUILT'}){flag}")
        from carnk_graph.layout import is_current
        from carnk_graph.project import find_project

        t = time.perf_counter()
        for _ in range(repeat):
            is_current(find_project(PROJECT), dist)
        out["is_current_s"] = (time.perf_counter() - t) / repeat
        say(f"  of which the up-to-date check (content hashes, in process): {fmt_s(out['is_current_s'])}")
    results["build"] = out
    say()


def _padded_project(work: Path, pad_mb: int) -> Path:
    """A copy of the sources plus long rdfs:comment values on one individual: the same store
    answers, but every release file (six serialisations, the artefacts) is pad_mb MB bigger."""
    padded = work / f"padded-{pad_mb}mb"
    if padded.exists():
        shutil.rmtree(padded)
    for part in ("ontology", "shapes", "queries"):
        if (PROJECT / part).is_dir():
            shutil.copytree(PROJECT / part, padded / part)
    from carnk_graph.namespaces import KG

    chunk = 4  # MB per literal; files stay far under the input cap
    for f in range(max(1, pad_mb // 16)):
        lines = [f"<{KG}nk-cell> <http://www.w3.org/2000/01/rdf-schema#comment> "
                 f'"padding {f}-{i} {"x" * (chunk << 20)}"@en .' for i in range(min(4, pad_mb // chunk))]
        (padded / "ontology" / "kg" / f"zz-padding-{f}.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return padded


def section_freshness(repeat: int, quick: bool, work: Path, results: dict) -> None:
    """Issue 15: a cold query decides "is the release current" from sizes and mtimes, so its time
    must not grow with the size of release files it does not read (only the store is read)."""
    say("== cold query vs the size of the other release files ==")
    from carnk_graph.build import build
    from carnk_graph.layout import is_current, is_fresh
    from carnk_graph.project import find_project

    exe = shutil.which("carnk-graph", path=str(Path(PY).parent)) or "carnk-graph"
    tiny = work / "tiny.rq"
    tiny.write_text("# title: one row at most\nSELECT ?s WHERE { ?s a <urn:carnk:none> } LIMIT 1\n", encoding="utf-8")
    rows = []
    for pad_mb in (0, 8 if quick else 64):
        project = _padded_project(work, pad_mb) if pad_mb else PROJECT
        dist = work / f"fresh-dist-{pad_mb}"
        build(project, dist, no_reason=True)
        size = sum(p.stat().st_size for p in dist.iterdir() if p.name != "store" and not p.name.startswith("."))
        times, proc = time_command([exe, "query", str(tiny), "--format", "csv", "--root", str(project),
                                    "--dist", str(dist)], repeat)
        paths = find_project(project)
        t = time.perf_counter()
        for _ in range(repeat):
            assert is_fresh(paths, dist)
        fresh_s = (time.perf_counter() - t) / repeat
        t = time.perf_counter()
        for _ in range(repeat):
            is_current(paths, dist)
        digest_s = (time.perf_counter() - t) / repeat
        row = {"release_files_mb": size / 1e6, "cold_query_s": median(times), "ok": proc.returncode == 0,
               "is_fresh_s": fresh_s, "is_current_s": digest_s}
        rows.append(row)
        say(f"release files {row['release_files_mb']:7.1f} MB: cold query {fmt_s(row['cold_query_s'])} "
            f"(median of {repeat}); freshness check (sizes, mtimes) {fmt_s(fresh_s)}; "
            f"digest check (build only) {fmt_s(digest_s)}" + ("" if row["ok"] else "  FAILED"))
    if len(rows) == 2 and rows[0]["cold_query_s"]:
        say(f"cold query with {rows[1]['release_files_mb']:.0f} MB of release files / with "
            f"{rows[0]['release_files_mb']:.0f} MB: {rows[1]['cold_query_s'] / rows[0]['cold_query_s']:.2f}x")
    results["freshness"] = {"rows": rows, "runs": repeat}
    say()


def section_scale(n: int, shipped: Path, names: list[str], a: argparse.Namespace, work: Path, results: dict) -> None:
    import synth

    label = size_label(n)
    say(f"== scale: {label} triples (shipped release + synthetic) ==")
    d = work / label
    d.mkdir(parents=True, exist_ok=True)
    shipped_nq = shipped / "carnk.nq"
    shipped_count = sum(1 for _ in shipped_nq.open("rb"))
    synth_nq, user_nt, combined = d / "synth.nq", d / "user-data.nt", d / "combined.nq"
    pools = synth.read_pools(PROJECT)
    synth_count = synth.write(synth_nq, max(0, n - shipped_count), seed=a.seed, pools=pools)
    synth.write(user_nt, n, seed=a.seed + 1, invalid_rate=a.invalid_rate, pools=pools)
    with combined.open("wb") as out:
        for f in (shipped_nq, synth_nq):
            with f.open("rb") as src:
                shutil.copyfileobj(src, out)
    total = shipped_count + synth_count
    rec: dict = {"triples": total, "shipped": shipped_count}
    say(f"dataset: {total} triples ({shipped_count} shipped + {synth_count} synthetic)")

    loads = []
    for _ in range(a.load_repeat):
        run = run_worker("load", {"dist": str(d / "dist"), "files": [str(combined)]}, a.cap * 10)
        if run.lines:
            loads.append(run.lines[0])
        else:
            say(f"load failed: {run.failed or 'killed'}")
            break
    rec["load_s"] = median([x["load_s"] for x in loads])
    rec["load_peak_kb"] = max((x["peak_kb"] for x in loads), default=None)
    rec["load_runs"] = len(loads)
    flag = "  over the 10 s target" if n >= 1_000_000 and rec["load_s"] > TARGET_LOAD_1M_S else ""
    say(f"load into the embedded store: {fmt_s(rec['load_s'])} (median of {len(loads)}), "
        f"peak {fmt_mb(rec['load_peak_kb'])}{flag}")

    common = {"repeat": a.repeat, "cap": a.cap, "budget": a.budget, "root": str(PROJECT)}
    ox_res, ox_meta = run_queries("oxigraph", names, {**common, "dist": str(d / "dist")}, a.cap + a.budget + 30)
    rd_res, rd_meta = ({}, {})
    if not a.skip_rdflib:
        rd_res, rd_meta = run_queries("rdflib", names, {**common, "nq": str(combined)},
                                      max(a.cap + a.budget + 30, 600))
        say(f"rdflib load of the same N-Quads: {fmt_s(rd_meta.get('load_s'))}, "
            f"peak {fmt_mb(rd_meta.get('peak_kb'))}")
    rec["rdflib_load_s"] = rd_meta.get("load_s")
    rec["rdflib_load_peak_kb"] = rd_meta.get("peak_kb")

    say(f"{'query':48} {'oxigraph':>10} {'rdflib':>10} {'ratio':>8} {'rows':>6}  notes")
    qrows = []
    for name in names:
        o, r = ox_res.get(name, {}), rd_res.get(name, {})
        ot = median(o["times"]) if o.get("times") else None
        rt = median(r["times"]) if r.get("times") else None
        notes = []
        if o.get("timeout"):
            notes.append(f"oxigraph > {a.cap:g} s")
        if o.get("error"):
            notes.append(f"oxigraph error: {o['error']}")
        if r.get("timeout"):
            notes.append(f"rdflib > {a.cap:g} s")
        elif r.get("error"):
            notes.append(f"rdflib error: {r['error']}")
        if o.get("digest") and r.get("digest") and o["digest"] != r["digest"]:
            notes.append("ENGINES DISAGREE")
        if ot is not None and n >= 1_000_000 and ot > TARGET_QUERY_1M_S:
            notes.append(f"over the {TARGET_QUERY_1M_S:g} s target")
        rd_text = f"> {a.cap:g} s" if r.get("timeout") else fmt_s(rt)
        ratio = fmt_ratio(rt, ot) if rt and ot else (f"> {a.cap / ot:.0f}x" if r.get("timeout") and ot else "-")
        runs = f"{len(o.get('times', []))}/{len(r.get('times', []))}"
        qrows.append({"name": name, "oxigraph_s": ot, "rdflib_s": rt, "rdflib_timeout": bool(r.get("timeout")),
                      "oxigraph_timeout": bool(o.get("timeout")), "rows": o.get("rows"), "runs": runs,
                      "agree": (o.get("digest") == r.get("digest")) if r.get("digest") else None, "notes": notes})
        say(f"{name:48} {fmt_s(ot) if not o.get('timeout') else '> cap':>10} {rd_text:>10} {ratio:>8} "
            f"{o.get('rows', '-')!s:>6}  {'; '.join(notes)}")
    rec["queries"] = qrows
    rec["query_peak_kb"] = {"oxigraph": max((x.get("peak_kb", 0) for x in ox_res.values()), default=None),
                            "rdflib": max((x.get("peak_kb", 0) for x in rd_res.values()), default=None)}
    say(f"peak memory while querying: oxigraph {fmt_mb(rec['query_peak_kb']['oxigraph'])}, "
        f"rdflib {fmt_mb(rec['query_peak_kb']['rdflib'])}")

    val = {}
    for engine in ("turbo", "pyshacl"):
        if engine == "turbo":
            from carnk_graph.shacl import turbo_available
            if not turbo_available():
                continue
        cap = a.validate_cap
        runs = []
        for _ in range(a.validate_repeat if engine == "turbo" or n <= 10_000 else 1):
            run = run_worker("validate", {"engine": engine, "file": str(user_nt), "root": str(PROJECT)}, cap)
            if run.killed:
                runs = [{"timeout": True}]
                break
            if run.failed or not run.lines:
                runs = [{"error": run.failed or "no result"}]
                break
            runs.append(run.lines[0])
        ok = [x for x in runs if "total_s" in x]
        val[engine] = {
            "total_s": median([x["total_s"] for x in ok]) if ok else None,
            "validate_s": median([x["validate_s"] for x in ok]) if ok else None,
            "parse_s": median([x["parse_s"] for x in ok]) if ok else None,
            "runs": len(ok), "timeout": any(x.get("timeout") for x in runs),
            "error": next((x["error"] for x in runs if x.get("error")), None),
            "counts": ok[0]["counts"] if ok else None, "digest": ok[0]["digest"] if ok else None,
            "peak_kb": max((x["peak_kb"] for x in ok), default=None),
        }
    rec["validation"] = val
    for engine, v in val.items():
        what = f"> {a.validate_cap:g} s" if v["timeout"] else (f"error: {v['error']}" if v["error"] else
               f"{fmt_s(v['total_s'])} (parse {fmt_s(v['parse_s'])} + validate {fmt_s(v['validate_s'])}, "
               f"median of {v['runs']}), peak {fmt_mb(v['peak_kb'])}, {v['counts']}")
        flag = ""
        if engine == "turbo" and n == 100_000 and v.get("total_s") and v["total_s"] > TARGET_VALIDATE_100K_S:
            flag = f"  over the {TARGET_VALIDATE_100K_S:g} s target"
        say(f"validate {label} user triples + shipped kg, {engine}: {what}{flag}")
    if len(val) == 2 and all(v["digest"] for v in val.values()):
        same = val["turbo"]["digest"] == val["pyshacl"]["digest"]
        rec["validation_agree"] = same
        ratio = val["pyshacl"]["total_s"] / val["turbo"]["total_s"]
        say(f"  pyshacl / pyshacl-turbo: {ratio:.1f}x; same findings: {'yes' if same else 'NO'}")
    results.setdefault("scale", {})[label] = rec
    say()


# -- the README ------------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = ""
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
        mem = f"{kb / 1048576:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = {}
    for mod in ("pyoxigraph", "rdflib", "pyshacl", "pyshacl_turbo", "owlready2"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod.replace("_", "-"))
        except Exception:
            versions[mod] = "absent"
    ox_cli = shutil.which("oxigraph", path=str(Path(PY).parent) + os.pathsep + os.environ.get("PATH", ""))
    if ox_cli:
        versions["oxigraph CLI"] = subprocess.run([ox_cli, "--version"], capture_output=True, text=True).stdout.split()[-1:]
        versions["oxigraph CLI"] = versions["oxigraph CLI"][0] if versions["oxigraph CLI"] else "?"
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}",
            "versions": versions, "load": os.getloadavg()}


def render_figures(results: dict) -> str:
    m = results["machine"]
    lines = [f"Run {results['date']} with `{results['command']}`.", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['system']}; Python {m['python']}; "
             + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
             f"Load average at the start {results['load_start'][0]:.1f}, at the end {results['load_end'][0]:.1f} "
             "(other work on the machine makes every figure noisier and slower).", ""]
    cold = results.get("cold")
    if cold:
        when = (f"Measured {cold['date']} (load average {cold['load']:.1f}), apart from the run above. "
                if cold.get("date") and cold["date"] != results.get("date") else "")
        lines += ["### Cold query (shipped graph, one fresh process per run)", "",
                  f"{when}Median of {cold['runs']} runs each"
                  + (", the two commands run alternately" if cold.get("alternate") else "")
                  + f". Python start-up alone: {fmt_s(cold['python_s'])}. Target: {TARGET_COLD_QUERY_S:g} s, and at "
                  f"most {TARGET_COLD_RATIO:g}x `oxigraph query` (issue 15).", "",
                  "| query | `carnk-graph query --format csv` | `oxigraph query` | ratio | rows |",
                  "|---|---:|---:|---:|---:|"]
        for r in cold["queries"]:
            ratio = fmt_ratio(r["carnk_s"], r["oxigraph_s"])
            lines.append(f"| {r['name']} | {fmt_s(r['carnk_s'])}{'' if r['ok'] else ' (failed)'} | "
                         f"{fmt_s(r['oxigraph_s'])} | {ratio} | {r['rows'] if r['rows'] is not None else '-'} |")
        ok = [r for r in cold["queries"] if r["ok"]]
        if ok:
            lines += ["", f"Median over all saved queries: carnk-graph {fmt_s(median([r['carnk_s'] for r in ok]))}, "
                      f"oxigraph {fmt_s(median([r['oxigraph_s'] for r in ok if r['oxigraph_s']]))}."]
            ratios = sorted((r["carnk_s"] / r["oxigraph_s"], r["name"]) for r in ok if r["oxigraph_s"])
            if ratios:
                over = [n for x, n in ratios if x > TARGET_COLD_RATIO]
                lines.append(f"Ratio to `oxigraph query` (the two commands run alternately): median "
                             f"{median([x for x, _ in ratios]):.2f}x, highest {ratios[-1][0]:.2f}x ({ratios[-1][1]}); "
                             f"target at most {TARGET_COLD_RATIO:g}x: "
                             + ("met by every query." if not over else f"{len(over)} over ({', '.join(over)})."))
        p = cold.get("import_profile")
        if p:
            lines += ["", f"Import profile of the query path (`python -X importtime $(which carnk-graph) query ...`): "
                      f"{p['total_us'] / 1000:.0f} ms of imports; heaviest top-level modules: "
                      + ", ".join(f"{n} {us / 1000:.0f} ms" for n, us in p["top"][:6])
                      + f". Heavy libraries on the path: {', '.join(p['heavy']) or 'none'}."]
        lines.append("")
    b = results.get("build")
    if b and "rebuild_s" in b:
        lines += ["### Build of the shipped graph", ""]
        if "build_s" in b:
            lines.append(f"- `carnk-graph build --force`: **{fmt_s(b['build_s'])}** (median of {b['build_runs']}; "
                         f"reasoner {b['reasoner']}; target {TARGET_BUILD_S:g} s). Stages of the last run: "
                         f"{b['stages'].removeprefix('time: ')}.")
        lines.append(f"- Rebuild with no source change: **{fmt_s(b['rebuild_s'])}** (median of {b['rebuild_runs']}, "
                     f"a fresh process each; {'nothing rebuilt' if b['rebuild_skipped'] else 'rebuilt!'}; "
                     f"target {TARGET_REBUILD_S:g} s); the content-hash check itself takes {fmt_s(b['is_current_s'])}.")
        lines.append("")
    fr = results.get("freshness")
    if fr and len(fr["rows"]) == 2:
        small, big = fr["rows"]
        lines += ["### Cold query and the size of the other release files", "",
                  "The same store, with the release files (serialisations, artefacts) padded by long comments. "
                  "A cold query decides freshness from the sizes and mtimes recorded at build time; only "
                  "`build` compares digests.", "",
                  "| release files | cold query | freshness check (sizes, mtimes) | digest check (build) |",
                  "|---:|---:|---:|---:|"]
        for r in (small, big):
            lines.append(f"| {r['release_files_mb']:.1f} MB | {fmt_s(r['cold_query_s'])} | {fmt_s(r['is_fresh_s'])} "
                         f"| {fmt_s(r['is_current_s'])} |")
        lines += ["", f"Median of {fr['runs']} runs each; ratio of the cold queries "
                      f"{big['cold_query_s'] / small['cold_query_s']:.2f}x.", ""]
    for label, rec in results.get("scale", {}).items():
        lines += [f"### Scale: {label} triples", "",
                  f"{rec['triples']} triples: the shipped release ({rec['shipped']}) plus synthetic data "
                  f"(`benchmarks/synth.py`). Load into the embedded store: **{fmt_s(rec['load_s'])}** "
                  f"(median of {rec['load_runs']}, peak {fmt_mb(rec['load_peak_kb'])}). rdflib load of the same "
                  f"N-Quads: {fmt_s(rec.get('rdflib_load_s'))} (peak {fmt_mb(rec.get('rdflib_load_peak_kb'))}).", "",
                  "| saved query | embedded store (pyoxigraph) | rdflib | ratio | rows | runs | notes |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for q in rec["queries"]:
            rd = f"> {results.get('cap', 60):g} s" if q["rdflib_timeout"] else fmt_s(q["rdflib_s"])
            ratio = (fmt_ratio(q["rdflib_s"], q["oxigraph_s"]) if q["rdflib_s"] else
                     f"> {results.get('cap', 60) / q['oxigraph_s']:.0f}x" if q["rdflib_timeout"] and q["oxigraph_s"] else "-")
            lines.append(f"| {q['name']} | {'> cap' if q['oxigraph_timeout'] else fmt_s(q['oxigraph_s'])} | {rd} | "
                         f"{ratio} | {q['rows'] if q['rows'] is not None else '-'} | {q['runs']} | "
                         f"{'; '.join(q['notes'])} |")
        qp = rec.get("query_peak_kb", {})
        lines += ["", f"Peak memory while querying: embedded store {fmt_mb(qp.get('oxigraph'))}, "
                  f"rdflib {fmt_mb(qp.get('rdflib'))}."]
        val = rec.get("validation", {})
        if val:
            lines += ["", f"Validation of {label} triples of user data (plus the shipped knowledge graph), "
                      "as `carnk-graph validate FILE` does it:", ""]
            for engine, v in val.items():
                name = "pyshacl-turbo (Store path)" if engine == "turbo" else "pyshacl (reference)"
                if v["timeout"]:
                    lines.append(f"- {name}: > {results.get('validate_cap', 0):g} s (stopped)")
                elif v["error"]:
                    lines.append(f"- {name}: error {v['error']}")
                else:
                    lines.append(f"- {name}: **{fmt_s(v['total_s'])}** (parse {fmt_s(v['parse_s'])} + validate "
                                 f"{fmt_s(v['validate_s'])}; median of {v['runs']}; peak {fmt_mb(v['peak_kb'])}); "
                                 f"findings: {v['counts']['Violation']} violation(s), {v['counts']['Warning']} warning(s)")
            if "validation_agree" in rec:
                lines.append(f"- same findings on both engines: {'yes' if rec['validation_agree'] else '**no**'}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_readme(results: dict) -> None:
    text = README.read_text(encoding="utf-8") if README.is_file() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n## Latest figures\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + "\n" + render_figures(results) + END + tail, encoding="utf-8")


# -- main -----------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="triples per scale step, comma-separated")
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (medians are printed)")
    ap.add_argument("--cap", type=float, default=60.0, help="seconds a query may take before it is stopped")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds of repeated runs per query before stopping early")
    ap.add_argument("--validate-cap", type=float, default=300.0, help="seconds a validation may take")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--invalid-rate", type=float, default=0.002, help="defect rate of the synthetic user data")
    ap.add_argument("--dist", type=Path, help="an existing build of the shipped graph (default: build one)")
    ap.add_argument("--work", type=Path, help="folder for generated data and stores (default: a temporary one)")
    ap.add_argument("--quick", action="store_true",
                    help="one run each, one cold query, no forced build: checks the benchmark still works")
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--skip-freshness", action="store_true", help="skip the cold query vs release-size section")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-rdflib", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--write-readme", action="store_true", help="put the figures into benchmarks/README.md")
    a = ap.parse_args(argv)
    a.sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    if a.quick:
        a.repeat = 1
    a.load_repeat = a.repeat
    a.validate_repeat = a.repeat
    return a


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        WORKERS[sys.argv[2]](json.loads(sys.argv[3]))
        return 0
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--render-json":
        write_readme(json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))  # figures of an earlier run
        return 0
    a = parse_args(argv)
    from carnk_graph.progress import track

    results: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "command": "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
                     "load_start": os.getloadavg(), "machine": machine()}
    work_ctx = tempfile.TemporaryDirectory(prefix="carnk-bench-") if a.work is None else None
    work = Path(work_ctx.name) if work_ctx else a.work
    work.mkdir(parents=True, exist_ok=True)
    global PROJECT
    try:
        PROJECT = snapshot_project(work) if a.dist is None else ROOT
        shipped = a.dist or work / "shipped-dist"
        if a.dist is None:
            say("building the shipped graph once for the measurements ...")
            ensure_shipped_build(shipped)
        names = saved_query_names()
        say(f"{len(names)} saved queries; machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; "
            f"load average {results['load_start'][0]:.1f}\n")
        if not a.skip_cold:
            section_cold(shipped, names[:1] if a.quick else names, a.repeat, results)
        if not a.skip_build:
            section_build(a.repeat, a.quick, results)
        if not a.skip_freshness:
            section_freshness(a.repeat, a.quick, work, results)
        if not a.skip_scale:
            for n in track(a.sizes, "scale"):
                section_scale(n, shipped, names, a, work, results)
    finally:
        if work_ctx:
            work_ctx.cleanup()
    results["load_end"] = os.getloadavg()
    results["cap"] = a.cap
    results["validate_cap"] = a.validate_cap
    if a.json:
        a.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    if a.write_readme:
        write_readme(results)
        say(f"figures written to {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
