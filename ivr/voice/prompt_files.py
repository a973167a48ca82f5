"""Serve prompt audio to Twilio (and the operator page) under stable, cacheable URLs.

A prompt lives at /prompts/<lang>/<prompt id>.wav (or .mp3 for a shipped human MP3), with
`?v=<first 16 hex of its sha256>` added by the TwiML. A URL with the current version is cached for a
year (`immutable`): replacing the audio changes the URL, so Twilio fetches the new file once and
never plays a stale one. Without the version, or with an old one, the current file is served with
`no-cache`, so caches revalidate with the ETag (the full sha256) and get 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, abort, request

from ivr.core.services import services

bp = Blueprint("prompt_files", __name__)

PROMPT_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
YEAR_SECONDS = 365 * 24 * 3600


@bp.get("/prompts/<lang>/<filename>")
def audio(lang: str, filename: str) -> Response:
    """Serve a prompt's current audio with Cache-Control and ETag, answering 304 when unchanged."""
    svc = services()
    stem, _, _ = filename.rpartition(".")
    if lang not in svc.menus.languages or not PROMPT_ID.match(stem):
        abort(404)
    # Looked up in the library, never joined onto a folder: a request cannot name any other file.
    found = svc.prompts.library.find(lang, stem)
    if found is None or found.filename != filename:
        abort(404)
    try:
        # Read whole (a prompt is tens of kilobytes): no open file outlives the request, whatever the client.
        data = found.path.read_bytes()
    except OSError:
        abort(404)  # replaced or removed between the look-up and now; the next request finds the new file
    digest = hashlib.sha256(data).hexdigest()
    if digest != found.sha256:
        # Overwritten in place since the last scan: look again, so the TwiML's next URL is the new version.
        svc.prompts.library.refresh()
    resp = Response(data, mimetype=found.mimetype)
    resp.set_etag(digest)
    resp.cache_control.public = True
    if request.args.get("v") == digest[:16]:
        resp.cache_control.max_age = YEAR_SECONDS
        resp.cache_control.immutable = True
    else:
        resp.cache_control.no_cache = True
        resp.cache_control.max_age = 0
    resp.make_conditional(request, accept_ranges=True, complete_length=len(data))
    return resp
