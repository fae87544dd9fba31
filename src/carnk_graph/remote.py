"""Load a built release into a remote triple store over the SPARQL 1.1 protocols.

Any store that speaks SPARQL 1.1 Update (and, optionally, the Graph Store
HTTP Protocol for the uploads) will do: GraphDB, Virtuoso, Fuseki, Neptune,
Oxigraph. Only the standard library talks HTTP, so loading adds no dependency.

A load never leaves a half-replaced graph, even on stores whose updates are
not atomic (Virtuoso commits each operation of a multi-operation request as it
goes, so a request that fails half-way keeps its first half):

1. every graph is uploaded, in chunks the store accepts, into a fresh staging
   graph (``<target>.staging-<random>``) and its triple count is checked
   against the release;
2. each non-empty target is copied to a backup graph (``<target>.backup-<random>``);
3. all targets are replaced in ONE update request
   (``DROP SILENT GRAPH <t>; ADD <staging> TO <t>; ...``), atomic where the
   store is (Oxigraph), so a reader never sees one graph of the new release
   beside one of the old;
4. every target's count is verified; if the swap failed or a count is wrong,
   the targets are restored from the backups;
5. staging and backup graphs are dropped (best effort, also on failure); staging
   graphs an earlier, killed run left behind are dropped first, its backups once the
   swap is verified;
6. a swap that gets no answer at all (a dropped connection, a killed store) is checked
   against the staging graphs before it is called failed, and when the store cannot be
   asked the error says the outcome is unknown instead of guessing.

The parts live apart: `load_plan.py` reads the release and decides graphs and
chunks (no network), `sparql_client.py` speaks the protocol (one wall-clock
deadline for the whole load, bounded answers, auth), `redaction.py` keeps
passwords and secret query values out of every printed line; this module is the
load itself (staging, backup, swap, verify, restore).
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from .errors import RemoteStoreError
from .load_plan import GraphLoad, LoadPlan
from .namespaces import XSD
from .sparql_client import SparqlClient

#: A chunk a store refuses with one of these statuses is split in half and retried.
SPLIT_STATUSES = (400, 413)
SPLIT_MIN = 32  # below this a refusal is about content, not size: report it
#: Uploads larger than this get a progress bar (when stderr is a terminal).
PROGRESS_BYTES = 4_000_000

if TYPE_CHECKING:
    from .progress import Progress

Say = Callable[[str], None]


# -- loading -----------------------------------------------------------------------------------------

#: Helper graphs are the target IRI + ".staging-" or ".backup-" + a 12-hex-digit token of one run.
_HELPER = re.compile(r"\.(staging|backup)-[0-9a-f]{12}$")


@dataclass
class LoadResult:
    """Verified triple counts per target graph after a load, and what else the load did."""

    counts: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (target IRI, triples)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"{name}: {n} triples in <{iri}> (verified)" for name, (iri, n) in self.counts.items()] + self.notes


class _RestoreFailed(RemoteStoreError):
    """The swap failed and so did putting the old graphs back: the backup graphs must survive."""


#: An N-Triples line whose object is an xsd:decimal written without a fraction ("68"^^xsd:decimal).
_XSD_DECIMAL = XSD + "decimal"
_WHOLE_DECIMAL = re.compile(r'(?<=\s)"([+-]?\d+)"\^\^<' + re.escape(_XSD_DECIMAL) + r'> \.$')


def _insert_data(graph: str, lines: Sequence[str], virtuoso: bool = False) -> str:
    """One INSERT DATA request. For Virtuoso, a decimal without a fraction is written with ".0":
    its SPARQL parser reads "68"^^xsd:decimal as xsd:integer (its Graph Store upload does not),
    while "68.0"^^xsd:decimal is stored, and answered, as the release's "68"^^xsd:decimal."""
    if virtuoso:
        lines = [_WHOLE_DECIMAL.sub(r'"\1.0"^^<' + _XSD_DECIMAL + '> .', line) for line in lines]
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n" + "\n".join(lines) + "\n} }"


def _upload(client: SparqlClient, plan: LoadPlan, g: GraphLoad, staging: str, bar: "Progress") -> None:
    for part in g.chunks:
        _send_chunk(client, plan.method, staging, part, bar)


def _send_chunk(client: SparqlClient, method: str, staging: str, part: Sequence[str], bar: "Progress") -> None:
    """Send one chunk; if the store refuses it (400/413, as too large), send its halves instead.

    Resending is safe: a refused INSERT DATA or POST added nothing, and a graph is a set,
    so a triple that did arrive twice is still one triple.
    """
    data = ("\n".join(part) + "\n").encode("utf-8")
    try:
        if method == "gsp":
            client.post_triples(staging, data)
        else:
            client.update(_insert_data(staging, part, client.is_virtuoso), what="upload")
    except RemoteStoreError as e:
        if getattr(e, "status", None) not in SPLIT_STATUSES or len(part) < SPLIT_MIN:
            raise
        half = len(part) // 2
        _send_chunk(client, method, staging, part[:half], bar)
        _send_chunk(client, method, staging, part[half:], bar)
        return
    bar.update(len(data))


def _replace(pairs: Sequence[tuple[str, str | None]]) -> str:
    """One update request replacing each target by its source graph (None: just empty it)."""
    ops = []
    for target, source in pairs:
        ops.append(f"DROP SILENT GRAPH <{target}>")
        if source is not None:
            ops.append(f"ADD <{source}> TO <{target}>")
    return " ;\n".join(ops)


def _drop_quietly(client: SparqlClient, graphs: Iterable[str]) -> None:
    """Best-effort removal of helper graphs; a failure here must not hide the real error."""
    graphs = list(graphs)
    if not graphs:
        return
    try:
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs), what="cleanup")
    except RemoteStoreError:
        pass


def _leftovers(client: SparqlClient, plan: LoadPlan) -> list[str]:
    """Helper graphs of these targets left by earlier loads that were killed or lost their store."""
    prefixes = [g.target + kind for g in plan.graphs for kind in (".staging-", ".backup-")]
    found = client.graphs_starting(prefixes)
    targets = {g.target for g in plan.graphs}
    return [g for g in found if _HELPER.search(g) and _HELPER.sub("", g) in targets]


def load(plan: LoadPlan, client: SparqlClient, *, say: Say | None = None,
         progress: bool | None = None) -> LoadResult:
    """Load every graph of `plan` through staging graphs; never leave a target half-replaced.

    `client.timeout` bounds the whole load by the wall clock; restoring and cleaning up after
    a failure get one more such budget. Staging graphs left by earlier runs are dropped first;
    their backup graphs once this load's swap is verified (until then they may be the only copy
    of a release an earlier failed restore kept).
    """
    from .progress import Progress, wants_progress

    say = say or (lambda _m: None)
    if progress is None:
        progress = wants_progress()
    client.start_clock()
    token = secrets.token_hex(6)
    staging = {g.name: f"{g.target}.staging-{token}" for g in plan.graphs}
    backup = {g.name: f"{g.target}.backup-{token}" for g in plan.graphs}
    before: dict[str, int] = {}
    keep = True  # drop the backups afterwards (not when a restore failed: they hold the old graphs)
    notes: list[str] = []
    old = _leftovers(client, plan)
    old_staging = [g for g in old if ".staging-" in g]
    if old_staging:
        say(f"removing {len(old_staging)} staging graph(s) left by an earlier load")
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in old_staging), what="cleanup")
        notes.append(f"removed {len(old_staging)} staging graph(s) left by an earlier load")
    try:
        bar = Progress("upload", plan.bytes, unit="B", enabled=progress and plan.bytes > PROGRESS_BYTES)
        try:
            for g in plan.graphs:
                say(f"uploading {g.name}: {g.triples} triples in {len(g.chunks)} chunk(s) to <{staging[g.name]}>")
                _upload(client, plan, g, staging[g.name], bar)
        finally:
            bar.close()
        for g in plan.graphs:
            got = client.count(staging[g.name])
            if got != g.triples:
                raise RemoteStoreError(f"staging graph <{staging[g.name]}> holds {got} triples, the release "
                                       f"{g.triples}: store changed or dropped data; targets left unchanged")
        for g in plan.graphs:
            before[g.name] = client.count(g.target)
            if before[g.name]:
                client.update(f"ADD <{g.target}> TO <{backup[g.name]}>", what="backup")
                got = client.count(backup[g.name])
                if got != before[g.name]:
                    raise RemoteStoreError(f"backup of <{g.target}> holds {got} of {before[g.name]} triples; "
                                           f"targets left unchanged")
        say("replacing " + ", ".join(f"<{g.target}>" for g in plan.graphs) + " in one update")
        notes += _swap(client, plan, staging, backup, before)
        result = LoadResult({g.name: (g.target, client.count(g.target)) for g in plan.graphs}, notes)
        old_backups = [g for g in old if ".backup-" in g]
        if old_backups:  # the verified new release supersedes what they kept
            _drop_quietly(client, old_backups)
            result.notes.append(f"removed {len(old_backups)} backup graph(s) kept by an earlier failed load: "
                                + ", ".join(f"<{g}>" for g in old_backups))
        return result
    except _RestoreFailed:
        keep = False  # the backups are the only copy of the old graphs now: never drop them
        raise
    finally:
        if client.deadline is not None and client.deadline <= time.monotonic():
            client.start_clock()  # the load ran out of time: cleaning up gets its own budget
        _drop_quietly(client, [*staging.values(), *(backup.values() if keep else ())])


def _holds(client: SparqlClient, target: str, triples: int, source: str | None) -> bool:
    """Whether `target` holds exactly the triples of graph `source` (`triples` of them; None: empty)."""
    if client.count(target) != triples:
        return False
    return source is None or triples == 0 or client.missing(source, target) == 0


def _swap(client: SparqlClient, plan: LoadPlan, staging: Mapping[str, str], backup: Mapping[str, str],
          before: Mapping[str, int]) -> list[str]:
    """Replace all targets in one request, verify them, and restore the backups if anything is off.

    A swap that got no answer (connection dropped, store killed after it committed, deadline
    passed) may still have been applied: the targets are compared with the staging graphs
    before anything is called a failure. A swap the store answered with an error is undone
    (Virtuoso keeps the operations before the failing one). Returns notes for the report.
    """
    pairs = [(g.target, staging[g.name] if g.triples else None) for g in plan.graphs]
    failure: RemoteStoreError | None = None
    try:
        client.update(_replace(pairs), what="swap")
    except RemoteStoreError as e:
        failure = e
        if getattr(e, "status", None) is not None:  # the store answered: the swap failed (maybe half-way)
            _restore(client, plan, backup, before, failure)
        client.start_clock()  # no answer at all: asking what happened gets its own budget
        try:
            if all(_holds(client, g.target, g.triples, staging[g.name] if g.triples else None) for g in plan.graphs):
                return [f"the swap's answer was lost ({e.detail}), but every target holds the new release"]
        except RemoteStoreError as asked:
            _unknown(plan, backup, before, e, asked)
    else:
        wrong = [(g, n) for g in plan.graphs if (n := client.count(g.target)) != g.triples]
        if wrong:
            g, n = wrong[0]
            failure = RemoteStoreError(f"after the swap <{g.target}> holds {n} triples, expected {g.triples}")
    if failure is None:
        return []
    _restore(client, plan, backup, before, failure)
    return []  # not reached: _restore raises


def _kept(plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int]) -> str:
    return ", ".join(f"<{backup[g.name]}>" for g in plan.graphs if before[g.name]) or "no backup (targets were empty)"


def _unknown(plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int],
             failure: RemoteStoreError, asked: RemoteStoreError) -> None:
    """The swap's outcome cannot be known: say so, never 'failed' or 'unchanged'."""
    raise _RestoreFailed(
        f"{failure.detail}; the store then stopped answering ({asked.detail}), so whether it applied the swap "
        f"is unknown: the targets hold the new release or the previous one; the previous graphs are kept in "
        f"{_kept(plan, backup, before)}; run the load again when the store answers") from None


def _restore(client: SparqlClient, plan: LoadPlan, backup: Mapping[str, str], before: Mapping[str, int],
             failure: RemoteStoreError) -> None:
    """Put the targets back as they were before the swap; always raises."""
    try:
        client.update(_replace([(g.target, backup[g.name] if before[g.name] else None) for g in plan.graphs]),
                      what="restore")
        for g in plan.graphs:
            if client.count(g.target) != before[g.name]:
                raise RemoteStoreError(f"<{g.target}> not restored")
    except RemoteStoreError as e:
        raise _RestoreFailed(f"{failure.detail}; restoring the previous graphs also failed ({e.detail}); "
                             f"the previous graphs are kept in {_kept(plan, backup, before)}") from None
    raise RemoteStoreError(f"{failure.detail}; previous graphs restored, nothing changed") from None
