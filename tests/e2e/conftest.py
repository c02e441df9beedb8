"""Fixtures of the end-to-end tests: `restock serve` as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from restock.api.local import free_port, wait_until_up
from restock.shop import Shop


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Shop]]:
    """`restock serve` on a SQLite file, as a real process."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    shop = Shop.open(url)
    port = free_port()
    with open(tmp_path / "serve.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "restock", "serve", "--port", str(port)],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RESTOCK_DATABASE_URL": url,
                 "RESTOCK_PUBLIC_URL": f"http://127.0.0.1:{port}", "RESTOCK_DISPATCH": "off"},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}", shop
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
            shop.close()
