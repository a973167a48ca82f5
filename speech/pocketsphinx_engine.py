"""English recognition with PocketSphinx's bundled model, so a fresh machine needs no download.

It is far less accurate than Vosk on telephone audio; it is the fallback for a language that
has no Vosk model installed, and the reason a new deployment transcribes English on day one.

The model was trained on wideband (16 kHz) speech, and a call carries only the telephone band. A
global MLLR transform (`TELEPHONE_MLLR`: one linear transform of every Gaussian mean, per feature
stream) moves the model toward telephone speech. It was estimated from the dev recordings by
benchmarks/telephone_mllr.py, which also measures it on speakers left out of the estimate: it adapts
to the telephone channel, not to one talker (see that script's docstring for the figures).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pocketsphinx

from .audio import LINEAR, Pcm
from .engine import Engine, Word, is_filler
from .errors import BrokenModel

BUNDLED_LANGUAGES = frozenset({"en"})
BUNDLED_MODEL = "cmusphinx-en-us (bundled)"
DECODER_SETTINGS: dict[str, int | float | str] = {"topn": 8}
# Rebuilt by `python benchmarks/telephone_mllr.py --write` (needs Debian's sphinxtrain).
TELEPHONE_MLLR = Path(__file__).parent / "data" / "en-us-telephone.mllr"
_ALTERNATE = re.compile(r"\(\d+\)$")  # "cannot(2)": the dictionary's second pronunciation


def adaptation_settings(mllr: Path | None) -> dict[str, str]:
    """The decoder option that applies the MLLR transform file `mllr` ({} for None); BrokenModel if it is gone."""
    if mllr is None:
        return {}
    if not mllr.is_file():
        raise BrokenModel(bundled_model_path(), [f"telephone adaptation {mllr} is missing"])
    return {"mllr": str(mllr)}


def bundled_model_path() -> Path:
    """Return the folder of the English model shipped inside the pocketsphinx wheel."""
    return Path(pocketsphinx.get_model_path()) / "en-us"


class PocketSphinxEngine(Engine):
    """PocketSphinx with the bundled US English model; one decoder, used under a lock."""

    name = "pocketsphinx"
    # Measured on the dev set (benchmarks/asr.py): linear interpolation beats soxr's brick-wall filter.
    resampler = LINEAR

    def __init__(self, mllr: Path | None = TELEPHONE_MLLR) -> None:
        """Load the bundled model, adapted by the MLLR transform file `mllr` (None: the model as shipped)."""
        settings = DECODER_SETTINGS | adaptation_settings(mllr)
        try:
            # FATAL: its per-utterance INFO lines would bury the worker's own log.
            # topn 8 (the model's default is 4): more Gaussians scored per frame, chosen on half the dev set
            # and confirmed on the other half (benchmarks/asr.py --accuracy; figures in benchmarks/README.md).
            self._decoder = pocketsphinx.Decoder(loglevel="FATAL", **settings)
        except (RuntimeError, ValueError) as exc:
            raise BrokenModel(bundled_model_path(), [f"PocketSphinx could not load it: {exc}"]) from exc
        config = self._decoder.config
        self.model = BUNDLED_MODEL
        self.adaptation = mllr
        self.languages = BUNDLED_LANGUAGES
        self.sample_rate = int(config["samprate"])
        self._frame_rate = int(config["frate"])
        # The decoder keeps state between utterances and is not thread-safe.
        self._lock = threading.Lock()

    def recognise(self, pcm: Pcm) -> list[Word]:
        """Decode the whole recording as one utterance and read word posteriors from the lattice."""
        if len(pcm.data) < 2 * self.sample_rate // 10:
            return []  # under 0.1 s: nothing to hear, and the decoder rejects empty buffers
        decoder = self._decoder
        with self._lock:
            # Reset cepstral-mean and noise estimates, so a message's transcript never depends
            # on which message the same process decoded before it.
            decoder.reinit_feat()
            decoder.start_utt()
            decoder.process_raw(pcm.data, full_utt=True)
            decoder.end_utt()
            segments = list(decoder.seg() or [])
        words = []
        for seg in segments:
            if is_filler(seg.word):
                continue
            words.append(Word(
                word=_ALTERNATE.sub("", seg.word),
                # The binding has already turned the log posterior into a probability
                # (logmath_exp of ps_seg_prob); bestpath search is on by default, so it is real.
                confidence=float(seg.prob),
                start=seg.start_frame / self._frame_rate,
                end=(seg.end_frame + 1) / self._frame_rate,
            ))
        return words
