"""API keys: made once and shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa

from restock.errors import InvalidInput
from restock.services import validate as v
from restock.storage.tables import api_keys
from restock.storage.uow import UnitOfWork, read_only, transaction

ROLES = ("admin", "storefront", "viewer")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction
def create_key(uow: UnitOfWork, role: str, name: str = "") -> dict[str, Any]:
    """A new key for `role`; the key itself is in the answer and nowhere else."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    key = "rk_" + secrets.token_urlsafe(32)
    name = v.text(name or None, "name", optional=True) or role
    key_id = uow.execute(sa.insert(api_keys).values(key_hash=_hash(key), role=role, name=name, created_at=uow.now)
                         .returning(api_keys.c.id)).scalar_one()
    return {"id": key_id, "role": role, "name": name, "key": key}


_ROLE_OF = sa.select(api_keys.c.role).where(api_keys.c.key_hash == sa.bindparam("h"), api_keys.c.revoked_at.is_(None))


@read_only
def role_of(uow: UnitOfWork, key: str) -> str | None:
    """The role of a valid, unrevoked key; None otherwise."""
    if not key or len(key) > 200:
        return None
    role = uow.execute(_ROLE_OF, {"h": _hash(key)}).scalar_one_or_none()
    return str(role) if role else None
