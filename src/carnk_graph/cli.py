"""The `carnk-graph` command: argparse, dispatch, printing, exit codes.

No logic lives here beyond parsing and printing; every command calls one
module. Heavy libraries are imported inside the handlers that need them so
that `carnk-graph query` starts fast.
"""
from __future__ import annotations

import sys

from . import __version__
from .errors import BadInputError, CarnkError, exit_code_for
from .namespaces import GRAPH_BASE

TYPE_CHECKING = False  # typing's flag without importing typing: every command, a cold query too, starts here
if TYPE_CHECKING:
    import argparse
    from typing import Sequence

PROG = "carnk-graph"
GRAPH_CHOICES = ("ontology", "kg", "inferred", "all")
QUERY_FORMATS = ("table", "csv", "tsv", "json", "ttl", "nt", "jsonld")
QUERY_ENGINES = ("oxigraph", "rdflib")


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr)


def _progress(args) -> "callable":
    quiet = getattr(args, "quiet", False) or not sys.stderr.isatty()
    return (lambda _m: None) if quiet else (lambda m: print(f"  {m}", file=sys.stderr))


# -- build -------------------------------------------------------------------------------------------

def cmd_build(args) -> int:
    from . import api

    summary = api.build(args.root, args.dist, reasoner=args.reasoner, no_reason=args.no_reason,
                        force=args.force, reasoner_timeout=args.reasoner_timeout, progress=_progress(args))
    for m in summary.messages:
        _err(f"warning: {m}")
    for line in summary.lines():
        print(line)
    return 0


# -- validate ----------------------------------------------------------------------------------------

def cmd_validate(args) -> int:
    from . import api

    result = api.validate(args.files or None, root=args.root, dist=args.dist,
                          with_kg=bool(args.files) and not args.standalone, engine=args.shacl_engine,
                          progress=_progress(args))
    for f in result.findings:
        if f.severity == "Violation" or args.warnings:
            print(f.line())
    c = result.counts()
    print(f"{'conforms' if result.conforms else 'does not conform'}: {c['Violation']} violations, "
          f"{c['Warning']} warnings", file=sys.stderr)
    return 0 if result.conforms else 1


# -- export ------------------------------------------------------------------------------------------

def cmd_export(args) -> int:
    from . import api
    from .namespaces import GRAPH_NAMES

    chosen = set(args.graph or ["all"])
    names = GRAPH_NAMES if "all" in chosen else tuple(g for g in GRAPH_NAMES if g in chosen)
    data = api.export(args.format, names, root=args.root, dist=args.dist, progress=_progress(args))
    if args.output:
        from .atomic import atomic_write

        from pathlib import Path

        atomic_write(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


# -- stats -------------------------------------------------------------------------------------------

def cmd_stats(args) -> int:
    from . import api

    for line in api.stats(root=args.root, dist=args.dist, progress=_progress(args)).lines():
        print(line)
    return 0


# -- query ------------------------------------------------------------------------------------------

def cmd_query(args) -> int:
    from . import api

    if args.list:
        from .catalogue import catalogue_result, list_catalogue
        from .project import find_project
        folder = find_project(args.root).queries
        if args.format == "table":
            _write(list_catalogue(folder))
        elif args.format in ("csv", "tsv", "json"):
            from .formats import render
            _write(render(catalogue_result(folder), args.format))
        else:
            raise BadInputError(f"query --list: --format {args.format} is for graphs; the list prints as "
                                "table, csv, tsv or json")
        return 0
    if not args.name:
        raise BadInputError("query: give a saved query name, a .rq file, or --list")
    if args.graph_prefix is not None and not args.print:
        raise BadInputError("query: --graph-prefix goes with --print")
    if args.print:
        graphs = None
        if args.graph_prefix is not None:
            from .namespaces import GRAPH_NAMES
            from .load_plan import target_iris
            graphs = list(target_iris(GRAPH_NAMES, args.graph_prefix).values())
        _write(api.query_text(args.name, args.param, root=args.root, graphs=graphs))
        return 0
    from .formats import render

    done = api.answer(args.name, args.param, engine=args.engine, timeout=args.timeout, root=args.root,
                      dist=args.dist, progress=_progress(args), isolate=True)
    labels = done.labels() if args.format == "table" else None
    _write(render(done.result, args.format, labels))
    return 0


def _write(text: str) -> None:
    """Print text; an encoding the terminal cannot show is a usage error, named once, before any output."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding, getattr(sys.stdout, "errors", None) or "strict")
    except UnicodeEncodeError as e:
        raise BadInputError(f"the output holds {text[e.start:e.start + 1]!r}, which the output encoding "
                            f"{encoding} cannot write; set PYTHONIOENCODING=utf-8") from None
    except LookupError:
        pass
    sys.stdout.write(text)
    sys.stdout.flush()


# -- load -------------------------------------------------------------------------------------------

def _store_password(args) -> str | None:
    """--password, else $CARNK_STORE_PASSWORD (kept out of `ps`), else asked on a terminal."""
    import os

    if not args.user or args.password is not None:
        return args.password
    env = os.environ.get("CARNK_STORE_PASSWORD")
    if env is not None:
        return env
    if not args.dry_run and sys.stdin.isatty():
        import getpass
        from .redaction import redact_url
        return getpass.getpass(f"password for {args.user} at {redact_url(args.endpoint)}: ")
    return None


def cmd_load(args) -> int:
    from .api import ensure_built
    from .load_plan import plan_load, read_release
    from .remote import load
    from .sparql_client import SparqlClient

    # the URLs are checked (credentials inside them refused) before anything is built or sent
    client = SparqlClient(args.endpoint, args.update, args.gsp, user=args.user,
                          password=_store_password(args), auth=args.auth, timeout=args.timeout)
    release = ensure_built(args.root, args.dist, progress=_progress(args))
    names = None if not args.graph or "all" in args.graph else args.graph
    plan = plan_load(read_release(release.dist), names, prefix=args.graph_prefix,
                     method="gsp" if args.gsp else "update")
    if args.dry_run:
        for line in plan.describe():
            print(line)
        print(f"query endpoint {client.show(client.endpoint)}, update endpoint {client.show(client.update_url)}"
              + (f", Graph Store endpoint {client.show(client.gsp_url)}" if client.gsp_url else "")
              + "; nothing sent")
        return 0
    quiet = getattr(args, "quiet", False)
    result = load(plan, client, say=_progress(args), progress=None if not quiet else False)
    for line in result.lines():
        print(line)
    return 0

# -- serve ------------------------------------------------------------------------------------------

def cmd_serve(args) -> int:
    from .serve import serve

    return serve(args.root, args.dist, args.port, timeout=args.timeout,
                 out=lambda line: print(line, flush=True), progress=_progress(args))


# -- site -------------------------------------------------------------------------------------------

def cmd_site(args) -> int:
    from .site import build_site

    result = build_site(args.root, args.dist, progress=_progress(args))
    for w in result.warnings:
        _err(f"warning: {w}")
    print(f"site of {result.entities} entities written to {result.directory} "
          f"({result.pages} pages, {result.files} files, {result.seconds:.1f}s); open "
          f"{result.directory / 'index.html'} or run `carnk-graph serve`")
    return 0

# -- docs -------------------------------------------------------------------------------------------

def cmd_docs(args) -> int:
    from .docs import build_docs

    result = build_docs(args.root, args.dist, update_readme_figure=args.update_readme_figure,
                        **({"construct": args.construct} if args.construct else {}))
    for w in result.warnings:
        _err(f"warning: {w}")
    print(f"documentation of {result.terms} terms in {result.directory / 'index.html'}"
          f" (diagrams: {', '.join(f for f in result.files if not f.endswith('.html'))})")
    if result.figure_dir is not None:
        print(f"README figure updated in {result.figure_dir}")
    return 0


# -- diff -------------------------------------------------------------------------------------------

def cmd_diff(args) -> int:
    from .diff import diff, render

    if args.limit < 0:
        raise BadInputError("--limit must be 0 (all) or a positive number")
    result = diff(args.old, args.new, args.root)
    sys.stdout.write(render(result, args.format, args.limit))
    return 0


# -- parser ------------------------------------------------------------------------------------------

def make_parser() -> "argparse.ArgumentParser":
    from .cli_help import OneLineParser, describe, positive_seconds  # argparse: not on the cold query path

    common = OneLineParser(add_help=False)
    common.add_argument("--root", help="project folder holding ontology/, shapes/, queries/ (default: found from the working directory, else the packaged copy)")
    common.add_argument("--dist", help="output folder (default: <root>/dist)")
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    common.add_argument("--allow-network", action="store_true",
                        help="allow network access (off by default: nothing is fetched)")

    p = OneLineParser(prog=PROG, description="A knowledge graph of CAR-NK cell therapy.", parents=[common])
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", parents=[common], help="load, reason, validate, write dist/ and the embedded store")
    b.add_argument("--reasoner", choices=("auto", "hermit", "owlrl"), default="auto",
                   help="auto (default): HermiT when a Java runtime is found ($CARNK_JAVA, else java on PATH), "
                        "else OWL 2 RL with a warning; hermit: HermiT or exit 3; owlrl: pure Python, no Java")
    b.add_argument("--reasoner-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop HermiT after this many seconds, exit 5 (default 600, or $CARNK_REASONER_TIMEOUT)")
    b.add_argument("--no-reason", action="store_true", help="skip reasoning (quick iterations)")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.set_defaults(func=cmd_build)

    v = sub.add_parser("validate", parents=[common], help="check data against the shapes (default: the built graph)")
    v.add_argument("files", nargs="*", metavar="FILE", help="data files to check (with the ontology and the shipped knowledge graph)")
    v.add_argument("--standalone", action="store_true", help="check FILEs without the shipped knowledge graph")
    v.add_argument("--warnings", action="store_true", help="print warnings too")
    v.add_argument("--shacl-engine", choices=("auto", "pyshacl", "turbo"), default=None,
                   help="auto (default, or $CARNK_SHACL_ENGINE): pyshacl-turbo for big data when installed "
                        "(pip install 'carnk-graph[fast]'), else pyshacl, the reference")
    v.set_defaults(func=cmd_validate)

    e = sub.add_parser("export", parents=[common], help="write the release in one format")
    e.add_argument("--format", required=True, choices=("ttl", "nt", "nq", "trig", "jsonld", "owl"),
                   help="Turtle, N-Triples, N-Quads, TriG, JSON-LD or OWL/XML (nt and owl hold no graph names)")
    e.add_argument("--graph", choices=GRAPH_CHOICES, action="append",
                   help="a named graph to write: ontology, kg (knowledge graph), inferred, or all (default); "
                        "repeat it for several (--graph ontology --graph kg)")
    e.add_argument("-o", "--output", metavar="FILE", help="output file (default: stdout)")
    e.set_defaults(func=cmd_export)

    q = sub.add_parser("query", parents=[common], help="run a saved query (or a .rq file) on the built graph")
    q.add_argument("name", nargs="?", help="saved query name, or a path to a .rq file")
    q.add_argument("--list", action="store_true", help="list the saved queries")
    q.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="bind a query parameter")
    q.add_argument("--format", choices=QUERY_FORMATS, default="table",
                   help="table (default, labels beside IRIs), csv, tsv or json for SELECT/ASK; table, ttl, nt or jsonld for "
                        "CONSTRUCT/DESCRIBE")
    q.add_argument("--engine", choices=QUERY_ENGINES, default="oxigraph",
                   help="oxigraph (default, the embedded store) or rdflib (pure Python, for comparison)")
    q.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="wall-clock limit for the whole query, opening the store included (exit 5)")
    q.add_argument("--print", action="store_true",
                   help="print the query text to run on another store (parameters bound, prefixes "
                        "declared, dataset as default-graph-uri lines); run nothing")
    q.add_argument("--graph-prefix", metavar="IRI",
                   help="with --print: the graphs are under this IRI prefix, as `load --graph-prefix` put them")
    q.set_defaults(func=cmd_query)

    ld = sub.add_parser("load", parents=[common], help="load the release into a remote triple store")
    ld.add_argument("--endpoint", required=True, metavar="URL", help="SPARQL query endpoint (and update endpoint unless --update)")
    ld.add_argument("--update", metavar="URL", help="SPARQL 1.1 Update endpoint, when it differs from --endpoint")
    ld.add_argument("--gsp", metavar="URL", help="SPARQL 1.1 Graph Store Protocol endpoint: upload through it "
                    "(bigger chunks; far faster on Virtuoso, e.g. http://HOST:8890/sparql-graph-crud)")
    ld.add_argument("--graph", choices=GRAPH_CHOICES, action="append", help="graph(s) to load (default: all)")
    ld.add_argument("--graph-prefix", metavar="IRI", help=f"put the graphs under this IRI prefix instead of {GRAPH_BASE}")
    ld.add_argument("--user", help="store user name (then the password comes from --password, "
                    "$CARNK_STORE_PASSWORD or the terminal)")
    ld.add_argument("--password", help="store password (default: $CARNK_STORE_PASSWORD, else asked on a terminal)")
    ld.add_argument("--auth", choices=("basic", "digest"), default="basic",
                    help="HTTP authentication: basic (default) or digest (Virtuoso's /sparql-auth)")
    ld.add_argument("--timeout", type=positive_seconds, default=300.0, metavar="SECONDS",
                    help="wall-clock limit for the whole load (default 300); after a failure, restoring and "
                         "cleaning up get as long again")
    ld.add_argument("--dry-run", action="store_true", help="show what would be sent, send nothing")
    ld.set_defaults(func=cmd_load)

    sv = sub.add_parser("serve", parents=[common],
                        help="serve the site, the entity IRIs and a read-only SPARQL endpoint on 127.0.0.1")
    sv.add_argument("--port", type=int, default=7878, help="port on 127.0.0.1 (default 7878; 0: any free port)")
    sv.add_argument("--timeout", type=positive_seconds, default=30.0, metavar="SECONDS",
                    help="stop a query after this long (answers 503)")
    sv.set_defaults(func=cmd_serve)

    st = sub.add_parser("site", parents=[common], help="write the browsable site to dist/site/")
    st.set_defaults(func=cmd_site)

    dc = sub.add_parser("docs", parents=[common], help="write the HTML documentation and diagrams to dist/docs/")
    dc.add_argument("--update-readme-figure", action="store_true",
                    help="also rewrite docs/overview.{dot,svg,png} in the clone (the README's figure)")
    dc.add_argument("--construct", metavar="IRI", help="the CAR construct to draw (default: Liu et al. 2020's)")
    dc.set_defaults(func=cmd_docs)

    df = sub.add_parser("diff", parents=[common], help="what changed between two releases (files, folders or git revisions)")
    df.add_argument("old", metavar="OLD", help="release file (any format), dist/ or project folder, or git revision")
    df.add_argument("new", metavar="NEW", help="the same kinds as OLD")
    df.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or JSON")
    df.add_argument("--limit", type=int, default=50, metavar="N", help="lines per section in text output (0: all)")
    df.set_defaults(func=cmd_diff)

    s = sub.add_parser("stats", parents=[common], help="counts of the built release")
    s.set_defaults(func=cmd_stats)
    describe(p, sub)
    return p


class _Args:
    """The namespace argparse would give (attribute access, equality by attributes)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


_QUERY_FLAGS = {"--list": "list", "--print": "print", "--debug": "debug", "--quiet": "quiet", "-q": "quiet",
                "--allow-network": "allow_network"}
_QUERY_OPTIONS = {"--param": "param", "--format": "format", "--engine": "engine", "--timeout": "timeout",
                  "--root": "root", "--dist": "dist"}


def quick_query_args(argv: Sequence[str]):
    """`query` arguments in their common forms, read without argparse (importing it and building every
    subcommand's parser is a quarter of a cold query's time). None for anything else: --help, `=`
    forms, abbreviations, values starting with '-', every error; argparse then reads the line.
    tests/test_cli.py checks that both readings agree."""
    if not argv or argv[0] != "query":
        return None
    ns = dict(root=None, dist=None, debug=False, quiet=False, allow_network=False, command="query", name=None,
              list=False, param=[], format="table", engine="oxigraph", timeout=60.0, print=False,
              graph_prefix=None)
    rest = list(argv[1:])
    i = 0
    while i < len(rest):
        tok = rest[i]
        if tok in _QUERY_FLAGS:
            ns[_QUERY_FLAGS[tok]] = True
        elif tok in _QUERY_OPTIONS:
            if i + 1 >= len(rest) or rest[i + 1].startswith("-"):
                return None
            key, value = _QUERY_OPTIONS[tok], rest[i + 1]
            i += 1
            if key == "param":
                ns["param"] = [*ns["param"], value]
            elif key == "timeout":
                try:
                    ns["timeout"] = float(value)
                except ValueError:
                    return None
            elif (key == "format" and value not in QUERY_FORMATS) or (key == "engine" and value not in QUERY_ENGINES):
                return None
            else:
                ns[key] = value
        elif not tok.startswith("-") and ns["name"] is None:
            ns["name"] = tok
        else:
            return None
        i += 1
    return _Args(**ns, func=cmd_query)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (never raises for expected errors)."""
    args = quick_query_args(sys.argv[1:] if argv is None else list(argv))
    if args is None:
        parser = make_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # argparse: usage errors are exit 2, --help/--version 0
            return int(e.code or 0)
    if not getattr(args, "func", None):
        _err(f"error: no command given (see `{PROG} --help`)")
        return 2
    if args.debug or not (args.command == "query" and getattr(args, "engine", None) == "oxigraph"):
        # libraries (rdflib, pyshacl) log warnings that would break the one-line contract; the embedded
        # store's query path loads none of them, so a cold query does not pay for logging
        import logging
        logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR, format="%(name)s: %(message)s")
    from .safety import guard_for
    try:
        with guard_for(args):  # no network unless --allow-network (load: its endpoint; serve: loopback)
            return args.func(args)
    except CarnkError as exc:
        if args.debug:
            raise
        _err(_no_secrets(f"error: {exc}", args))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, traceback only on request
        if args.debug:
            raise
        _err(_no_secrets(f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                         "(run with --debug for a traceback)", args))
        return exit_code_for(exc)


def _no_secrets(line: str, args) -> str:
    """An error line without passwords (URL user:pass@ parts, the store password) or secret query values."""
    import os

    from .redaction import redact, url_secrets
    urls = (getattr(args, name, None) for name in ("endpoint", "update", "gsp"))
    return redact(line, (getattr(args, "password", None), os.environ.get("CARNK_STORE_PASSWORD"),
                         *(x for u in urls for x in url_secrets(u))))


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


__all__ = ["main", "run", "make_parser"]
