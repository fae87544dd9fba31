"""What a release is on disk: its file names, the `Release` value, the one-step switch, the freshness check.

Every other module asks a `Release` for a path instead of spelling a file name.
This module imports only the standard library, so a cold query pays nothing for it.

Layout of a dist/ folder::

    dist/.releases/<id>/          one complete release per folder, written once, never changed
    dist/.current -> .releases/<id>      the switch: the only entry a build replaces
    dist/carnk.ttl -> .current/carnk.ttl  stable links, one per release file (and store, build.json)

A reader that opens dist/carnk.ttl follows the links into the current release.
A build writes its release folder beside the old one, then replaces `.current` with
one rename(2) of a symbolic link: atomic, so a kill at any moment leaves dist/
naming either the old release or the new one, complete. The stable links point
through `.current`, so they never need to change once made. Old release folders
and temporaries of a killed build are removed on the next build, under an
exclusive lock on dist/ (two builds never clean up each other's work).

A release's build.json records each file's size and mtime (and each source's),
so "is this release current" costs a handful of stat() calls; `build` itself
still compares content digests before it decides to skip.
"""
from __future__ import annotations

import os
import time
from collections import namedtuple

from .errors import BadInputError

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import ContextManager, Iterable, Iterator, Mapping

    from .project import ProjectPaths

#: Release file name per format key (the CLI's --format values).
FORMATS: dict[str, str] = {
    "ttl": "carnk.ttl", "nt": "carnk.nt", "nq": "carnk.nq",
    "trig": "carnk.trig", "jsonld": "carnk.jsonld", "owl": "carnk.owl",
}
#: The ODK-style artefacts, each an OWL ontology with its own ontology IRI and version IRI:
#: base = our ontology axioms only; full = ontology, knowledge graph and inferences (as carnk.owl).
ARTEFACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "base": ("carnk-base.owl", ("ontology",)),
    "full": ("carnk-full.owl", ("ontology", "kg", "inferred")),
}
STAMP = "build.json"
REPORT_TTL = "report.ttl"
REPORT_TXT = "report.txt"
MAPPINGS = "mappings.sssom.tsv"
STORE_DIR = "store"
RELEASES_DIR = ".releases"
CURRENT = ".current"
FRESHNESS = ".freshness"
#: Names that are the report of the last build attempt: a failed build replaces them (and only them).
REPORT_FILES = (REPORT_TTL, REPORT_TXT)


class Release(namedtuple("Release", "dist paths", defaults=(None,))):
    """A built release in a dist/ folder: where each of its parts is, and its build stamp.

    `paths` are the sources it was built from, when known (`api.ensure_built` fills them
    in); two values of the same folder are equal whatever they know of the sources.
    (A named tuple rather than a dataclass: the cold query path does not import
    `dataclasses`, whose `inspect` import costs about 5 ms.)
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Release) and self.dist == other.dist

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.dist)

    def artefact(self, kind: str) -> Path:
        """The ODK-style artefact file (base, full)."""
        return self.dist / ARTEFACTS[kind][0]

    def file(self, fmt: str) -> Path:
        """The release file of one format key (ttl, nt, nq, trig, jsonld, owl)."""
        if fmt not in FORMATS:
            raise BadInputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        return self.dist / FORMATS[fmt]

    @property
    def nquads(self) -> Path:
        return self.dist / FORMATS["nq"]

    @property
    def store(self) -> Path:
        return self.dist / STORE_DIR

    @property
    def stamp_path(self) -> Path:
        return self.dist / STAMP

    @property
    def report_txt(self) -> Path:
        return self.dist / REPORT_TXT

    @property
    def mappings(self) -> Path:
        return self.dist / MAPPINGS

    def stamp(self) -> dict | None:
        """The build stamp (build.json) of the current release, or None when there is none."""
        import json  # only here: a cold query reads the freshness record, not the stamp

        try:
            data = json.loads(self.stamp_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def exists(self) -> bool:
        return self.stamp() is not None and self.store.is_dir()

    def freshness(self) -> dict | None:
        """The freshness record of the current release (see `read_freshness`), or None."""
        return read_freshness(os.fspath(self.dist))

    def current_folder(self) -> Path | None:
        """The release folder `.current` names (None before the first build in this layout)."""
        link = self.dist / CURRENT
        try:
            target = os.readlink(link)
        except OSError:
            return None
        from pathlib import Path

        return (self.dist / target) if not os.path.isabs(target) else Path(target)

    # -- freshness ----------------------------------------------------------------------------------

    def files_intact(self, stamp: dict) -> bool:
        """Every release file present with the content digest the build recorded (reads them all)."""
        import hashlib  # only here: a cold query decides from sizes and mtimes

        digests = stamp.get("files", {})
        for name, digest in digests.items():
            try:
                h = hashlib.sha256()
                with open(self.dist / name, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
            except OSError:
                return False
            if h.hexdigest() != digest:
                return False
        return bool(digests) and self.store.is_dir()


def read_freshness(dist: str) -> dict | None:
    """The package version, sizes and mtimes recorded when the current release of `dist` was written
    (not part of the release's bytes: build.json stays byte-identical from build to build), or None.

    A line-based record (version, then one tab-separated line per file and per source), read
    without `json`: a cold query reads it and nothing else of the release."""
    try:
        with open(os.path.join(dist, CURRENT, FRESHNESS), encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    out: dict = {"version": None, "files": {}, "sources": []}
    try:
        for line in text.splitlines():
            kind, *fields = line.split("\t")
            if kind == "version":
                out["version"] = fields[0]
            elif kind == "file":
                out["files"][fields[0]] = [int(fields[1]), int(fields[2])]
            elif kind == "source":
                out["sources"].append([fields[0], int(fields[1]), int(fields[2])])
    except (IndexError, ValueError):
        return None
    return out


def files_unchanged(dist: str, fresh: dict) -> bool:
    """Every release file the build recorded has its recorded size and mtime (stat only, no reading),
    and the store is there."""
    recorded = fresh.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return False
    for name, (size, mtime_ns) in recorded.items():
        try:
            st = os.stat(os.path.join(dist, name))
        except OSError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return False
    return os.path.isdir(os.path.join(dist, STORE_DIR))


def sources_hash(paths: ProjectPaths) -> str:
    """The content hash of every input file and the package version: what a release is a build of."""
    from . import __version__
    from .sources import hash_files  # reads every source: only when sizes and mtimes cannot decide

    return hash_files(paths.inputs(), __version__)


def is_current(paths: ProjectPaths, dist: Path, options: dict | None = None) -> bool:
    """True when dist/ holds a complete release of exactly these sources (and options, if given).

    `build` asks this before skipping: it reads every release file and compares its digest,
    so a truncated or edited file in dist/ (copied half-way, changed by hand) means a rebuild."""
    from pathlib import Path

    release = Release(Path(dist))
    stamp = release.stamp()
    if not stamp or stamp.get("sources_hash") != sources_hash(paths):
        return False
    if options is not None and stamp.get("options") != options:
        return False
    return release.files_intact(stamp)


def fresh(parts: dict, dist: str) -> bool:
    """The cheap form of `is_current` for readers (query, export, stats), on strings: sizes and mtimes
    of the sources (`parts` as project.listing gives them) and of the release files (build.json
    among them) against those recorded at build time; nothing of the release is read. A release
    file edited in place changes its mtime, so it still means a rebuild; a source touched but
    unchanged is recognised by its content hash."""
    from . import __version__
    from .project import input_files

    record = read_freshness(dist)
    if record is None or not files_unchanged(dist, record):
        from .project import find_project

        # a release of an older version (no record), or a changed file: compare digests
        return is_current(find_project(parts["root"]), dist)
    if record["version"] != __version__:
        return False
    if record["sources"] and record["sources"] == source_stats(input_files(parts)):
        return True
    from pathlib import Path

    from .project import find_project

    stamp = Release(Path(dist)).stamp() or {}  # unchanged since the build (its size and mtime are recorded)
    return stamp.get("sources_hash") == sources_hash(find_project(parts["root"]))


def is_fresh(paths: ProjectPaths, dist: str | os.PathLike) -> bool:
    """`fresh` for a `ProjectPaths` and a dist folder."""
    return fresh(paths.parts(), os.fspath(dist))


def source_stats(files: Iterable[str | os.PathLike]) -> list[list]:
    """Name, size and mtime of every input file: the cheap fingerprint of the sources."""
    out = []
    for p in files:
        try:
            st = os.stat(p)
        except OSError:
            return []
        out.append([os.fspath(p), st.st_size, st.st_mtime_ns])
    return out


# -- writing: one release folder, then one switch -------------------------------------------------------

def _fsync_dir(path: Path) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def locked(dist: Path) -> ContextManager[None]:
    """An exclusive lock on the dist/ folder (flock on the folder itself: no lock file left behind)."""
    import contextlib  # the writing side imports these; a cold query reads and needs none of them
    import fcntl

    from .atomic import make_folder

    @contextlib.contextmanager
    def hold() -> Iterator[None]:
        make_folder(dist)
        fd = os.open(dist, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the lock

    return hold()


def clean(dist: Path) -> None:
    """Remove what a killed or finished build left behind: release folders other than the current
    one, half-made links and temporaries, store copies of the layout before releases had folders.
    Call under `locked(dist)`."""
    keep = Release(dist).current_folder()
    keep_name = keep.name if keep is not None else None
    releases = dist / RELEASES_DIR
    if releases.is_dir():
        for entry in releases.iterdir():
            if entry.name != keep_name:
                _remove(entry)
    for entry in dist.iterdir():
        name = entry.name
        if name.endswith(".tmp") and name.startswith(".") or name.startswith((".store.new-", ".store.old-",
                                                                                ".current.tmp", ".link.tmp")):
            _remove(entry)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        import contextlib

        with contextlib.suppress(OSError):
            path.unlink()
    else:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def new_release_folder(dist: Path) -> Path:
    """An empty folder for a new release, beside the current one (call under `locked(dist)`)."""
    folder = dist / RELEASES_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    try:
        folder.mkdir(parents=True)
    except OSError as e:
        raise BadInputError(f"cannot create the release folder: {e.strerror}", path=folder) from None
    return folder


def write_into(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write the release's files into its (new, private) folder, each flushed to disk."""
    mode = 0o666 & ~_umask()
    try:
        for name, data in files.items():
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as e:
        raise BadInputError(f"cannot write the release: {e.strerror or e}", path=folder) from None


def write_freshness(folder: Path, names, sources: list) -> None:
    """Record the package version and the size and mtime of each release file and each source, for
    `is_fresh` (sources are left out when a path holds a tab or a line break: then their content
    hash decides)."""
    from . import __version__

    lines = [f"version\t{__version__}"]
    for name in sorted(names):
        st = os.stat(folder / name)
        lines.append(f"file\t{name}\t{st.st_size}\t{st.st_mtime_ns}")
    if not any(ch in str(path) for path, _, _ in sources for ch in "\t\r\n"):
        lines += [f"source\t{path}\t{size}\t{mtime}" for path, size, mtime in sources]
    write_into(folder, {FRESHNESS: ("\n".join(lines) + "\n").encode("utf-8")})


def refuse_blocked_names(dist: Path, names) -> None:
    """A name the release needs that is a real folder in dist/ (not ours) would stop the switch half-way."""
    for name in names:
        p = dist / name
        if p.is_dir() and not p.is_symlink() and name != STORE_DIR:
            raise BadInputError("is a directory; cannot write a file there", path=p)


def switch(dist: Path, folder: Path, names) -> None:
    """Make `folder` the current release: ensure a stable link per name, then replace `.current`.

    The replacement of `.current` is the commit point. Links are made (or repaired) before
    it; each points through `.current`, so before the commit it still shows the old release.
    """
    names = sorted(set(names))
    refuse_blocked_names(dist, names)
    rel_folder = os.path.relpath(folder, dist)
    had_current = Release(dist).current_folder() is not None
    if had_current:
        for name in names:
            _ensure_link(dist, name)
        _replace_link(dist / CURRENT, rel_folder)
    else:
        # First build in this layout (an empty dist/, or one written by an older version whose
        # files are plain files): point `.current` first, then turn each plain entry into a link.
        _replace_link(dist / CURRENT, rel_folder)
        for name in names:
            _ensure_link(dist, name)
    _fsync_dir(dist)
    # Names the old release had and this one lacks (a mappings file removed from the sources).
    for entry in dist.iterdir():
        if entry.is_symlink() and entry.name not in names and os.readlink(entry) == f"{CURRENT}/{entry.name}":
            try:
                entry.unlink()
            except OSError:
                pass


def replace_directory(target: Path, fill, what: str) -> Path:
    """Fill a fresh folder beside `target` with `fill(folder)`, then swap it in by renames.

    Readers of `target` see the old folder or the new one, never a half-written one; a failed fill
    removes its folder and leaves `target` as it was (an OSError is one line naming `what`).
    """
    import shutil

    fresh = target.parent / f".{target.name}.new-{os.getpid()}"
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        fill(fresh)
    except OSError as e:
        shutil.rmtree(fresh, ignore_errors=True)
        raise BadInputError(f"cannot write {what}: {e}", path=fresh) from None
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if target.exists():
        os.replace(target, old)
    os.replace(fresh, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _ensure_link(dist: Path, name: str) -> None:
    target = f"{CURRENT}/{name}"
    p = dist / name
    if p.is_symlink() and os.readlink(p) == target:
        return
    if p.is_dir() and not p.is_symlink():  # the store folder of the older layout: move it aside first
        aside = dist / RELEASES_DIR / f"old-{name}-{os.getpid()}"
        aside.parent.mkdir(exist_ok=True)
        os.replace(p, aside)
    _replace_link(p, target)


def _replace_link(path: Path, target: str) -> None:
    tmp = path.parent / f".link.tmp-{os.getpid()}-{path.name}"
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    os.symlink(target, tmp)
    os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
