"""Take a native speaker's recording of a prompt, check it, and put it in service as 8 kHz WAV.

Uploads are stored in HOTLINE_DATA_DIR/prompt-recordings/<lang>/<prompt>.wav, not in menus/audio/:
the data folder is writable and survives deploying new code, while menus/ ships with the code (and
may be read-only). To ship a recording with the menus, copy it into menus/audio/<lang>/.

Every check runs on a temporary file beside the target, which replaces the old file only once it
passed (os.replace is atomic): on any error the previous audio stays in service, untouched.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import soundfile

from speech.telephone_audio import UndecodableAudio, check_playable, decode, to_telephone, write_telephone_wav

MAX_SECONDS = 60.0  # a prompt callers sit through; longer is almost surely the wrong file
ACCEPTED = "WAV, MP3, OGG or FLAC"


class RecordingRejected(Exception):
    """Say why an uploaded recording was refused, naming the prompt and the language."""

    def __init__(self, reason: str, *, language: str, prompt_id: str) -> None:
        self.reason = reason
        self.language = language
        self.prompt_id = prompt_id
        super().__init__(f"recording for prompt {prompt_id!r} in language {language!r} refused: {reason}; "
                         "the previous audio stays in service")


def store_recording(data: bytes, *, folder: Path, language: str, prompt_id: str, max_bytes: int) -> float:
    """Check an upload, convert it to 8 kHz 16-bit mono WAV, and put it in place; return its seconds.

    The caller has checked that `language` and `prompt_id` name a real prompt: both become path parts.
    """
    def refuse(reason: str) -> RecordingRejected:
        return RecordingRejected(reason, language=language, prompt_id=prompt_id)

    if not data:
        raise refuse("the file is empty")
    if len(data) > max_bytes:
        raise refuse(f"the file has {len(data)} bytes, more than the {max_bytes} allowed")
    seconds = _declared_seconds(data)
    if seconds is None:
        raise refuse(f"it is not audio this hotline can read ({ACCEPTED})")
    if seconds > MAX_SECONDS:
        # Checked from the header before decoding, so a huge file is never decoded into memory.
        raise refuse(f"it lasts {seconds:.0f} s; a prompt may last at most {MAX_SECONDS:.0f} s")
    try:
        pcm = decode(data)
    except UndecodableAudio as error:
        raise refuse(f"it is not audio this hotline can read ({ACCEPTED}): {error}") from error
    if pcm.duration_s <= 0:
        raise refuse("it holds no sound (0 seconds)")
    if pcm.duration_s > MAX_SECONDS:
        raise refuse(f"it lasts {pcm.duration_s:.0f} s; a prompt may last at most {MAX_SECONDS:.0f} s")
    target_dir = folder / language
    target_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target_dir, prefix=f".{prompt_id}.", suffix=".wav.tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        write_telephone_wav(to_telephone(pcm), temporary)
        check = check_playable(temporary)
        if not check.playable:
            raise refuse("; ".join(check.problems))
        os.replace(temporary, target_dir / f"{prompt_id}.wav")
    finally:
        temporary.unlink(missing_ok=True)
    return check.duration_s


def _declared_seconds(data: bytes) -> float | None:
    """Return the length the file's header declares, or None when libsndfile cannot open it."""
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            return sound.frames / sound.samplerate if sound.samplerate else 0.0
    except (soundfile.SoundFileError, RuntimeError, EOFError, ValueError):
        return None
