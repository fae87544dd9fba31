"""The embedded Oxigraph store in dist/store: fill it from a build, open it, query it.

This module imports only pyoxigraph, so the query path stays light. A build fills
the store inside its new release folder; the release switch (layout.py) makes it
current together with the release files, so a reader never sees a half-filled store.
"""
from __future__ import annotations

import os

from .errors import BadInputError
from .layout import STORE_DIR, replace_directory

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Iterable


def fill_store(dist: Path, quads: Iterable, name: str = STORE_DIR) -> Path:
    """Build a store holding `quads` beside the old one, then replace the old one."""
    import pyoxigraph as ox

    def fill(folder: Path) -> None:
        store = ox.Store(str(folder))
        store.bulk_extend(quads)
        store.flush()  # no optimize(): a compaction costs ~15% of a 1M-triple load and queries do not need it
        del store

    return replace_directory(dist / name, fill, "the embedded store")


def open_store(dist: str | os.PathLike, name: str = STORE_DIR):
    """Open the built store read-only (several readers may share it)."""
    import pyoxigraph as ox

    path = os.path.join(dist, name)
    if not os.path.isdir(path):
        raise BadInputError("no built store: run `carnk-graph build` first", path=path)
    try:
        return ox.Store.read_only(path)
    except OSError as e:
        raise BadInputError(f"cannot open the embedded store: {e}", path=path) from None


def count_per_graph(store) -> dict[str, int]:
    """Triples per named graph, by IRI."""
    res = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {sol["g"].value: int(sol["n"].value) for sol in res}
