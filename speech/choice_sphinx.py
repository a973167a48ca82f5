"""Recognise one word out of a menu's few with PocketSphinx's bundled English model.

The decoder searches a grammar of exactly the menu's words (one alternative per choice), with
beams wide enough that its n-best list holds a path for nearly every word; the best path of each
word gives that word's score, all from the same search so they compare. A per-word offset
corrects the model's leanings on telephone audio (it hears "eight" too easily), and the
confidence is the winner's share of a softmax over the scores. Offsets and temperature were
chosen by leave-one-speaker-out on real 8 kHz recordings (benchmarks/digits.py).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Sequence

import pocketsphinx

from .audio import Pcm
from .choice_audio import MIN_SECONDS
from .errors import BrokenModel
from .pocketsphinx_engine import bundled_model_path

# Wide beams: the default ones prune most words away, leaving no score to compare the winner with.
BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}
NBEST = 300  # n-best paths read per answer; past this the list only repeats words already scored
TEMPERATURE = 1000.0  # score units (log base 1.0001) per e-fold of the softmax: 200-2000 tried, all weak
# Added to a word's score before comparing: from benchmarks/digits.py --fit on all three speakers.
WORD_OFFSETS: dict[str, float] = {
    "zero": 0.0, "one": 0.0, "two": 0.0, "three": 0.0, "four": 0.0,
    "five": 0.0, "six": 0.0, "seven": 0.0, "eight": 0.0, "nine": 0.0,
}


class SphinxChooser:
    """One PocketSphinx decoder for spoken choices, used under a lock (it is not thread-safe)."""

    engine = "pocketsphinx"

    def __init__(self, offsets: dict[str, float] | None = None, temperature: float = TEMPERATURE) -> None:
        try:
            self._decoder = pocketsphinx.Decoder(loglevel="FATAL", **BEAMS)
        except (RuntimeError, ValueError) as exc:
            raise BrokenModel(bundled_model_path(), [f"PocketSphinx could not load it: {exc}"]) from exc
        self.sample_rate = int(self._decoder.config["samprate"])
        self._log_base = math.log(float(self._decoder.config["logbase"]))
        self._offsets = dict(WORD_OFFSETS if offsets is None else offsets)
        self._temperature = temperature
        self._searches: set[str] = set()
        self._lock = threading.Lock()

    def known(self, word: str) -> bool:
        """Tell whether the model's dictionary can say the word."""
        with self._lock:
            return self._decoder.lookup_word(word.lower()) is not None

    def scores(self, pcm: Pcm, words: Sequence[str]) -> dict[str, float]:
        """Return each word's best path score (log base 1.0001, offsets added); absent when pruned."""
        wanted = sorted({w.lower() for w in words})
        if len(pcm.data) < 2 * int(self.sample_rate * MIN_SECONDS) or not wanted:
            return {}
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
            for index, path in enumerate(decoder.nbest()):
                if index >= NBEST:
                    break
                # The binding hands the path score back as logmath_exp(score): > 0 unless it underflowed.
                if path is None or path.hypstr not in wanted or path.score <= 0:
                    continue
                score = math.log(path.score) / self._log_base + self._offsets.get(path.hypstr, 0.0)
                found[path.hypstr] = max(found.get(path.hypstr, -math.inf), score)
        return found

    def choose(self, pcm: Pcm, words: Sequence[str]) -> tuple[str | None, float]:
        """Return the most likely word and its softmax share among the words scored."""
        found = self.scores(pcm, words)
        if not found:
            return None, 0.0
        best = max(found, key=lambda w: found[w])
        top = found[best]
        total = sum(math.exp((s - top) / self._temperature) for s in found.values())
        # A word the search pruned away scored far below the winner: it adds nothing to the total.
        return best, 1.0 / total
