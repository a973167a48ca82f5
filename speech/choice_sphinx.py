"""Recognise one word out of a menu's few with PocketSphinx's bundled English model.

The decoder searches a grammar of exactly the menu's words (one alternative per choice), with
beams wide enough that its n-best list holds a path for nearly every word; the best path of each
word gives that word's score, all from the same search so they compare. A per-word offset may
correct the model's leanings on telephone audio. Silence and fillers (breath, noise) around the
word cost nothing to insert (`DECODER`: probability 1.0 instead of the model's small defaults): a
caller's answer is a word inside pauses and noise, which the defaults presumably push into a word.

The confidence is the best word's share of a softmax over the scores (`CONFIDENCE`). A logistic
curve over two measures of the answer (`Features`: the best word's lead over the runner-up, and the
best score per frame) was measured beside it and carried over worse to speakers not seen in fitting,
so it is kept only as the measured alternative. The decoder's probabilities, the confidence kind and
the offsets are chosen by benchmarks/digits.py leaving one speaker out (fit on two, measure on the
third, for each of the three); the shipped values are fitted on all three.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pocketsphinx

from .audio import Pcm
from .choice_audio import MIN_SECONDS
from .errors import BrokenModel
from .pocketsphinx_engine import TELEPHONE_MLLR, adaptation_settings, bundled_model_path

# Wide beams: the default ones prune most words away, leaving no score to compare the winner with.
BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}
NBEST = 300  # n-best paths read per answer; past this the list only repeats words already scored
# Silence and filler probabilities (the model's defaults are 0.005 and 1e-8): benchmarks/digits.py --fit.
# Chosen as 1.0 by every held-out fold and by the fit on all three.
DECODER: dict[str, float] = {"silprob": 1.0, "fillprob": 1.0}
# Added to a word's score before comparing: benchmarks/digits.py --fit-offsets fits them (not run for the
# shipped values: all zero).
WORD_OFFSETS: dict[str, float] = {
    "zero": 0.0, "one": 0.0, "two": 0.0, "three": 0.0, "four": 0.0,
    "five": 0.0, "six": 0.0, "seven": 0.0, "eight": 0.0, "nine": 0.0,
}
# The transcription engine's telephone-band MLLR transform (estimated on the dev sentences, never on
# digits), or None for the model as shipped: benchmarks/digits.py --fit offers both to every fold.
ADAPTATION: Path | None = TELEPHONE_MLLR
LEAD_CAP = 3000.0  # score units: a lead past this (or a word with no rival scored) counts as this much


@dataclass(frozen=True)
class Features:
    """What the confidence is computed from: the best word, its lead over the runner-up, its fit per frame."""

    word: str
    lead: float  # score units (log base 1.0001, as the decoder counts), at most LEAD_CAP
    per_frame: float  # the best path's score per 10 ms frame of the padded answer, score units


@dataclass(frozen=True)
class Calibration:
    """A logistic curve from Features to the probability that the best word is what was said."""

    intercept: float
    lead: float
    per_frame: float

    def confidence(self, features: Features) -> float:
        """Return the probability, in [0, 1]."""
        z = self.intercept + self.lead * features.lead + self.per_frame * features.per_frame
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# Which confidence a choice carries: "softmax" (the best word's share of a softmax over the scores,
# TEMPERATURE score units per e-fold; set before any measurement) or "logistic" (a Calibration over
# Features). benchmarks/digits.py measures both leaving one speaker out; the softmax share is shipped
# (see its docstring), so CALIBRATION is only a neutral curve for a chooser asked for "logistic".
CONFIDENCE = "softmax"
TEMPERATURE = 1000.0
CALIBRATION = Calibration(intercept=0.0, lead=0.005, per_frame=0.0)


def softmax_share(found: Mapping[str, float], temperature: float = TEMPERATURE) -> float:
    """Return the best word's share of a softmax over the scores; a pruned word adds nothing."""
    top = max(found.values())
    return 1.0 / sum(math.exp((score - top) / temperature) for score in found.values())


def features(found: Mapping[str, float], frames: int) -> Features | None:
    """Turn word scores (log base 1.0001, offsets added) into Features; None when no word was scored."""
    if not found or frames <= 0:
        return None
    ranked = sorted(found.values(), reverse=True)
    best = max(found, key=lambda w: found[w])
    lead = ranked[0] - ranked[1] if len(ranked) > 1 else LEAD_CAP
    return Features(best, min(lead, LEAD_CAP), ranked[0] / frames)


class SphinxChooser:
    """One PocketSphinx decoder for spoken choices, used under a lock (it is not thread-safe)."""

    engine = "pocketsphinx"

    def __init__(
        self,
        offsets: dict[str, float] | None = None,
        calibration: Calibration = CALIBRATION,
        decoder: Mapping[str, float] | None = None,
        confidence: str = CONFIDENCE,
        mllr: Path | None = ADAPTATION,
    ) -> None:
        if confidence not in ("softmax", "logistic"):
            raise ValueError(f"confidence must be softmax or logistic, not {confidence!r}")
        options: dict[str, float | str] = {**(DECODER if decoder is None else decoder), **adaptation_settings(mllr)}
        try:
            self._decoder = pocketsphinx.Decoder(loglevel="FATAL", **BEAMS, **options)
        except (RuntimeError, ValueError) as exc:
            raise BrokenModel(bundled_model_path(), [f"PocketSphinx could not load it: {exc}"]) from exc
        self.sample_rate = int(self._decoder.config["samprate"])
        self._log_base = math.log(float(self._decoder.config["logbase"]))
        self._offsets = dict(WORD_OFFSETS if offsets is None else offsets)
        self._calibration = calibration
        self._confidence = confidence
        self._searches: set[str] = set()
        self._lock = threading.Lock()

    def known(self, word: str) -> bool:
        """Tell whether the model's dictionary can say the word."""
        with self._lock:
            return self._decoder.lookup_word(word.lower()) is not None

    def scores(self, pcm: Pcm, words: Sequence[str]) -> tuple[dict[str, float], int]:
        """Return each word's best path score (log base 1.0001, offsets added; absent when pruned) and the frames."""
        wanted = sorted({w.lower() for w in words})
        if len(pcm.data) < 2 * int(self.sample_rate * MIN_SECONDS) or not wanted:
            return {}, 0
        name = "choice_" + hashlib.sha256(" ".join(wanted).encode()).hexdigest()[:16]
        found: dict[str, float] = {}
        with self._lock:
            decoder = self._decoder
            if name not in self._searches:
                alternatives = " | ".join(wanted)
                decoder.add_jsgf_string(name, f"#JSGF V1.0;\ngrammar choice;\npublic <choice> = {alternatives};")
                self._searches.add(name)
            decoder.activate_search(name)
            decoder.reinit_feat()  # no noise or mean estimate carried over from the last caller
            decoder.start_utt()
            decoder.process_raw(pcm.data, full_utt=True)
            decoder.end_utt()
            frames = int(decoder.n_frames())
            for index, path in enumerate(decoder.nbest()):
                if index >= NBEST:
                    break
                # The binding hands the path score back as logmath_exp(score): > 0 unless it underflowed.
                if path is None or path.hypstr not in wanted or path.score <= 0:
                    continue
                score = math.log(path.score) / self._log_base + self._offsets.get(path.hypstr, 0.0)
                found[path.hypstr] = max(found.get(path.hypstr, -math.inf), score)
        return found, frames

    def choose(self, pcm: Pcm, words: Sequence[str]) -> tuple[str | None, float]:
        """Return the most likely word and the confidence that it is what was said (CONFIDENCE)."""
        found, frames = self.scores(pcm, words)
        measured = features(found, frames)
        if measured is None:
            return None, 0.0
        if self._confidence == "softmax":
            return measured.word, softmax_share(found)
        return measured.word, self._calibration.confidence(measured)
