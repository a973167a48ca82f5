"""The `hotline` command: run, inspect and operate the hotline from a terminal.

Each group of commands lives in its own module under ivr/commands/ and registers itself here.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from .config import Config
from .errors import ConfigError

ENV_FILE_NAME = "hotline.env"


def load_env_file(environ: dict[str, str] | None = None) -> Path | None:
    """Fill unset variables from HOTLINE_ENV_FILE or HOTLINE_DATA_DIR/hotline.env, if it exists.

    The quickstart writes that file with fresh random secrets, so every later `hotline` command
    in the same checkout (serve, call, messages) shares them without the operator exporting anything.
    """
    env = os.environ if environ is None else environ
    path = Path(env.get("HOTLINE_ENV_FILE") or Path(env.get("HOTLINE_DATA_DIR") or "instance") / ENV_FILE_NAME)
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if not env.get(key.strip()):  # an empty variable counts as unset
            env[key.strip()] = value.strip()
    return path


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
    from .commands import register_all

    register_all(main)


_register()
