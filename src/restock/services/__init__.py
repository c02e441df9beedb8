"""restock's services: each public function is one transaction on a `Shop`.

They take plain values, return plain dicts shaped like the HTTP API's JSON
(API.md), and raise restock.errors on refusal, with nothing written.
"""

from restock.services.catalog import get_sku, list_skus, list_suppliers, put_location, put_sku, put_supplier
from restock.services.customers import cancel_waiting, keep_waiting, order_page, status_page, sweep_overdue
from restock.services.deliveries import delivery_figures, list_deliveries, prune, retry_deliveries
from restock.services.explain import explain_line
from restock.services.history import store_history
from restock.services.keys import create_key, role_of
from restock.services.kpis import kpis, list_events, promise_moves, shop_figures
from restock.services.ledger import check_ledger, rebuild_balances
from restock.services.operations import (
    EVENT_TYPES,
    backorder_queue,
    cancel_backorders,
    events_log,
    kpi_trend,
    list_plans,
    list_pos,
    order_lines_waiting,
    overview,
    record_day,
    sku_projection,
)
from restock.services.orders import cancel_order, get_order, list_backorders, place_order
from restock.services.plans import approve_plan, create_plan, get_plan, run_plan
from restock.services.purchasing import change_eta, close_po, create_po, get_po, preview_eta, receive
from restock.services.quotes import quote, quote_many
from restock.services.shipping import list_shipments, ship
from restock.services.stock import adjust_stock
from restock.services.webhooks import delete_webhook, list_webhooks, put_webhook

__all__ = [
    "EVENT_TYPES",
    "adjust_stock",
    "approve_plan",
    "backorder_queue",
    "cancel_backorders",
    "cancel_order",
    "cancel_waiting",
    "change_eta",
    "check_ledger",
    "close_po",
    "create_key",
    "create_plan",
    "create_po",
    "delete_webhook",
    "delivery_figures",
    "events_log",
    "explain_line",
    "get_order",
    "get_plan",
    "get_po",
    "get_sku",
    "keep_waiting",
    "kpi_trend",
    "kpis",
    "list_backorders",
    "list_deliveries",
    "list_events",
    "list_plans",
    "list_pos",
    "list_shipments",
    "list_skus",
    "list_suppliers",
    "list_webhooks",
    "order_lines_waiting",
    "order_page",
    "overview",
    "place_order",
    "preview_eta",
    "promise_moves",
    "prune",
    "put_location",
    "put_sku",
    "put_supplier",
    "put_webhook",
    "quote",
    "quote_many",
    "rebuild_balances",
    "receive",
    "record_day",
    "retry_deliveries",
    "role_of",
    "run_plan",
    "ship",
    "shop_figures",
    "sku_projection",
    "status_page",
    "store_history",
    "sweep_overdue",
]
