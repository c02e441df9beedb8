"""Schemathesis against the API's own OpenAPI: every default check, with a
fixed number of derandomized examples so the run is repeatable. The one
setting it reads from schemathesis.toml is explained there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from restock import services as s
from restock.api import create_app
from restock.shop import Shop

ROOT = Path(__file__).parents[2]


def _shop(tmp: Path) -> tuple[Shop, str]:
    shop = Shop.open(f"sqlite:///{tmp / 'schemathesis.db'}")
    s.put_supplier(shop, "ACME", "Acme", 5)
    s.put_sku(shop, "MUG", "Mug", "1", "1", {"mode": "allow", "cap": 1000}, [{"supplier": "ACME"}])
    s.adjust_stock(shop, "MUG", 50, "count")
    s.create_po(shop, "ACME", [{"sku": "MUG", "qty": 20, "eta": "2099-01-01"}], id="P1")
    s.place_order(shop, "O1", {"email": "a@b.co", "name": "A"}, [{"sku": "MUG", "qty": 2}])
    return shop, s.create_key(shop, "admin")["key"]


SHOP, KEY = _shop(Path(__import__("tempfile").mkdtemp(prefix="restock-st-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(SHOP),
                                        config=SchemathesisConfig.from_path(ROOT / "schemathesis.toml"))


@pytest.fixture(scope="module", autouse=True)
def _close_shop() -> Any:
    yield
    SHOP.close()


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_openapi_contract(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"})
