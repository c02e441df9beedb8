"""The command line, run as a user would: a real process on a real SQLite file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def restock(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "restock", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", **(env or {})})


def test_demo_runs_a_shop_and_reports_a_clean_ledger(tmp_path: Path) -> None:
    done = restock("demo", "--days", "10", "--db", "shop.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for heading in ("Day by day", "What happened", "What moved and why", "Who waits for what", "KPIs"):
        assert heading in done.stdout
    assert "Ledger check: clean." in done.stdout
    with sqlite3.connect(tmp_path / "shop.db") as db:
        orders = db.execute("select count(*) from orders").fetchone()[0]
        slipped = db.execute("select count(*) from events where type = 'purchase_order.eta_changed'").fetchone()[0]
    assert orders > 200 and slipped > 0


def test_the_same_seed_gives_the_same_shop(tmp_path: Path) -> None:
    first = restock("demo", "--days", "7", "--db", "a.db", "--seed", "3", cwd=tmp_path)
    second = restock("demo", "--days", "7", "--db", "b.db", "--seed", "3", cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert first.stdout.replace("a.db", "X") == second.stdout.replace("b.db", "X")


def test_check_exits_non_zero_when_a_balance_disagrees_with_the_ledger(tmp_path: Path) -> None:
    assert restock("demo", "--days", "7", "--db", "shop.db", cwd=tmp_path).returncode == 0
    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    assert restock("check", cwd=tmp_path, env=env).returncode == 0
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("update stock set on_hand = on_hand + 5 where sku = 'TEA-SENCHA'")
    broken = restock("check", cwd=tmp_path, env=env)
    assert broken.returncode == 1
    assert "on_hand = ledger available + allocated" in broken.stdout
    assert restock("check", "--repair", cwd=tmp_path, env=env).returncode == 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_over_http_with_a_key_made_by_the_cli(tmp_path: Path) -> None:
    import time

    import httpx

    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    made = restock("keys", "create", "--role", "admin", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("rk_") and len(key) > 40
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "restock", "serve", "--port", str(port)], cwd=tmp_path,
                              env={"PATH": "/usr/bin:/bin", **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.put(f"{base}/v1/suppliers/ACME", json={"name": "Acme", "lead_time_days": 5},
                         headers=auth).status_code == 200
        made_sku = httpx.put(f"{base}/v1/skus/TEA", json={"name": "Tea", "price": "4", "unit_cost": "1"},
                             headers=auth)
        assert made_sku.status_code == 201
        assert httpx.get(f"{base}/v1/skus/TEA", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "restock"
    finally:
        server.terminate()
        server.wait(timeout=10)
