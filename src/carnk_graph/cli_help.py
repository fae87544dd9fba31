"""What `carnk-graph COMMAND --help` says, and the one-line usage error.

Kept apart from cli.py's option definitions so that the text a newcomer reads
(what a command is for, an example to copy, the exit codes it can give) is in
one place and tested as a whole: every subcommand has all three, and every
example parses.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass

from .errors import BAD_INPUT, printable

PROG = "carnk-graph"

#: What each exit code means (the contract of DESIGN.md, the same for every command).
EXIT_MEANINGS = {
    0: "ok",
    1: "data does not conform, or a quality check failed",
    2: "bad input or usage",
    3: "reasoner problem",
    4: "refused for safety",
    5: "timeout",
    6: "remote store error",
}

#: Codes of the build a command runs first when dist/ is missing or stale.
_BUILDS_FIRST = (1, 3)


@dataclass(frozen=True)
class CommandHelp:
    description: str
    examples: tuple[str, ...]
    exits: tuple[int, ...]
    builds_first: bool = False

    def epilog(self) -> str:
        lines = ["examples:"]
        lines += [f"  {e}" for e in self.examples]
        lines.append("")
        lines.append("exit codes:")
        codes = sorted(set(self.exits) | (set(_BUILDS_FIRST) if self.builds_first else set()))
        for code in codes:
            note = " (from the build it runs first when dist/ is missing or stale)" \
                if self.builds_first and code in _BUILDS_FIRST and code not in self.exits else ""
            lines.append(f"  {code}  {EXIT_MEANINGS[code]}{note}")
        return "\n".join(lines)


COMMANDS: dict[str, CommandHelp] = {
    "build": CommandHelp(
        "Load the sources strictly, reason (HermiT, or OWL 2 RL without Java), validate against the "
        "shapes, run the quality checks and write dist/: six serialisations, the report and the "
        "embedded store. Skipped when nothing changed; a failed build keeps the previous release.",
        (f"{PROG} build", f"{PROG} build --reasoner owlrl --force"),
        (0, 1, 2, 3, 4)),
    "validate": CommandHelp(
        "Check the built graph, or your own data files (together with the ontology and the shipped "
        "knowledge graph), against the SHACL shapes; one line per violation on stdout.",
        (f"{PROG} validate", f"{PROG} validate my-products.ttl", f"{PROG} validate data.jsonld --standalone"),
        (0, 1, 2, 4), builds_first=True),
    "export": CommandHelp(
        "Write the release, or some of its named graphs, in one RDF format, to stdout or a file.",
        (f"{PROG} export --format ttl -o carnk.ttl", f"{PROG} export --format jsonld --graph kg"),
        (0, 2), builds_first=True),
    "query": CommandHelp(
        "Run a saved question (see --list) or your own .rq file, read-only, on the built graph. "
        "Updates, SERVICE and FROM are refused.",
        (f"{PROG} query --list", f"{PROG} query safety-side-by-side --format csv",
         f"{PROG} query findings-on-a-toxicity --param toxicity=carnkkg:cytokine-release-syndrome",
         f"{PROG} query my-question.rq --timeout 10"),
        (0, 2, 4, 5), builds_first=True),
    "load": CommandHelp(
        "Load the release's named graphs into a remote triple store over the SPARQL 1.1 protocols: "
        "uploaded to staging graphs, counted, then swapped in with one update, so a failure never "
        "leaves a half-replaced graph. Give the password with $CARNK_STORE_PASSWORD or on the "
        "terminal, never inside the URL.",
        (f"{PROG} load --endpoint http://localhost:7878/query --update http://localhost:7878/update",
         f"CARNK_STORE_PASSWORD=... {PROG} load --endpoint http://localhost:8890/sparql-auth "
         "--user dba --auth digest",
         f"{PROG} load --endpoint http://localhost:7878/query --dry-run"),
        (0, 2, 4, 6), builds_first=True),
    "serve": CommandHelp(
        "Serve the site (built first when missing or stale), the entity IRIs (HTML, or Turtle / JSON-LD / "
        "N-Triples by Accept) and a read-only SPARQL endpoint at /sparql on 127.0.0.1 until Ctrl-C. Every "
        "query passes the read-only check (no SERVICE, FROM or update) and a time limit; a rebuilt "
        "release is picked up.",
        (f"{PROG} serve", f"{PROG} serve --port 8000 --timeout 10", f"{PROG} serve --port 0"),
        (0, 2, 4), builds_first=True),
    "site": CommandHelp(
        "Write the browsable site to dist/site/: a page per class, property and individual with its "
        "sources, overviews of clinical programmes, products, constructs, toxicities and sources, a "
        "search index, and each entity's Turtle, JSON-LD and N-Triples. Open dist/site/index.html or "
        "run serve.",
        (f"{PROG} site", f"{PROG} site --dist /tmp/dist"),
        (0, 2), builds_first=True),
    "stats": CommandHelp(
        "Print the triple, class, property and individual counts of the built release per named graph.",
        (f"{PROG} stats",),
        (0, 2), builds_first=True),
    "docs": CommandHelp(
        "Write HTML documentation of the ontology, with a schema overview and a CAR construct "
        "diagram (SVG and PNG), to dist/docs/.",
        (f"{PROG} docs", f"{PROG} docs --update-readme-figure"),
        (0, 2)),
    "diff": CommandHelp(
        "List the classes, properties, individuals and triples added and removed per named graph "
        "between two releases: release files, dist/ or project folders, or git revisions.",
        (f"{PROG} diff HEAD~1 HEAD", f"{PROG} diff old/dist dist --format json"),
        (0, 2)),
}


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are ONE line on stderr and exit 2 (the contract).

    argparse prints the usage block and then the error (3-6 lines); the block helps
    little and breaks scripts that read the last line. The line names the command's
    --help instead.
    """

    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        where = self.prog[len(PROG):].strip()
        text = printable(" ".join(message.split()))
        print(f"{PROG}: error: {where + ': ' if where else ''}{text} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(BAD_INPUT)


def describe(parser: argparse.ArgumentParser, subparsers: argparse._SubParsersAction) -> None:
    """Give every subcommand its description and its epilog of examples and exit codes."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "exit codes: " + ", ".join(f"{c} {m}" for c, m in EXIT_MEANINGS.items()) + \
        f". Run `{PROG} COMMAND --help` for a command's options and examples."
    for name, sub in subparsers.choices.items():
        info = COMMANDS.get(name)
        if info is None:
            continue  # a command added without help text: test_cli fails and names it
        sub.description = textwrap.fill(info.description, 100)
        sub.epilog = info.epilog()
        sub.formatter_class = argparse.RawDescriptionHelpFormatter


def positive_seconds(text: str) -> float:
    """argparse type of a time limit: a finite number of seconds above zero (not nan, inf, 0, -1 or abc)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not (0 < value < float("inf")):  # False for nan too
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds above 0, not {text!r}")
    return value
