"""`restock dispatch` as a real process on PostgreSQL, killed with -9 in the
middle of delivering: after a restart every event reached the receiver at
least once, and every delivery is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restock import services as s
from restock.shop import Shop
from tests.conftest import empty_postgres
from tests.receivers import Receiver

pytestmark = pytest.mark.postgres


def dispatch(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "restock", "dispatch", "--database-url", url, *args]


def test_a_dispatcher_killed_mid_delivery_loses_no_event(pg_url: str, tmp_path: Path) -> None:
    empty_postgres(pg_url)
    shop = Shop.open(pg_url, upgrade=False)
    with Receiver("k", delay_seconds=0.005) as rx:
        s.put_webhook(shop, "erp", rx.url, ["*"], "k")
        s.put_supplier(shop, "ACME", "Acme", 7)
        s.put_sku(shop, "MUG", "Mug", "9", "3", {"mode": "allow"}, [{"supplier": "ACME"}])
        s.adjust_stock(shop, "MUG", 100, "count")
        for n in range(200):
            s.place_order(shop, f"O{n}", {"email": "a@example.com", "name": "A"}, [{"sku": "MUG", "qty": 1}])
        written = [e["id"] for e in s.list_events(shop, None, 1000)["events"]]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RESTOCK_LEASE_SECONDS": "1"}
        with open(tmp_path / "dispatch.log", "wb") as log:
            process = subprocess.Popen(dispatch(pg_url), env=env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            deadline = time.monotonic() + 60
            while len(rx.requests) < 60 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        got_before = len(rx.requests)
        assert 60 <= got_before < len(written), "the kill must land mid-delivery"
        time.sleep(1.2)  # the dead dispatcher's leases run out
        subprocess.run(dispatch(pg_url, "--once"), env=env, check=True, capture_output=True, timeout=120)
        received = {e["id"] for e in rx.accepted()}
    assert received == set(written)
    assert s.delivery_figures(shop) == {"pending": 0, "done": len(written), "dead": 0, "events_waiting": 0}
    shop.close()
