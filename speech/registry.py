"""Choose the engine for each language, loading every model at most once per process.

Loading takes seconds (a Vosk model) or a third of a second (PocketSphinx) and hundreds of MB, so
engines are cached for the life of the worker and shared by all its threads. The models folder is
re-read on each lookup, which costs a few file checks: a model installed for a new language is
used without a restart (a model replaced in place needs one).

Order of choice: the Vosk model for the language, else PocketSphinx's bundled English, else none,
and the caller marks the message "needs listening". A broken model folder for the language is an
error, never a silent fall back: an operator must see it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .audio import AudioSource
from .engine import Engine, Transcript, language_candidates, normalise_language
from .errors import BrokenModel, NoEngineForLanguage
from .isolated import IsolatedEngine
from .models import ModelInfo, choose_models, find_models
from .pocketsphinx_engine import BUNDLED_LANGUAGES, BUNDLED_MODEL, PocketSphinxEngine
from .vosk_engine import VoskEngine

_lock = threading.Lock()
_loading: dict[str, threading.Lock] = {}  # one lock per model, so loading one never blocks another
_engines: dict[str, Engine] = {}
_loads: Counter[str] = Counter()
POCKETSPHINX_KEY = "pocketsphinx"


@dataclass(frozen=True)
class EngineChoice:
    """Which engine and model a language would use, worked out without loading anything."""

    language: str
    engine: str | None  # "vosk", "pocketsphinx" or None
    model: str | None
    problems: tuple[str, ...] = ()  # why a model folder for this language cannot be used


def _cached(key: str, load: Callable[[], Engine]) -> Engine:
    with _lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        model_lock = _loading.setdefault(key, threading.Lock())
    with model_lock:
        with _lock:
            engine = _engines.get(key)
        if engine is None:
            engine = load()
            with _lock:
                _engines[key] = engine
                _loads[key] += 1
    return engine


def _scan(vosk_models_dir: Path | None) -> list[ModelInfo]:
    return find_models(vosk_models_dir) if vosk_models_dir is not None else []


def _choose(tag: str, infos: list[ModelInfo]) -> tuple[EngineChoice, ModelInfo | None]:
    chosen = choose_models(infos)
    for candidate in language_candidates(tag):
        info = chosen.get(candidate)
        if info is not None:
            return EngineChoice(tag, "vosk", info.name), info
        broken = [i for i in infos if i.language == candidate and not i.ok]
        if broken:
            return EngineChoice(tag, None, broken[0].name, broken[0].problems), broken[0]
    if any(candidate in BUNDLED_LANGUAGES for candidate in language_candidates(tag)):
        return EngineChoice(tag, "pocketsphinx", BUNDLED_MODEL), None
    return EngineChoice(tag, None, None), None


def choose_engine(language: str, vosk_models_dir: Path | None) -> EngineChoice:
    """Work out the engine a language would use, without loading any model."""
    return _choose(normalise_language(language), _scan(vosk_models_dir))[0]


def engine_for(language: str, vosk_models_dir: Path | None, *, isolated: bool = False) -> Engine | None:
    """Return the shared engine for a language, loading it on first use; None if there is none.

    A regional tag falls back to its language ("en-gb" uses an "en" model). Raises BrokenModel
    when the language's model folder is incomplete or will not load. With `isolated`, the engine
    runs in a child process of its own (speech/isolated.py): for processes that also serve calls.
    """
    tag = normalise_language(language)
    choice, info = _choose(tag, _scan(vosk_models_dir))
    if info is not None and choice.problems:
        raise BrokenModel(info.path, choice.problems)
    load: Callable[[], Engine]
    if info is not None and choice.engine == "vosk":
        key, load = f"vosk:{info.path.resolve()}", lambda: VoskEngine(info)
    elif choice.engine == "pocketsphinx":
        key, load = POCKETSPHINX_KEY, PocketSphinxEngine
    else:
        return None
    if isolated:
        return _cached(f"isolated:{key}", lambda: IsolatedEngine(tag, vosk_models_dir))
    return _cached(key, load)


def transcribe(audio: AudioSource, language: str, vosk_models_dir: Path | None) -> Transcript:
    """Transcribe with the language's engine; NoEngineForLanguage means a human must listen."""
    engine = engine_for(language, vosk_models_dir)
    if engine is None:
        raise NoEngineForLanguage(language)
    return engine.transcribe(audio, language)


def available_languages(vosk_models_dir: Path | None) -> list[str]:
    """List the language codes some engine can transcribe, sorted."""
    return sorted(set(choose_models(_scan(vosk_models_dir))) | BUNDLED_LANGUAGES)


def installed_models(vosk_models_dir: Path | None) -> list[ModelInfo]:
    """List every folder in the models directory with its language and problems, if any."""
    return _scan(vosk_models_dir)


def engine_choices(vosk_models_dir: Path | None, languages: Iterable[str] = ()) -> list[EngineChoice]:
    """Say which engine each language uses: every installed or bundled one, plus `languages`."""
    infos = _scan(vosk_models_dir)
    tags = {i.language for i in infos if i.language} | BUNDLED_LANGUAGES
    tags |= {normalise_language(code) for code in languages}
    return [choose_engine(tag, vosk_models_dir) for tag in sorted(tags)]


def preload(languages: Iterable[str], vosk_models_dir: Path | None) -> dict[str, Engine | None]:
    """Load each language's engine now, so the first message after a worker starts is not slow.

    Raises BrokenModel for a broken model, so a misconfigured worker fails at start, visibly.
    """
    return {code: engine_for(code, vosk_models_dir) for code in languages}


def load_counts() -> dict[str, int]:
    """Return how many times each model was loaded in this process (each should be 1)."""
    with _lock:
        return dict(_loads)


def unload_all() -> None:
    """Forget every loaded engine; the next lookup loads afresh (after a model was replaced)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
        _loading.clear()
    for engine in engines:
        if isinstance(engine, IsolatedEngine):
            engine.close()
