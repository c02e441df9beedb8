"""The command line, run as a user would: a real process on a real SQLite file."""

from __future__ import annotations

import re
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


def test_serve_answers_over_http_with_a_key_made_by_the_cli(tmp_path: Path) -> None:
    import httpx

    from restock.api.local import free_port, wait_until_up

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
        wait_until_up(base)
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


UCI_SAMPLE = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,85123A,WHITE HANGING HEART,4,2010-12-01 09:00:00,2.55,17851.0,United Kingdom
C536379,85123A,WHITE HANGING HEART,-1,2010-12-01 09:41:00,2.55,14527.0,United Kingdom
536380,POST,POSTAGE,1,2010-12-01 09:45:00,18.0,12583.0,France
536381,DCGS0003,BOXED GLASS ASHTRAY,1,2010-12-02 10:00:00,2.0,,United Kingdom
536382,71053,WHITE METAL LANTERN,0,2010-12-02 10:00:00,3.39,,United Kingdom
536383,71053,WHITE METAL LANTERN,2,2010-12-02 11:00:00,3.39,,United Kingdom
"""


def history_rows(db: Path) -> list[tuple[str, str, int, int]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select sku, day, qty, orders from demand_history").fetchall())


def test_import_history_reads_the_uci_file_as_published(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "retail.csv.gz").write_bytes(gzip.compress(UCI_SAMPLE.encode()))
    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    done = restock("import", "history", "retail.csv.gz", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert history_rows(tmp_path / "shop.db") == [
        ("71053", "2010-12-01", 6, 1), ("71053", "2010-12-02", 2, 1), ("85123A", "2010-12-01", 10, 2)]
    assert "1 rows: cancellation" in done.stdout and "2 rows: not a product" in done.stdout
    again = restock("import", "history", "retail.csv.gz", cwd=tmp_path, env=env)
    assert again.returncode == 0
    assert [r[2] for r in history_rows(tmp_path / "shop.db")] == [6, 2, 10], "a re-import replaces, never adds"


def test_import_history_reads_restocks_own_format_and_names_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "demand.csv").write_text(
        "date,sku,qty,order_id\n2026-01-05,TEA,3,A1\n2026-01-05,TEA,2,A2\n2026-01-06,TEA,-1,A3\n"
        "someday,TEA,1,A4\n2026-01-07,POT,1,\n")
    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    done = restock("import", "history", "demand.csv", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert history_rows(tmp_path / "shop.db") == [("POT", "2026-01-07", 1, 0), ("TEA", "2026-01-05", 5, 2)]
    assert "line 4: quantity not positive" in done.stdout and "line 5: unreadable date" in done.stdout


def test_import_history_refuses_a_file_without_the_columns_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "wrong.csv").write_text("when,what\n2026-01-05,TEA\n")
    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    done = restock("import", "history", "wrong.csv", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "needs the columns date, sku, qty" in done.stdout
    assert not (tmp_path / "shop.db").exists()


def test_plan_on_a_local_dask_cluster_gives_the_same_plan_as_in_process(tmp_path: Path) -> None:
    import csv
    import random
    from datetime import date, timedelta

    assert restock("demo", "--days", "7", "--db", "shop.db", cwd=tmp_path).returncode == 0
    rng = random.Random(4)
    start = date.today() - timedelta(days=120)
    with open(tmp_path / "sales.csv", "w") as out:
        out.write("date,sku,qty\n")
        for sku in ("TEA-SENCHA", "CUP-TEA", "POT-CAST"):
            for n in range(119):
                if rng.random() < 0.6:
                    out.write(f"{start + timedelta(days=n)},{sku},{rng.randint(1, 6)}\n")
    env = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    assert restock("import", "history", "sales.csv", cwd=tmp_path, env=env).returncode == 0
    local = restock("plan", "--csv", "local.csv", cwd=tmp_path, env=env)
    assert local.returncode == 0, local.stderr
    on_dask = restock("plan", "--engine", "dask", "--csv", "dask.csv", cwd=tmp_path, env=env)
    assert on_dask.returncode == 0, on_dask.stderr
    assert "Forecasting on Dask" in on_dask.stdout and "workers" in on_dask.stdout

    def rows(name: str) -> list[dict[str, str]]:
        with open(tmp_path / name, newline="") as file:
            return list(csv.DictReader(file))

    assert len(rows("local.csv")) == 26
    assert rows("dask.csv") == rows("local.csv")
    assert any(r["method"] not in ("SESOpt", "CrostonOptimized", "none") for r in rows("dask.csv"))


def test_simulate_compares_policies_on_a_history_file_and_draws_them(tmp_path: Path) -> None:
    import random
    from datetime import date, timedelta

    rng = random.Random(2)
    with open(tmp_path / "sales.csv", "w") as out:
        out.write("date,sku,qty\n")
        for n in range(60):
            for sku in ("MUG", "POT", "CUP"):
                if rng.random() < 0.5:
                    out.write(f"{date(2026, 1, 1) + timedelta(days=n)},{sku},{rng.randint(1, 8)}\n")
    (tmp_path / "rops.csv").write_text("sku,reorder_point\nMUG,30\nPOT,5\nCUP,12\n")
    done = restock("simulate", "sales.csv", "--skus", "2", "--warmup-days", "30", "--reorder-point", "20",
                   "--reorder-points", "rops.csv", "--chart", "sim.png", "--check-every-day", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"2 SKUs over (29|30) simulated days", done.stdout)  # the history's span, less the warm-up
    for policy in ("restock", "min/max", "fixed 20", "fixed (rops.csv)"):
        assert policy in done.stdout
    assert (tmp_path / "sim.png").read_bytes()[:4] == b"\x89PNG"
    too_short = restock("simulate", "sales.csv", "--warmup-days", "90", cwd=tmp_path)
    assert too_short.returncode == 2 and "longer than the warm-up" in too_short.stdout
    (tmp_path / "bad.csv").write_text("sku,rop\nMUG,3\n")
    refused = restock("simulate", "sales.csv", "--reorder-points", "bad.csv", cwd=tmp_path)
    assert refused.returncode == 2 and "needs the columns sku and reorder_point" in refused.stdout


def test_serve_and_dispatch_refuse_a_malformed_setting_by_name(tmp_path: Path) -> None:
    db = {"RESTOCK_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    for env, named in (({"RESTOCK_SMTP_URL": "mail.example.com:25"}, "RESTOCK_SMTP_URL"),
                       ({"RESTOCK_DELIVERY_ATTEMPTS": "many"}, "RESTOCK_DELIVERY_ATTEMPTS"),
                       ({"RESTOCK_LEASE_SECONDS": "-5"}, "RESTOCK_LEASE_SECONDS")):
        for command in (["serve", "--port", "1"], ["dispatch", "--once"]):
            done = restock(*command, cwd=tmp_path, env={**db, **env})
            assert done.returncode == 2 and named in done.stdout, (command, env, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr


def test_demo_serve_opens_the_dashboard_on_the_demo_shop(tmp_path: Path) -> None:
    import os
    import signal
    import time

    import httpx

    from restock.api.local import free_port, wait_until_up

    port = free_port()
    with open(tmp_path / "out.log", "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "restock", "demo", "--days", "7", "--db", "shop.db",
                                    "--serve", "--port", str(port)], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                                   env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"})
        try:
            deadline = time.monotonic() + 120
            key = None
            while key is None and time.monotonic() < deadline and process.poll() is None:
                found = re.search(r"admin key: (rk_\S+)", (tmp_path / "out.log").read_text())
                key = found.group(1) if found else None
                time.sleep(0.2)
            assert key, (tmp_path / "out.log").read_text()[-2000:]
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base, 30)
            with httpx.Client(base_url=base) as client:
                assert client.post("/dashboard/login", data={"key": key}).status_code == 303
                overview = client.get("/dashboard")
                assert overview.status_code == 200 and "Open backorders" in overview.text
                queue = client.get("/dashboard/backorders")
                assert re.search(r'data-total="[1-9]\d*"', queue.text), "the demo shop has waiting lines"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    assert "See it in the operations dashboard" not in (tmp_path / "out.log").read_text()
