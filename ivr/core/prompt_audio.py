"""Find each prompt's audio: a human recording first, else a cached synthesised file, else nothing.

Looked up on every call step, so answers come from a snapshot held in memory. A language's part of
the snapshot is rebuilt only when one of its audio folders changed: a folder's mtime moves whenever a
file is added, replaced or removed in it, so a recording uploaded on the operator page, or a file
rendered by an RQ worker or by `hotline prompts build` in another process, is heard on the next call
without a restart, and a quiet hotline costs a few stat() calls per webhook. A file overwritten in
place (`cp` onto an existing name leaves its folder's mtime alone) is noticed within RESCAN_SECONDS,
or at once when it is served (prompt_files compares the bytes' hash).

Human recordings live in two places, looked up in this order:
  HOTLINE_DATA_DIR/prompt-recordings/<lang>/<prompt>.wav   uploaded on the operator page
  menus/audio/<lang>/<prompt>.wav|.mp3                      shipped with the menus (translators, radio)
An upload wins: it is the newest decision a native speaker made about that prompt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import soundfile

from ivr.core.config import SETTINGS, Config
from menus import Menus
from speech.espeak_voice import EspeakVoice
from speech.gtts_voice import GttsVoice
from speech.tts import Voice, find_cached, voices_for

log = logging.getLogger(__name__)

HUMAN = "human"
SYNTHESISED = "synthesised"
MISSING = "missing"
RESCAN_SECONDS = 60.0
HUMAN_SUFFIXES: Mapping[str, str] = MappingProxyType({".wav": "audio/wav", ".mp3": "audio/mpeg"})

# Only their labels are used to find cached files: find_cached never synthesises. Both engines are
# listed whatever HOTLINE_GTTS says, so a gTTS rendering made while online still plays offline.
LOOKUP_VOICES: tuple[Voice, ...] = (GttsVoice(), EspeakVoice())


@dataclass(frozen=True)
class PromptFile:
    """One prompt's audio file: where it is, where it came from, and its content hash."""

    language: str
    prompt_id: str
    source: str  # HUMAN or SYNTHESISED
    path: Path
    sha256: str
    engine: str  # "human", "gtts" or "espeak-ng"

    @property
    def filename(self) -> str:
        """Return the name it is served under: the prompt id and the file's suffix."""
        return f"{self.prompt_id}{self.path.suffix}"

    @property
    def mimetype(self) -> str:
        """Return the Content-Type it is served with."""
        return HUMAN_SUFFIXES.get(self.path.suffix, "audio/wav")

    @property
    def version(self) -> str:
        """Return the short content hash put in URLs, so a replaced file gets a new URL."""
        return self.sha256[:16]


@dataclass(frozen=True)
class Coverage:
    """How many of a language's prompts have human, synthesised or no audio."""

    language: str
    total: int
    human: int
    synthesised: int
    missing: tuple[str, ...]
    say_fallback: bool  # the language has a Twilio <Say> voice for prompts without audio

    @property
    def playable(self) -> bool:
        """Return True when a caller would hear every prompt (audio, or <Say> in their language)."""
        return not self.missing or self.say_fallback


class PromptLibrary:
    """Answer, for each (language, prompt), which audio file a caller hears, if any."""

    def __init__(self, menus: Menus, *, recordings_dir: Path | None, cache_dir: Path | None,
                 voices: Sequence[Voice] = LOOKUP_VOICES) -> None:
        self.menus = menus
        self.recordings_dir = recordings_dir
        self.cache_dir = cache_dir
        self.voices = tuple(voices)
        self.required = menus.required_prompts()
        self._lock = threading.Lock()
        self._stamps: dict[str, tuple[int, ...]] = {}
        self._scanned_at: dict[str, float] = {}
        self._entries: dict[str, Mapping[str, PromptFile]] = {}
        self._coverage: dict[str, tuple[Mapping[str, PromptFile], Coverage]] = {}  # per snapshot
        self._offered: tuple[tuple[Mapping[str, PromptFile], ...], tuple[str, ...]] | None = None  # per snapshots
        self._keypad_order = tuple(lang.code for lang in sorted(menus.languages.values(), key=lambda lang: lang.key))
        self._folders = {code: tuple(os.fspath(f) for f in self._watched(code)) for code in menus.languages}
        self._files: dict[Path, tuple[int, int, str | None]] = {}  # path -> (mtime_ns, size, sha256 or None)
        self._looks = threading.local()  # .seen: languages this thread's current look has stat()ed

    @classmethod
    def for_config(cls, config: Config, menus: Menus) -> PromptLibrary:
        """Return the library over the folders the config names."""
        return cls(menus, recordings_dir=config.prompt_recordings_dir, cache_dir=config.prompts_cache)

    def human_dirs(self, language: str) -> tuple[Path, ...]:
        """Return the folders searched for human recordings of a language, uploads first."""
        dirs = [self.recordings_dir / language] if self.recordings_dir is not None else []
        return (*dirs, Path(self.menus.root) / "audio" / language)

    def find(self, language: str, prompt_id: str) -> PromptFile | None:
        """Return the audio a caller hears for this prompt, or None when it has none."""
        return self._current(language).get(prompt_id)

    def coverage(self, language: str) -> Coverage:
        """Count the language's prompts by source; list those without audio."""
        entries = self._current(language)
        known = self._coverage.get(language)
        if known is not None and known[0] is entries:  # counted already for this snapshot
            return known[1]
        human = sum(1 for pid in self.required if pid in entries and entries[pid].source == HUMAN)
        missing = tuple(pid for pid in self.required if pid not in entries)
        counted = Coverage(language=language, total=len(self.required), human=human,
                           synthesised=len(self.required) - human - len(missing), missing=missing,
                           say_fallback=bool(self.menus.languages[language].twilio_voice))
        self._coverage[language] = (entries, counted)
        return counted

    def offered(self) -> tuple[str, ...]:
        """Return the languages a caller may choose, in keypad order: those fully playable.

        Asked on every webhook: worked out again only when some language's snapshot changed.
        """
        snapshots = tuple(self._current(code) for code in self._keypad_order)
        known = self._offered
        if known is not None and all(a is b for a, b in zip(known[0], snapshots, strict=True)):
            return known[1]
        offered = tuple(code for code in self._keypad_order if self.coverage(code).playable)
        self._offered = (snapshots, offered)
        return offered

    @contextmanager
    def one_look(self) -> Iterator[None]:
        """Within the block, this thread stat()s each language's folders at most once.

        A webhook's answer then comes from one snapshot, and a step that reads a reference number
        twice (twenty prompts) costs one look per language instead of one per prompt: each stat()
        lets go of the GIL, and under load getting it back can take milliseconds.
        """
        outer = getattr(self._looks, "seen", None)
        self._looks.seen = set() if outer is None else outer
        try:
            yield
        finally:
            self._looks.seen = outer

    def refresh(self) -> None:
        """Forget the snapshot, so the next look-up reads the folders again."""
        with self._lock:
            self._stamps.clear()

    def _current(self, language: str) -> Mapping[str, PromptFile]:
        if language not in self.menus.languages:
            return MappingProxyType({})
        seen: set[str] | None = getattr(self._looks, "seen", None)
        if seen is not None and language in seen:
            return self._entries[language]  # looked at already in this thread's one_look
        stamp = self._stamp(language)  # taken before scanning: a file landing mid-scan triggers a rescan
        with self._lock:
            now = time.monotonic()
            if self._stamps.get(language) != stamp or now - self._scanned_at[language] > RESCAN_SECONDS:
                self._entries[language] = MappingProxyType(self._scan(language))
                self._stamps[language] = stamp
                self._scanned_at[language] = now
            if seen is not None:
                seen.add(language)
            return self._entries[language]

    def _watched(self, language: str) -> tuple[Path, ...]:
        """Return the folders whose mtimes say whether a language's audio changed."""
        cache = (self.cache_dir / language,) if self.cache_dir is not None else ()
        return (*self.human_dirs(language), *cache)

    def _stamp(self, language: str) -> tuple[int, ...]:
        stamp = []
        for folder in self._folders[language]:  # plain strings and os.stat: this runs on every webhook
            try:
                stamp.append(os.stat(folder).st_mtime_ns)
            except OSError:
                stamp.append(-1)
        return tuple(stamp)

    def _scan(self, language: str) -> dict[str, PromptFile]:
        texts = self.menus.languages[language].prompts
        found: dict[str, PromptFile] = {}
        for pid in self.required:
            audio = self._human(language, pid) or self._synthesised(language, pid, texts.get(pid, ""))
            if audio is not None:
                found[pid] = audio
        return found

    def _human(self, language: str, prompt_id: str) -> PromptFile | None:
        for folder in self.human_dirs(language):
            for suffix in HUMAN_SUFFIXES:
                path = folder / f"{prompt_id}{suffix}"
                digest = self._checked_hash(path)
                if digest is not None:
                    return PromptFile(language, prompt_id, HUMAN, path, digest, HUMAN)
        return None

    def _synthesised(self, language: str, prompt_id: str, text: str) -> PromptFile | None:
        if self.cache_dir is None or not text:
            return None
        cached = find_cached(text, language, cache_dir=self.cache_dir, voices=self.voices)
        if cached is None:
            return None
        return PromptFile(language, prompt_id, SYNTHESISED, cached.path, cached.sha256, cached.engine)

    def _checked_hash(self, path: Path) -> str | None:
        """Return a human file's sha256, or None when it is absent or not audio that plays.

        Read again only when its size or mtime changed. A broken file in menus/audio/ counts as
        missing (and is logged), so a language is never offered on the strength of a file Twilio
        cannot play.
        """
        try:
            info = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        known = self._files.get(path)
        if known is None or known[:2] != (info.st_mtime_ns, info.st_size):
            known = (info.st_mtime_ns, info.st_size, _digest_if_audio(path))
            self._files[path] = known
        return known[2]


def _digest_if_audio(path: Path) -> str | None:
    """Return the file's sha256 if libsndfile reads it as sound lasting more than zero seconds."""
    try:
        info = soundfile.info(str(path))
    except (soundfile.SoundFileError, RuntimeError, OSError) as error:
        log.warning("human recording %s is not readable audio, ignored: %s", path, error)
        return None
    if info.frames <= 0 or info.samplerate <= 0:
        log.warning("human recording %s holds no sound, ignored", path)
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def synthesis_voices(config: Config) -> tuple[Voice, ...]:
    """Return the voices that render prompts, in preference order: gTTS (if allowed), then espeak-ng."""
    espeak = EspeakVoice()
    if not config.gtts_enabled:
        return (espeak,)
    timeout = config.gtts_timeout_seconds
    gtts = GttsVoice(base_url=config.gtts_base_url, connect_timeout_s=min(3.0, timeout), read_timeout_s=timeout)
    return (gtts, espeak)


def can_synthesise(language: str) -> bool:
    """Return True when some text-to-speech engine has a voice for the language."""
    return bool(voices_for(language, LOOKUP_VOICES))


def library_for_check(menus: Menus, environ: Mapping[str, str] | None = None) -> tuple[PromptLibrary, Path]:
    """Return the prompt library and data folder the settings name, without needing the secrets.

    `hotline menus check` runs on a translator's machine where no SECRET_KEY exists; only the data
    folder settings matter there, so required secrets get placeholders that are never used.
    """
    placeholders = {s.attr: "http://unused.invalid" for s in SETTINGS if s.required}
    config = Config.from_env(environ, **placeholders)
    return PromptLibrary.for_config(config, menus), config.data_dir


def describe_coverage(coverage: Coverage) -> str:
    """Say in one line where a language's prompts come from and whether callers are offered it."""
    counts = f"audio: {coverage.human} human, {coverage.synthesised} synthesised, {len(coverage.missing)} missing"
    if not coverage.missing:
        return f"{counts}; offered"
    if coverage.say_fallback:
        return f"{counts}; offered (missing prompts use Twilio's <Say> voice until `hotline prompts build`)"
    fix = "run `hotline prompts build`" if can_synthesise(coverage.language) else \
        "no text-to-speech engine speaks it: record them"
    return (f"{counts}; NOT offered: no audio and no Twilio voice for {', '.join(coverage.missing[:5])}"
            f"{' ...' if len(coverage.missing) > 5 else ''} ({fix})")
