"""Keep rendered prompts on disk, one WAV per (text, language, engine, voice), written atomically.

Layout: `<cache_dir>/<language>/<key>.wav` and `<key>.json` beside it (engine, voice, sha256,
duration). The key hashes the text with the language, engine, voice and audio format, so editing a
prompt's text renders that prompt again and leaves every other file alone; files for old texts are
simply never looked up again.

A file is only ever moved into place whole (temporary file in the same folder, then `os.replace`),
and the JSON is moved in after the WAV: a lookup that finds the JSON finds a complete WAV, and a
crash in between leaves a miss that the next render repairs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

from speech.telephone_audio import Pcm, check_playable, write_telephone_wav
from speech.tts_errors import NotPlayable

AUDIO_FORMAT = "wav-8000hz-pcm16-mono-v1"  # part of every key: a format change renders everything again
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class RenderedPrompt:
    """Describe one prompt's audio file: where it is, who spoke it, its hash, length and rate."""

    path: Path
    language: str
    engine: str
    voice: str
    sha256: str
    duration_s: float
    sample_rate: int
    cache_key: str


def normalise_text(text: str) -> str:
    """Return the text as it is spoken and keyed: NFC, runs of whitespace made one space, trimmed.

    A re-saved prompt file with different line breaks or Unicode composition says the same thing,
    so it must not render again.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def cache_key(text: str, language: str, engine: str, voice: str) -> str:
    """Return the hex sha256 naming the rendering of this text by this engine and voice."""
    fields = [AUDIO_FORMAT, normalise_text(text), language, engine, voice]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


def lookup(cache_dir: Path, language: str, key: str) -> RenderedPrompt | None:
    """Return the cached rendering for a key, or None; never renders.

    Cheap enough for a live call: one small JSON read and one stat.
    """
    folder = _language_dir(cache_dir, language)
    try:
        facts = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    audio = folder / f"{key}.wav"
    if not audio.is_file():
        return None
    try:
        return RenderedPrompt(
            path=audio,
            language=facts["language"],
            engine=facts["engine"],
            voice=facts["voice"],
            sha256=facts["sha256"],
            duration_s=float(facts["duration_s"]),
            sample_rate=int(facts["sample_rate"]),
            cache_key=key,
        )
    except (KeyError, TypeError, ValueError):
        return None


def store(
    cache_dir: Path,
    pcm: Pcm,
    *,
    text: str,
    language: str,
    engine: str,
    voice: str,
    prompt_id: str | None = None,
) -> RenderedPrompt:
    """Write 8 kHz speech into the cache, check it plays, and return its description.

    Raises NotPlayable (and leaves the cache untouched) when the file fails `check_playable`.
    """
    key = cache_key(text, language, engine, voice)
    folder = _language_dir(cache_dir, language)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_path(folder, key, ".wav")
    try:
        write_telephone_wav(pcm, temporary)
        check = check_playable(temporary)
        if not check.playable:
            raise NotPlayable(
                f"{engine} rendering is not playable: {'; '.join(check.problems)}",
                language=language,
                prompt_id=prompt_id,
            )
        digest = hashlib.sha256(temporary.read_bytes()).hexdigest()
        audio = folder / f"{key}.wav"
        os.replace(temporary, audio)
    finally:
        temporary.unlink(missing_ok=True)
    prompt = RenderedPrompt(
        path=audio,
        language=language,
        engine=engine,
        voice=voice,
        sha256=digest,
        duration_s=check.duration_s,
        sample_rate=check.sample_rate or 0,
        cache_key=key,
    )
    facts = {**asdict(prompt), "path": audio.name, "text": normalise_text(text), "format": AUDIO_FORMAT}
    _write_atomically(folder / f"{key}.json", json.dumps(facts, ensure_ascii=False, indent=1) + "\n")
    return prompt


def _language_dir(cache_dir: Path, language: str) -> Path:
    """Return the language's folder, refusing codes that are not plain language tags."""
    # The code becomes a folder name: a value such as "../x" must never reach the filesystem.
    if not LANGUAGE_CODE.match(language):
        raise ValueError(f"not a language code: {language!r}")
    return Path(cache_dir) / language


def _temporary_path(folder: Path, key: str, suffix: str) -> Path:
    """Create an empty temporary file in `folder` (same filesystem, so os.replace is atomic)."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}.", suffix=f"{suffix}.tmp")
    os.close(handle)
    return Path(name)


def _write_atomically(path: Path, content: str) -> None:
    """Write a text file whole or not at all."""
    temporary = _temporary_path(path.parent, path.stem, path.suffix)
    try:
        temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
