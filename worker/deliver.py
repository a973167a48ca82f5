"""Carry one redacted message summary to one agency target: signed webhook, email, or Open311.

Each function sends once and returns the target's own id for it (Open311's service_request_id) or
None; any failure raises DeliveryFailed, saying whether trying again could help. Nothing here reads
the database: worker/notify.py decides what to send and records what happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import requests

from ivr.core.agencies import Target
from ivr.core.config import Config

SIGNATURE_HEADER = "X-Talanoa-Signature"
DELIVERY_HEADER = "X-Talanoa-Delivery"
OPEN311_DESCRIPTION_MAX = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
USER_AGENT = "TalanoaHotline/1 (+notifications)"


class DeliveryFailed(Exception):
    """A target did not take the notification; `retryable` is False when repeating cannot help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def sign(secret: bytes, body: bytes) -> str:
    """Return the X-Talanoa-Signature value for a body: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def secret_from_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        # Not retried by the queue: an operator must set it; `hotline jobs recover --failed` then resends.
        raise DeliveryFailed(f"environment variable {name} is not set", retryable=False)
    return value


def deliver(config: Config, target: Target, summary: dict[str, Any], delivery_id: int) -> str | None:
    """Send a summary to a target by its channel; return the target's id for it, if it gives one."""
    if target.channel == "webhook":
        send_webhook(config, target, summary, delivery_id)
        return None
    if target.channel == "email":
        send_email(config, target, summary, delivery_id)
        return None
    if target.channel == "open311":
        return send_open311(config, target, summary)
    raise DeliveryFailed(f"unknown channel {target.channel!r}", retryable=False)


def send_webhook(config: Config, target: Target, summary: dict[str, Any], delivery_id: int) -> None:
    """POST the summary as JSON, signed with the agency's secret so it can tell the hotline from a forger."""
    secret = secret_from_env(target.secret_env)
    body = json.dumps(summary, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: sign(secret.encode("utf-8"), body), DELIVERY_HEADER: str(delivery_id)}
    try:
        # No redirects: a redirect could carry the message to a host nobody configured.
        response = requests.post(target.address, data=body, headers=headers, timeout=config.notify_timeout_seconds,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"webhook unreachable: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"webhook answered HTTP {response.status_code}", retryable=_retryable(response))


def send_email(config: Config, target: Target, summary: dict[str, Any], delivery_id: int) -> None:
    """Send the summary as a plain-text email through the configured SMTP server."""
    msg = EmailMessage()
    msg["From"] = config.smtp_from
    msg["To"] = target.address
    msg["Subject"] = (f"Talanoa Hotline: {summary['topic'] or 'no topic'} at {summary['place'] or 'unknown place'}"
                      f" — reference {summary['reference']}")
    # The same Message-ID on every attempt lets a mail system drop a duplicate of a retried send.
    msg["Message-ID"] = make_msgid(idstring=f"talanoa-notification-{delivery_id}", domain="talanoa.hotline")
    msg.set_content(email_text(summary))
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.notify_timeout_seconds) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed("mail server refused the agency's address", retryable=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"email not sent: {type(exc).__name__}") from exc


def email_text(summary: dict[str, Any]) -> str:
    """Write the email body: the summary's fields, then the redacted transcript."""
    lines = [f"A caller's message for {summary['agency_name']} ({summary['agency']}).", "",
             f"Reference: {summary['reference']}", f"Topic: {summary['topic'] or '-'}",
             f"Place: {summary['place'] or '-'}", f"Language: {summary['language']}",
             f"Received: {summary['created_at']}", f"Routing: {summary['routing_reason']}", ""]
    if summary["transcript"] is None:
        lines.append("No transcript: listen to the recording in the hotline's inbox.")
    elif summary.get("transcript_checked"):
        lines += ["Transcript (checked by a person who listened; names and numbers removed):", summary["transcript"]]
    else:
        lines += ["Transcript (machine-made, unchecked: a guess, not the caller's words; names and numbers "
                  "removed):", summary["transcript"]]
    return "\n".join(lines) + "\n"


def send_open311(config: Config, target: Target, summary: dict[str, Any]) -> str:
    """Create an Open311 GeoReport v2 service request; return its service_request_id (or token)."""
    form: dict[str, str] = {
        "api_key": secret_from_env(target.api_key_env),
        "service_code": target.service_code,
        # GeoReport v2 needs a location: lat/long, address_id or address_string. A caller gives a district.
        "address_string": f"{summary['place_name'] or 'Place not given'}{target.address_suffix}",
        "description": open311_description(summary),
    }
    if target.jurisdiction_id:
        form["jurisdiction_id"] = target.jurisdiction_id
    for code, value in target.attributes.items():
        form[f"attribute[{code}]"] = value
    try:
        response = requests.post(f"{target.address}/requests.json", data=form, timeout=config.notify_timeout_seconds,
                                 headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"Open311 endpoint unreachable: {type(exc).__name__}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"Open311 answered HTTP {response.status_code}{_open311_error(answer)}",
                             retryable=_retryable(response))
    first = answer[0] if isinstance(answer, list) and answer and isinstance(answer[0], dict) else {}
    if first.get("service_request_id") not in (None, ""):
        return str(first["service_request_id"])[:128]
    if first.get("token") not in (None, ""):
        return f"token:{first['token']}"[:128]
    raise DeliveryFailed("Open311 answer has no service_request_id or token")


def open311_description(summary: dict[str, Any]) -> str:
    head = (f"Talanoa Hotline reference {summary['reference']} ({summary['language']}, "
            f"received {summary['created_at']}). ")
    if summary["transcript"] is None:
        body = "Spoken message without transcript."
    elif summary.get("transcript_checked"):
        body = f"Transcript checked by a person: {summary['transcript']}"
    else:
        body = f"Machine transcript, unchecked (a guess): {summary['transcript']}"
    return (head + body)[:OPEN311_DESCRIPTION_MAX]


def _open311_error(answer: Any) -> str:
    """Quote GeoReport's error description ([{"code": 400, "description": "..."}]), briefly."""
    if isinstance(answer, list) and answer and isinstance(answer[0], dict) and answer[0].get("description"):
        return f": {str(answer[0]['description'])[:200]}"
    return ""


def _retryable(response: requests.Response) -> bool:
    # A 4xx says our request is wrong (bad key, unknown service): repeating it cannot help, except these.
    return response.status_code >= 500 or response.status_code in (408, 425, 429) or response.status_code < 400
