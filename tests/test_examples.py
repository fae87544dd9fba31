"""Every script under examples/ runs to completion on a fresh build (it documents the API, so it must work)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
_RUNS: dict[Path, subprocess.CompletedProcess] = {}


def run_example(script: Path, project_root: Path, tmp_path_factory) -> subprocess.CompletedProcess:
    """Run a script once per session, in a temporary working folder and a temporary dist."""
    if script not in _RUNS:
        work = tmp_path_factory.mktemp(script.stem)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARNK_")}
        _RUNS[script] = subprocess.run(
            [sys.executable, str(script), "--root", str(project_root), "--dist", str(work / "dist")],
            cwd=work, env=env, capture_output=True, text=True, timeout=600)
        _RUNS[script].dist = work / "dist"
    return _RUNS[script]


def test_there_is_an_example():
    assert EXAMPLES


@pytest.mark.slow  # a fresh build of the real project (with HermiT) in a child process
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_in_a_temporary_dist(script, project_root, tmp_path_factory):
    proc = run_example(script, project_root, tmp_path_factory)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip()
    assert (proc.dist / "build.json").is_file()


@pytest.mark.slow
def test_the_tour_shows_the_liu_2020_domains_in_order(project_root, tmp_path_factory):
    script = next(p for p in EXAMPLES if p.name == "notebook_tour.py")
    out = run_example(script, project_root, tmp_path_factory).stdout
    numbered = [line.strip().split(".", 1)[0] for line in out.splitlines() if line.startswith("  ") and ". " in line]
    assert numbered[:3] == ["1", "2", "3"]
