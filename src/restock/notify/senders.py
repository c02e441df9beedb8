"""The two seams to the outside: webhooks over HTTP and email over SMTP. Each
has a real adapter and a fake that only remembers, for the simulator and the
demo (tests use a real receiver and a real SMTP server)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from restock.errors import InvalidInput


def signature(secret: str, body: bytes) -> str:
    """`X-Restock-Signature`: sha256=<hex HMAC-SHA256 of the body, keyed by the webhook's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(event: dict[str, Any]) -> bytes:
    """What a webhook receives: the event as `GET /v1/events` shows it."""
    return json.dumps({"id": event["id"], "type": event["type"], "at": event["at"], "data": event["data"]},
                      separators=(",", ":")).encode()


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; the status code (an exception when there was no answer)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message to the mail server (an exception when it refused)."""


class HttpWebhooks:
    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self.client = httpx.Client(timeout=timeout_seconds, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        return self.client.post(url, content=body, headers=headers).status_code

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: bool
    user: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """`smtp://user:pass@host:port` (`?starttls=1` to upgrade), or `smtps://…` for TLS."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput(f"RESTOCK_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://… (got {url!r})")
        tls = parts.scheme == "smtps"
        return cls(parts.hostname, parts.port or (465 if tls else 25), tls, "starttls=1" in parts.query,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


class SmtpMailer:
    """One SMTP connection per sending thread, kept open and reopened when it fails."""

    def __init__(self, settings: SmtpSettings, timeout_seconds: float = 30.0) -> None:
        self.settings, self.timeout = settings, timeout_seconds
        self._local = threading.local()
        self._opened: list[smtplib.SMTP] = []

    def send(self, message: EmailMessage) -> None:
        try:
            self._connection().send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            self._local.conn = None
            self._connection().send_message(message)

    def _connection(self) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = getattr(self._local, "conn", None)
        if conn is None:
            s = self.settings
            if s.tls:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.starttls:
                    conn.starttls(context=ssl.create_default_context())
            if s.user:
                conn.login(s.user, s.password or "")
            self._local.conn = conn
            self._opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._opened:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.quit()
        self._opened.clear()


@dataclass
class MemoryWebhooks:
    """A fake receiver that answers `status` and remembers every request."""

    status: int = 200
    requests: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.requests.append((url, body, headers))
        return self.status


@dataclass
class MemoryMailer:
    """A fake mail server that keeps every message."""

    messages: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)
