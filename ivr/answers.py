"""Serve an agency's recorded answer to Twilio, which fetches it to <Play> to the caller.

The URL carries only the answer's id; the file must lie inside HOTLINE_DATA_DIR/answers, so a
tampered database row cannot make the app serve any other file.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_file

from .models import Answer
from .services import services

bp = Blueprint("answers", __name__, url_prefix="/answers")


@bp.get("/<int:answer_id>/audio")
def answer_audio(answer_id: int) -> Response:
    """Return the answer's audio with cache headers (it never changes once recorded)."""
    svc = services()
    with svc.db.session() as session:
        answer = session.get(Answer, answer_id)
        if answer is None or not answer.audio_path:
            abort(404)
        relative = answer.audio_path
    root = (svc.config.data_dir / "answers").resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        abort(404)
    resp = send_file(path, max_age=86400, conditional=True, etag=True)
    return resp
