"""The `hotline` command: run, inspect and operate the hotline from a terminal.

Each group of commands lives in its own module under ivr/commands/ and registers itself here.
"""

from __future__ import annotations

import click

from ivr.core.config import Config, load_env_file
from ivr.core.errors import ConfigError


def load_config() -> Config:
    """Read the config for a command, turning a config problem into a clean CLI error."""
    load_env_file()
    try:
        return Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Talanoa Hotline: run the hotline, place emulated calls, inspect messages and jobs."""


def _register() -> None:
    from ivr.commands import register_all

    register_all(main)


_register()
