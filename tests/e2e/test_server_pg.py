"""`restock serve` as a real server process on PostgreSQL: a flash sale with
200 concurrent buyers, and a kill -9 in the middle of a load of orders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest

from restock import services as s
from restock.api.local import free_port, wait_until_up
from restock.shop import Shop
from tests.conftest import empty_postgres

pytestmark = pytest.mark.postgres
CUSTOMER = {"email": "buyer@example.com", "name": "Buyer"}


@contextmanager
def server(url: str, tmp: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = open(tmp / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "restock", "serve", "--port", str(port), "--workers", str(workers)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RESTOCK_DATABASE_URL": url},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        log.close()


@pytest.fixture
def pg_shop_url(pg_url: str) -> str:
    empty_postgres(pg_url)
    return pg_url


def setup_shop(url: str, *, on_hand: int, cap: int | None) -> str:
    """The DROP SKU with stock, and a storefront key."""
    shop = Shop.open(url)
    try:
        s.put_supplier(shop, "ACME", "Acme", 7)
        s.put_sku(shop, "DROP", "Limited drop", "99.00", "40.00", {"mode": "allow", "cap": cap},
                  [{"supplier": "ACME"}])
        s.adjust_stock(shop, "DROP", on_hand, "count")
        return str(s.create_key(shop, "storefront")["key"])
    finally:
        shop.close()


def buy(base: str, key: str, order_id: str) -> int:
    with httpx.Client(timeout=30) as client:
        answer = client.post(f"{base}/v1/orders", headers={"Authorization": f"Bearer {key}"},
                             json={"id": order_id, "customer": CUSTOMER, "lines": [{"sku": "DROP", "qty": 1}]})
        return answer.status_code


def test_a_flash_sale_of_200_buyers_sells_exactly_what_there_is(pg_shop_url: str, tmp_path: Path) -> None:
    storefront = setup_shop(pg_shop_url, on_hand=100, cap=50)
    with server(pg_shop_url, tmp_path, workers=2) as (base, _process):
        barrier = threading.Barrier(200)

        def buyer(n: int) -> int:
            barrier.wait()
            return buy(base, storefront, f"F{n:03d}")

        with ThreadPoolExecutor(200) as pool:
            statuses = list(pool.map(buyer, range(200)))
    assert sorted(set(statuses)) == [201, 409]
    assert (statuses.count(201), statuses.count(409)) == (150, 50)
    shop = Shop.open(pg_shop_url, upgrade=False)
    try:
        stock = s.get_sku(shop, "DROP")["stock"]
        assert (stock["on_hand"], stock["allocated"], stock["backordered"]) == (100, 100, 50)
        assert s.check_ledger(shop)["problems"] == []
    finally:
        shop.close()


def test_orders_answered_201_survive_a_kill_9_and_none_is_placed_twice(pg_shop_url: str, tmp_path: Path) -> None:
    storefront = setup_shop(pg_shop_url, on_hand=100_000, cap=None)
    answered: dict[str, int] = {}
    with server(pg_shop_url, tmp_path) as (base, process):
        stop = threading.Event()

        def client(c: int) -> None:
            n = 0
            while not stop.is_set():
                order_id = f"K{c}-{n}"
                with suppress(httpx.TransportError):
                    answered[order_id] = buy(base, storefront, order_id)
                n += 1

        threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    accepted = sorted(o for o, status in answered.items() if status == 201)
    assert len(accepted) > 20
    assert all(status in (201, 409) for status in answered.values())
    with server(pg_shop_url, tmp_path) as (base, _process):
        headers = {"Authorization": f"Bearer {storefront}"}
        for order_id in accepted:
            assert httpx.get(f"{base}/v1/orders/{order_id}", headers=headers).status_code == 200, order_id
    shop = Shop.open(pg_shop_url, upgrade=False)
    try:
        figures = s.shop_figures(shop)
        placed = [e for e in all_events(shop) if e["type"] == "order.placed"]
        assert figures["lines_placed"] == len(placed) >= len(accepted)
        assert len({e["data"]["order"] for e in placed}) == len(placed)
        assert s.check_ledger(shop)["problems"] == []
    finally:
        shop.close()


def all_events(shop: Shop) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while page := s.list_events(shop, cursor, 1000)["events"]:
        found += page
        cursor = str(page[-1]["id"])
    return found
