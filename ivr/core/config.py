"""Read the hotline's settings from the environment into one frozen object.

Every setting is declared once in SETTINGS, with its help text, so the README table and the
start-up checks cannot drift apart from the code (a test compares them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from ivr.core.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, the Config field it fills, default and help."""

    env: str
    attr: str
    help: str
    default: str | None = None
    required: bool = False
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", "secret_key", "Signs session cookies and CSRF tokens. Long and random.",
            required=True),
    Setting("HOTLINE_PEPPER", "pepper",
            "Secret key for the keyed hash (HMAC-SHA256) of callers' phone numbers. Never change it in "
            "service: returning callers would no longer be recognised.", required=True),
    Setting("TWILIO_AUTH_TOKEN", "twilio_auth_token",
            "Twilio auth token: checks X-Twilio-Signature on every webhook and authenticates recording "
            "downloads.", required=True),
    Setting("PUBLIC_BASE_URL", "public_base_url",
            "The URL Twilio calls, without a trailing slash (e.g. https://hotline.example.org). "
            "Signatures are checked against it, so they work behind proxies.", required=True),
    Setting("TWILIO_ACCOUNT_SID", "twilio_account_sid",
            "Twilio account SID: user name for recording downloads (HTTP basic auth).", default=""),
    Setting("HOTLINE_DATA_DIR", "data_dir",
            "Folder for the SQLite database, stored recordings and prompt audio.", default="instance"),
    Setting("DATABASE_URL", "database_url",
            "SQLAlchemy database URL. Default: a SQLite file in HOTLINE_DATA_DIR. Production: "
            "postgresql+psycopg://user@host/db.", default=""),
    Setting("REDIS_URL", "redis_url",
            "Redis for the RQ job queue. Empty: the inline queue runs jobs on a thread of the web process.",
            default=""),
    Setting("HOTLINE_MENUS", "menus_dir",
            "Folder holding flow.toml and prompts/<lang>.toml. Default: the menus shipped with the code.",
            default=""),
    Setting("HOTLINE_RECORDING_MAX_SECONDS", "recording_max_seconds",
            "Longest message a caller can record, in seconds (Twilio's maxLength).", default="120",
            kind=int),
    Setting("HOTLINE_JOB_RETRIES", "job_retries",
            "How many times a failed background job is retried (with backoff) before it is left failed.",
            default="5", kind=int),
    Setting("HOTLINE_RETRY_BASE_SECONDS", "retry_base_seconds",
            "First wait before a failed job is retried; each later wait is 3 times longer (capped at 10 min).",
            default="5", kind=float),
    Setting("HOTLINE_OPERATOR_NUMBER", "operator_number",
            "Phone number a caller is transferred to (<Dial>) after too many wrong keys or silences. "
            "Empty: they hear a polite goodbye instead.", default=""),
    Setting("HOTLINE_MAX_BODY_BYTES", "max_body_bytes",
            "Largest request body accepted, in bytes. Twilio's webhooks are a few kilobytes.",
            default="65536", kind=int),
    Setting("HOTLINE_VOSK_MODELS", "vosk_models_dir",
            "Folder of Vosk model folders, one per language (e.g. vosk-model-small-fr-0.22). "
            "Default: HOTLINE_DATA_DIR/models/vosk.", default=""),
    Setting("HOTLINE_CHECK_BY_EAR_BELOW", "check_by_ear_below",
            "Message confidence (0-1, calibrated on the dev set: speech/confidence.py) below which a transcript "
            "is flagged 'check by ear'; words under it are marked on the message page.",
            default="0.4", kind=float),
    Setting("HOTLINE_STUCK_AFTER_SECONDS", "stuck_after_seconds",
            "A message waiting this long in one pipeline state is re-enqueued by the sweeper "
            "(`hotline jobs recover`, also run every minute by `hotline worker`).", default="600", kind=int),
    Setting("HOTLINE_DELETE_TWILIO_COPY", "delete_twilio_copy",
            "1 to delete Twilio's copy of a recording once ours is stored and its checksum verified.",
            default="0", kind=bool),
    # -- settings added by the prompts work go below this line --
    Setting("HOTLINE_PROMPTS_CACHE", "prompts_cache_dir",
            "Folder of synthesised prompt audio (`hotline prompts build` writes it, calls play from it). "
            "Default: HOTLINE_DATA_DIR/prompts-cache.", default=""),
    Setting("HOTLINE_PROMPTS_QUEUE_MISSING", "prompts_queue_missing",
            "1 to queue a background rendering when a call meets a prompt without audio (it is never "
            "synthesised during the call). 0 leaves it to `hotline prompts build`.", default="1", kind=bool),
    Setting("HOTLINE_GTTS", "gtts_enabled",
            "1 to try gTTS (Google's voice, needs the internet) before espeak-ng when rendering prompts; "
            "0 renders with espeak-ng only.", default="1", kind=bool),
    Setting("HOTLINE_GTTS_BASE_URL", "gtts_base_url",
            "Base URL of Google's TTS endpoint; {tld} is replaced by the voice's Google domain. Tests point it "
            "at a local server.", default="https://translate.google.{tld}"),
    Setting("HOTLINE_GTTS_TIMEOUT_SECONDS", "gtts_timeout_seconds",
            "Seconds to wait for gTTS before falling back to espeak-ng.", default="10", kind=float),
    Setting("HOTLINE_OPERATOR_TOKEN", "operator_token",
            "Token that opens the operator page (/operator/), until accounts exist. Empty: the page is off "
            "(404). At least 16 characters; keep it secret.", default=""),
    Setting("HOTLINE_PROMPT_UPLOAD_MAX_BYTES", "prompt_upload_max_bytes",
            "Largest prompt recording the operator page accepts, in bytes.", default="10000000", kind=int),
    Setting("HOTLINE_LOG_LEVEL", "log_level", "Logging level: DEBUG, INFO, WARNING or ERROR.",
            default="INFO"),
    # -- settings added by the routing work --
    Setting("HOTLINE_AGENCIES", "agencies_file",
            "The agencies file: who receives which topics and places, and how they are notified. "
            "Default: agencies.toml in HOTLINE_MENUS.", default=""),
    Setting("HOTLINE_ROUTING_RULES", "routing_rules_file",
            "The keyword rules per language that refine routing from the transcript. "
            "Default: routing.toml in HOTLINE_MENUS.", default=""),
    Setting("HOTLINE_SMTP_HOST", "smtp_host", "SMTP server that carries email notifications to agencies.",
            default="localhost"),
    Setting("HOTLINE_SMTP_PORT", "smtp_port", "Port of HOTLINE_SMTP_HOST.", default="25", kind=int),
    Setting("HOTLINE_SMTP_FROM", "smtp_from", "Sender address of email notifications.",
            default="hotline@localhost"),
    Setting("HOTLINE_SMTP_STARTTLS", "smtp_starttls", "1 to require STARTTLS before sending email.",
            default="0", kind=bool),
    Setting("HOTLINE_SMTP_USER", "smtp_user", "SMTP user name; empty: send without logging in.", default=""),
    Setting("HOTLINE_SMTP_PASSWORD", "smtp_password", "SMTP password for HOTLINE_SMTP_USER.", default=""),
    Setting("HOTLINE_NOTIFY_TIMEOUT_SECONDS", "notify_timeout_seconds",
            "Seconds to wait for an agency's webhook, Open311 endpoint or SMTP server before the attempt "
            "counts as failed (it is retried with backoff).", default="10", kind=float),
    Setting("HOTLINE_INLINE_SWEEP_SECONDS", "inline_sweep_seconds",
            "Without REDIS_URL: how often the web process runs the sweeper (`hotline jobs recover`) on its "
            "inline queue, so work left half-done by a restart is finished. 0 turns it off.", default="60",
            kind=float),
    Setting("HOTLINE_ANSWER_DUE_DAYS", "answer_due_days",
            "Days within which an agency should first answer a message; older unanswered messages show as "
            "overdue on the dashboard, the accountability pages and the radio summaries.", default="7", kind=int),
    # -- settings added by the radio work (summaries, scripts, bulletins, podcast feed) --
    Setting("HOTLINE_RADIO_STATION", "radio_station",
            "The station's name: title of the podcast feed of bulletins and of the printed script.",
            default="Talanoa Hotline"),
    Setting("HOTLINE_RADIO_LANGUAGE", "radio_language",
            "The station's language (a code of menus/radio/<lang>.toml): the script and new bulletins are in "
            "it unless a host picks another.", default="en"),
    # -- settings added by the answer delivery work (outbound calls, callbacks, callback numbers) --
    Setting("HOTLINE_NUMBER_KEY", "number_key",
            "Key (32 bytes, URL-safe base64) that encrypts the phone numbers of callers who asked to be called "
            "back (AES-256-GCM). Empty: derived from HOTLINE_PEPPER with HKDF. Changing it makes the stored "
            "numbers unreadable: those callers are not called back.", default=""),
    Setting("HOTLINE_NUMBER_RETENTION_DAYS", "number_retention_days",
            "Days a consenting caller's encrypted number is kept after their last report, so an answer can "
            "call them back; then it is deleted. A number kept only for a missed-call or key-8 callback is "
            "deleted after one day.", default="30", kind=int),
    Setting("TWILIO_API_BASE_URL", "twilio_api_base_url",
            "Base URL of Twilio's REST API, where outbound calls are placed. Tests point it at a local server.",
            default="https://api.twilio.com"),
    Setting("TWILIO_CALLER_ID", "twilio_caller_id",
            "The hotline's own phone number (E.164), shown to callers we call back. Empty: no outbound calls "
            "are placed; answers wait for the caller to ring and key their reference.", default=""),
    Setting("HOTLINE_CALL_ATTEMPTS", "call_attempts",
            "How many times an outbound call (answer or callback) is tried when busy, unanswered or failed.",
            default="3", kind=int),
    Setting("HOTLINE_CALL_RETRY_MINUTES", "call_retry_minutes",
            "Minutes between tries of an outbound call (moved past quiet hours when they fall in them).",
            default="30", kind=float),
    Setting("HOTLINE_CALL_RING_SECONDS", "call_ring_seconds",
            "Seconds an outbound call rings before it counts as no-answer (Twilio's Timeout).", default="30",
            kind=int),
    Setting("HOTLINE_QUIET_HOURS", "quiet_hours",
            "Local hours when the hotline never places an answer call or a retry, as START-END in 24-hour "
            "clock (e.g. 21-07: from 21:00 to 07:00). off: no quiet hours.", default="21-07"),
    Setting("HOTLINE_TIMEZONE", "timezone",
            "The callers' time zone (IANA name) for quiet hours and the daily callback limit.",
            default="Pacific/Fiji"),
    Setting("HOTLINE_CALLBACK_DAILY_LIMIT", "callback_daily_limit",
            "Missed-call and key-8 callbacks one phone number may get per local day (counted by the number's "
            "keyed hash).", default="3", kind=int),
    # -- settings added by the dashboard work (accounts, login, answers) --
    Setting("HOTLINE_SESSION_IDLE_MINUTES", "session_idle_minutes",
            "Minutes without a request after which a dashboard login ends.", default="30", kind=int),
    Setting("HOTLINE_SESSION_MAX_HOURS", "session_max_hours",
            "Hours after logging in when a dashboard login ends, however active.", default="12", kind=int),
    Setting("HOTLINE_LOGIN_MAX_FAILURES", "login_max_failures",
            "Failed logins allowed per email address within HOTLINE_LOGIN_WINDOW_MINUTES; more answer 429.",
            default="5", kind=int),
    Setting("HOTLINE_LOGIN_MAX_FAILURES_PER_ADDRESS", "login_max_failures_per_address",
            "Failed logins allowed per client IP address within HOTLINE_LOGIN_WINDOW_MINUTES (an office "
            "behind one address shares it); more answer 429.", default="20", kind=int),
    Setting("HOTLINE_LOGIN_WINDOW_MINUTES", "login_window_minutes",
            "The window over which failed logins are counted.", default="15", kind=int),
    Setting("HOTLINE_ANSWER_UPLOAD_MAX_BYTES", "answer_upload_max_bytes",
            "Largest audio answer an official may upload or record in the browser, in bytes.",
            default="20000000", kind=int),
    Setting("HOTLINE_ANSWER_MAX_SECONDS", "answer_max_seconds",
            "Longest audio answer, in seconds (the caller listens to it on the phone).", default="300", kind=int),
    # -- settings added by the casework work (ivr/dashboard/replies.py, worker/clusters.py) --
    Setting("HOTLINE_REPLIES", "replies_file",
            "The reply templates file: per agency and language, answers an official fills in with one click. "
            "Default: replies.toml in HOTLINE_MENUS.", default=""),
    Setting("HOTLINE_CLUSTER_HOURS", "cluster_hours",
            "Messages with the same topic and place routed to the same agency within this many hours are grouped "
            "into one inbox row (one answer reaches every caller). 0: never group.", default="48", kind=float),
    Setting("HOTLINE_SMS", "sms_enabled",
            "1 when TWILIO_CALLER_ID can send SMS: consenting callers (keys 1 or 3) get their reference number by SMS "
            "after the call, and a notice when an answer waits or the message is closed (outside quiet hours).",
            default="0", kind=bool),
    Setting("HOTLINE_DIGEST_HOUR", "digest_hour",
            "Local hour (0-23, HOTLINE_TIMEZONE) from which `hotline scheduler` sends each agency's daily digest "
            "(new, overdue, due tomorrow) and escalates overdue messages to its supervisors, once a day.",
            default="7", kind=int),
    # -- settings added by the live board work --
    Setting("HOTLINE_BOARD_STREAM_SECONDS", "board_stream_seconds",
            "How long one live-board connection (server-sent events) is held before the browser is asked to "
            "reconnect (it resumes from Last-Event-ID): bounds how long a web worker thread stays busy.",
            default="120", kind=int),
    # -- settings added by the edges work (faults, races, abuse) --
    Setting("TWILIO_MEDIA_HOSTS", "twilio_media_hosts",
            "Hosts recordings may be fetched from, comma-separated host or host:port (a host without a port matches "
            "any port). No other host is asked, or sent credentials, even by a redirect.", default="api.twilio.com"),
    Setting("HOTLINE_CALLBACK_PREFIXES", "callback_prefixes",
            "Comma-separated number prefixes (E.164, e.g. +679) the hotline may ring back for a missed call or key 8. "
            "Empty: the country code of TWILIO_CALLER_ID.", default=""),
    Setting("HOTLINE_CALLBACK_HOURLY_LIMIT", "callback_hourly_limit",
            "Callbacks (missed call, key 8) the whole hotline may promise per hour, all numbers together: a cap on "
            "what toll fraud could cost.", default="30", kind=int),
    # -- settings added by the operators' phone and funnel work --
    Setting("HOTLINE_CALL_FUNNEL", "call_funnel",
            "1 to count where callers go in the menus (the call funnel: `hotline stats`, /operator/calls), in "
            "memory, written with each end-of-call callback; 0 counts nothing.", default="1", kind=bool),
    Setting("HOTLINE_FUNNEL_FLUSH_SECONDS", "funnel_flush_seconds",
            "Each web process writes its call counts with the first end-of-call callback this many seconds "
            "after its last write (and when it exits); 0 writes them with every end-of-call callback.",
            default="10", kind=int),
    Setting("HOTLINE_PROMPT_LINE_PIN", "prompt_line_pin",
            "PIN (6 to 12 digits) of the prompt-recording line (/voice/prompt-line/incoming), where native "
            "speakers record missing prompts by phone. Empty: the line is off (404).", default=""),
    Setting("HOTLINE_PROMPT_LINE_REFERENCE", "prompt_line_reference",
            "Language (code) the prompt-recording line speaks, and whose prompts a speaker hears before "
            "recording theirs.", default="en"),
    # -- retention (issue 13): how long callers' words and voices are kept once a message is closed --
    Setting("HOTLINE_RECORDING_KEEP_DAYS", "recording_keep_days",
            "Days a caller's recording is kept after their message is closed; then `hotline retention run` "
            "(and the scheduler, daily) deletes the file. The message's counts stay.", default="365", kind=int),
    Setting("HOTLINE_TRANSCRIPT_KEEP_DAYS", "transcript_keep_days",
            "Days a closed message's transcript (and its redacted copy, radio quote and notes) is kept; then "
            "the text is scrubbed.", default="365", kind=int),
    Setting("HOTLINE_ANSWER_KEEP_DAYS", "answer_keep_days",
            "Days an agency's answer (its audio and text) is kept after the message is closed; an answer "
            "not yet delivered to the caller is kept until it is.", default="365", kind=int),
)


@dataclass(frozen=True)
class Config:
    """The hotline's settings, frozen once read."""

    secret_key: str
    pepper: str
    twilio_auth_token: str
    public_base_url: str
    twilio_account_sid: str = ""
    data_dir: Path = Path("instance")
    database_url: str = ""
    redis_url: str = ""
    menus_dir: Path = Path(__file__).resolve().parents[2] / "menus"
    recording_max_seconds: int = 120
    job_retries: int = 5
    retry_base_seconds: float = 5.0
    operator_number: str = ""
    max_body_bytes: int = 65536
    log_level: str = "INFO"
    vosk_models_dir: Path | None = None
    stuck_after_seconds: int = 600
    delete_twilio_copy: bool = False
    check_by_ear_below: float = 0.4
    # prompts work
    prompts_cache_dir: Path | None = None
    prompts_queue_missing: bool = True
    gtts_enabled: bool = True
    gtts_base_url: str = "https://translate.google.{tld}"
    gtts_timeout_seconds: float = 10.0
    operator_token: str = field(default="", repr=False)
    prompt_upload_max_bytes: int = 10_000_000
    # routing work
    agencies_file: Path | None = None
    routing_rules_file: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "hotline@localhost"
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    notify_timeout_seconds: float = 10.0
    answer_due_days: int = 7
    inline_sweep_seconds: float = 60.0
    # radio work
    radio_station: str = "Talanoa Hotline"
    radio_language: str = "en"
    # answer delivery work
    number_key: str = field(default="", repr=False)
    number_retention_days: int = 30
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_caller_id: str = ""
    call_attempts: int = 3
    call_retry_minutes: float = 30.0
    call_ring_seconds: int = 30
    quiet_hours: str = "21-07"
    timezone: str = "Pacific/Fiji"
    callback_daily_limit: int = 3
    # dashboard work
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_minutes: int = 15
    answer_upload_max_bytes: int = 20_000_000
    answer_max_seconds: int = 300
    # live board work
    board_stream_seconds: int = 120
    # edges work
    twilio_media_hosts: str = "api.twilio.com"
    callback_prefixes: str = ""
    callback_hourly_limit: int = 30
    # casework work
    replies_file: Path | None = None
    cluster_hours: float = 48.0
    digest_hour: int = 7
    sms_enabled: bool = False
    # operators' phone and funnel work
    call_funnel: bool = True
    funnel_flush_seconds: int = 10
    prompt_line_pin: str = field(default="", repr=False)
    prompt_line_reference: str = "en"
    # retention
    recording_keep_days: int = 365
    transcript_keep_days: int = 365
    answer_keep_days: int = 365
    testing: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "menus_dir", Path(self.menus_dir))
        object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))
        if self.vosk_models_dir is None:
            object.__setattr__(self, "vosk_models_dir", self.data_dir / "models" / "vosk")
        else:
            object.__setattr__(self, "vosk_models_dir", Path(self.vosk_models_dir))
        prompts_cache = self.data_dir / "prompts-cache" if self.prompts_cache_dir is None else self.prompts_cache_dir
        object.__setattr__(self, "prompts_cache_dir", Path(prompts_cache))
        if not self.database_url:
            path = (self.data_dir / "hotline.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{path}")
        problems = []
        if self.recording_max_seconds < 1 or self.recording_max_seconds > 3600:
            problems.append("HOTLINE_RECORDING_MAX_SECONDS must be between 1 and 3600")
        if not 0 <= self.retry_base_seconds <= 600:
            problems.append("HOTLINE_RETRY_BASE_SECONDS must be between 0 and 600")
        if self.job_retries < 0 or self.job_retries > 50:
            problems.append("HOTLINE_JOB_RETRIES must be between 0 and 50")
        if not self.public_base_url.startswith(("http://", "https://")):
            problems.append("PUBLIC_BASE_URL must start with http:// or https://")
        if not 0.0 <= self.check_by_ear_below <= 1.0:
            problems.append("HOTLINE_CHECK_BY_EAR_BELOW must be between 0 and 1")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append("HOTLINE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        problems.extend(self._prompt_problems())
        if not 1 <= self.smtp_port <= 65535:
            problems.append("HOTLINE_SMTP_PORT must be between 1 and 65535")
        if not 0.1 <= self.notify_timeout_seconds <= 300:
            problems.append("HOTLINE_NOTIFY_TIMEOUT_SECONDS must be between 0.1 and 300")
        if self.inline_sweep_seconds != 0 and not 1 <= self.inline_sweep_seconds <= 86400:
            problems.append("HOTLINE_INLINE_SWEEP_SECONDS must be 0 (off) or between 1 and 86400")
        if not 1 <= self.answer_due_days <= 365:
            problems.append("HOTLINE_ANSWER_DUE_DAYS must be between 1 and 365")
        if not 0 <= self.digest_hour <= 23:
            problems.append("HOTLINE_DIGEST_HOUR must be between 0 and 23")
        if not 0 <= self.cluster_hours <= 24 * 31:
            problems.append("HOTLINE_CLUSTER_HOURS must be between 0 and 744")
        if not 1 <= self.board_stream_seconds <= 3600:
            problems.append("HOTLINE_BOARD_STREAM_SECONDS must be between 1 and 3600")
        problems.extend(self._delivery_problems())
        problems.extend(self._dashboard_problems())
        problems.extend(self._edge_problems())
        if problems:
            raise ConfigError("; ".join(problems))

    def _prompt_problems(self) -> list[str]:
        """Name what is wrong with the prompts settings (kept apart from the other checks)."""
        problems = []
        if not 0 <= self.funnel_flush_seconds <= 3600:
            problems.append("HOTLINE_FUNNEL_FLUSH_SECONDS must be between 0 and 3600")
        if self.prompt_line_pin and not (self.prompt_line_pin.isdigit() and 6 <= len(self.prompt_line_pin) <= 12):
            # Keyed on a phone: digits only; short PINs fall to three guesses a call, many calls.
            problems.append("HOTLINE_PROMPT_LINE_PIN must be 6 to 12 digits (or empty to turn the line off)")
        if self.operator_token and len(self.operator_token) < 16:
            # A short token can be guessed; the operator page can replace every prompt callers hear.
            problems.append("HOTLINE_OPERATOR_TOKEN must be at least 16 characters (or empty to turn the page off)")
        if not self.gtts_base_url.startswith(("http://", "https://")):
            problems.append("HOTLINE_GTTS_BASE_URL must start with http:// or https://")
        if not 0.1 <= self.gtts_timeout_seconds <= 120:
            problems.append("HOTLINE_GTTS_TIMEOUT_SECONDS must be between 0.1 and 120")
        if self.prompt_upload_max_bytes < 1000:
            problems.append("HOTLINE_PROMPT_UPLOAD_MAX_BYTES must be at least 1000")
        return problems

    def _dashboard_problems(self) -> list[str]:
        """Name what is wrong with the dashboard's login and answer settings."""
        problems = []
        if not 1 <= self.session_idle_minutes <= 24 * 60:
            problems.append("HOTLINE_SESSION_IDLE_MINUTES must be between 1 and 1440")
        if not 1 <= self.session_max_hours <= 24 * 30:
            problems.append("HOTLINE_SESSION_MAX_HOURS must be between 1 and 720")
        if not 1 <= self.login_max_failures <= 1000:
            problems.append("HOTLINE_LOGIN_MAX_FAILURES must be between 1 and 1000")
        if not 1 <= self.login_max_failures_per_address <= 100000:
            problems.append("HOTLINE_LOGIN_MAX_FAILURES_PER_ADDRESS must be between 1 and 100000")
        if not 1 <= self.login_window_minutes <= 24 * 60:
            problems.append("HOTLINE_LOGIN_WINDOW_MINUTES must be between 1 and 1440")
        if self.answer_upload_max_bytes < 1000:
            problems.append("HOTLINE_ANSWER_UPLOAD_MAX_BYTES must be at least 1000")
        if not 1 <= self.answer_max_seconds <= 3600:
            problems.append("HOTLINE_ANSWER_MAX_SECONDS must be between 1 and 3600")
        return problems

    def _delivery_problems(self) -> list[str]:
        """Name what is wrong with the outbound call and callback settings."""
        from ivr.core.local_time import QuietHoursError, parse_quiet_hours, parse_timezone

        problems = []
        try:
            parse_quiet_hours(self.quiet_hours)
        except QuietHoursError as exc:
            problems.append(f"HOTLINE_QUIET_HOURS {exc}")
        try:
            parse_timezone(self.timezone)
        except QuietHoursError as exc:
            problems.append(f"HOTLINE_TIMEZONE {exc}")
        if self.number_key:
            from ivr.core.privacy import NumberKeyError, decode_number_key

            try:
                decode_number_key(self.number_key)
            except NumberKeyError as exc:
                problems.append(f"HOTLINE_NUMBER_KEY {exc}")
        if not 1 <= self.number_retention_days <= 3650:
            problems.append("HOTLINE_NUMBER_RETENTION_DAYS must be between 1 and 3650")
        if not self.twilio_api_base_url.startswith(("http://", "https://")):
            problems.append("TWILIO_API_BASE_URL must start with http:// or https://")
        if not 1 <= self.call_attempts <= 10:
            problems.append("HOTLINE_CALL_ATTEMPTS must be between 1 and 10")
        if not 0 <= self.call_retry_minutes <= 24 * 60:
            problems.append("HOTLINE_CALL_RETRY_MINUTES must be between 0 and 1440")
        if not 5 <= self.call_ring_seconds <= 600:
            problems.append("HOTLINE_CALL_RING_SECONDS must be between 5 and 600 (Twilio's Timeout range)")
        if not 0 <= self.callback_daily_limit <= 100:
            problems.append("HOTLINE_CALLBACK_DAILY_LIMIT must be between 0 and 100")
        for name, days in (("RECORDING", self.recording_keep_days), ("TRANSCRIPT", self.transcript_keep_days),
                           ("ANSWER", self.answer_keep_days)):
            if not 1 <= days <= 36500:
                problems.append(f"HOTLINE_{name}_KEEP_DAYS must be between 1 and 36500")
        return problems

    def _edge_problems(self) -> list[str]:
        """Name what is wrong with the media hosts and callback limits."""
        problems = []
        if not self.media_hosts or any(not re.fullmatch(r"[a-z0-9.-]+(:\d{1,5})?|\[[0-9a-f:]+\](:\d{1,5})?", h)
                                       for h in self.media_hosts):
            problems.append("TWILIO_MEDIA_HOSTS must be comma-separated host or host:port (e.g. api.twilio.com)")
        if any(not re.fullmatch(r"\+\d{1,15}", p) for p in self.callback_number_prefixes):
            problems.append("HOTLINE_CALLBACK_PREFIXES must be comma-separated +digits prefixes (e.g. +679)")
        if not 0 <= self.callback_hourly_limit <= 10000:
            problems.append("HOTLINE_CALLBACK_HOURLY_LIMIT must be between 0 and 10000")
        return problems

    @property
    def media_hosts(self) -> tuple[str, ...]:
        """Return TWILIO_MEDIA_HOSTS as a tuple of lowercased host or host:port entries."""
        return tuple(h.strip().lower() for h in self.twilio_media_hosts.split(",") if h.strip())

    @property
    def callback_number_prefixes(self) -> tuple[str, ...]:
        """Return the prefixes callbacks may dial: HOTLINE_CALLBACK_PREFIXES, else TWILIO_CALLER_ID's country code."""
        from ivr.core.country_codes import country_code

        given = tuple(p.strip() for p in self.callback_prefixes.split(",") if p.strip())
        if given:
            return given
        code = country_code(self.twilio_caller_id)
        return (f"+{code}",) if code else ()

    @property
    def prompts_cache(self) -> Path:
        """Return the folder of synthesised prompt audio (HOTLINE_PROMPTS_CACHE, filled in by __post_init__)."""
        assert self.prompts_cache_dir is not None
        return self.prompts_cache_dir

    @property
    def prompt_recordings_dir(self) -> Path:
        """Return where operator-page uploads (human prompt recordings) are kept, one folder per language."""
        return self.data_dir / "prompt-recordings"

    @property
    def agencies_path(self) -> Path:
        """Return the agencies file (HOTLINE_AGENCIES, else agencies.toml beside the menus)."""
        return Path(self.agencies_file) if self.agencies_file else self.menus_dir / "agencies.toml"

    @property
    def routing_rules_path(self) -> Path:
        """Return the keyword rules file (HOTLINE_ROUTING_RULES, else routing.toml beside the menus)."""
        return Path(self.routing_rules_file) if self.routing_rules_file else self.menus_dir / "routing.toml"

    @property
    def replies_path(self) -> Path:
        """Return the reply templates file (HOTLINE_REPLIES, else replies.toml beside the menus)."""
        return Path(self.replies_file) if self.replies_file else self.menus_dir / "replies.toml"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def inline_queue(self) -> bool:
        return not self.redis_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Build the config from environment variables; name every missing or malformed one."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        missing: list[str] = []
        malformed: list[str] = []
        for s in SETTINGS:
            raw = env.get(s.env, "").strip()
            if not raw:
                if s.required:
                    missing.append(s.env)
                    continue
                if s.default is None or s.default == "":
                    continue
                raw = s.default
            if s.kind is bool:
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    malformed.append(f"{s.env} must be 1 or 0, got {raw!r}")
                else:
                    values[s.attr] = raw.lower() in ("1", "true", "yes", "on")
            elif s.kind is int or s.kind is float:
                try:
                    values[s.attr] = s.kind(raw)
                except ValueError:
                    malformed.append(f"{s.env} must be a {s.kind.__name__} number, got {raw!r}")
            else:
                values[s.attr] = raw
        values.update(overrides)
        missing = [m for m in missing if _attr(m) not in overrides]
        problems = []
        if missing:
            problems.append("missing required settings: " + ", ".join(missing))
        problems.extend(malformed)
        if problems:
            raise ConfigError("; ".join(problems) + " (see the Settings table in README.md)")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


def _attr(env: str) -> str:
    return next(s.attr for s in SETTINGS if s.env == env)


ENV_FILE_NAME = "hotline.env"


def load_env_file(environ: dict[str, str] | None = None) -> Path | None:
    """Fill unset variables from HOTLINE_ENV_FILE or HOTLINE_DATA_DIR/hotline.env, if it exists.

    The quickstart writes that file with fresh random secrets, so every later `hotline` command
    in the same checkout (serve, call, messages) shares them without the operator exporting anything.
    """
    env = os.environ if environ is None else environ
    path = Path(env.get("HOTLINE_ENV_FILE") or Path(env.get("HOTLINE_DATA_DIR") or "instance") / ENV_FILE_NAME)
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if not env.get(key.strip()):  # an empty variable counts as unset
            env[key.strip()] = value.strip()
    return path
