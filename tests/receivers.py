"""Real peers for the dispatcher's tests: an HTTP webhook receiver that checks
signatures, and an SMTP server (aiosmtpd) that keeps what it is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from restock.api.local import free_port


class Receiver:
    """A webhook receiver on 127.0.0.1. `answer(n)` gives the status of the n-th request
    (from 1); every request is kept with whether its signature checked out."""

    def __init__(self, secret: str, answer: Callable[[int], int] = lambda n: 200, delay_seconds: float = 0) -> None:
        self.secret, self.answer, self.delay = secret, answer, delay_seconds
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                with receiver.lock:
                    n = len(receiver.requests) + 1
                    status = receiver.answer(n)
                    receiver.requests.append({
                        "event": json.loads(body), "status": status, "headers": dict(self.headers),
                        "signed": hmac.compare_digest(expected, self.headers.get("X-Restock-Signature", ""))})
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[dict[str, Any]]:
        """The events answered with 2xx, in the order they arrived."""
        return [r["event"] for r in self.requests if 200 <= r["status"] < 300]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd) keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = message_from_bytes(envelope.content, policy=policy.default)
                assert isinstance(message, EmailMessage)
                mailbox.messages.append(message)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())
