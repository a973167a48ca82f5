"""The call flow and every prompt, as data, with the loader that checks them."""

from .loader import MenuError, load_menus
from .schema import Flow, Language, Menus, Node, Option

__all__ = ["Flow", "Language", "MenuError", "Menus", "Node", "Option", "load_menus"]
