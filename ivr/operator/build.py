"""Render every prompt of every language ahead of calls, and say what remains without audio and why.

`hotline prompts build` is a thin wrapper around `build_prompts`. Prompts are rendered with gTTS
where it has a voice and the network answers, else espeak-ng; a language no engine speaks (Fijian)
is not attempted: its prompts need human recordings, and the report says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ivr.core.config import Config
from ivr.core.prompt_audio import HUMAN, PromptLibrary, synthesis_voices
from menus import Menus
from speech.telephone_audio import Pcm
from speech.tts import PromptText, RenderOutcome, Voice, render_many, voices_for
from speech.tts_errors import TTSError

RECORD_HINT = "record them on the operator page (/operator/prompts) or put files in menus/audio/{lang}/"


@dataclass
class LanguageReport:
    """What building did for one language, and what is still missing."""

    language: str
    name: str
    total: int
    human: int = 0
    cached: int = 0
    rendered: Counter[str] = field(default_factory=Counter)  # engine -> prompts rendered by it now
    failed: dict[str, str] = field(default_factory=dict)  # prompt id -> why it has no audio
    no_voice: bool = False  # no engine speaks the language: prompts need human recordings
    missing: tuple[str, ...] = ()  # prompts without audio after the build

    @property
    def ok(self) -> bool:
        """Return True unless a prompt failed in a language some engine speaks (a real error)."""
        return not self.failed


@dataclass
class BuildReport:
    """What one build did, language by language, and how each engine failed if it did."""

    languages: list[LanguageReport]
    engine_errors: dict[str, str]  # engine -> first error it raised (gTTS offline, refused...)

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.languages)


@dataclass
class _Watched:
    """Pass calls through to a voice and keep the first error it raised, for the report."""

    voice: Voice
    errors: dict[str, str]

    @property
    def engine(self) -> str:
        return self.voice.engine

    def voice_for(self, language: str) -> str | None:
        return self.voice.voice_for(language)

    def synthesize(self, text: str, language: str, *, prompt_id: str | None = None) -> Pcm:
        try:
            return self.voice.synthesize(text, language, prompt_id=prompt_id)
        except TTSError as error:
            self.errors.setdefault(self.engine, str(error))
            raise


def plan(menus: Menus, library: PromptLibrary, languages: Sequence[str], voices: Sequence[Voice],
         *, force: bool) -> tuple[list[PromptText], list[LanguageReport]]:
    """List the prompts to render, and start a report per language with what needs no rendering.

    A prompt that already has audio (human or synthesised) is skipped unless `force`; with `force`
    every prompt is rendered again, human-recorded ones too, as a fallback should a recording go.
    """
    items: list[PromptText] = []
    reports = []
    for code in languages:
        lang = menus.languages[code]
        required = library.required
        report = LanguageReport(code, lang.name, total=len(required))
        report.human = sum(1 for pid in required if (f := library.find(code, pid)) and f.source == HUMAN)
        reports.append(report)
        if not voices_for(code, voices):
            report.no_voice = True
            continue
        for pid in required:
            found = library.find(code, pid)
            if not force and found is not None:
                report.cached += 1
                continue
            items.append(PromptText(lang.prompts[pid], code, pid))
    return items, reports


def build_prompts(config: Config, menus: Menus, languages: Iterable[str], *, force: bool = False,
                  voices: Sequence[Voice] | None = None,
                  on_start: Callable[[int], None] | None = None,
                  on_progress: Callable[[RenderOutcome], None] | None = None) -> BuildReport:
    """Render the prompts of the given languages into the prompt cache; report per language."""
    errors: dict[str, str] = {}
    watched = [_Watched(v, errors) for v in (voices if voices is not None else synthesis_voices(config))]
    library = PromptLibrary.for_config(config, menus)
    items, reports = plan(menus, library, list(languages), watched, force=force)
    if on_start is not None:
        on_start(len(items))
    by_language = {report.language: report for report in reports}
    outcomes = render_many(items, cache_dir=config.prompts_cache, voices=watched,
                           force=force, on_progress=on_progress)
    for outcome in outcomes:
        report = by_language[outcome.item.language]
        pid = outcome.item.prompt_id or ""
        if outcome.status == "failed":
            report.failed[pid] = outcome.reason or "unknown error"
        elif outcome.status == "cached":
            report.cached += 1
        elif outcome.prompt is not None:
            report.rendered[outcome.prompt.engine] += 1
    library.refresh()
    for report in reports:
        report.missing = library.coverage(report.language).missing
    return BuildReport(reports, errors)


def describe(report: BuildReport) -> list[str]:
    """Turn a build report into the lines `hotline prompts build` prints."""
    lines = []
    for lang in report.languages:
        made = ", ".join(f"{n} with {engine}" for engine, n in sorted(lang.rendered.items())) or "none"
        lines.append(f"{lang.language} {lang.name}: {lang.total} prompts; rendered now: {made}; already had audio: "
                     f"{lang.cached}; human recordings: {lang.human}; without audio: {len(lang.missing)}")
        if lang.no_voice and lang.missing:
            lines.append(f"  {len(lang.missing)} prompt(s) without audio: no text-to-speech engine speaks "
                         f"{lang.name} ({lang.language}); {RECORD_HINT.format(lang=lang.language)}")
            lines.append(f"  missing: {', '.join(lang.missing)}")
        for pid, reason in lang.failed.items():
            lines.append(f"  FAILED {lang.language}/{pid}: {reason}")
    for engine, error in report.engine_errors.items():
        lines.append(f"note: {engine} failed at least once: {error}")
        if engine == "gtts":
            lines.append("  prompts fell back to espeak-ng; once gTTS answers, `hotline prompts build --force` "
                         "renders them again with it")
    return lines
