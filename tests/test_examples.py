"""Every script under examples/ runs to completion on a fresh build (it documents the API, so it must work)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_there_is_an_example():
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_in_a_temporary_dist(script, project_root, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNK_")}
    proc = subprocess.run([sys.executable, str(script), "--root", str(project_root), "--dist", str(tmp_path / "dist")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip()
    assert (tmp_path / "dist" / "build.json").is_file()


def test_the_tour_shows_the_liu_2020_domains_in_order(project_root, tmp_path):
    script = next(p for p in EXAMPLES if p.name == "notebook_tour.py")
    out = subprocess.run([sys.executable, str(script), "--root", str(project_root), "--dist", str(tmp_path / "dist")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=True).stdout
    numbered = [line.strip().split(".", 1)[0] for line in out.splitlines() if line.startswith("  ") and ". " in line]
    assert numbered[:3] == ["1", "2", "3"]
