"""Background job: render one prompt a call found without audio, so the next call plays it.

The web app never synthesises during a call; it enqueues `worker.prompts.render_prompt` by name
(ivr.core.prompts.RENDER_JOB) and speaks the prompt with <Say> meanwhile.
"""

from __future__ import annotations

import logging

from ivr.core.prompt_audio import PromptLibrary, synthesis_voices
from ivr.core.runtime import current_config
from menus import load_menus
from speech.tts import render

log = logging.getLogger(__name__)


def render_prompt(language: str, prompt_id: str) -> str:
    """Render a prompt's current text into the prompt cache, unless it already has audio.

    Idempotent: the cache is keyed by (text, language, engine, voice), so running it twice, or
    after `hotline prompts build`, finds the audio and does nothing. The text is read from the menu
    files when the job runs, so an edit made since it was queued is what gets rendered. Raises a
    TTSError when every voice failed: the queue retries it, then keeps it in the failed jobs an
    operator sees; the error names the prompt and the language.
    """
    config = current_config()
    menus = load_menus(config.menus_dir)
    lang = menus.languages.get(language)
    if lang is None or prompt_id not in lang.prompts:
        # The menus changed since the job was queued; retrying would not bring the prompt back.
        log.warning("prompt %s (%s) is no longer in the menus; nothing to render", prompt_id, language)
        return "not in menus"
    if PromptLibrary.for_config(config, menus).find(language, prompt_id) is not None:
        return "has audio"
    prompt = render(lang.prompts[prompt_id], language, cache_dir=config.prompts_cache,
                    voices=synthesis_voices(config), prompt_id=prompt_id)
    log.info("rendered prompt %s (%s) with %s", prompt_id, language, prompt.engine)
    return f"rendered with {prompt.engine}"
