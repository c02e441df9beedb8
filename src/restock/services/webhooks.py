"""Webhooks the shop registers (API.md `PUT /v1/webhooks/{name}`): where events
are delivered, which ones, and the secret that signs them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from restock.errors import InvalidInput, NotFound
from restock.services import validate as v
from restock.storage.tables import webhooks
from restock.storage.uow import UnitOfWork, read_only, transaction, utc

# Every event type restock writes (DESIGN.md "Events and notifications", and the shop's own).
EVENT_TYPES = frozenset({
    "order.placed", "line.backordered", "line.allocated", "line.cancelled", "promise.delayed",
    "promise.advanced", "shipment.shipped", "backorder.cancelled", "backorder.overdue", "sku.back_in_stock",
    "stock.below_reorder_point", "purchase_order.created", "purchase_order.eta_changed",
    "purchase_order.received", "purchase_order.closed", "customer.kept_waiting",
})


@transaction
def put_webhook(uow: UnitOfWork, name: str, url: Any, events: Any, secret: Any) -> dict[str, Any]:
    """Create or replace the webhook `name`; (view, created)."""
    name = v.code(name, "webhook name")
    row = {"name": name, "url": _url(url), "events": _event_types(events),
           "secret": v.text(secret, "secret", maximum=200), "updated_at": uow.now}
    found = uow.execute(sa.select(webhooks.c.name).where(webhooks.c.name == name).with_for_update()).first()
    if found is None:
        uow.execute(sa.insert(webhooks).values(**row, created_at=uow.now))
    else:
        uow.execute(sa.update(webhooks).where(webhooks.c.name == name).values(**row))
    return {**_view(uow.execute(sa.select(webhooks).where(webhooks.c.name == name)).one()), "created": found is None}


@read_only
def list_webhooks(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [_view(r) for r in uow.execute(sa.select(webhooks).order_by(webhooks.c.name))]


@transaction
def delete_webhook(uow: UnitOfWork, name: str) -> None:
    """Stop delivering to `name`; what is queued for it goes nowhere (dead)."""
    if uow.execute(sa.delete(webhooks).where(webhooks.c.name == v.code(name, "webhook name"))).rowcount == 0:
        raise NotFound(f"no webhook named {name!r}")


def _url(value: Any) -> str:
    url = v.text(value, "url", maximum=2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url must be an http:// or https:// address (got {url!r:.80})")
    return url


def _event_types(value: Any) -> list[str]:
    """The event types to deliver: a non-empty list of known types, or ["*"] for all."""
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise InvalidInput('events must be a non-empty list of event types, or ["*"] for all')
    unknown = sorted(set(value) - EVENT_TYPES - {"*"})
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)[:200]}",
                           {"unknown": unknown[:20], "known": sorted(EVENT_TYPES)})
    return sorted(set(value))


def _view(row: Any) -> dict[str, Any]:
    return {"name": row.name, "url": row.url, "events": row.events,
            "created_at": utc(row.created_at).isoformat(), "updated_at": utc(row.updated_at).isoformat()}
