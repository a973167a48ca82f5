"""Community radio: summaries, moderated clips, bulletins and keypad polls."""

from __future__ import annotations
