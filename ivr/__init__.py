"""Talanoa Hotline's web application, one room per audience on a shared core (see README: Where things are)."""

from __future__ import annotations

from ivr.app import create_app
from ivr.core.config import Config

__all__ = ["Config", "create_app"]
