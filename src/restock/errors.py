"""Every error restock raises on purpose, and the HTTP status each maps to.

RestockError               base; never raised itself
├── InvalidInput     422   a value is malformed or out of range
├── Unauthorized     401   no valid API key
├── Forbidden        403   the key's role may not do this
├── NotFound         404   the thing named does not exist
└── Conflict         409   the request is well formed but the state forbids it
    ├── AlreadyExists      an id is taken
    ├── OrderRefused       a line cannot be accepted under its policy (details per line)
    ├── StockShortfall     an adjustment would take on-hand stock below allocated
    ├── InvalidState       the object is in the wrong state (closed PO, shipped shipment)
    └── Busy               the database stayed locked through every retry

`http_status` is the one place where an error becomes a status code.
"""

from __future__ import annotations

from typing import Any


class RestockError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(RestockError):
    code = "invalid_input"
    status = 422


class Unauthorized(RestockError):
    code = "unauthorized"
    status = 401


class Forbidden(RestockError):
    code = "forbidden"
    status = 403


class NotFound(RestockError):
    code = "not_found"
    status = 404


class Conflict(RestockError):
    code = "conflict"
    status = 409


class AlreadyExists(Conflict):
    code = "already_exists"


class OrderRefused(Conflict):
    code = "order_refused"


class StockShortfall(Conflict):
    code = "stock_shortfall"


class InvalidState(Conflict):
    code = "invalid_state"


class Busy(Conflict):
    code = "busy"


def http_status(error: RestockError) -> int:
    return error.status
