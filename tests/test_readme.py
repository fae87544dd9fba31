"""The README's promises: two set-up commands at the top, and CI runs exactly the test one."""
from __future__ import annotations

import re

from conftest import PROJECT_ROOT


def readme_commands() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", setup, flags=re.S)]


def test_the_readme_opens_with_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install .") and "carnk-graph build" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readmes_test_command():
    ci_lines = [line.strip() for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_commands()[1] in ci_lines
    assert ci_lines[-1] == readme_commands()[1], "the test command must be last so its exit code is CI's"


def test_every_command_in_the_cli_is_in_the_readme_table():
    from carnk_graph.cli import make_parser

    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in make_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert f"`carnk-graph {name}" in text, name
