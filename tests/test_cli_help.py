"""The command line speaks to newcomers: every subcommand's --help has a description, examples and
its exit codes, every option says what it does, and every usage error is ONE line with exit 2."""
from __future__ import annotations

import argparse
import shlex

import pytest

from carnk_graph.cli import main, make_parser
from carnk_graph.cli_help import COMMANDS, EXIT_MEANINGS

PARSER = make_parser()
SUBCOMMANDS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]


def filler(action: argparse.Action) -> list[str]:
    """A valid value for a required option or positional (the parse must fail elsewhere)."""
    value = action.choices[0] if action.choices else ("1" if action.type in (int, float) else "x")
    value = "1" if callable(action.type) and action.type not in (str, int, float) and not action.choices else value
    return [value] if not action.option_strings else [action.option_strings[-1], str(value)]


def is_required(a: argparse.Action) -> bool:
    if not a.option_strings:  # argparse marks a '*' positional required; it is not
        return a.nargs not in ("?", "*")
    return a.required


def required_args(parser: argparse.ArgumentParser, skip: argparse.Action | None = None) -> list[str]:
    return [w for a in options(parser) if a is not skip and is_required(a) for w in filler(a)]


def one_line_usage_error(capsys, args: list[str]) -> str:
    assert main(args) == 2, args
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, f"{args}: {captured.err}"
    assert lines[0].startswith("carnk-graph: error: ") and "--help" in lines[0]
    assert "usage:" not in captured.err and captured.out == ""
    return lines[0]


def usage_errors() -> list[tuple[str, list[str]]]:
    """(id, argv) for every kind of usage error each subcommand can get: an unknown option, every
    option's bad choice or bad number, every required option or argument missing."""
    cases = []
    for name, sub in SUBCOMMANDS.items():
        base = required_args(sub)
        cases.append((f"{name}-unknown-option", [name, *base, "--no-such-option"]))
        for a in options(sub):
            flag = a.option_strings[-1] if a.option_strings else None
            if a.choices and flag:
                cases.append((f"{name}-{flag}-bad-choice", [name, *required_args(sub, a), flag, "no-such-choice"]))
            elif a.type is not None and a.type is not str and flag:
                cases.append((f"{name}-{flag}-not-a-number", [name, *required_args(sub, a), flag, "abc"]))
            if is_required(a):
                cases.append((f"{name}-{a.dest}-missing", [name, *required_args(sub, a)]))
            if flag and a.nargs != 0 and not isinstance(a, (argparse._HelpAction, argparse._VersionAction)):
                cases.append((f"{name}-{flag}-without-value", [name, *required_args(sub, a), flag]))
    cases += [("no-such-command", ["no-such-command"]), ("top-level-unknown-option", ["--no-such-option"])]
    return cases


USAGE_ERRORS = usage_errors()


@pytest.mark.parametrize("argv", [c[1] for c in USAGE_ERRORS], ids=[c[0] for c in USAGE_ERRORS])
def test_a_usage_error_is_one_line_and_exit_2(argv, capsys):
    one_line_usage_error(capsys, argv)


def test_every_subcommand_has_usage_error_cases():
    assert {c[1][0] for c in USAGE_ERRORS} >= set(SUBCOMMANDS)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "abc", ""])
def test_load_timeout_must_be_a_finite_positive_number(value, capsys):
    line = one_line_usage_error(capsys, ["load", "--endpoint", "http://127.0.0.1:9/sparql", "--dry-run",
                                         "--timeout", value])
    assert "--timeout" in line


def test_a_hostile_argument_is_printed_escaped(capsys):
    line = one_line_usage_error(capsys, ["export", "--format", "ttl\x1b[2J\nx"])
    assert "\x1b" not in line and "\\x1b" in line


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_help_has_a_description_examples_and_exit_codes(name, capsys):
    with pytest.raises(SystemExit) as done:
        PARSER.parse_args([name, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert COMMANDS[name].description.split()[0] in out
    assert "examples:\n  carnk-graph " + name in out
    assert "exit codes:\n  0  ok" in out
    for code in COMMANDS[name].exits:
        assert f"  {code}  {EXIT_MEANINGS[code]}" in out


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_option_has_help_text(name):
    undocumented = [a.option_strings or a.dest for a in options(SUBCOMMANDS[name]) if not (a.help or "").strip()]
    assert undocumented == []


def test_every_top_level_option_has_help_text():
    assert [a.option_strings for a in options(PARSER) if not (a.help or "").strip()] == []


@pytest.mark.parametrize("example", [e for c in COMMANDS.values() for e in c.examples])
def test_every_example_in_the_help_parses(example):
    words = shlex.split(example)
    while "=" in words[0]:  # an environment variable set for the command
        words.pop(0)
    assert words[0] == "carnk-graph"
    args = PARSER.parse_args(words[1:])
    assert args.command == words[1]


def test_the_exit_code_table_is_the_contract():
    from carnk_graph import errors

    assert {errors.OK, errors.NOT_CONFORMING, errors.BAD_INPUT, errors.REASONER, errors.REFUSED,
            errors.TIMEOUT, errors.REMOTE} == set(EXIT_MEANINGS)


# -- query --list honours --format --------------------------------------------------------------------

def saved_query_names(project_root) -> list[str]:
    return sorted(p.stem for p in (project_root / "queries").glob("*.rq"))


def test_query_list_as_csv_has_a_row_per_saved_query(project_root, capsys):
    import csv
    import io

    assert main(["query", "--list", "--format", "csv", "--root", str(project_root)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["name"] for r in rows) == saved_query_names(project_root)
    assert all(r["title"] and r["description"] for r in rows)


def test_query_list_as_tsv_and_json_are_sparql_results(project_root, capsys):
    import json

    assert main(["query", "--list", "--format", "json", "--root", str(project_root)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["head"]["vars"] == ["name", "title", "params", "description"]
    assert sorted(b["name"]["value"] for b in doc["results"]["bindings"]) == saved_query_names(project_root)
    assert main(["query", "--list", "--format", "tsv", "--root", str(project_root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "?name\t?title\t?params\t?description" and len(lines) == len(saved_query_names(project_root)) + 1


def test_query_list_refuses_a_graph_format_in_one_line(project_root, capsys):
    assert main(["query", "--list", "--format", "ttl", "--root", str(project_root)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "table, csv, tsv or json" in err[0]
