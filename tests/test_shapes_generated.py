"""The shapes and their fixtures are what tools/generate_shapes.py writes from its spec, byte for byte.

Shapes are generated, never hand-edited: a hand edit of shapes/*.ttl or of a fixture, or a spec
change nobody regenerated, fails here with the file that differs.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_regenerating_the_shapes_and_fixtures_changes_nothing(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "tools" / "generate_shapes.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    generated_shapes, shipped_shapes = _files(tmp_path / "shapes"), _files(ROOT / "shapes")
    assert sorted(generated_shapes) == sorted(shipped_shapes)
    assert [n for n in shipped_shapes if shipped_shapes[n] != generated_shapes[n]] == []
    generated, shipped = _files(tmp_path / "fixtures"), _files(ROOT / "tests" / "data" / "shapes")
    assert sorted(generated) == sorted(shipped)
    assert [n for n in shipped if shipped[n] != generated[n]] == []
