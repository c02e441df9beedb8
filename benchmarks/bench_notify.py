"""Delivery benchmarks (issue 4). They print figures and never fail on them.

    python benchmarks/bench_notify.py [--db sqlite|postgres|both] [--events 10000]

1. Webhooks: 10,000 events queued, delivered to a local receiver (another process): events/s.
2. Emails: one confirmation per order for 5,000 orders, to a local SMTP server
   (aiosmtpd, another process): emails/s.

The dispatcher is the real one (8 sending threads, batches of 200), on a fresh
shop per run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from bench_core import fresh_shop

from restock import services as s
from restock.api.local import free_port
from restock.notify.dispatcher import Dispatcher, DispatchSettings
from restock.shop import Shop


def webhook_receiver(port: int, count: Synchronized[int]) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy would

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            with count.get_lock():
                count.value += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def smtp_server(port: int, count: Synchronized[int]) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    Controller(Handler(), hostname="127.0.0.1", port=port).start()
    asyncio.run(asyncio.sleep(10**6))


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def queue_orders(shop: Shop, orders: int) -> int:
    """Orders of one backordered unit each (order.placed + line.backordered); events written."""
    s.put_supplier(shop, "ACME", "Acme", 7)
    s.put_sku(shop, "MUG", "Mug", "9", "3", {"mode": "allow"}, [{"supplier": "ACME"}])
    for n in range(orders):
        s.place_order(shop, f"O{n}", {"email": f"c{n}@example.com", "name": f"Customer {n}"},
                      [{"sku": "MUG", "qty": 1}])
    return int(s.delivery_figures(shop)["events_waiting"])


def failures(shop: Shop) -> str:
    figures = s.delivery_figures(shop)
    waiting = s.list_deliveries(shop, "pending", limit=1)["deliveries"]
    why = f" (last error: {waiting[0]['last_error']})" if waiting and waiting[0]["last_error"] else ""
    return f"{figures['done']:,} done, {figures['pending']:,} pending{why}, {figures['dead']:,} dead"


def peer(target: Any, kind: str) -> tuple[Any, Synchronized[int], int]:
    """A receiver (`target`) in its own process on a free port: (process, its count, port)."""
    ctx = multiprocessing.get_context("spawn")
    count = ctx.Value("i", 0)
    port = free_port()
    process = ctx.Process(target=target, args=(port, count), daemon=True, name=kind)
    process.start()
    wait_for_port(port)
    return process, count, port


def timed_drain(shop: Shop, settings: DispatchSettings) -> float:
    dispatcher = Dispatcher(shop, settings)
    start = time.perf_counter()
    dispatcher.drain(rounds=10**6)
    elapsed = time.perf_counter() - start
    dispatcher.stop()
    return elapsed


def run(kind: str, events: int) -> None:
    with fresh_shop(kind) as shop:
        queued = queue_orders(shop, events // 2)
        receiver, count, port = peer(webhook_receiver, "receiver")
        s.put_webhook(shop, "bench", f"http://127.0.0.1:{port}/hook", ["*"], "secret")
        elapsed = timed_drain(shop, DispatchSettings())
        receiver.kill()
        print(f"{kind}: 1. webhooks: {queued:,} events queued, {count.value:,} delivered in {elapsed:.2f} s "
              f"= {count.value / elapsed:,.0f} events/s; {failures(shop)}")

    with fresh_shop(kind) as shop:
        queue_orders(shop, events // 2)
        server, count, port = peer(smtp_server, "smtp")
        elapsed = timed_drain(shop, DispatchSettings(smtp_url=f"smtp://127.0.0.1:{port}"))
        server.kill()
        print(f"{kind}: 2. emails: {count.value:,} confirmations sent in {elapsed:.2f} s "
              f"= {count.value / elapsed:,.0f} emails/s; {failures(shop)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    for kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        run(kind, args.events)


if __name__ == "__main__":
    main()
