"""Session fixtures: the real project, built once into a temporary dist/."""
from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The shipped graph built once (with the default reasoner) into a temporary dist/."""
    from carnk_graph.build import build

    return build(PROJECT_ROOT, tmp_path_factory.mktemp("built") / "dist")


@pytest.fixture(scope="session")
def release_graphs(built):
    """The built release's named graphs as rdflib Graphs, keyed ontology / kg / inferred."""
    from carnk_graph.release import read_release_graphs

    return read_release_graphs(built.dist)


#: Fixtures that start a server process (oxigraph serve, virtuoso-t): a test using one is slow.
SERVER_FIXTURES = {"store", "oxigraph_store", "virtuoso_store", "loaded"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses a real store `slow`, so `pytest -m "not slow"` starts no server."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
