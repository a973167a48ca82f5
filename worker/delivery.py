"""The answer delivery job: speak a typed answer in the caller's language, then ring the caller with it.

H1's dashboard stores an Answer and enqueues `worker.delivery.deliver_answer` (job id
`deliver-answer-{id}`). A text answer becomes an 8 kHz WAV under HOTLINE_DATA_DIR/answers by the
same TTS pipeline as the prompts (gTTS, then espeak-ng); then, when the caller allowed the agency to
call back and their number is kept, the first outbound call is queued (worker/callback.py). Without
consent the answer waits: the caller hears it when they ring and key their reference number.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from ivr.core.config import Config
from ivr.core.delayed_jobs import enqueue_at
from ivr.core.models import Answer, utcnow
from ivr.core.models.delivery import HELD, SCHEDULED
from ivr.core.prompt_audio import synthesis_voices
from ivr.core.queue import make_queue
from ivr.core.runtime import current_config, current_db
from ivr.voice.callback_numbers import forget_expired_numbers, recall_number
from ivr.voice.outbound_calls import PLACE_CALL_JOB, place_call_job_id, plan_answer_delivery
from menus import load_menus
from speech.tts import render
from speech.tts_errors import EmptyText, NoVoiceForLanguage, TextTooLong, UnreadableScript

log = logging.getLogger(__name__)

ANSWER_MAX_CHARS = 4000  # about four minutes of speech: longer than any prompt, shorter than a lecture
SPOKEN_FOLDER = "spoken"  # under HOTLINE_DATA_DIR/answers: rendered text answers, by language


def answers_root(config: Config) -> Path:
    return config.data_dir / "answers"


def speak_answer(config: Config, text: str, language: str, answer_id: int) -> str | None:
    """Render an answer's text to telephone audio; return its path under the answers folder, or None.

    None when no engine has a voice for the language or the text cannot be spoken (empty, too long,
    another script): the answer stays text. Any other TTS failure raises, so the queue retries it.
    """
    root = answers_root(config)
    try:
        spoken = render(text, language, cache_dir=root / SPOKEN_FOLDER, voices=synthesis_voices(config),
                        prompt_id=f"answer-{answer_id}", max_chars=ANSWER_MAX_CHARS)
    except (NoVoiceForLanguage, EmptyText, TextTooLong, UnreadableScript) as exc:
        log.warning("answer %s (%s) stays text: %s", answer_id, language, type(exc).__name__)
        return None
    log.info("answer %s spoken in %s by %s (%.1f s)", answer_id, language, spoken.engine, spoken.duration_s)
    return spoken.path.resolve().relative_to(root.resolve()).as_posix()


def deliver_answer(answer_id: int, now: datetime | None = None) -> str:
    """Give an answer a voice, then queue the call that brings it to the caller, once.

    Idempotent: the audio is rendered only while the answer has none (and the TTS cache would find
    it anyway), and the answer's delivery row is unique, so a repeated job queues no second call
    (the call job's id is deterministic too). `now` (naive UTC) is the clock, for quiet hours.
    """
    config, db = current_config(), current_db()
    injected = now is not None
    now = now or utcnow()
    with db.session() as session:
        answer = session.get(Answer, answer_id)
        if answer is None:
            return "no such answer"
        text, language, has_audio = answer.text, answer.message.language, bool(answer.audio_path)
    if text and not has_audio:
        path = speak_answer(config, text, language, answer_id)
        if path is not None:
            with db.session() as session:
                answer = session.get(Answer, answer_id)
                assert answer is not None
                answer.audio_path = answer.audio_path or path
                has_audio = True
    with db.session() as session:
        forget_expired_numbers(session, now=now)
        answer = session.get(Answer, answer_id)
        assert answer is not None
        caller_id = answer.message.caller_id
        kept = caller_id is not None and recall_number(session, config, caller_id, now=now) is not None
        delivery = plan_answer_delivery(session, config, answer, number_kept=kept, now=now)
        if delivery.status == SCHEDULED and delivery.attempts == 0 and not has_audio and not _can_say(config, language):
            # Twilio's <Say> has no voice for this language either: a call would ring them to silence.
            delivery.status, delivery.next_attempt_at = HELD, None
            delivery.held_reason = f"no voice speaks {language} text: record the answer to call the caller"
        delivery_id, status, attempts, due = delivery.id, delivery.status, delivery.attempts, delivery.next_attempt_at
    if status != SCHEDULED or attempts > 0 or due is None:
        return f"delivery {delivery_id} {status}"
    # An injected clock travels with a call placed at once; a deferred call runs on the real one.
    clock = (now,) if injected and due <= now else ()
    enqueue_at(make_queue(config), due, PLACE_CALL_JOB, delivery_id, 1, *clock,
               job_id=place_call_job_id(delivery_id, 1), now=now)
    return f"delivery {delivery_id} call queued for {due.isoformat(timespec='minutes')}"


def _can_say(config: Config, language: str) -> bool:
    lang = load_menus(config.menus_dir).languages.get(language)
    return bool(lang and lang.twilio_voice)
