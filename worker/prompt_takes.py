"""Background job: store a prompt take recorded on the prompt line, as an upload on the operator page is.

The line (ivr/operator/prompt_line.py) enqueues `worker.prompt_takes.store_prompt_take` by name when
the speaker keeps a take; fetching from Twilio waits here, never in a call's webhook.
"""

from __future__ import annotations

import logging

from ivr.core.runtime import current_config
from ivr.operator.recordings import RecordingRejected, store_recording
from menus import load_menus
from recordings.fetch import fetch_recording

log = logging.getLogger(__name__)


def store_prompt_take(language: str, prompt_id: str, url: str) -> str:
    """Fetch a take's WAV and put it where operator-page uploads go (converted, checked, replacing the last).

    Idempotent: storing the same take twice leaves the same file. A take that is not usable audio is
    logged and left out (retrying cannot fix it); a fetch that fails for a passing reason raises, so the
    queue retries it.
    """
    config = current_config()
    menus = load_menus(config.menus_dir)
    if language not in menus.languages or prompt_id not in menus.required_prompts():
        log.warning("prompt take for %s/%s: no longer in the menus", language, prompt_id)
        return "not in menus"
    fetched = fetch_recording(url, account_sid=config.twilio_account_sid, auth_token=config.twilio_auth_token,
                              hosts=config.media_hosts)
    try:
        seconds = store_recording(fetched.data, folder=config.prompt_recordings_dir, language=language,
                                  prompt_id=prompt_id, max_bytes=config.prompt_upload_max_bytes)
    except RecordingRejected as exc:
        log.warning("prompt take for %s/%s refused: %s", language, prompt_id, exc.reason)
        return f"refused: {exc.reason}"
    log.info("prompt take stored: %s/%s (%.1f s)", language, prompt_id, seconds)
    return f"stored {seconds:.1f} s"
