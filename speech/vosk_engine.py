"""Recognition with a Vosk (Kaldi) model: the production engine, one model per language.

A loaded `vosk.Model` is read-only and safe to share between threads; each transcription makes
its own cheap `KaldiRecognizer`, so many jobs can use one model at once without a lock.
`choose` restricts recognition to a few phrases (Vosk's JSON grammar): a yes/no or a spoken digit.
Vosk dithers its features with a process-wide random generator, so the same audio can come out
with a word or two different from one run to the next (alphacep/vosk-api#868).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vosk

from .audio import AudioSource, Pcm, read_pcm16
from .engine import Engine, Word, clip_words, is_filler
from .errors import BadGrammar, BrokenModel
from .language_check import WrongLanguageModel, check_language
from .models import ModelInfo, validate_model
from .vocabulary import VocabularyUnreadable, unknown_words

CHUNK_SECONDS = 0.25  # how much audio is fed per AcceptWaveform call, as a live stream would be
# What models call a word outside the grammar: offered with every grammar, so speech that is none of
# the phrases comes out as this marker (and `choose` answers None) instead of being forced into one.
UNKNOWN_MARKERS = ("[unk]", "<UNK>")
MAX_PHRASES = 1000


@dataclass(frozen=True)
class Choice:
    """Which allowed phrase grammar-restricted recognition heard, with its words and their confidence."""

    phrase: str  # one of the phrases given to `choose`, exactly as given
    words: tuple[Word, ...]
    confidence: float  # the mean of its words' confidences, 0..1

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
        try:
            check_language(info.path, info.language)
        except WrongLanguageModel as exc:
            # Copied in by hand past `hotline models install`: transcribe, but flag every transcript.
            self.doubts = (f"wrong-language model: {exc}",)

    @classmethod
    def load(cls, folder: Path) -> VoskEngine:
        """Check a model folder and load it, raising ModelNotFound or BrokenModel."""
        return cls(validate_model(folder))

    @property
    def vosk_model(self) -> vosk.Model:
        """The loaded Vosk model, for recognisers of our own that need Kaldi's raw results (speech/choice_vosk.py)."""
        return self._model

    def grammar(self, phrases: Sequence[str]) -> list[str]:
        """Check phrases for restricted recognition and return Vosk's word list, the unknown marker added.

        Raises BadGrammar for no phrases, an empty one, or a word the model cannot output (Kaldi would
        drop it with a warning, and that phrase could never be heard).
        """
        cleaned = [" ".join(str(p).split()) for p in phrases]
        if not cleaned or len(cleaned) > MAX_PHRASES:
            raise BadGrammar(self.model, f"give between 1 and {MAX_PHRASES} phrases, not {len(cleaned)}")
        if not all(cleaned) or any(is_filler(w) for p in cleaned for w in p.split()):
            raise BadGrammar(self.model, "a phrase is empty or starts with a marker such as [unk]")
        words = frozenset(w for p in cleaned for w in p.split())
        try:
            missing = unknown_words(self.path, words | frozenset(UNKNOWN_MARKERS))
        except (VocabularyUnreadable, OSError):
            missing = None  # the vocabulary cannot be read: let Vosk drop what it does not know
        if missing is None:
            return [*cleaned, UNKNOWN_MARKERS[0]]
        if missing & words:
            raise BadGrammar(self.model, f"not in the model's vocabulary: {', '.join(sorted(missing & words))}")
        return cleaned + [m for m in UNKNOWN_MARKERS if m not in missing]

    def choose(self, audio: AudioSource, phrases: Sequence[str]) -> Choice | None:
        """Return which of `phrases` was said in the audio, or None for silence or speech that is none of them.

        Only the phrases (and the model's unknown-word marker) can be recognised, so a short answer such
        as a digit or yes/no is found far more reliably than by free transcription. When the caller said
        several of them, the one heard with the highest confidence is returned.
        """
        allowed = self.grammar(phrases)
        pcm = read_pcm16(audio, self.sample_rate)
        if pcm.silent:
            return None
        words = clip_words(self.recognise(pcm, grammar=allowed), pcm.duration)
        by_text = {" ".join(p.split()): p for p in phrases}
        best: Choice | None = None
        n = 0
        while n < len(words):
            # Longest phrase first: "아니요" must not be read as a shorter phrase it starts with.
            for size in range(len(words) - n, 0, -1):
                text = " ".join(w.word for w in words[n:n + size])
                if text in by_text:
                    span = words[n:n + size]
                    found = Choice(by_text[text], span, round(sum(w.confidence for w in span) / size, 4))
                    if best is None or found.confidence > best.confidence:
                        best = found
                    n += size
                    break
            else:
                n += 1
        return best

    def recognise(self, pcm: Pcm, grammar: Sequence[str] | None = None) -> list[Word]:
        """Feed the audio in chunks and collect every segment's words with their confidences.

        With `grammar` (a list of phrases, as from `grammar()`), only those phrases can be recognised.
        """
        if grammar is None:
            recognizer = vosk.KaldiRecognizer(self._model, float(self.sample_rate))
        else:
            recognizer = vosk.KaldiRecognizer(
                self._model, float(self.sample_rate), json.dumps(list(grammar), ensure_ascii=False))
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
