"""Customer emails: one message per order per batch of changes (the events one
transaction wrote for that order), text and HTML from Jinja2 templates that a
shop can override (RESTOCK_TEMPLATES: a folder with its own `email/order.txt`
and `email/order.html`)."""

from __future__ import annotations

import os
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from restock.domain.quotes import spoken_date

# Which change a message is mostly about, most important first: it names the subject.
_SUBJECTS = [
    ("cancelled", "Part of your order {id} is cancelled"),
    ("delayed", "Your order {id}: a new date"),
    ("shipped", "Your order {id} has shipped"),
    ("in_stock", "Your order {id}: back in stock, shipping soon"),
    ("advanced", "Your order {id}: earlier than promised"),
]
_KINDS = {"promise.delayed": "delayed", "promise.advanced": "advanced", "line.allocated": "in_stock",
          "shipment.shipped": "shipped", "backorder.cancelled": "cancelled", "line.cancelled": "cancelled"}


def environment() -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if folder := os.environ.get("RESTOCK_TEMPLATES"):
        loaders.append(jinja2.FileSystemLoader(Path(folder)))
    loaders.append(jinja2.PackageLoader("restock", "templates"))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=jinja2.select_autoescape(["html"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def compose(env: jinja2.Environment, order: dict[str, Any], events: list[dict[str, Any]], today: date,
            sender: str) -> EmailMessage:
    """The message for these events of one order, as the order now stands."""
    names = {line["sku"]: line["name"] for line in order["lines"]}

    def day(iso: str) -> str:
        return spoken_date(date.fromisoformat(iso), today)

    placed = next((e["data"] for e in events if e["type"] == "order.placed"), None)
    by_line = {line["line"]: line["name"] for line in order["lines"]}
    changes = [_change(e, names, by_line, day) for e in events if e["type"] in _KINDS]
    if placed is not None:
        subject = f"Your order {order['id']} is confirmed"
        changes = []  # the confirmation says it all: what was just placed, as it now stands
    else:
        kinds = {c["kind"] for c in changes}
        subject = next(text for kind, text in _SUBJECTS if kind in kinds).format(id=order["id"])
        if subject.endswith("has shipped") and order["status"] == "partially_shipped":
            subject = f"Part of your order {order['id']} has shipped; the rest follows"
    context = {"order": order, "placed": _placed_lines(placed, names, day) if placed else None,
               "changes": changes, "subject": subject}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((order["customer_name"], order["customer_email"]))
    message["Message-ID"] = make_msgid(domain="restock")
    message["X-Restock-Events"] = ",".join(str(e["id"]) for e in events)
    message.set_content(env.get_template("email/order.txt").render(context))
    message.add_alternative(env.get_template("email/order.html").render(context), subtype="html")
    return message


def _placed_lines(data: dict[str, Any], names: dict[str, str], day: Any) -> list[dict[str, Any]]:
    """Each line placed, with its backordered units and their date — never a bare "backordered"."""
    lines = []
    for line in data["lines"]:
        when = f"{'around' if line['estimated'] else 'by'} {day(line['promised_date'])}"
        parts = []
        if line["allocated"]:
            parts.append(f"{line['allocated']} in stock, " +
                         ("ready to ship" if line["backordered"] else f"ships {when}"))
        if line["backordered"]:
            parts.append(f"{line['backordered']} on backorder, ships {when}")
        lines.append({**line, "name": names.get(line["sku"], line["sku"]), "words": "; ".join(parts)})
    return lines


def _change(event: dict[str, Any], names: dict[str, str], by_line: dict[int, str], day: Any) -> dict[str, Any]:
    data, kind = event["data"], _KINDS[event["type"]]
    change: dict[str, Any] = {"kind": kind, "line": data.get("line"),
                              "name": names.get(data.get("sku", ""), data.get("sku", ""))}
    if kind in ("delayed", "advanced"):
        change |= {"old": day(data["old_date"]), "new": day(data["new_date"]), "estimated": data["estimated"]}
    elif kind == "in_stock":
        change |= {"qty": data["qty"], "new": day(data["promised_date"])}
    elif kind == "cancelled":
        change |= {"qty": data["qty"], "by": data.get("by", "shop")}
    elif kind == "shipped":
        change |= {"tracking": data.get("tracking"),
                   "items": [{"name": by_line.get(line["line"], ""), "qty": line["qty"]}
                             for line in data.get("lines", [])]}
    return change
