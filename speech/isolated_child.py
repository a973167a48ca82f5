"""The child side of speech/isolated.py: load one engine, then answer decode requests over stdin/stdout.

Run as `python -m speech.isolated_child LANGUAGE MODELS_DIR` by IsolatedEngine only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .audio import Pcm
from .errors import SpeechError
from .isolated import CHILD_NICENESS, HEADER, read_frame, write_frame
from .registry import engine_for


def _serve(language: str, models_dir: str) -> int:
    """Child side: load the engine once, then answer requests until stdin closes."""
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    try:
        # SCHED_IDLE: decode only on CPU time no live call wants; a backlog waits, a caller never does.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        try:
            os.nice(CHILD_NICENESS)  # no SCHED_IDLE here (not Linux): at least a lower priority
        except OSError:
            pass  # not allowed here: decode at normal priority
    try:
        engine = engine_for(language, Path(models_dir) if models_dir else None)
        if engine is None:
            raise SpeechError(f"no speech engine for {language!r}")
    except Exception as exc:  # reported to the parent, which raises EngineCrashed
        write_frame(out, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        return 1
    write_frame(out, json.dumps({"engine": engine.name, "model": engine.model, "languages": sorted(engine.languages),
                            "sample_rate": engine.sample_rate, "resampler": engine.resampler,
                            "pid": os.getpid(), "doubts": list(engine.doubts)}).encode())
    while (request := read_frame(inp)) is not None:
        (size,) = HEADER.unpack(request[:HEADER.size])
        meta = json.loads(request[HEADER.size:HEADER.size + size])
        pcm = Pcm(data=request[HEADER.size + size:], rate=int(meta["rate"]), duration=float(meta["duration"]),
                  peak=float(meta["peak"]))
        try:
            words = engine.recognise(pcm)
            reply: dict[str, Any] = {"words": [[w.word, w.confidence, w.start, w.end] for w in words]}
        except Exception as exc:  # one bad request must not end the child
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        write_frame(out, json.dumps(reply).encode())
    return 0


def main(argv: list[str]) -> int:
    """Serve until the parent closes the pipe; a parent that died first ends the child quietly."""
    try:
        return _serve(argv[1], argv[2] if len(argv) > 2 else "")
    except (BrokenPipeError, KeyboardInterrupt):
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
