"""Prometheus metrics for `GET /metrics`.

Request counts and latencies are kept per process, labelled by route template
(not by raw path). The shop's own figures (orders placed, open backorders,
events written) are read from the database at scrape time, so they are right
whichever worker answers.
"""

from __future__ import annotations

from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import Scope

from restock import services as s
from restock.shop import Shop


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("restock_http_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("restock_http_request_seconds", "Time to answer an HTTP request",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.orders = Gauge("restock_orders_placed", "Order lines placed, all time", registry=self.registry)
        self.backorders = Gauge("restock_backorders_open", "Order lines with units on backorder",
                                registry=self.registry)
        self.backorder_units = Gauge("restock_backorder_units_open", "Units on backorder", registry=self.registry)
        self.events = Gauge("restock_events_written", "Events written to the outbox, all time",
                            registry=self.registry)
        self.deliveries = Gauge("restock_deliveries", "Deliveries of events to webhooks and customers, by status",
                                ["status"], registry=self.registry)
        self.events_waiting = Gauge("restock_events_pending", "Events not yet handed to the dispatcher's deliveries",
                                    registry=self.registry)

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        self.requests.labels(scope["method"], route, str(status)).inc()
        self.latency.labels(scope["method"], route).observe(seconds)

    def render(self, shop: Shop) -> Response:
        figures = s.shop_figures(shop)
        self.orders.set(figures["lines_placed"])
        self.backorders.set(figures["open_backorders"])
        self.backorder_units.set(figures["open_backorder_units"])
        self.events.set(figures["events"])
        delivery = s.delivery_figures(shop)
        for status in ("pending", "done", "dead"):
            self.deliveries.labels(status).set(delivery[status])
        self.events_waiting.set(delivery["events_waiting"])
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
