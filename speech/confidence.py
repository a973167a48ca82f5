"""One confidence per message, 0-1, calibrated on the dev recordings so "check by ear" means something.

PocketSphinx's word posteriors are not probabilities of being right: a mean under 0.6 is normal even
for a perfect transcript, so a plain threshold flagged every English message. A logistic curve over
two measures of the decoding, fitted on the dev set by benchmarks/asr.py (cross-validated across
files), turns them into an estimate of the share of words right (1 - WER, capped at 0):

- the mean log word posterior (each posterior floored at 1e-4): how sure the search was;
- the share of the audio covered by words: a decoder that hears words in little of a long
  recording is mostly hearing noise, or a voice it cannot follow.

Engines without a calibration here (Vosk, whose word confidences are usable as they are) keep the
mean word confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class _Timed(Protocol):
    @property
    def confidence(self) -> float: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


POSTERIOR_FLOOR = 1e-4
# Flag a message whose expected share of right words is under this (HOTLINE_CHECK_BY_EAR_BELOW's default).
CHECK_BY_EAR_BELOW = 0.4


@dataclass(frozen=True)
class Calibration:
    """The fitted curve: confidence = 1 / (1 + exp(-(intercept + a·mean log posterior + b·speech share)))."""

    intercept: float
    log_posterior: float
    speech_share: float

    def confidence(self, mean_log_posterior: float, speech_share: float) -> float:
        z = self.intercept + self.log_posterior * mean_log_posterior + self.speech_share * speech_share
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Fitted on all 41 dev files by `benchmarks/asr.py` (its "confidence" section prints the fit it finds),
# refitted when the engine gained its telephone MLLR transform (the posteriors it gives moved).
CALIBRATIONS: dict[str, Calibration] = {
    "pocketsphinx": Calibration(intercept=-0.8374, log_posterior=0.9838, speech_share=2.6707),
}


def features(words: Sequence[_Timed], duration: float) -> tuple[float, float]:
    """Return (mean log word posterior, share of the audio covered by words) for the calibration."""
    if not words:
        return math.log(POSTERIOR_FLOOR), 0.0
    mean_log = sum(math.log(max(w.confidence, POSTERIOR_FLOOR)) for w in words) / len(words)
    covered = sum(max(0.0, w.end - w.start) for w in words)
    return mean_log, min(1.0, covered / duration) if duration > 0 else 0.0


def message_confidence(engine: str, words: Sequence[_Timed], duration: float,
                       calibrations: dict[str, Calibration] | None = None) -> float | None:
    """Return the message's confidence in [0, 1]; None when nothing was recognised."""
    if not words:
        return None
    calibration = (CALIBRATIONS if calibrations is None else calibrations).get(engine)
    if calibration is None:
        return round(sum(w.confidence for w in words) / len(words), 4)
    return round(calibration.confidence(*features(words, duration)), 4)


def check_by_ear(confidence: float | None, below: float = CHECK_BY_EAR_BELOW) -> bool:
    """Tell whether a person should listen: nothing was recognised, or the confidence is under `below`."""
    return confidence is None or confidence < below
