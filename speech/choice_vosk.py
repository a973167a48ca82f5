"""Recognise one word out of a menu's few with an installed Vosk model, its grammar restricted.

Vosk can limit a recogniser to a list of phrases (a JSON list as the third argument of
KaldiRecognizer); "[unk]" is added so that anything else is heard as unknown instead of being
forced onto the nearest choice. The model is the one the registry loaded for transcription
(speech/registry.py), so a language's model is in memory once per process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import vosk

from .audio import Pcm
from .choice_audio import MIN_SECONDS
from .vosk_engine import VoskEngine

UNKNOWN = "[unk]"


def vosk_choose(engine: VoskEngine, pcm: Pcm, words: Sequence[str]) -> tuple[str | None, float]:
    """Return the one choice word heard and Vosk's confidence in it, or (None, 0.0).

    Anything but exactly one choice word (nothing, "[unk]", two words) is no answer: a caller who
    said something else should hear the menu again, not be sent down a branch.
    """
    wanted = sorted({w.lower() for w in words})
    if len(pcm.data) < 2 * int(pcm.rate * MIN_SECONDS) or not wanted:
        return None, 0.0
    model = engine.vosk_model  # the registry's copy: no second load
    recognizer = vosk.KaldiRecognizer(model, float(pcm.rate), json.dumps([*wanted, UNKNOWN], ensure_ascii=False))
    recognizer.SetWords(True)
    recognizer.AcceptWaveform(pcm.data)
    result = json.loads(recognizer.FinalResult())
    heard = [item for item in result.get("result", []) if str(item.get("word")) != UNKNOWN]
    if len(heard) != 1 or len(result.get("result", [])) != 1:
        return None, 0.0
    word = str(heard[0]["word"])
    if word not in wanted:
        return None, 0.0
    return word, float(heard[0].get("conf", 0.0))
