"""Prepare a short spoken answer (a digit, a yes) for a grammar-restricted recogniser.

Callers' answers come trimmed (Twilio's `trim`, or a file cut to the word), and a recogniser
needs some silence before the first phone to settle its noise and cepstral-mean estimates: the
word is padded with digital silence on both sides. It is cut to a few seconds first, since a
menu answer is one word and a long recording is someone talking, not choosing.

A faint, fixed hiss may be added at the caller's own rate before resampling (PocketSphinx's noise
suppression can misjudge the near-silent gaps of clean 8 kHz audio); the hiss is the same on every
run, so results repeat. The 8 kHz answer is brought to the model's 16 kHz by straight lines between
samples (speech/audio.py's `linear`), whose gentle roll-off leaves some energy above 4 kHz where
PocketSphinx's wideband model expects it, instead of soxr's brick wall. The hiss level and the
resampler are chosen by benchmarks/digits.py leaving one speaker out each time (see its docstring).
"""

from __future__ import annotations

import numpy as np

from .audio import LINEAR, AudioSource, Pcm, load_audio, resample, to_pcm16

PAD_SECONDS = 0.3
MAX_SECONDS = 8.0
# Both chosen by benchmarks/digits.py --fit on all three speakers, among its FRONT_ENDS (held-out folds
# chose linear with a hiss of 0 or 1e-3: the hiss helps one speaker and hurts another).
NOISE_RMS = 1e-3
RESAMPLER = LINEAR
NOISE_SEED = 18
MIN_SECONDS = 0.1  # under this there is nothing to hear (and PocketSphinx rejects empty buffers)


def prepare_answer(
    source: AudioSource, rate: int, *, pad: float = PAD_SECONDS, noise: float = NOISE_RMS, method: str = RESAMPLER,
) -> Pcm:
    """Decode, cut to MAX_SECONDS, pad with silence and resample to `rate` (by `method`) as 16-bit PCM.

    The duration is that of the caller's audio (before padding). Raises AudioUnreadable.
    """
    audio = load_audio(source)
    samples = audio.samples[: int(MAX_SECONDS * audio.rate)]
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    duration = len(samples) / audio.rate
    silence = np.zeros(int(pad * audio.rate), dtype=np.float32)
    padded = np.concatenate([silence, samples, silence]).astype(np.float32)
    if noise > 0 and peak > 0:  # digital silence stays silent: it must be heard as nothing
        hiss = np.random.default_rng(NOISE_SEED).normal(0.0, noise, len(padded))
        padded = (padded + hiss).astype(np.float32)
    at_rate = resample(type(audio)(padded, audio.rate), rate, method)
    return Pcm(to_pcm16(at_rate.samples), rate, duration, peak)
