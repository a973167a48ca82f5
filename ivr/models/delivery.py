"""Answers reaching callers: outbound calls, missed-call callbacks, encrypted callback numbers."""

from __future__ import annotations
