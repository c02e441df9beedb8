"""The dispatcher: delivers outbox events at least once, to webhooks and as
customer emails. It runs inside `restock serve` (one per worker; leases keep
them apart) and alone as `restock dispatch`.

Each round: fan new events out into deliveries, lease a batch of due ones
(at most one per order or SKU, so each key's deliveries go in order), send
them on a few threads, and record what the targets answered. Nothing is done
before its target said yes; a dispatcher killed mid-round leaves leases that
run out, and the next round sends those deliveries again. Every few minutes
it also looks for overdue backorders.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from restock import __version__
from restock.errors import InvalidInput
from restock.notify.emails import compose, environment
from restock.notify.senders import (
    HttpWebhooks,
    Mailer,
    SmtpMailer,
    SmtpSettings,
    WebhookSender,
    signature,
    webhook_body,
)
from restock.services.customers import order_page, sweep_overdue
from restock.services.deliveries import Delivery, Outcome, Retry, fan_out, lease, settle, work_waiting
from restock.services.operations import record_day
from restock.shop import Shop

log = logging.getLogger("restock.dispatch")


@dataclass(frozen=True)
class DispatchSettings:
    batch: int = 200
    threads: int = 8
    lease_seconds: float = 120.0
    poll_seconds: float = 0.5
    timeout_seconds: float = 10.0  # per webhook delivery
    overdue_every_seconds: float = 300.0
    mail_from: str = "restock <orders@localhost>"
    smtp_url: str | None = None
    retry: Retry = field(default_factory=Retry)

    @classmethod
    def from_env(cls) -> DispatchSettings:
        """The settings of the environment; a malformed one is InvalidInput naming it."""
        smtp_url = os.environ.get("RESTOCK_SMTP_URL") or None
        if smtp_url:
            SmtpSettings.from_url(smtp_url)
        return cls(mail_from=os.environ.get("RESTOCK_MAIL_FROM") or cls.mail_from, smtp_url=smtp_url,
                   retry=Retry(attempts=int(_number("RESTOCK_DELIVERY_ATTEMPTS", 12, 1, 100)),
                               base_seconds=_number("RESTOCK_RETRY_BASE_SECONDS", 2.0, 0, 3600)),
                   timeout_seconds=_number("RESTOCK_WEBHOOK_TIMEOUT_SECONDS", 10.0, 0.1, 600),
                   lease_seconds=_number("RESTOCK_LEASE_SECONDS", 120.0, 0.1, 86_400))


def _number(variable: str, default: float, low: float, high: float) -> float:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{variable} must be a number from {low:g} to {high:g} (got {text!r:.40})") from None
    if not low <= value <= high:
        raise InvalidInput(f"{variable} must be a number from {low:g} to {high:g} (got {text!r:.40})")
    return value


class Dispatcher:
    def __init__(self, shop: Shop, settings: DispatchSettings | None = None, *,
                 webhooks: WebhookSender | None = None, mailer: Mailer | None = None, seed: int | None = None) -> None:
        self.shop = shop
        self.settings = settings = settings or DispatchSettings.from_env()
        self.webhooks = webhooks or HttpWebhooks(settings.timeout_seconds)
        self.mailer = mailer or (SmtpMailer(SmtpSettings.from_url(settings.smtp_url)) if settings.smtp_url else None)
        self.templates = environment()
        self.rng = random.Random(seed)
        self.pool = ThreadPoolExecutor(settings.threads, thread_name_prefix="restock-deliver")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One round; how many deliveries were attempted."""
        new_events, due = work_waiting(self.shop)
        if new_events:
            fan_out(self.shop, self.mailer is not None)
        elif not due:
            return 0
        leased = lease(self.shop, self.settings.batch, self.settings.lease_seconds)
        if leased:
            settle(self.shop, list(self.pool.map(self._deliver, leased)), self.settings.retry, self.rng)
        return len(leased)

    def drain(self, rounds: int = 1000) -> int:
        """Rounds until nothing is due (for the CLI's --once and for tests); deliveries attempted."""
        total = 0
        for _ in range(rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def run(self) -> None:
        """Until stop(): rounds back to back while there is work, a short sleep when there is none."""
        next_sweep = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.settings.overdue_every_seconds
                    sweep_overdue(self.shop)
                    record_day(self.shop)  # the dashboard's trend of open backorders
                busy = self.run_once() > 0
            except Exception:  # the database away, say: keep the loop, try again soon
                log.exception("dispatch round failed")
                busy = False
            if not busy:
                self._stop.wait(self.settings.poll_seconds)

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self.run, name="restock-dispatch", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.pool.shutdown(wait=True)
        for sender in (self.webhooks, self.mailer):
            close = getattr(sender, "close", None)
            if close is not None:
                close()

    # -- one delivery ------------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> Outcome:
        try:
            if delivery.target == "email":
                return self._email(delivery)
            return self._webhook(delivery)
        except Exception as error:  # no answer: a refused connection, a timeout, a mail server error
            return Outcome(delivery.id, False, f"{type(error).__name__}: {error}"[:500])

    def _webhook(self, delivery: Delivery) -> Outcome:
        hook = delivery.webhook
        if hook is None:
            return Outcome(delivery.id, False, "the webhook was deleted", final=True)
        event = delivery.events[0]
        body = webhook_body(event)
        status = self.webhooks.post(hook["url"], body, {
            "Content-Type": "application/json", "User-Agent": f"restock/{__version__}",
            "X-Restock-Event-Id": str(event["id"]), "X-Restock-Event-Type": event["type"],
            "X-Restock-Delivery": str(delivery.id), "X-Restock-Signature": signature(hook["secret"], body)})
        ok = 200 <= status < 300
        return Outcome(delivery.id, ok, None if ok else f"the receiver answered HTTP {status}")

    def _email(self, delivery: Delivery) -> Outcome:
        if self.mailer is None:
            return Outcome(delivery.id, False, "no mail server set (RESTOCK_SMTP_URL)")
        order = order_page(self.shop, delivery.key)
        self.mailer.send(compose(self.templates, order, delivery.events, self.shop.clock.today(),
                                 self.settings.mail_from))
        return Outcome(delivery.id, True)
