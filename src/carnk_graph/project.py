"""Where a project's sources are: a clone (found from the working directory), or the copy in the wheel.

Every command starts here, a cold query too. So the rules (where the root is, which files a
build reads, where dist/ goes) are written once over plain strings with `os.path`, and
`ProjectPaths`, the value the rest of the package uses, wraps their answers in `pathlib.Path`.
The query path uses the string functions and never imports `pathlib` (on this machine its
import, with the `re`, `fnmatch` and `urllib.parse` it pulls in, costs about 8 ms: most of a
3x-`oxigraph query` budget; see benchmarks/run.py).
"""
from __future__ import annotations

import os
from collections import namedtuple

from .errors import BadInputError

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from pathlib import Path

_HERE = os.path.dirname(os.path.realpath(__file__))
PACKAGE_DATA = os.path.join(_HERE, "_data")
SOURCE_CHECKOUT = os.path.dirname(os.path.dirname(_HERE))


def is_project(root: str | os.PathLike) -> bool:
    """True when `root` holds a project's sources (its ontology/carnk.ttl)."""
    return os.path.isfile(os.path.join(root, "ontology", "carnk.ttl"))


def locate(root: str | os.PathLike | None = None) -> tuple[str, bool]:
    """The sources' folder (absolute, links resolved) and whether it is the copy shipped in the wheel:
    an explicit root, else the nearest ancestor of the working directory that holds
    ontology/carnk.ttl, else the packaged copy (or, for an editable install, the clone)."""
    if root is not None:
        base = os.path.realpath(os.fspath(root))
        if not is_project(base):
            raise BadInputError(f"no ontology/carnk.ttl under {base}", path=base)
        return base, False
    here = os.path.realpath(os.getcwd())
    while True:
        if is_project(here):
            return here, False
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    if is_project(PACKAGE_DATA):          # a wheel: the sources ship inside the package
        return PACKAGE_DATA, True
    if is_project(SOURCE_CHECKOUT):       # an editable install: the clone it points into
        return SOURCE_CHECKOUT, False
    raise BadInputError("no carnk-graph sources found: run inside a clone or pass --root")


def _files(folder: str, suffix: str) -> list[str]:
    """The entries of `folder` whose names end with `suffix`, sorted (as sorted(Path.glob("*" + suffix)));
    none when the folder does not exist."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if n.endswith(suffix))


def listing(base: str) -> dict:
    """The project's parts under `base`, as strings: the fields of `ProjectPaths` but `packaged`."""
    ontology = os.path.join(base, "ontology")
    queries = os.path.join(base, "queries")
    return {
        "root": base,
        "ontology": os.path.join(ontology, "carnk.ttl"),
        "kg": tuple(_files(os.path.join(ontology, "kg"), ".ttl")),
        "shapes": tuple(_files(os.path.join(base, "shapes"), ".ttl")),
        "queries": queries,
        "checks": os.path.join(queries, "checks"),
        "mappings": os.path.join(ontology, "mappings.sssom.tsv"),
        "context": os.path.join(ontology, "context.jsonld"),
        "tables": tuple(_files(os.path.join(ontology, "tables"), ".tsv")),
    }


def input_files(parts: dict) -> list[str]:
    """Every file whose content determines a build, in a stable order (`parts` as `listing` gives them)."""
    files = [parts["ontology"], *parts["kg"], *parts["tables"], *parts["shapes"]]
    files += [p for p in (parts["mappings"], parts["context"]) if os.path.isfile(p)]
    # the build runs the quality checks on the release (checks.py): a changed check means a rebuild
    files += _files(parts["checks"], ".rq")
    return files


def default_dist(base: str, packaged: bool) -> str:
    """dist/ beside the sources in a clone; a per-user cache for an installed wheel."""
    if not packaged:
        return os.path.join(base, "dist")
    from . import __version__

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "carnk-graph", __version__, "dist")


_FIELDS = "root ontology kg shapes queries checks mappings context packaged tables"


class ProjectPaths(namedtuple("ProjectPaths", _FIELDS, defaults=(False, ()))):
    """Where a project's sources live: a clone, or the copy shipped in the wheel.

    `root`; the `ontology` file; the `kg` and `shapes` files; the `queries` and `checks`
    folders; the `mappings` and JSON-LD `context` files; whether it is the `packaged` copy;
    the curation `tables` (ontology/tables/*.tsv, compiled into the kg). Paths are
    `pathlib.Path`s; the rules behind them are the string functions above.
    """

    __slots__ = ()

    def parts(self) -> dict:
        """The fields as `listing` gives them (strings)."""
        return {k: (tuple(map(str, v)) if isinstance(v, tuple) else str(v))
                for k, v in self._asdict().items() if k != "packaged"}

    def inputs(self) -> list[Path]:
        """Every file whose content determines a build, in a stable order."""
        from pathlib import Path

        return [Path(p) for p in input_files(self.parts())]

    def default_dist(self) -> Path:
        """dist/ beside the sources in a clone; a per-user cache for an installed wheel."""
        from pathlib import Path

        return Path(default_dist(str(self.root), self.packaged))


def find_project(root: str | os.PathLike | None = None) -> ProjectPaths:
    """Locate the sources (see `locate`) as a `ProjectPaths` of `pathlib.Path`s."""
    from pathlib import Path

    base, packaged = locate(root)
    fields = {k: (tuple(Path(p) for p in v) if isinstance(v, tuple) else Path(v)) for k, v in listing(base).items()}
    return ProjectPaths(packaged=packaged, **fields)
