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
