"""Remember which languages a native speaker has reviewed on the operator page.

Machine-translated prompts are a draft until a native speaker marks them reviewed. A language is
reviewed when its prompt file says `reviewed = true`, or when a mark made on the operator page
matches the current texts: each mark holds a hash of every prompt text of the language, so editing
any prompt turns the review back into a draft, with no one having to remember to reset it.

Marks live in HOTLINE_DATA_DIR/prompt-reviews.json, not in menus/prompts/<lang>.toml: the web app
never rewrites the files translators edit (and the menus folder may be read-only in production).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from menus import Language

REVIEWS_FILE = "prompt-reviews.json"
MAX_REVIEWER_CHARS = 80
_lock = threading.Lock()


@dataclass(frozen=True)
class Review:
    """Whether a language's prompts are reviewed, and by what means."""

    reviewed: bool
    how: str = ""  # "prompt file" or "operator page"
    by: str = ""
    at: str = ""  # ISO 8601, UTC


def texts_digest(language: Language) -> str:
    """Return a hash of every prompt text of the language, in a stable order."""
    body = json.dumps(sorted(language.prompts.items()), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def review_of(language: Language, data_dir: Path) -> Review:
    """Return the language's review state: its prompt file's flag, else a mark for today's texts."""
    if language.reviewed:
        return Review(True, "prompt file")
    mark = _read(data_dir / REVIEWS_FILE).get(language.code)
    if isinstance(mark, dict) and mark.get("texts_sha256") == texts_digest(language):
        return Review(True, "operator page", str(mark.get("by", "")), str(mark.get("at", "")))
    return Review(False)


def mark_reviewed(language: Language, data_dir: Path, by: str) -> Review:
    """Record that a native speaker reviewed the language's current texts."""
    by = " ".join(by.split())[:MAX_REVIEWER_CHARS]
    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    path = data_dir / REVIEWS_FILE
    with _lock:
        marks = _read(path)
        marks[language.code] = {"texts_sha256": texts_digest(language), "by": by, "at": at}
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".reviews.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(marks, out, ensure_ascii=False, indent=1)
            os.replace(name, path)  # whole or not at all
        finally:
            Path(name).unlink(missing_ok=True)
    return Review(True, "operator page", by, at)


def _read(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
