#!/usr/bin/env python3
"""How long `carnk-graph site` takes, for the shipped graph and for synthetic graphs of 10k and 100k triples.

    python benchmarks/site.py                      # shipped, 10k, 100k (about a minute)
    python benchmarks/site.py --sizes 10000 --repeat 1

The target (issue 16): under 5 s for the shipped graph, and linear in the size of the graph. Each
synthetic step is the shipped release plus benchmarks/synth.py's data of that size (same vocabulary:
products, constructs with ordered domain positions, outcomes, toxicity findings, sources), in a
temporary dist/ of its own; the time is render (read the release, draw every page and file) plus
write (the files into a fresh folder, swapped in), the median of --repeat runs, in wall-clock and in
CPU seconds (on a shared machine the CPU time is what an idle one takes). Printed as a table and
written to benchmarks/site-figures.json.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def shipped_dist(work: Path) -> Path:
    """A build of the shipped graph (HermiT when Java is there, else OWL 2 RL)."""
    from carnk_graph.build import build

    dist = work / "shipped"
    build(ROOT, dist)
    return dist


def scaled_dist(shipped: Path, n: int, work: Path) -> Path:
    """A dist/ whose release is the shipped one plus `n` synthetic triples (N-Quads only: what the site reads)."""
    from carnk_graph.layout import Release

    dist = work / f"synth-{n}"
    dist.mkdir()
    synth = work / f"synth-{n}.nq"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "synth.py"), "--triples", str(n), "-o", str(synth)],
                   check=True)
    rel = Release(shipped)
    (dist / "carnk.nq").write_bytes(rel.nquads.read_bytes() + synth.read_bytes())
    (dist / "build.json").write_bytes(rel.stamp_path.read_bytes())
    return dist


def measure(dist: Path, repeat: int) -> dict:
    from carnk_graph.site.build import SITE_DIR, render_site, write_site

    renders, writes, cpus = [], [], []
    files: dict = {}
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        files = render_site(dist, ROOT / "queries", ROOT / "docs" / "overview.svg")
        mid = time.perf_counter()
        write_site(dist / SITE_DIR, files)
        writes.append(time.perf_counter() - mid)
        renders.append(mid - start)
        cpus.append(time.process_time() - cpu)
    triples = sum(1 for line in (dist / "carnk.nq").read_bytes().splitlines() if line.strip())
    total = [r + w for r, w in zip(renders, writes)]
    return {"triples": triples, "pages": sum(1 for p in files if p.endswith(".html")), "files": len(files),
            "render_s": round(statistics.median(renders), 2), "write_s": round(statistics.median(writes), 2),
            "total_s": round(statistics.median(total), 2),
            "cpu_s": round(statistics.median(cpus), 2),  # what the wall time is on an idle machine
            "us_per_triple": round(statistics.median(total) / triples * 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="synthetic triples per step, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "site-figures.json")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="carnk-site-bench-"))
    try:
        shipped = shipped_dist(work)
        rows = {"shipped": measure(shipped, a.repeat)}
        for n in (int(s) for s in a.sizes.split(",") if s.strip()):
            rows[f"+{n // 1000}k"] = measure(scaled_dist(shipped, n, work), a.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'graph':<10} {'triples':>8} {'pages':>7} {'files':>7} {'render':>8} {'write':>7} {'total':>7} "
          f"{'cpu':>7} {'us/triple':>10}")
    for name, r in rows.items():
        print(f"{name:<10} {r['triples']:>8} {r['pages']:>7} {r['files']:>7} {r['render_s']:>7.2f}s "
              f"{r['write_s']:>6.2f}s {r['total_s']:>6.2f}s {r['cpu_s']:>6.2f}s {r['us_per_triple']:>10}")
    a.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
