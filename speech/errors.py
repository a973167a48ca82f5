"""The speech-recognition exceptions, one tree so callers catch exactly what they expect.

SpeechError
 ├── AudioUnreadable          the audio could not be decoded (names the file)
 ├── NoEngineForLanguage      no installed model or bundled engine speaks the language
 ├── ModelError               a Vosk model folder is unusable
 │    ├── ModelNotFound       the folder does not exist
 │    └── BrokenModel         files are missing, or the engine refused to load them
 ├── BadGrammar               a grammar phrase is empty or has words the model cannot output
 └── ModelInstallError        `install_model` failed; nothing was left half-installed
      ├── DownloadError       HTTP error, connection lost, or the archive came short
      ├── ChecksumMismatch    the archive's digest is not the published or given one
      └── UnsafeArchive       the zip is corrupt or has members that would escape the folder
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class SpeechError(Exception):
    """Base of every error the speech package raises on purpose."""


class AudioUnreadable(SpeechError):
    """The audio is not a sound file soundfile can decode (or does not exist)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"cannot read audio {source}: {reason}")
        self.source = source
        self.reason = reason


class NoEngineForLanguage(SpeechError):
    """No engine transcribes this language: the message needs a human to listen."""

    def __init__(self, language: str) -> None:
        super().__init__(
            f"no speech engine for language {language!r}: install a Vosk model for it "
            f"(hotline models install NAME)"
        )
        self.language = language


class ModelError(SpeechError):
    """A speech model cannot be used."""


class ModelNotFound(ModelError):
    """The model folder does not exist."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no model folder at {path}")
        self.path = path


class BrokenModel(ModelError):
    """A model folder is incomplete or the engine could not load it."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        super().__init__(f"broken model at {path}: {'; '.join(problems)}")
        self.path = path
        self.problems = tuple(problems)


class BadGrammar(SpeechError):
    """A grammar for restricted recognition is empty, or uses words the model does not know."""

    def __init__(self, model: str, problem: str) -> None:
        super().__init__(f"grammar for {model}: {problem}")
        self.model = model
        self.problem = problem


class ModelInstallError(SpeechError):
    """Downloading or unpacking a model failed; the destination was left untouched."""


class DownloadError(ModelInstallError):
    """The archive could not be downloaded whole."""


class ChecksumMismatch(ModelInstallError):
    """The downloaded archive does not have the expected digest."""

    def __init__(self, url: str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(f"{algorithm} of {url} is {actual}, expected {expected}")
        self.url = url
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class UnsafeArchive(ModelInstallError):
    """The archive is not a readable zip, or a member would land outside the model folder."""
