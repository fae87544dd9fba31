"""The package as an index shows it: `python -m build` makes an sdist and a wheel that `twine check`
passes, the metadata names the project's URLs, and the README works on a package index page (no
relative link, every link to a project file points at a file that exists)."""
from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

#: Where the README's links to project files live: the project's persistent base (namespaces.BASE).
FILE_BASE = "https://w3id.org/carnk/"
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
#: Markdown links and images, and HTML src/href attributes.
LINKS = re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", README) + re.findall(r"(?:src|href)=\"([^\"]+)\"", README)


def test_the_readme_has_links():
    assert any(link.endswith("overview.svg") for link in LINKS)


@pytest.mark.parametrize("link", LINKS)
def test_every_readme_link_is_absolute(link):
    """A package index shows the README alone: a relative link or image breaks there."""
    assert re.match(r"https?://", link) or link.startswith("#"), f"{link} is relative"


@pytest.mark.parametrize("link", [link for link in LINKS if link.startswith(FILE_BASE)])
def test_every_link_to_a_project_file_names_a_file_that_exists(link):
    path = link[len(FILE_BASE):].split("#")[0]
    assert (PROJECT_ROOT / path).is_file(), f"{link}: no {path} in the project"


def test_the_metadata_names_the_project_urls():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    from carnk_graph.namespaces import BASE

    urls = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Homepage"] == BASE == FILE_BASE
    for url in urls.values():
        if url.startswith(FILE_BASE) and url != FILE_BASE:
            assert (PROJECT_ROOT / url[len(FILE_BASE):]).is_file(), url


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """sdist and wheel of this checkout (no isolation: hatchling comes with the test extra, no download)."""
    pytest.importorskip("build", reason="build is in the test extra: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("packages")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out),
                           str(PROJECT_ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_twine_check_passes_on_the_sdist_and_the_wheel(built):
    pytest.importorskip("twine", reason="twine is in the test extra: pip install -e '.[test]'")
    files = sorted(str(p) for p in built.iterdir())
    assert len(files) == 2
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_wheel_metadata_renders_the_readme_as_markdown(built):
    wheel = next(built.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode("utf-8")
    assert "Description-Content-Type: text/markdown" in meta
    assert f"Project-URL: Homepage, {FILE_BASE}" in meta
    assert "](https://w3id.org/carnk/docs/overview.svg)" in meta


@pytest.mark.slow
def test_the_sdist_holds_every_linked_file_and_no_build_leftovers(built):
    sdist = next(built.glob("*.tar.gz"))
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for link in LINKS:
        if link.startswith(FILE_BASE):
            assert link[len(FILE_BASE):] in names, link
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv/", "dist/"))]


@pytest.mark.slow
def test_the_wheel_installs_the_command_as_an_executable_script_of_our_own(built):
    """pip's entry-point launcher imports `re` before any of our code (a sixth of a cold query): the
    wheel carries scripts/carnk-graph instead, executable, with the `#!python` line pip rewrites."""
    wheel = next(built.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        info = z.getinfo("carnk_graph-0.1.0.data/scripts/carnk-graph")
        text = z.read(info).decode("utf-8")
        names = z.namelist()
    assert info.external_attr >> 16 & 0o111
    assert text.startswith("#!python\n") and "import re" not in text
    assert not any(n.endswith(".dist-info/entry_points.txt") for n in names)


@pytest.mark.slow
def test_the_sdist_carries_the_command_script(built):
    sdist = next(built.glob("*.tar.gz"))
    with tarfile.open(sdist) as t:
        member = next(m for m in t.getmembers() if m.name.endswith("/scripts/carnk-graph"))
    assert member.mode & 0o111
