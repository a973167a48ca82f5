"""Recognition with a Vosk (Kaldi) model: the production engine, one model per language.

A loaded `vosk.Model` is read-only and safe to share between threads; each transcription makes
its own cheap `KaldiRecognizer`, so many jobs can use one model at once without a lock.
Vosk dithers its features with a process-wide random generator, so the same audio can come out
with a word or two different from one run to the next (alphacep/vosk-api#868).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import vosk

from .audio import Pcm
from .engine import Engine, Word, is_filler
from .errors import BrokenModel
from .models import ModelInfo, validate_model

CHUNK_SECONDS = 0.25  # how much audio is fed per AcceptWaveform call, as a live stream would be

# -1 keeps Kaldi's warnings and errors but not the dozen LOG lines per model load.
vosk.SetLogLevel(-1)


class VoskEngine(Engine):
    """A Vosk model loaded from its folder, for the one language it was trained on."""

    name = "vosk"

    def __init__(self, info: ModelInfo) -> None:
        if info.language is None or info.problems:
            raise BrokenModel(info.path, info.problems or ("unknown language",))
        try:
            self._model = vosk.Model(str(info.path))
        except Exception as exc:
            # vosk raises a bare Exception("Failed to create a model"); Kaldi's reason went to stderr.
            raise BrokenModel(info.path, [f"Vosk could not load it ({exc}); see the log for Kaldi's reason"]) from exc
        self.path = info.path
        self.model = info.name
        self.languages = frozenset({info.language})
        self.sample_rate = info.sample_rate

    @classmethod
    def load(cls, folder: Path) -> VoskEngine:
        """Check a model folder and load it, raising ModelNotFound or BrokenModel."""
        return cls(validate_model(folder))

    def recognise(self, pcm: Pcm) -> list[Word]:
        """Feed the audio in chunks and collect every segment's words with their confidences."""
        recognizer = vosk.KaldiRecognizer(self._model, float(self.sample_rate))
        recognizer.SetWords(True)
        step = 2 * max(1, int(self.sample_rate * CHUNK_SECONDS))
        results: list[str] = []
        for offset in range(0, len(pcm.data), step):
            # True means Vosk saw an endpoint (a pause) and has a finished segment to hand over.
            if recognizer.AcceptWaveform(pcm.data[offset:offset + step]):
                results.append(recognizer.Result())
        results.append(recognizer.FinalResult())
        words: list[Word] = []
        for raw in results:
            words.extend(_words(json.loads(raw)))
        return words


def _words(result: dict[str, Any]) -> list[Word]:
    """Read the words of one Vosk result, skipping markers such as [unk]."""
    return [
        Word(str(item["word"]), float(item.get("conf", 1.0)), float(item["start"]), float(item["end"]))
        for item in result.get("result", [])
        if not is_filler(str(item["word"]))
    ]
