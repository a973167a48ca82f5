"""Serve an agency's recorded answer to Twilio, which fetches it to <Play> to the caller.

The URL carries the answer's id and a keyed token (HMAC of the id and its file with SECRET_KEY):
Twilio cannot log in, so the token is what keeps a stranger counting up ids from hearing officials'
answers to callers. The file must lie inside HOTLINE_DATA_DIR/answers, so a tampered database row
cannot make the app serve any other file.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Response, abort, request, send_file

from ivr.core.config import Config
from ivr.core.models import Answer
from ivr.core.services import services

bp = Blueprint("answers", __name__, url_prefix="/answers")
TOKEN_LENGTH = 32


def answer_audio_token(secret_key: str, answer_id: int, audio_path: str) -> str:
    """Return the token that opens one answer's audio; it changes when the file does."""
    mac = hmac.new(secret_key.encode(), f"answer-audio\0{answer_id}\0{audio_path}".encode(), hashlib.sha256)
    return mac.hexdigest()[:TOKEN_LENGTH]


def answer_audio_path(secret_key: str, answer: Answer) -> str:
    """Return the signed path of an answer's audio, for <Play> and the dashboard's <audio>."""
    return f"/answers/{answer.id}/audio?k={answer_audio_token(secret_key, answer.id, answer.audio_path or '')}"


def answer_audio_url(config: Config, answer: Answer) -> str:
    """Return the signed public URL Twilio fetches to play an answer to a caller."""
    return config.public_base_url + answer_audio_path(config.secret_key, answer)


@bp.app_template_global("answer_audio_src")
def answer_audio_src(answer: Answer) -> str:
    """Give templates the signed path of an answer's audio."""
    return answer_audio_path(services().config.secret_key, answer)


@bp.get("/<int:answer_id>/audio")
def answer_audio(answer_id: int) -> Response:
    """Return the answer's audio with cache headers (it never changes once recorded)."""
    svc = services()
    with svc.db.session() as session:
        answer = session.get(Answer, answer_id)
        if answer is None or not answer.audio_path:
            abort(404)
        relative = answer.audio_path
    expected = answer_audio_token(svc.config.secret_key, answer_id, relative)
    # 404, not 403, for a wrong token: a stranger learns nothing about which ids exist.
    if not hmac.compare_digest(request.args.get("k", "").encode(), expected.encode()):
        abort(404)
    root = (svc.config.data_dir / "answers").resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        abort(404)
    resp = send_file(path, max_age=86400, conditional=True, etag=True)
    return resp
