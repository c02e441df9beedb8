"""Checks of input values shared by the services. Each raises InvalidInput
with a sentence that says what is wrong; nothing has been written yet."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from restock.errors import InvalidInput

MAX_QTY = 1_000_000
MAX_LINES = 500
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def code(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidInput(f"{what} must be 1-64 letters, digits or . _ : / - (got {value!r:.80})")
    return value


def qty(value: Any, what: str = "qty", *, maximum: int = MAX_QTY) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number (got {value!r:.40})")
    if not 1 <= value <= maximum:
        raise InvalidInput(f"{what} must be between 1 and {maximum} (got {value})")
    return value


def count(value: Any, what: str, *, maximum: int = MAX_QTY, optional: bool = False) -> int | None:
    """A whole number >= 0, or None when optional."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidInput(f"{what} must be a whole number from 0 to {maximum} (got {value!r:.40})")
    return value


def day(value: Any, what: str, *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{what} must be a date YYYY-MM-DD (got {value!r:.40})")


def money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what} must be a decimal amount (got {value!r:.40})") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise InvalidInput(f"{what} must be from 0 to 9999999999 (got {value!r:.40})")
    return amount.quantize(Decimal("0.0001"))


def text(value: Any, what: str, *, maximum: int = 200, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        raise InvalidInput(f"{what} must be a non-empty text of at most {maximum} characters")
    return value.strip()


def email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise InvalidInput(f"customer email is not an email address (got {value!r:.80})")
    return value


def lines(value: Any, what: str = "lines") -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{what} must be a non-empty list")
    if len(value) > MAX_LINES:
        raise InvalidInput(f"at most {MAX_LINES} {what} at once")
    return value
