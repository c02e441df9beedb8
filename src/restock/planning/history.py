"""Reading past demand from CSV files: restock's own format (`date, sku, qty`,
optional `order_id`) or the UCI Online Retail file as it is published
(`InvoiceNo, StockCode, Quantity, InvoiceDate, ...`), plain or gzipped.

Demand is kept per SKU and day. From the UCI file, cancellations (invoices
starting with C), non-positive quantities and codes that are not products
(postage, fees, adjustments, samples) are left out and counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

# Codes in the UCI file that are not products (its SOURCES.md lists them).
NOT_PRODUCTS = re.compile(r"^(POST|DOT|M|m|D|S|B|C2|CRUK|PADS|BANK CHARGES|AMAZONFEE|DCGS.*|gift_0001_.*)$")
MAX_QTY = 10_000_000


@dataclass
class History:
    """Daily demand per SKU, and what was left out and why."""

    daily: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    orders: dict[tuple[str, date], set[str]] = field(default_factory=lambda: defaultdict(set))
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    bad_lines: list[str] = field(default_factory=list)

    def add(self, day: date, sku: str, qty: int, order_id: str) -> None:
        self.daily[(sku, day)] += qty
        if order_id:
            self.orders[(sku, day)].add(order_id)

    def series(self, top: int | None = None) -> tuple[dict[str, np.ndarray], date]:
        """Daily demand per SKU over the whole calendar span (days without demand are zeros), the
        `top` SKUs by units only when given; and the first day."""
        if not self.daily:
            raise ValueError("the history holds no demand")
        days = [day for _, day in self.daily]
        first, length = min(days), (max(days) - min(days)).days + 1
        volume: Counter[str] = Counter()
        for (sku, _), qty in self.daily.items():
            volume[sku] += qty
        chosen = {sku for sku, _ in volume.most_common(top)}
        found = {sku: np.zeros(length) for sku in sorted(chosen)}
        for (sku, day), qty in self.daily.items():
            if sku in chosen:
                found[sku][(day - first).days] += qty
        return found, first

    def refuse(self, why: str, line: int, text: str) -> None:
        self.skipped[why] += 1
        if len(self.bad_lines) < 20:
            self.bad_lines.append(f"line {line}: {why}: {text[:80]}")


def read_history(path: Path, progress: Callable[[int], None] = lambda _: None) -> History:
    """Read a history file; `progress(bytes_read)` is called as it goes."""
    history = History()
    with _open(path) as (raw, text):
        reader = csv.DictReader(text)
        fields = set(reader.fieldnames or [])
        if {"InvoiceNo", "StockCode", "Quantity", "InvoiceDate"} <= fields:
            rows = _uci_rows(reader, history)
        elif {"date", "sku", "qty"} <= fields:
            rows = _plain_rows(reader, history)
        else:
            raise ValueError("the file needs the columns date, sku, qty (and optional order_id), "
                             "or the UCI Online Retail columns InvoiceNo, StockCode, Quantity, InvoiceDate")
        for n, (day, sku, qty, order_id) in enumerate(rows, 1):
            history.add(day, sku, qty, order_id)
            if n % 20_000 == 0:
                progress(raw.tell())
        progress(raw.tell())
    return history


class _open:
    """The file as bytes (to measure progress) and as text; gzip by its name."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> tuple[IO[bytes], IO[str]]:
        self.raw = open(self.path, "rb")
        stream: Any = gzip.GzipFile(fileobj=self.raw) if self.path.suffix == ".gz" else self.raw
        self.text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
        return self.raw, self.text

    def __exit__(self, *exc: object) -> None:
        self.text.close()
        self.raw.close()


def _plain_rows(reader: csv.DictReader[str], history: History) -> Iterator[tuple[date, str, int, str]]:
    for row in reader:
        history.rows += 1
        line = reader.line_num
        try:
            day = date.fromisoformat((row.get("date") or "").strip()[:10])
            qty = int((row.get("qty") or "").strip())
        except ValueError:
            history.refuse("unreadable date or quantity", line, str(row))
            continue
        sku = (row.get("sku") or "").strip()
        if not sku or len(sku) > 64:
            history.refuse("missing or overlong sku", line, str(row))
        elif not 0 < qty <= MAX_QTY:
            history.refuse("quantity not positive", line, str(row))
        else:
            yield day, sku, qty, (row.get("order_id") or "").strip()


def _uci_rows(reader: csv.DictReader[str], history: History) -> Iterator[tuple[date, str, int, str]]:
    for row in reader:
        history.rows += 1
        invoice, code = (row.get("InvoiceNo") or "").strip(), (row.get("StockCode") or "").strip()
        if invoice.startswith("C"):
            history.skipped["cancellation"] += 1
            continue
        if NOT_PRODUCTS.match(code):
            history.skipped["not a product"] += 1
            continue
        try:
            qty = int(float(row.get("Quantity") or ""))
            day = datetime.fromisoformat((row.get("InvoiceDate") or "").strip()).date()
        except ValueError:
            history.refuse("unreadable date or quantity", reader.line_num, str(row))
            continue
        if qty <= 0:
            history.skipped["quantity not positive"] += 1
        elif not code or len(code) > 64 or qty > MAX_QTY:
            history.refuse("unusable code or quantity", reader.line_num, str(row))
        else:
            yield day, code, qty, invoice
