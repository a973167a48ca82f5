"""Take a native speaker's recording of a prompt, check it, and put it in service as 8 kHz WAV.

Uploads are stored in HOTLINE_DATA_DIR/prompt-recordings/<lang>/<prompt>.wav, not in menus/audio/:
the data folder is writable and survives deploying new code, while menus/ ships with the code (and
may be read-only). To ship a recording with the menus, copy it into menus/audio/<lang>/.

Every check runs on a temporary file beside the target, which replaces the old file only once it
passed (os.replace is atomic): on any error the previous audio stays in service, untouched.
"""

from __future__ import annotations

from pathlib import Path

from speech.telephone_audio import (
    UndecodableAudio,
    declared_seconds,
    decode,
    store_playable_wav,
)

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
    seconds = declared_seconds(data)
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
    check = store_playable_wav(pcm, folder / language / f"{prompt_id}.wav")
    if not check.playable:
        raise refuse("; ".join(check.problems))
    return check.duration_s
