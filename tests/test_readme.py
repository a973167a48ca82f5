"""The README documents every setting, every `hotline` command and every HTTP route (datasette's habit)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import Flask

from ivr.commands.cli import main
from ivr.core.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "hotline") -> list[str]:
    names = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix} {name}"
        names.append(full)
        if isinstance(cmd, click.Group):
            names.extend(commands(cmd, full))
    return names


def test_every_setting_is_documented() -> None:
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    missing = [c for c in commands(main) if f"`{c}" not in README]
    assert missing == []


def test_every_route_is_documented(app: Flask) -> None:
    documented = set(re.findall(r"`(?:GET|POST|GET, POST) (/[^`\s]*)`", README))
    routes = {re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"<\1>", rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"}
    assert sorted(routes - documented) == []
    assert sorted(documented - routes) == []  # and nothing documented that does not exist


def test_quickstart_has_exactly_the_two_commands() -> None:
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    assert blocks[:2] == ["bash scripts/run.sh\n", "bash scripts/test.sh\n"]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
