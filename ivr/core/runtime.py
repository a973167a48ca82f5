"""Hand job functions the config and database of the process they run in.

The web process sets them for the inline queue; `hotline worker` sets them before it starts work.
Jobs that run anywhere else (an RQ worker started by hand) read the environment.
"""

from __future__ import annotations

import threading

from ivr.core.config import Config
from ivr.core.db import Database, database_for

_lock = threading.Lock()
_config: Config | None = None


def set_config(config: Config | None) -> None:
    global _config
    with _lock:
        _config = config


def current_config() -> Config:
    """Return the config set for this process, else read it from the environment."""
    global _config
    with _lock:
        if _config is None:
            from ivr.core.config import load_env_file

            load_env_file()
            _config = Config.from_env()
        return _config


def current_db() -> Database:
    return database_for(current_config().database_url)
