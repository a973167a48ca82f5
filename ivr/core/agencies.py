"""Load the agencies and keyword rules a config names, for the routing and notification jobs.

The files are read on every use, not once per process: an operator's edit (a new agency, a changed
webhook) takes effect with the next message, without restarting workers. They are small.
"""

from __future__ import annotations

from ivr.core.config import Config
from menus import MenuError, Menus, load_menus
from menus.agencies import Agencies, Agency, Routing, Target, load_routing

__all__ = ["Agencies", "Agency", "MenuError", "Menus", "Routing", "Target", "routing_for"]


def routing_for(config: Config) -> tuple[Menus, Routing]:
    """Return the menus and the checked agencies and rules; raise MenuError listing every problem."""
    menus = load_menus(config.menus_dir)
    return menus, load_routing(menus, config.agencies_path, config.routing_rules_path)
