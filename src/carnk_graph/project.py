"""Where a project's sources are: a clone (found from the working directory), or the copy in the wheel.

Every command starts here, a cold query too, so this module imports only `os`, `pathlib`
and `collections`: no parser, no `dataclasses` (whose `inspect` import costs about 5 ms).
"""
from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

from .errors import BadInputError

PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


_FIELDS = "root ontology kg shapes queries checks mappings context packaged tables"


class ProjectPaths(namedtuple("ProjectPaths", _FIELDS, defaults=(False, ()))):
    """Where a project's sources live: a clone, or the copy shipped in the wheel.

    `root`; the `ontology` file; the `kg` and `shapes` files; the `queries` and `checks`
    folders; the `mappings` and JSON-LD `context` files; whether it is the `packaged` copy;
    the curation `tables` (ontology/tables/*.tsv, compiled into the kg)."""

    __slots__ = ()

    def inputs(self) -> list[Path]:
        """Every file whose content determines a build, in a stable order."""
        files = [self.ontology, *self.kg, *self.tables, *self.shapes]
        files += [p for p in (self.mappings, self.context) if p.is_file()]
        # the build runs the quality checks on the release (checks.py): a changed check means a rebuild
        files += sorted(self.checks.glob("*.rq")) if self.checks.is_dir() else []
        return files

    def default_dist(self) -> Path:
        """dist/ beside the sources in a clone; a per-user cache for an installed wheel."""
        if not self.packaged:
            return self.root / "dist"
        from . import __version__
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "carnk-graph" / __version__ / "dist"


def _is_project(root: Path) -> bool:
    return (root / "ontology" / "carnk.ttl").is_file()


def find_project(root: str | Path | None = None) -> ProjectPaths:
    """Locate the sources: an explicit root, else the nearest ancestor of the
    working directory that holds ontology/carnk.ttl, else the packaged copy."""
    packaged = False
    if root is not None:
        base = Path(root).resolve()
        if not _is_project(base):
            raise BadInputError(f"no ontology/carnk.ttl under {base}", path=base)
    else:
        cwd = Path.cwd().resolve()
        base = next((d for d in (cwd, *cwd.parents) if _is_project(d)), None)
        if base is None:
            if _is_project(PACKAGE_DATA):          # a wheel: the sources ship inside the package
                base, packaged = PACKAGE_DATA, True
            elif _is_project(SOURCE_CHECKOUT):     # an editable install: the clone it points into
                base = SOURCE_CHECKOUT
            else:
                raise BadInputError("no carnk-graph sources found: run inside a clone or pass --root")
    return ProjectPaths(
        root=base,
        ontology=base / "ontology" / "carnk.ttl",
        kg=tuple(sorted((base / "ontology" / "kg").glob("*.ttl"))),
        shapes=tuple(sorted((base / "shapes").glob("*.ttl"))),
        queries=base / "queries",
        checks=base / "queries" / "checks",
        mappings=base / "ontology" / "mappings.sssom.tsv",
        context=base / "ontology" / "context.jsonld",
        packaged=packaged,
        tables=tuple(sorted((base / "ontology" / "tables").glob("*.tsv"))),
    )
