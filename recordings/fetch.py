"""Download a caller's recording from Twilio, and delete Twilio's copy once ours is safe.

Twilio's RecordingUrl names the Recording resource without an extension; appending ".wav" asks
for the WAV media (audio/x-wav), ".mp3" for MP3, ".json" for the resource itself (which is what
DELETE is sent to). Media is public unless the account enforces HTTP basic auth, in which case
the account SID and auth token are the user name and password.

Twilio answers 404 for a while after a call while the recording is still processing, and 5xx or
429 when busy, so those are retried with exponential backoff; 401, 403 and other 4xx are not
(waiting does not fix credentials) and raise a FetchFailed that says what to check.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import requests

from .errors import DeleteFailed, FetchFailed

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
"""Largest download accepted. A two-minute 8 kHz WAV is about 2 MB; 50 MB is a runaway."""

MAX_DELAY_SECONDS = 60.0
"""Longest wait between two attempts, whatever the backoff or Retry-After says."""

MEDIA_SUFFIXES = (".wav", ".mp3")

TWILIO_MEDIA_HOSTS = ("api.twilio.com",)
"""Where recordings may be fetched from, unless the caller names others (TWILIO_MEDIA_HOSTS)."""

MAX_REDIRECTS = 5

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class FetchedAudio:
    """The bytes of a downloaded recording, where they came from and how many tries it took."""

    data: bytes
    url: str
    content_type: str
    attempts: int

    @property
    def sha256(self) -> str:
        """Return the hex sha256 of the data."""
        return hashlib.sha256(self.data).hexdigest()


def media_url(url: str) -> str:
    """Return the URL of a recording's audio: the RecordingUrl with ".wav" appended.

    A URL already ending in .wav or .mp3 is kept as it is; any other extension is refused,
    since it would not name audio.
    """
    parts = _check_url(url)
    name = parts.path.rsplit("/", 1)[-1]
    if name.endswith(MEDIA_SUFFIXES):
        return url
    if "." in name:
        raise ValueError(f"not a recording URL (last part {name!r}): expected .../Recordings/RE...")
    return urlunsplit(parts._replace(path=parts.path + ".wav"))


def resource_url(url: str) -> str:
    """Return the URL of the Recording resource itself (".json"), from its RecordingUrl or media URL."""
    parts = _check_url(url)
    path = parts.path
    for suffix in (*MEDIA_SUFFIXES, ".json"):
        path = path.removesuffix(suffix)
    return urlunsplit(parts._replace(path=path + ".json"))


def recording_id(url: str) -> str:
    """Return the last part of a recording URL without extension (the RecordingSid), for logs."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] or "?"


def fetch_recording(url: str, *, account_sid: str = "", auth_token: str = "", attempts: int = 5,
                    backoff: float = 0.5, timeout: float = 30, session: requests.Session | None = None,
                    max_bytes: int = MAX_DOWNLOAD_BYTES, sleep: Sleep = time.sleep,
                    hosts: Collection[str] = TWILIO_MEDIA_HOSTS) -> FetchedAudio:
    """Download a recording's WAV media, retrying while Twilio is still processing or busy.

    Only from `hosts` ("host" or "host:port"; a host alone matches any port), redirects included: a
    signed webhook may name any URL, and the account's credentials must never reach a stranger.

    Waits backoff, 2*backoff, 4*backoff... seconds between attempts (or what Retry-After asks,
    up to a minute). Raises FetchFailed: retryable=True when every attempt failed for reasons
    that may pass (the job can try again later), False when trying again cannot help.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    target = media_url(url)
    rid = recording_id(target)
    _require_media_host(target, hosts, rid)
    auth = _auth(target, account_sid, auth_token)
    http = session if session is not None else requests.Session()
    status: int | None = None
    problem = ""
    try:
        for attempt in range(1, attempts + 1):
            delay = min(backoff * 2 ** (attempt - 1), MAX_DELAY_SECONDS)
            status = None
            try:
                with _get(http, target, auth, timeout, hosts, rid) as resp:
                    status = resp.status_code
                    if status == 200:
                        data = _read_limited(resp, max_bytes, rid, attempt)
                        log.info("fetched recording %s (%d bytes, attempt %d)", rid, len(data), attempt)
                        return FetchedAudio(data=data, url=target, attempts=attempt,
                                            content_type=resp.headers.get("Content-Type", ""))
                    if not _retryable(status):
                        raise FetchFailed(f"recording {rid}: {_refusal(status, auth)}",
                                          attempts=attempt, status=status, retryable=False)
                    problem = f"HTTP {status}"
                    delay = max(delay, _retry_after(resp))
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not fix itself in seconds; and we must not retry
                # our credentials against a host we cannot authenticate.
                raise FetchFailed(f"recording {rid}: TLS error ({exc})", attempts=attempt,
                                  status=None, retryable=False) from exc
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"{type(exc).__name__} after HTTP {status}" if status else type(exc).__name__
            except requests.RequestException as exc:
                raise FetchFailed(f"recording {rid}: {type(exc).__name__}: {exc}", attempts=attempt,
                                  status=status, retryable=False) from exc
            if attempt < attempts:
                log.warning("recording %s: attempt %d/%d failed (%s); retrying in %.1f s",
                            rid, attempt, attempts, problem, delay)
                sleep(delay)
    finally:
        if session is None:
            http.close()
    raise FetchFailed(f"recording {rid}: gave up after {attempts} attempts (last: {problem})",
                      attempts=attempts, status=status, retryable=True)


def delete_remote_recording(url: str, account_sid: str, auth_token: str, *, timeout: float = 30,
                            session: requests.Session | None = None,
                            hosts: Collection[str] = TWILIO_MEDIA_HOSTS) -> bool:
    """Delete Twilio's copy of a recording; say whether it was there to delete.

    Call this only after our copy is stored and verified: afterwards the caller's voice exists
    nowhere else. A 404 means Twilio's copy is already gone (an earlier attempt succeeded), so
    the call is safe to repeat. Other answers raise DeleteFailed; nothing is retried here.
    """
    target = resource_url(url)
    rid = recording_id(target)
    if not host_allowed(target, hosts):
        raise DeleteFailed(f"recording {rid}: {urlsplit(target).hostname} is not a Twilio media host "
                           "(TWILIO_MEDIA_HOSTS); nothing sent", status=None)
    if not (account_sid and auth_token):
        raise DeleteFailed(f"recording {rid}: deleting needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
                           status=None)
    auth = _auth(target, account_sid, auth_token)
    http = session if session is not None else requests.Session()
    try:
        resp = http.delete(target, auth=auth, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeleteFailed(f"recording {rid}: {type(exc).__name__}: {exc}", status=None) from exc
    finally:
        if session is None:
            http.close()
    if resp.status_code in (200, 204):
        log.info("deleted Twilio's copy of recording %s", rid)
        return True
    if resp.status_code == 404:
        log.info("Twilio's copy of recording %s was already deleted", rid)
        return False
    raise DeleteFailed(f"recording {rid}: {_refusal(resp.status_code, auth)}", status=resp.status_code)


def host_allowed(url: str, hosts: Collection[str]) -> bool:
    """Say whether a URL's host (and port) is one of `hosts`: "host" matches any port, "host:port" that one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    for entry in hosts:
        allowed = urlsplit("//" + entry.strip().lower())
        try:
            if allowed.hostname == host and (allowed.port is None or allowed.port == port):
                return True
        except ValueError:
            continue
    return False


def _require_media_host(url: str, hosts: Collection[str], rid: str) -> None:
    if not host_allowed(url, hosts):
        raise FetchFailed(f"recording {rid}: {urlsplit(url).hostname} is not a Twilio media host "
                          "(TWILIO_MEDIA_HOSTS); nothing fetched", attempts=0, status=None, retryable=False)


def _get(http: requests.Session, url: str, auth: tuple[str, str] | None, timeout: float, hosts: Collection[str],
         rid: str) -> requests.Response:
    """GET a URL, following redirects only within `hosts`; credentials go to the first URL's host alone."""
    first = urlsplit(url)
    for _ in range(MAX_REDIRECTS + 1):
        here = urlsplit(url)
        same = (here.scheme, here.hostname, here.port) == (first.scheme, first.hostname, first.port)
        resp = http.get(url, auth=auth if same else None, timeout=timeout, stream=True, allow_redirects=False)
        if not resp.is_redirect:
            return resp
        location = urljoin(url, resp.headers.get("Location", ""))
        resp.close()
        if urlsplit(location).scheme not in ("http", "https") or not host_allowed(location, hosts):
            raise FetchFailed(f"recording {rid}: redirected to {urlsplit(location).hostname}, not a Twilio media "
                              "host (TWILIO_MEDIA_HOSTS)", attempts=1, status=resp.status_code, retryable=False)
        url = location
    raise FetchFailed(f"recording {rid}: more than {MAX_REDIRECTS} redirects", attempts=1, status=None,
                      retryable=False)


def _check_url(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return parts


def _auth(url: str, account_sid: str, auth_token: str) -> tuple[str, str] | None:
    """Return basic-auth credentials if both are configured, after checking the transport."""
    if not (account_sid and auth_token):
        return None
    parts = urlsplit(url)
    # Never send the auth token in clear text over a network; loopback is for the emulator.
    if parts.scheme != "https" and not _is_loopback(parts.hostname or ""):
        raise FetchFailed(f"refusing to send Twilio credentials over plain http to {parts.hostname}",
                          attempts=0, status=None, retryable=False)
    return (account_sid, auth_token)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retryable(status: int) -> bool:
    # 404: Twilio answers it until a fresh recording has finished processing.
    return status in (404, 408, 429) or 500 <= status <= 599


def _retry_after(resp: requests.Response) -> float:
    """Return the wait a Retry-After header asks for in seconds (0 if absent or a date), capped."""
    try:
        return min(max(float(resp.headers.get("Retry-After", "0")), 0.0), MAX_DELAY_SECONDS)
    except ValueError:
        return 0.0


def _refusal(status: int, auth: tuple[str, str] | None) -> str:
    if status == 401 and auth is None:
        return ("HTTP 401: this account requires HTTP auth for recording media; "
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    if status == 401:
        return "HTTP 401: Twilio refused the credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
    if status == 403:
        return "HTTP 403: these credentials may not access this recording (another account?)"
    return f"HTTP {status}: not retried"


def _read_limited(resp: requests.Response, max_bytes: int, rid: str, attempt: int) -> bytes:
    """Read a streamed body, refusing one larger than max_bytes before and while reading it."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"recording {rid}: {declared} bytes is more than the {max_bytes} allowed",
                          attempts=attempt, status=resp.status_code, retryable=False)
    body = bytearray()
    for chunk in resp.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > max_bytes:
            raise FetchFailed(f"recording {rid}: more than the {max_bytes} bytes allowed",
                              attempts=attempt, status=resp.status_code, retryable=False)
    return bytes(body)
