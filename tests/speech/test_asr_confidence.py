"""The front end's choices, measured on the dev set: linear upsampling, and a calibrated message confidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from speech.audio import LINEAR, SOXR, Audio, resample
from speech.confidence import CALIBRATIONS, Calibration, check_by_ear, features, message_confidence
from speech.engine import Word


def test_linear_upsampling_draws_straight_lines_between_samples() -> None:
    audio = Audio(np.array([0.0, 1.0, -1.0, 0.5], dtype=np.float32), 8000)
    up = resample(audio, 16000, LINEAR)
    assert up.rate == 16000 and len(up.samples) == 8
    assert up.samples[:7].tolist() == pytest.approx([0.0, 0.5, 1.0, 0.0, -1.0, -0.25, 0.5])
    # soxr's brick wall leaves nothing above 4 kHz; the straight lines keep some energy there
    noise = Audio(np.random.default_rng(1).standard_normal(8000).astype(np.float32) * 0.1, 8000)
    high = {m: np.abs(np.fft.rfft(resample(noise, 16000, m).samples))[4400:].mean() for m in (SOXR, LINEAR)}
    assert high[LINEAR] > 10 * high[SOXR]
    with pytest.raises(ValueError, match="resampler must be one of"):
        resample(audio, 16000, "cubic")


def test_confidence_rises_with_posteriors_and_coverage() -> None:
    sure = [Word("water", 0.9, 0.0, 0.8), Word("pipe", 0.8, 0.8, 1.6)]
    unsure = [Word("water", 0.05, 0.0, 0.2), Word("pipe", 0.02, 1.0, 1.2)]
    assert features(sure, 2.0) == pytest.approx(((math.log(0.9) + math.log(0.8)) / 2, 0.8))
    high = message_confidence("pocketsphinx", sure, 2.0)
    low = message_confidence("pocketsphinx", unsure, 2.0)
    assert high is not None and low is not None and 0.0 <= low < 0.4 <= high <= 1.0
    assert (check_by_ear(high), check_by_ear(low), check_by_ear(None)) == (False, True, True)
    assert message_confidence("pocketsphinx", [], 2.0) is None
    # an engine without a calibration keeps its mean word confidence
    assert message_confidence("vosk", sure, 2.0) == pytest.approx(0.85)
    curve = Calibration(0.0, 1.0, 0.0)
    assert message_confidence("x", sure, 2.0, {"x": curve}) == pytest.approx(curve.confidence(*features(sure, 2.0)),
                                                                              abs=1e-4)
    assert "pocketsphinx" in CALIBRATIONS
