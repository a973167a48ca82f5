"""The hotline web application's own exceptions.

HotlineError
 ├── ConfigError      a setting is missing or malformed (raised at start-up)
 └── NotFound         a guarded lookup found nothing the caller may see
"""


class HotlineError(Exception):
    """Base of every error the ivr package raises on purpose."""


class ConfigError(HotlineError):
    """A setting is missing or malformed; the message names each one."""


class NotFound(HotlineError):
    """A record does not exist, or is not visible to whoever asked."""
